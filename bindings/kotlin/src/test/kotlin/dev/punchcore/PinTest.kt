// The punch PIN through the bindings against the real server: lockout with
// tries left and lock end, reset by a code to the bound e-mail, the token
// applied offline and refused when replayed, self-service and admin errors.
package dev.punchcore

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path

class PinTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `lockout, reset by code offline, replay refused, other paths' errors`(): Unit = testBlocking {
        TestServer(dir.resolve("server").also { it.toFile().mkdirs() }).use { server ->
            server.start()
            PunchClient.open(dir.resolve("phone").toString(), server.options()).use { client ->
                client.enroll(server.enrollCode())
                client.sync() // PIN calls need the signed policy: their events are chained under it
                assertFalse(client.pinStatus().isSet)
                val trivial = assertThrowsAsync<PunchException.Pin> { client.setPin("1234", null) }
                assertEquals(PinReason.REJECTED, trivial.reason)
                client.setPin("4827", null)
                val wrong = assertThrowsAsync<PunchException.Pin> { client.verifyPin("0815") }
                assertEquals(PinReason.WRONG, wrong.reason)
                assertEquals(4, wrong.triesLeft)
                repeat(3) { assertThrowsAsync<PunchException.Pin> { client.verifyPin("0815") } }
                val locked = assertThrowsAsync<PunchException.Pin> { client.verifyPin("0815") }
                assertEquals(PinReason.LOCKED, locked.reason)
                assertEquals(java.time.Duration.ofMinutes(30), locked.lockedFor)
                val status = client.pinStatus()
                assertEquals(0, status.triesLeft)
                assertTrue(status.lockedUntil!! > java.time.Instant.now().plus(java.time.Duration.ofMinutes(29)))

                // No contact bound yet, then a code to the e-mail.
                val none = assertThrowsAsync<PunchException.ServerRefused> { client.requestPinResetCode() }
                assertEquals(ServerErrorCode.PIN_RESET_UNAVAILABLE, none.code)
                server.admin("pin-contact", "e-42", "--email", "ada@example.com")
                val sent = client.requestPinResetCode()
                assertEquals("a***@example.com", sent.maskedTo)
                assertEquals(PinChannel.EMAIL, sent.channel)
                val code = JSONObject(Files.readAllLines(server.pinCodes).last()).getString("code")
                val bad = assertThrowsAsync<PunchException.ServerRefused> {
                    client.redeemPinResetCode(if (code == "000000") "000001" else "000000")
                }
                assertEquals(ServerErrorCode.PIN_CODE_INVALID, bad.code)
                val token = client.redeemPinResetCode(code)

                server.stop() // the token is checked offline, with the pinned key
                client.applyPinReset(token, "5930", null)
                assertNull(client.pinStatus().lockedFor)
                client.verifyPin("5930")
                val replay = assertThrowsAsync<PunchException.Pin> { client.applyPinReset(token, "6041", null) }
                assertEquals(PinReason.TOKEN, replay.reason)
                val kinds = client.pinEvents().map { it.kind }
                val failed = List(5) { PinEventKind.FAILED }
                assertEquals(
                    listOf(PinEventKind.SET) + failed +
                        listOf(PinEventKind.LOCKED, PinEventKind.RESET, PinEventKind.SET, PinEventKind.FAILED),
                    kinds,
                )
                assertEquals(ResetPath.CODE, client.pinEvents().single { it.kind == PinEventKind.RESET }.resetPath)

                server.start()
                client.networkAvailable()
                assertNull(client.syncNow().error) // the PIN events go up like punches
                assertEquals(0L, client.status().pending)
                val noOrder = assertThrowsAsync<PunchException.ServerRefused> { client.fetchAdminPinReset() }
                assertEquals(ServerErrorCode.PIN_NO_ADMIN_RESET, noOrder.code)
                server.admin("pin-secret", "e-42", "--secret", "4711")
                val identity = assertThrowsAsync<PunchException.ServerRefused> { client.selfServicePinReset("e-42", "0000") }
                assertEquals(ServerErrorCode.PIN_IDENTITY_INVALID, identity.code)
                client.applyPinReset(client.selfServicePinReset("e-42", "4711"), "7162", null)
                client.verifyPin("7162")
            }
        }
    }
}
