// The SDK's OkHttp transport over real TLS on 127.0.0.1: the real
// punch-server behind a TLS endpoint whose certificate a test CA issued.
package dev.punchcore

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.time.Duration
import java.time.Instant
import java.util.concurrent.TimeUnit

class OkHttpTransportTest {
    @TempDir lateinit var dir: java.nio.file.Path

    private fun server() = TestServer(dir.resolve("server").also { it.toFile().mkdirs() })

    private fun ping(port: Int) = HttpRequest(
        method = HttpMethod.GET,
        url = "https://127.0.0.1:$port/v1/time",
        headers = emptyList(),
        body = ByteArray(0),
        timeout = Duration.ofSeconds(5),
    )

    @Test
    fun `punches sync end to end over TLS signed by a CA the client trusts`(): Unit = testBlocking {
        server().use { server ->
            server.start()
            TlsProxy(TestCa.serverCertificate(), server.port).use { tls ->
                val options = server.options(
                    transport = OkHttpTransport(TestCa.client()),
                    serverUrl = "https://127.0.0.1:${tls.port}",
                )
                PunchClient.open(dir.resolve("phone").toString(), options).use { client ->
                    client.enroll(server.enrollCode())
                    assertEquals(1L, client.refreshPolicy())
                    client.punch(PunchKind.CLOCK_IN, INSIDE)
                    client.punch(PunchKind.CLOCK_OUT, INSIDE)
                    val report = client.sync()
                    assertNull(report.error, "$report")
                    assertEquals(2L, report.uploaded)
                }
                assertTrue(tls.accepted.get() >= 1)
            }
            assertEquals(2, server.punches().length())
        }
    }

    @Test
    fun `an untrusted certificate or one for another host is a typed TLS error and nothing is sent`(): Unit = testBlocking {
        server().use { server ->
            server.start()
            // Enrolled, with a policy and a punch waiting, straight to the server (loopback http).
            val phone = dir.resolve("phone").toString()
            PunchClient.open(phone, server.options()).use { client ->
                client.enroll(server.enrollCode())
                client.refreshPolicy()
                client.punch(PunchKind.CLOCK_IN, INSIDE)
            }
            val stranger = okhttp3.tls.HeldCertificate.Builder().certificateAuthority(0).commonName("stranger").build()
            val wrong = mapOf(
                "SSLHandshakeException" to TestCa.serverCertificate(issuer = stranger),
                "SSLPeerUnverifiedException" to TestCa.serverCertificate(host = "punch.example.org"),
            )
            for ((thrown, certificate) in wrong) {
                TlsProxy(certificate, server.port).use { tls ->
                    val transport = OkHttpTransport(TestCa.client())
                    val e = assertThrowsAsync<PlatformException.Tls> { transport.send(ping(tls.port)) }
                    assertTrue(e.detail.startsWith("javax.net.ssl.$thrown"), e.detail)
                    val url = "https://127.0.0.1:${tls.port}"
                    // Enrolling: the app's own typed error, not "offline".
                    PunchClient.open(dir.resolve("new-${tls.port}").toString(), server.options(transport = transport, serverUrl = url)).use { client ->
                        val refused = assertThrowsAsync<PunchException.Tls> { client.enroll(server.enrollCode()) }
                        assertTrue(refused.detail.contains("certificate is not trusted"), refused.detail)
                    }
                    // Syncing: a TLS issue in the report, tried once (no retry within the sync),
                    // backed off like a refusal, the punch kept.
                    PunchClient.open(phone, server.options(transport = transport, serverUrl = url)).use { client ->
                        val before = tls.accepted.get()
                        val report = client.syncNow()
                        assertEquals(SyncIssueKind.TLS, report.error?.kind, "$report")
                        assertEquals(1, tls.accepted.get() - before, "one handshake, no retry within the sync")
                        assertEquals(1L, report.remaining)
                        val backoff = Duration.between(Instant.now(), checkNotNull(report.nextRetry) { "$report" })
                        assertTrue(backoff > Duration.ofMinutes(10), "backed off to the maximum: $backoff")
                        val status = client.status()
                        assertEquals(SyncIssueKind.TLS, status.lastError?.kind)
                        assertTrue(client.sync().deferred, "a plain sync waits for the backoff")
                        assertEquals(1, tls.accepted.get() - before)
                    }
                }
            }
            assertEquals(0, server.punches().length())
        }
    }

