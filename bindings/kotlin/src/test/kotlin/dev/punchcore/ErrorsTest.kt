// Every error arrives as a typed PunchException subclass with a human detail.
package dev.punchcore

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path

class ErrorsTest {
    @TempDir lateinit var dir: Path

    private fun phone(name: String = "phone") = dir.resolve(name).toString()

    @Test
    fun `server-side errors - not enrolled, refused code, network, policy missing`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            PunchClient.open(phone(), server.options()).use { client ->
                val missing = assertThrowsAsync<PunchException.PolicyMissing> { client.evaluate(INSIDE) }
                assertTrue(missing.detail.contains("policy"), missing.detail)
                assertThrowsAsync<PunchException.NotEnrolled> { client.sync() }
                val refused = assertThrowsAsync<PunchException.ServerRefused> { client.enroll("NOT-A-CODE") }
                assertTrue(refused.detail.isNotBlank())
                assertEquals(ServerErrorCode.ENROLLMENT_CODE_INVALID, refused.code)
                assertThrowsAsync<PunchException.InvalidInput> { client.enroll("  ") }
                server.stop()
                assertThrowsAsync<PunchException.Network> { client.enroll(server.enrollCode()) }
            }
        }
    }

    @Test
    fun `a refusal's message names no site, place or distance, its fields do`(): Unit = testBlocking {
        localClient(dir.resolve("phone")).use { client ->
            val refused = assertThrowsAsync<PunchException.Refused> { client.punch(PunchKind.CLOCK_IN, FAR) }
            val nearest = refused.evaluation.nearestSite!!
            assertEquals("hq", nearest.siteId)
            // What a crash reporter logs: a sentence, then codes and counts.
            val message = refused.message!!
            assertTrue(message.startsWith("detail=The punch does not meet"), message)
            val personal = listOf(
                nearest.siteId, "%.1f".format(java.util.Locale.ROOT, nearest.distanceM).substringBefore('.'),
                "52.5", "13.4", HQ_BSSID,
            )
            for (p in personal) assertTrue(!message.contains(p), "message names $p: $message")
            assertTrue(!refused.toString().contains("hq"), refused.toString())
        }
    }

    @Test
    fun `options, evidence and paging are checked`(): Unit = testBlocking {
        assertThrowsAsync<PunchException.InvalidInput> {
            PunchClient.open(phone(), ClientOptions(serverUrl = "http://127.0.0.1:1"))
        }
        assertThrowsAsync<PunchException.InvalidInput> {
            PunchClient.open(phone(), ClientOptions(serverUrl = "http://127.0.0.1:1", policyKeyBase64 = "%%%"))
        }
        // Plain http to a non-loopback host is refused by the core's URL rule.
        val key = java.util.Base64.getEncoder().encodeToString(JavaSigner().keyPair.public.encoded)
        val plain = runCatching {
            PunchClient.open(phone(), ClientOptions(serverUrl = "http://punch.example.com", policyKeyBase64 = key))
        }.exceptionOrNull()
        assertTrue(plain is PunchException.InvalidInput, "plain http to a remote host: $plain")

        localClient(dir.resolve("local")).use { client ->
            val bad = Evidence(gps = GpsFix(lat = 200.0, lon = 0.0, accuracyM = 5.0, fixTime = java.time.Instant.now()))
            assertThrowsAsync<PunchException.InvalidInput> { client.punch(PunchKind.CLOCK_IN, bad) }
            val badWifi = Evidence(wifi = listOf(WifiObservation(bssid = "not-a-mac")))
            assertThrowsAsync<PunchException.InvalidInput> { client.evaluate(badWifi) }
            assertThrowsAsync<PunchException.InvalidInput> { client.history(null, 0) }
            assertThrowsAsync<PunchException.InvalidInput> { client.history(-1L, 10) }
            assertThrowsAsync<PunchException.InvalidInput> { client.evidenceOpening(-5L) }
            assertThrowsAsync<PunchException.InvalidInput> { client.bindEmployee("someone-else") }
            assertEquals(0L, client.status().pending)
        }
    }

    @Test
    fun `policy errors - invalid, expired, unsigned`(): Unit = testBlocking {
        localClient(dir.resolve("local")).use { client ->
            assertThrowsAsync<PunchException.PolicyInvalid> { client.installPolicy("{not json".toByteArray(), null) }
            val expired = localPolicy(expiresAtMs = System.currentTimeMillis() - 1_000)
                .toString(Charsets.UTF_8).replace("\"version\": 1", "\"version\": 2").toByteArray()
            assertThrowsAsync<PunchException.PolicyExpired> { client.installPolicy(expired, null) }
        }
        // A server-backed client refuses an unsigned policy.
        val key = java.util.Base64.getEncoder().encodeToString(JavaSigner().keyPair.public.encoded)
        PunchClient.open(phone("pinned"), ClientOptions(serverUrl = "http://127.0.0.1:9", policyKeyBase64 = key)).use {
            assertThrowsAsync<PunchException.PolicyInvalid> { it.installPolicy(localPolicy(), null) }
        }
    }

    @Test
    fun `storage errors arrive as exceptions`(): Unit = testBlocking {
        val file = dir.resolve("a-file")
        Files.writeString(file, "not a directory")
        assertThrowsAsync<PunchException.Storage> { PunchClient.open(file.toString(), ClientOptions()) }
        val corrupt = dir.resolve("corrupt").also { Files.createDirectories(it) }
        Files.write(corrupt.resolve("punch.db"), ByteArray(8192) { 0x5a })
        assertThrowsAsync<PunchException.Storage> { PunchClient.open(corrupt.toString(), ClientOptions()) }
        // A panic: PanicProbeTest (src/bench, the `bench` build).
    }
}
