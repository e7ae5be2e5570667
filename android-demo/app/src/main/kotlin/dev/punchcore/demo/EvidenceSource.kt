// What the phone observes for a punch: a fresh location fix with its mock
// flag, and the connected Wi-Fi access point. Framework APIs only
// (LocationManager, WifiManager): no Play services, no AndroidX.
package dev.punchcore.demo

import android.annotation.SuppressLint
import android.content.Context
import android.location.Location
import android.location.LocationManager
import android.net.wifi.WifiManager
import android.os.Build
import android.os.CancellationSignal
import dev.punchcore.Evidence
import dev.punchcore.GpsFix
import dev.punchcore.WifiObservation
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlin.coroutines.resume

class EvidenceSource(private val context: Context) {
    private val locations = context.getSystemService(LocationManager::class.java)
    private val wifi = context.applicationContext.getSystemService(WifiManager::class.java)

    /** Permissions are checked by the activity before this is called. */
    @SuppressLint("MissingPermission")
    suspend fun collect(): Evidence {
        val fix = currentLocation()?.let { loc ->
            GpsFix(
                lat = loc.latitude,
                lon = loc.longitude,
                accuracyM = if (loc.hasAccuracy()) loc.accuracy.toDouble() else 9_999.0,
                fixTime = java.time.Instant.ofEpochMilli(loc.time),
                provider = loc.provider ?: "",
                isMock = isMock(loc),
                speedMps = if (loc.hasSpeed()) loc.speed.toDouble() else null,
            )
        }
        return Evidence(gps = fix, wifi = listOfNotNull(connectedAccessPoint()))
    }

    private fun isMock(loc: Location): Boolean =
        if (Build.VERSION.SDK_INT >= 31) loc.isMock else @Suppress("DEPRECATION") loc.isFromMockProvider

    /** A fresh fix (API 30+), else the last known one: the library flags a stale fix. */
    @SuppressLint("MissingPermission")
    private suspend fun currentLocation(): Location? {
        val provider = if (locations.isProviderEnabled(LocationManager.GPS_PROVIDER)) {
            LocationManager.GPS_PROVIDER
        } else {
            LocationManager.NETWORK_PROVIDER
        }
        if (Build.VERSION.SDK_INT >= 30) {
            return suspendCancellableCoroutine { cont ->
                val cancel = CancellationSignal()
                cont.invokeOnCancellation { cancel.cancel() }
                locations.getCurrentLocation(provider, cancel, context.mainExecutor) { cont.resume(it) }
            }
        }
        return locations.getLastKnownLocation(provider)
    }

    /**
     * The connected access point. Android hides the BSSID (02:00:00:00:00:00)
     * without fine location permission and location services on; the
     * library ignores that placeholder and flags it.
     */
    @Suppress("DEPRECATION")
    private fun connectedAccessPoint(): WifiObservation? {
        val info = wifi.connectionInfo ?: return null
        val bssid = info.bssid ?: return null
        val ssid = info.ssid?.removeSurrounding("\"")?.takeIf { it != "<unknown ssid>" } // WifiManager.UNKNOWN_SSID
        return WifiObservation(bssid = bssid, ssid = ssid, rssiDbm = info.rssi)
    }
}
