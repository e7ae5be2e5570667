// An app's own HTTP stack as the transport (here java.net.http, as OkHttp
// would be on Android), and transports that fail or hang.
package dev.punchcore

import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.future.await
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpTimeoutException
import java.time.Duration
import java.util.concurrent.atomic.AtomicInteger

/** java.net.http behind the HttpTransport trait. */
class JavaHttpTransport : HttpTransport {
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
    val requests = AtomicInteger()

    /** Suspends on java.net.http's own async send (OkHttp: enqueue): no thread waits. */
    override suspend fun send(request: HttpRequest): HttpResponse {
        requests.incrementAndGet()
        val builder = java.net.http.HttpRequest.newBuilder(URI.create(request.url))
            .timeout(request.timeout)
            .method(request.method.name, java.net.http.HttpRequest.BodyPublishers.ofByteArray(request.body))
        // java.net.http sets these itself and refuses them from the caller.
        val restricted = setOf("content-length", "host", "connection")
        request.headers.filter { it.name.lowercase() !in restricted }.forEach { builder.header(it.name, it.value) }
        val response = try {
            http.sendAsync(builder.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray()).await()
        } catch (e: HttpTimeoutException) {
            throw PlatformException.Timeout(e.toString())
        } catch (e: java.net.ConnectException) {
            throw PlatformException.Unreachable(e.toString())
        }
        val headers = response.headers().map().flatMap { (k, vs) -> vs.map { HttpHeader(k, it) } }
        return HttpResponse(response.statusCode(), headers, response.body())
    }
}

class TransportTest {
    @TempDir lateinit var dir: java.nio.file.Path

    @Test
    fun `enroll, policy and upload through a Kotlin transport`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            val transport = JavaHttpTransport()
            PunchClient.open(dir.resolve("phone").toString(), server.options(transport = transport)).use { client ->
                client.enroll(server.enrollCode())
                assertEquals(1L, client.refreshPolicy())
                client.punch(PunchKind.CLOCK_IN, INSIDE)
                val report = client.sync()
                assertNull(report.error)
                assertEquals(1L, report.uploaded)
                assertTrue(transport.requests.get() >= 3)
                server.stop()
                client.punch(PunchKind.CLOCK_OUT, INSIDE)
                // The transport's Unreachable is a network problem in the report.
                assertEquals(SyncIssueKind.NETWORK, client.sync().error?.kind)
            }
            assertEquals(1, server.punches().length())
        }
    }

    @Test
    fun `a transport that throws, answers garbage or hangs is a network problem, not a crash`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            val real = JavaHttpTransport()
            var mode = "real"
            val transport = object : HttpTransport {
                override suspend fun send(request: HttpRequest): HttpResponse = when (mode) {
                    "throw" -> throw IllegalStateException("okhttp exploded")
                    "garbage" -> HttpResponse(7, emptyList(), byteArrayOf(0x00, 0x01))
                    "junk-body" -> HttpResponse(200, emptyList(), "<html>captive portal</html>".toByteArray())
                    "hang" -> awaitCancellation()
                    else -> real.send(request)
                }
            }
            val options = server.options(transport = transport).copy(requestTimeout = Duration.ofMillis(500))
            PunchClient.open(dir.resolve("phone").toString(), options).use { client ->
                client.enroll(server.enrollCode())
                client.refreshPolicy()
                client.punch(PunchKind.CLOCK_IN, INSIDE)
                for (m in listOf("throw", "garbage", "junk-body", "hang")) {
                    mode = m
                    val started = System.nanoTime()
                    val report = client.syncNow()
                    assertTrue(report.error != null, "$m: $report")
                    assertEquals(1L, report.remaining, m)
                    assertTrue(System.nanoTime() - started < 30_000_000_000L, "$m took too long")
                }
                mode = "real"
                assertEquals(1L, client.syncNow().uploaded)
            }
        }
    }
}