    @Test
    fun `a server that stalls hits the request timeout`(): Unit = testBlocking {
        TlsProxy(TestCa.serverCertificate(), backendPort = 1, mode = TlsProxy.Mode.STALL).use { tls ->
            val transport = OkHttpTransport(TestCa.client())
            val started = System.nanoTime()
            val e = assertThrowsAsync<PlatformException.Timeout> {
                transport.send(ping(tls.port).copy(timeout = Duration.ofMillis(700)))
            }
            val tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
            assertTrue(tookMs in 600..5_000, "timed out after $tookMs ms: $e")
            // The stalled connection is closed, not left open.
            assertNotNull(tls.closedByClient.poll(5, TimeUnit.SECONDS))
        }
    }

    @Test
    fun `cancelling the coroutine cancels the OkHttp call`(): Unit = testBlocking {
        TlsProxy(TestCa.serverCertificate(), backendPort = 1, mode = TlsProxy.Mode.STALL).use { tls ->
            val okHttp = TestCa.client()
            val transport = OkHttpTransport(okHttp)
            val pending = async(start = CoroutineStart.UNDISPATCHED) {
                transport.send(ping(tls.port).copy(timeout = Duration.ofSeconds(60)))
            }
            withTimeout(10_000) { while (tls.accepted.get() == 0) kotlinx.coroutines.delay(10) }
            pending.cancel()
            // The server sees the connection closed at once, far before the 60 s timeout.
            assertNotNull(tls.closedByClient.poll(5, TimeUnit.SECONDS), "the call was not cancelled")
            assertTrue(pending.isCancelled)
        }
    }

    @Test
    fun `Retry-After reaches the library unchanged`(): Unit = testBlocking {
        server().use { server ->
            server.start()
            TlsProxy(TestCa.serverCertificate(), server.port).use { tls ->
                val okHttp = TestCa.client()
                val transport = OkHttpTransport(okHttp)
                val options = server.options(transport = transport, serverUrl = "https://127.0.0.1:${tls.port}")
                PunchClient.open(dir.resolve("phone").toString(), options).use { client ->
                    client.enroll(server.enrollCode())
                    client.refreshPolicy()
                    client.punch(PunchKind.CLOCK_IN, INSIDE)
                    tls.mode = TlsProxy.Mode.CANNED
                    // The next request on a new connection, which the endpoint now answers itself.
                    okHttp.connectionPool.evictAll()
                    tls.canned = ("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 600\r\n" +
                        "Content-Length: 0\r\nConnection: close\r\n\r\n").toByteArray()
                    val before = Instant.now()
                    val report = client.syncNow()
                    assertEquals(SyncIssueKind.RATE_LIMITED, report.error?.kind, "$report")
                    assertEquals(429, report.error?.httpStatus)
                    val wait = Duration.between(before, report.nextRetry)
                    assertTrue(wait >= Duration.ofSeconds(590) && wait <= Duration.ofSeconds(610), "next retry in $wait")
                    assertEquals(1L, report.remaining, "$report")
                    // Honoured: the next sync sends nothing before the server's time.
                    tls.mode = TlsProxy.Mode.FORWARD
                    val accepted = tls.accepted.get()
                    val after = client.syncNow()
                    assertTrue(after.deferred, "$after")
                    assertEquals(0, after.requests.toInt())
                    assertEquals(accepted, tls.accepted.get())
                }
            }
        }
    }
}
