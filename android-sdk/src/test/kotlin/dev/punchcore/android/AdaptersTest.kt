// The SDK's platform adapters under Robolectric (Android 14 framework on the
// JVM). Robolectric has no AndroidKeyStore: the Keystore signer's and the
// data-key wrapper's logic run on software keys here.
package dev.punchcore.android

import android.Manifest
import android.app.Application
import android.app.job.JobInfo
import android.app.job.JobScheduler
import android.content.pm.PackageManager
import android.location.Location
import android.location.LocationManager
import android.os.SystemClock
import android.provider.Settings
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.StrongBoxUnavailableException
import android.util.Log
import dev.punchcore.DeviceAttestation
import dev.punchcore.LogLevel
import dev.punchcore.PlatformException
import dev.punchcore.WifiObservation
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertSame
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowLog
import org.robolectric.shadows.ShadowSystemClock
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.PublicKey
import java.security.Signature
import java.security.cert.Certificate
import java.security.spec.ECGenParameterSpec
import java.time.Duration
import javax.crypto.KeyGenerator

@RunWith(RobolectricTestRunner::class)
class AdaptersTest {
    private val app: Application = RuntimeEnvironment.getApplication()

    @Test
    fun `clock reads elapsedRealtime and the boot count`() {
        Settings.Global.putInt(app.contentResolver, Settings.Global.BOOT_COUNT, 7)
        ShadowSystemClock.advanceBy(Duration.ofMinutes(3))
        val reading = AndroidClock(app.contentResolver).now()
        assertEquals("boot-7", reading.bootId)
        assertEquals(SystemClock.elapsedRealtime(), reading.sinceBoot.toMillis())
        Settings.Global.putInt(app.contentResolver, Settings.Global.BOOT_COUNT, 8)
        assertEquals("boot-8", AndroidClock(app.contentResolver).now().bootId)
    }

    @Test
    fun `log lines reach Logcat at their level`() {
        LogcatSink().log(LogLevel.WARN, "punchcore::sync", "server unreachable")
        val line = ShadowLog.getLogsForTag("punch/punchcore::sync").single()
        assertEquals(Log.WARN, line.type)
        assertEquals("server unreachable", line.msg)
    }

    @Test
    fun `the database lives in noBackupFilesDir`() {
        assertEquals(app.noBackupFilesDir, PunchStorage.directory(app).parentFile)
    }

    private fun location(mock: Boolean = false, ageMinutes: Long = 0) = Location(LocationManager.GPS_PROVIDER).apply {
        latitude = 52.520008
        longitude = 13.404954
        accuracy = 8f
        time = System.currentTimeMillis() - ageMinutes * 60_000
        elapsedRealtimeNanos = (SystemClock.elapsedRealtime() - ageMinutes * 60_000) * 1_000_000
        markMock(mock)
    }

    @Test
    fun `a fix carries its mock flag, its monotonic age and approximate-only permission`() {
        ShadowSystemClock.advanceBy(Duration.ofMinutes(30))
        val fix = LocationAdapter.toFix(location(mock = true, ageMinutes = 12), approximateOnly = true)
        assertTrue(fix.isMock)
        assertTrue(fix.reducedAccuracy)
        assertEquals(SystemClock.elapsedRealtime() - 12 * 60_000, fix.elapsedRealtime!!.toMillis())
        assertEquals(8.0, fix.accuracyM, 0.0)
        val plain = LocationAdapter.toFix(location(), approximateOnly = false)
        assertFalse(plain.isMock)
        assertFalse(plain.reducedAccuracy)
    }

    @Test
    fun `denied permission and location off are states, not exceptions`() = runBlocking {
        val adapter = LocationAdapter(app)
        assertEquals(LocationReading(null, LocationState.NO_PERMISSION), adapter.current())
        shadowOf(app).grantPermissions(Manifest.permission.ACCESS_FINE_LOCATION)
        shadowOf(app.getSystemService(LocationManager::class.java)).setLocationEnabled(false)
        assertEquals(LocationReading(null, LocationState.LOCATION_OFF), adapter.current())
    }

