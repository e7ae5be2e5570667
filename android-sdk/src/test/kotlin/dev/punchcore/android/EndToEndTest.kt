// One punch from the SDK's adapters (Robolectric's Android 14) through the
// host-built libpunchcore.so (JNA) and OkHttp to the real punch-server on
// 127.0.0.1; and the library's verdict on a mocked and an old fix read
// through the same adapters.
package dev.punchcore.android

import android.Manifest
import android.app.Application
import android.location.Location
import android.location.LocationManager
import android.os.SystemClock
import dev.punchcore.Evidence
import dev.punchcore.FlagKind
import dev.punchcore.OkHttpTransport
import dev.punchcore.PunchClient
import dev.punchcore.PunchKind
import dev.punchcore.TestServer
import dev.punchcore.evaluate
import dev.punchcore.punch
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowSystemClock
import java.time.Duration

@RunWith(RobolectricTestRunner::class)
class EndToEndTest {
    @get:Rule val tmp = TemporaryFolder()
    private val app: Application = RuntimeEnvironment.getApplication()

    private fun hq(mock: Boolean = false) = Location(LocationManager.GPS_PROVIDER).apply {
        latitude = dev.punchcore.HQ_LAT
        longitude = dev.punchcore.HQ_LON
        accuracy = 10f
        time = System.currentTimeMillis()
        elapsedRealtimeNanos = SystemClock.elapsedRealtimeNanos()
        markMock(mock)
    }

    @Test
    fun `a punch from the adapters reaches the real server, and mocked or old fixes are flagged`() = runBlocking {
        shadowOf(app).grantPermissions(Manifest.permission.ACCESS_FINE_LOCATION)
        val locations = shadowOf(app.getSystemService(LocationManager::class.java))
        locations.setLocationEnabled(true)
        locations.setProviderEnabled(LocationManager.GPS_PROVIDER, true)
        locations.simulateLocation(hq())

        TestServer(tmp.newFolder("server").toPath()).use { server ->
            server.start()
            val signer = KeystoreSigner(app, "punch-e2e", false, null, AdaptersTest.SoftwareKeys())
            val options = server.options(signer = signer, transport = OkHttpTransport())
                .copy(clock = AndroidClock(app.contentResolver))
            PunchClient.open(PunchStorage.directory(app).absolutePath, options).use { client ->
                client.enroll(server.enrollCode())
                assertEquals(1L, client.refreshPolicy())

                val reading = LocationAdapter(app).current(Duration.ofSeconds(1))
                assertEquals(LocationState.FIX, reading.state)
                assertFalse(reading.fix!!.isMock)
                client.punch(PunchKind.CLOCK_IN, Evidence(gps = reading.fix))
                val report = client.sync()
                assertNull(report.error)
                assertEquals(1L, report.uploaded)

                // A mocking app's fix, read through the adapter: flagged as such.
                val mocked = LocationAdapter.toFix(hq(mock = true), approximateOnly = false)
                val onMock = client.evaluate(Evidence(gps = mocked))
                assertTrue("${onMock.flags}", onMock.flags.any { it.kind == FlagKind.MOCK_LOCATION })

                // A fix taken 20 minutes ago on the monotonic clock: stale.
                val old = LocationAdapter.toFix(hq(), approximateOnly = false)
                ShadowSystemClock.advanceBy(Duration.ofMinutes(20))
                val onOld = client.evaluate(Evidence(gps = old))
                assertTrue("${onOld.flags}", onOld.flags.any { it.kind == FlagKind.STALE_FIX })
            }
            assertEquals(1, server.punches().length())
        }
    }
}
