// The two device keys through the real server: a punch key that needs the
// user (a biometric prompt) and a channel key that never does, made by the
// app's KeyProvider at enrollment; an invalidated punch key replaced by a
// rotation; enrollment that cannot skip an attestation the employer requires.
package dev.punchcore

import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import org.json.JSONArray
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotSame
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.time.Duration
import java.util.Base64
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger

/** Whether someone is there to answer a biometric prompt; the test decides. */
class UserPresence {
    @Volatile var present = true
}

/**
 * The JVM twin of a Keystore key. A punch key needs the user: each use shows
 * a prompt (the call suspends) that fails when nobody answers it. The OS can
 * invalidate it (a new fingerprint): then it throws `KeyInvalidated`.
 */
class PlatformKey(private val needsUser: Boolean, private val user: UserPresence) : DeviceSigner {
    private val keyPair = KeyPairGenerator.getInstance("EC").apply {
        initialize(ECGenParameterSpec("secp256r1"))
    }.generateKeyPair()
    val spki: ByteArray get() = keyPair.public.encoded
    val signatures = AtomicInteger()
    @Volatile var invalidated = false

    override fun publicKeySpki(): ByteArray = spki

    override suspend fun attestation(challenge: ByteArray): DeviceAttestation? = null

    override suspend fun sign(message: ByteArray): ByteArray {
        if (invalidated) {
            throw PlatformException.KeyInvalidated("KeyPermanentlyInvalidatedException")
        }
        if (needsUser) {
            delay(30) // the prompt is on screen
            if (!user.present) throw PlatformException.Failed("nobody answered the biometric prompt")
        }
        signatures.incrementAndGet()
        return Signature.getInstance("SHA256withECDSA").run {
            initSign(keyPair.private)
            update(message)
            sign()
        }
    }
}

/** A key store that makes user-bound punch keys and background-safe channel keys, unattested. */
class TestKeyProvider(private val user: UserPresence) : KeyProvider {
    val made = CopyOnWriteArrayList<Pair<KeyRole, PlatformKey>>()
    val challenges = CopyOnWriteArrayList<ByteArray?>()

    override suspend fun createKey(role: KeyRole, challenge: ByteArray?): ProvidedKey {
        delay(5) // the key store works
        challenges += challenge
        val key = PlatformKey(needsUser = role == KeyRole.PUNCH, user = user)
        made += role to key
        return ProvidedKey(signer = key, publicKeySpki = key.spki, attestation = null)
    }

    /** The newest key of [role]. */
    fun key(role: KeyRole): PlatformKey = made.last { it.first == role }.second
}

class KeysTest {
    @TempDir lateinit var dir: Path

    private fun server() = TestServer(dir.resolve("server").also { it.toFile().mkdirs() })

    private fun TestServer.options(signer: DeviceSigner?, channel: DeviceSigner?) = ClientOptions(
        serverUrl = url,
        policyKeyBase64 = policyKey,
        signer = signer,
        channelSigner = channel,
    )

    private fun TestServer.rejected() = JSONArray(admin("--json", "rejected"))

    private fun TestServer.device(deviceId: String) = JSONArray(admin("--json", "devices")).let { all ->
        (0 until all.length()).map { all.getJSONObject(it) }.single { it.getString("device_id") == deviceId }
    }

    /** The server's accepted punches of this device, hashes in chain order. */
    private fun TestServer.hashes(deviceId: String): List<String> = punches().let { all ->
        (0 until all.length()).map { all.getJSONObject(it) }
            .filter { it.getString("device_id") == deviceId }
            .sortedBy { it.getLong("seq") }
            .map { it.getString("hash") }
    }

    @Test
    fun `background sync uploads every punch while the punch key needs a user who is not there`(): Unit =
        testBlocking {
            server().use { server ->
                server.start()
                val user = UserPresence()
                val keys = TestKeyProvider(user)
                PunchClient.open(dir.resolve("phone").toString(), server.options(null, null)).use { client ->
                    assertEquals("e-42", client.enrollWithKeys(server.enrollCode(), keys))
                    // Both keys made for the server's challenge, and in force.
                    assertEquals(listOf(KeyRole.PUNCH, KeyRole.CHANNEL), keys.made.map { it.first })
                    assertTrue(keys.challenges.all { it != null && it.isNotEmpty() })
                    val info = client.deviceInfo()
                    assertArrayEquals(keys.key(KeyRole.PUNCH).spki, info.publicKeySpki)
                    assertArrayEquals(keys.key(KeyRole.CHANNEL).spki, info.channelKeySpki)
                    assertTrue(info.platformKey)
                    client.refreshPolicy()

                    val receipts = listOf(PunchKind.CLOCK_IN, PunchKind.BREAK_START, PunchKind.BREAK_END)
                        .map { client.punch(it, INSIDE) }
                    val punchKey = keys.key(KeyRole.PUNCH)
                    val signedWithUser = punchKey.signatures.get()

                    // The phone is in a pocket: a punch needs the user, and fails typed.
                    user.present = false
                    assertThrowsAsync<PunchException.Signer> { client.punch(PunchKind.CLOCK_OUT, INSIDE) }
                    assertEquals(3L, client.status().pending)

                    // The background upload needs nobody.
                    client.startBackgroundSync(Duration.ofMinutes(1))
                    withTimeout(20_000) {
                        client.standingUpdates().first { it.sync.pending == 0L && it.sync.uploaded == 3L }
                    }
                    client.stopBackgroundSync()
                    assertEquals(signedWithUser, punchKey.signatures.get(), "upload never asked the punch key")
                    assertTrue(keys.key(KeyRole.CHANNEL).signatures.get() > 0, "the channel key signed the requests")

                    val deviceId = info.deviceId
                    assertEquals(receipts.map { it.recordHash }, server.hashes(deviceId))
                    assertEquals(0, server.rejected().length())
                    val onServer = server.device(deviceId)
                    assertEquals(Base64.getEncoder().encodeToString(info.channelKeySpki), onServer.getString("channel_key"))
                }
            }
        }