    @Test
    fun `approximate-only permission gives a fix marked reduced accuracy`() = runBlocking {
        shadowOf(app).grantPermissions(Manifest.permission.ACCESS_COARSE_LOCATION)
        val manager = shadowOf(app.getSystemService(LocationManager::class.java))
        manager.setLocationEnabled(true)
        manager.setProviderEnabled(LocationManager.GPS_PROVIDER, true)
        manager.simulateLocation(location())
        val reading = LocationAdapter(app).current(Duration.ofSeconds(1))
        assertEquals(LocationState.FIX, reading.state)
        assertTrue(reading.fix!!.reducedAccuracy)
    }

    /**
     * Robolectric 4.17's WifiManager shadow cannot load on SDK 34 (it names
     * API 36's BlockingOption; SDK 36 needs Java 21 here): the adapter's
     * decisions are tested on the platform's answers instead.
     */
    @Test
    fun `wifi off, no permission, location off and a connected access point`() {
        val ap = WifiAdapter.observation("A4:2B:B0:10:20:30", "\"ACME-Office\"", -55)!!
        val scanned = listOf(ap, WifiAdapter.observation("a4:2b:b0:10:20:31", "<unknown ssid>", -70)!!)
        fun read(enabled: Boolean = true, fine: Boolean = true, location: Boolean = true, connected: WifiObservation? = ap) =
            WifiAdapter.read(enabled, fine, location, { connected }, { scanned })
        assertEquals(WifiReading(emptyList(), WifiState.WIFI_OFF), read(enabled = false))
        assertEquals(WifiReading(emptyList(), WifiState.NO_PERMISSION), read(fine = false))
        assertEquals(WifiReading(emptyList(), WifiState.LOCATION_OFF), read(location = false))
        val observed = read()
        assertEquals(WifiState.OBSERVED, observed.state)
        assertEquals(listOf("a4:2b:b0:10:20:30", "a4:2b:b0:10:20:31"), observed.observations.map { it.bssid })
        assertEquals("ACME-Office", observed.observations[0].ssid)
        assertNull(observed.observations[1].ssid)
        assertEquals(WifiState.NOT_CONNECTED, read(connected = null).state)
        // Android's placeholder without location access is no observation.
        assertNull(WifiAdapter.observation("02:00:00:00:00:00", "x", -50))
    }

    class UploadJob : PunchUploadJobService() {
        override suspend fun client() = error("not run here")
    }

    @Test
    fun `upload jobs are unique, need a network, and a pending or running job is never replaced`() {
        val jobs = app.getSystemService(JobScheduler::class.java)
        val scheduler = UploadScheduler(app, UploadJob::class.java)
        scheduler.schedulePeriodic()
        val periodic = jobs.getPendingJob(UploadScheduler.PERIODIC_JOB_ID)!!
        scheduler.schedulePeriodic()
        assertSame(periodic, jobs.getPendingJob(UploadScheduler.PERIODIC_JOB_ID))
        assertTrue(periodic.isPeriodic && periodic.isPersisted)
        assertEquals(JobInfo.NETWORK_TYPE_ANY, periodic.networkType)

        scheduler.uploadSoon()
        val soon = jobs.getPendingJob(UploadScheduler.UPLOAD_NOW_JOB_ID)!!
        scheduler.uploadSoon()
        assertSame(soon, jobs.getPendingJob(UploadScheduler.UPLOAD_NOW_JOB_ID))
        assertEquals(JobInfo.NETWORK_TYPE_ANY, soon.networkType)
        assertEquals(2, jobs.allPendingJobs.size)

        // Running (no longer pending): asking again must not schedule over it.
        jobs.cancel(UploadScheduler.UPLOAD_NOW_JOB_ID)
        PunchUploadJobService.started(UploadScheduler.UPLOAD_NOW_JOB_ID)
        scheduler.uploadSoon()
        assertNull(jobs.getPendingJob(UploadScheduler.UPLOAD_NOW_JOB_ID))
        PunchUploadJobService.finished(UploadScheduler.UPLOAD_NOW_JOB_ID)
        scheduler.uploadSoon()
        assertTrue(jobs.getPendingJob(UploadScheduler.UPLOAD_NOW_JOB_ID) != null)
    }

