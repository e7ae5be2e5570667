// The Wi-Fi evidence for a punch: the connected access point's BSSID/SSID
// and the scan results. Android hides both (BSSID 02:00:00:00:00:00, SSID
// "<unknown ssid>") without fine location permission and location switched
// on; each such state is reported, so the punch records why Wi-Fi is absent.
package dev.punchcore.android

import android.Manifest
import android.annotation.SuppressLint
import android.annotation.TargetApi
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import android.net.ConnectivityManager
import android.net.ConnectivityManager.NetworkCallback.FLAG_INCLUDE_LOCATION_INFO
import android.net.Network
import android.net.NetworkCapabilities
import android.net.NetworkRequest
import android.net.wifi.WifiInfo
import android.net.wifi.WifiManager
import android.os.Build
import dev.punchcore.WifiObservation
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeoutOrNull
import java.time.Duration
import kotlin.coroutines.resume

enum class WifiState { OBSERVED, NOT_CONNECTED, WIFI_OFF, NO_PERMISSION, LOCATION_OFF }

data class WifiReading(val observations: List<WifiObservation>, val state: WifiState)

class WifiAdapter(private val context: Context) {
    private val wifi = context.applicationContext.getSystemService(WifiManager::class.java)
    private val locations = context.getSystemService(LocationManager::class.java)

    /**
     * The connected access point and the scan results. On API 31+ the
     * connected one comes from a NetworkCallback with location info (what
     * Android now documents; `connectionInfo` is deprecated there), waited
     * for at most [timeout]; older versions read `connectionInfo`.
     */
    @SuppressLint("MissingPermission") // read() asks for nothing without the permission
    suspend fun current(timeout: Duration = Duration.ofSeconds(2)): WifiReading {
        val fromCallback = if (Build.VERSION.SDK_INT >= 31 && granted()) connectedViaCallback(timeout) else null
        return read(
            wifiEnabled = wifi.isWifiEnabled,
            finePermission = granted(),
            locationOn = locations.isLocationEnabled,
            connected = {
                fromCallback ?: run {
                    @Suppress("DEPRECATION")
                    wifi.connectionInfo?.let { info -> observation(info.bssid, info.ssid, info.rssi) }
                }
            },
            scanned = {
                wifi.scanResults.orEmpty().mapNotNull { r ->
                    @Suppress("DEPRECATION")
                    observation(r.BSSID, r.SSID, r.level)
                }
            },
        )
    }

    private fun granted() = context.checkSelfPermission(Manifest.permission.ACCESS_FINE_LOCATION) ==
        PackageManager.PERMISSION_GRANTED

    /** The Wi-Fi network's WifiInfo with its BSSID (FLAG_INCLUDE_LOCATION_INFO), or null. */
    @TargetApi(31)
    private suspend fun connectedViaCallback(timeout: Duration): WifiObservation? =
        withTimeoutOrNull(timeout.toMillis()) {
            suspendCancellableCoroutine { cont ->
                val connectivity = context.getSystemService(ConnectivityManager::class.java)
                val request = NetworkRequest.Builder().addTransportType(NetworkCapabilities.TRANSPORT_WIFI).build()
                val callback = object : ConnectivityManager.NetworkCallback(FLAG_INCLUDE_LOCATION_INFO) {
                    override fun onCapabilitiesChanged(network: Network, caps: NetworkCapabilities) {
                        val info = caps.transportInfo as? WifiInfo ?: return
                        connectivity.unregisterNetworkCallback(this)
                        if (cont.isActive) cont.resume(observation(info.bssid, info.ssid, info.rssi))
                    }
                }
                cont.invokeOnCancellation { runCatching { connectivity.unregisterNetworkCallback(callback) } }
                connectivity.registerNetworkCallback(request, callback)
            }
        }

    internal companion object {
        const val HIDDEN_BSSID = "02:00:00:00:00:00"
        const val UNKNOWN_SSID = "<unknown ssid>" // WifiManager.UNKNOWN_SSID

        /** The reading from the platform's answers; the access points are read only when Android would give them. */
        fun read(
            wifiEnabled: Boolean,
            finePermission: Boolean,
            locationOn: Boolean,
            connected: () -> WifiObservation?,
            scanned: () -> List<WifiObservation>,
        ): WifiReading {
            if (!wifiEnabled) return WifiReading(emptyList(), WifiState.WIFI_OFF)
            if (!finePermission) return WifiReading(emptyList(), WifiState.NO_PERMISSION)
            if (!locationOn) return WifiReading(emptyList(), WifiState.LOCATION_OFF)
            // The connected one first; scan results add the access points around.
            val now = connected()
            val all = (listOfNotNull(now) + scanned()).distinctBy { it.bssid }
            return WifiReading(all, if (now != null) WifiState.OBSERVED else WifiState.NOT_CONNECTED)
        }

        /** Android's placeholders (no location access) are no observation. */
        fun observation(bssid: String?, ssid: String?, rssi: Int): WifiObservation? {
            if (bssid == null || bssid == HIDDEN_BSSID) return null
            val name = ssid?.removeSurrounding("\"")?.takeIf { it.isNotEmpty() && it != UNKNOWN_SSID }
            return WifiObservation(bssid = bssid.lowercase(), ssid = name, rssiDbm = rssi)
        }
    }
}