    @Test
    fun `an invalidated punch key is rotated and every record verifies on the server`(): Unit = testBlocking {
        server().use { server ->
            server.start()
            val user = UserPresence()
            val keys = TestKeyProvider(user)
            val phone = dir.resolve("phone").toString()
            var deviceId = ""
            val before = mutableListOf<String>()
            PunchClient.open(phone, server.options(null, null)).use { client ->
                client.enrollWithKeys(server.enrollCode(), keys)
                client.refreshPolicy()
                deviceId = client.deviceInfo().deviceId
                before += client.punch(PunchKind.CLOCK_IN, INSIDE).recordHash
                before += client.punch(PunchKind.BREAK_START, INSIDE).recordHash

                // A fingerprint was added: the OS invalidated the punch key.
                val old = keys.key(KeyRole.PUNCH)
                old.invalidated = true
                val invalid = assertThrowsAsync<PunchException.KeyInvalidated> {
                    client.punch(PunchKind.BREAK_END, INSIDE)
                }
                assertTrue(invalid.detail.contains("rotatePunchKey"), invalid.detail)
                // What was signed before still uploads, through the channel key.
                assertEquals(2L, client.sync().uploaded)

                val rotation = client.rotatePunchKey(keys, RotationReason.INVALIDATED)
                assertEquals(3L, rotation.seq)
                val new = keys.key(KeyRole.PUNCH)
                assertNotSame(old, new)
                assertArrayEquals(new.spki, client.deviceInfo().publicKeySpki)

                val after = listOf(PunchKind.BREAK_END, PunchKind.CLOCK_OUT).map { client.punch(it, INSIDE).recordHash }
                val report = client.sync()
                assertNull(report.error, "${report.error}")
                assertEquals(3L, report.uploaded, "the rotation and two punches")
                assertTrue(report.rejected.isEmpty(), "${report.rejected}")
                assertNull(report.keyRotationPending, "taken by policy: the employer requires no attestation")

                assertEquals(before + after, server.hashes(deviceId))
                assertEquals(0, server.rejected().length())
                assertEquals(5L, server.admin("head", deviceId).trim().substringBefore(' ').toLong())
                assertEquals(Base64.getEncoder().encodeToString(new.spki), server.device(deviceId).getString("punch_key"))
                val chain = client.verifyChain()
                assertTrue(chain.intact, "${chain.breaks}")
                assertEquals(5L, chain.records)
            }
            // The app opens the client with the keys the provider made last.
            val reopen = server.options(keys.key(KeyRole.PUNCH), keys.key(KeyRole.CHANNEL))
            PunchClient.open(phone, reopen).use { client ->
                assertEquals(deviceId, client.deviceInfo().deviceId)
                client.punch(PunchKind.CLOCK_IN, INSIDE)
                assertEquals(1L, client.sync().uploaded)
                assertEquals(6L, server.admin("head", deviceId).trim().substringBefore(' ').toLong())
                assertEquals(0, server.rejected().length())
            }
        }
    }

    @Test
    fun `enrollment without the attestation the employer requires fails typed and sends nothing`(): Unit =
        testBlocking {
            server().use { server ->
                val settings = dir.resolve("settings.json")
                Files.writeString(settings, """{ "min_assurance": "hardware_tee", "below_min_assurance": "refuse" }""")
                server.admin("settings", "--json", settings.toString())
                server.admin("publish", "--ttl-days", "30")
                server.start()
                val keys = TestKeyProvider(UserPresence())
                PunchClient.open(dir.resolve("phone").toString(), server.options(null, null)).use { client ->
                    val refused = assertThrowsAsync<PunchException.AttestationRequired> {
                        client.enrollWithKeys(server.enrollCode(), keys)
                    }
                    assertEquals(KeyRole.PUNCH, refused.role)
                    assertEquals(AssuranceLevel.HARDWARE_TEE, refused.required)
                    assertNull(client.deviceInfo().employeeId)
                }
                assertEquals(0, JSONArray(server.admin("--json", "devices")).length())
            }
        }
}