    @Test
    fun `the data key is wrapped with AES-GCM and a tampered or foreign blob is refused`() {
        val aes = KeyGenerator.getInstance("AES").apply { init(256) }
        val key = aes.generateKey()
        val wrapper = KeystoreDataKeyWrapper { key }
        val dataKey = ByteArray(32) { it.toByte() }
        val wrapped = wrapper.wrap(dataKey)
        assertEquals(1 + 12 + 32 + 16, wrapped.size)
        assertArrayEquals(dataKey, wrapper.unwrap(wrapped))
        val tampered = wrapped.copyOf().also { it[20] = (it[20].toInt() xor 1).toByte() }
        assertThrows<PlatformException.Failed> { wrapper.unwrap(tampered) }
        val other = aes.generateKey()
        assertThrows<PlatformException.Failed> { KeystoreDataKeyWrapper { other }.unwrap(wrapped) }
    }

    /** Software keys standing in for AndroidKeyStore. */
    class SoftwareKeys(private val strongBoxWorks: Boolean = true) : SigningKeys {
        val pairs = mutableMapOf<String, KeyPair>()
        val generatedInStrongBox = mutableListOf<Boolean>()
        var invalidated = false

        override fun contains(alias: String) = alias in pairs
        override fun generate(alias: String, strongBox: Boolean, requireUserAuth: Boolean, challenge: ByteArray?) {
            if (strongBox && !strongBoxWorks) throw StrongBoxUnavailableException()
            generatedInStrongBox += strongBox
            pairs[alias] = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }
                .generateKeyPair()
        }
        override fun publicKey(alias: String): PublicKey? = pairs[alias]?.public
        override fun certificateChain(alias: String): Array<Certificate>? = null
        override fun initSign(alias: String): Signature? {
            if (invalidated) throw KeyPermanentlyInvalidatedException()
            val pair = pairs[alias] ?: return null
            return Signature.getInstance("SHA256withECDSA").apply { initSign(pair.private) }
        }
    }

    @Test
    fun `the Keystore signer falls back from StrongBox, signs DER, attests only its challenge, and reports invalidation`() = runBlocking {
        shadowOf(app.packageManager).setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, true)
        val keys = SoftwareKeys(strongBoxWorks = false)
        val challenge = byteArrayOf(1, 2, 3)
        val signer = KeystoreSigner(app, "punch-channel", requireUserAuth = false, attestationChallenge = challenge, keys = keys)
        assertEquals(listOf(false), keys.generatedInStrongBox) // tried StrongBox, then the TEE
        val message = "record".toByteArray()
        val der = signer.sign(message)
        val ok = Signature.getInstance("SHA256withECDSA").run {
            initVerify(java.security.KeyFactory.getInstance("EC").generatePublic(java.security.spec.X509EncodedKeySpec(signer.publicKeySpki())))
            update(message)
            verify(der)
        }
        assertTrue(ok)
        assertNull(signer.attestation(byteArrayOf(9))) // another challenge: no attestation
        assertNull(signer.attestation(challenge)) // software keys have no chain
        keys.invalidated = true
        try {
            signer.sign(message)
            fail("an invalidated key signed")
        } catch (e: PlatformException.KeyInvalidated) {
            assertTrue(e.detail.contains("punch-channel"))
        }
        Unit
    }

    private inline fun <reified T : Throwable> assertThrows(block: () -> Unit) {
        try {
            block()
        } catch (e: Throwable) {
            assertTrue("expected ${T::class.simpleName}, got $e", e is T)
            return
        }
        fail("expected ${T::class.simpleName}")
    }

    @Suppress("unused")
    private val attestationType = DeviceAttestation::class
}
