// The Wi-Fi evidence for a punch: the connected access point's BSSID/SSID
// and the scan results. Android hides both (BSSID 02:00:00:00:00:00, SSID
// "<unknown ssid>") without fine location permission and location switched
// on; each such state is reported, so the punch records why Wi-Fi is absent.
package dev.punchcore.android

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import android.net.wifi.WifiManager
import dev.punchcore.WifiObservation

enum class WifiState { OBSERVED, NOT_CONNECTED, WIFI_OFF, NO_PERMISSION, LOCATION_OFF }

data class WifiReading(val observations: List<WifiObservation>, val state: WifiState)

class WifiAdapter(private val context: Context) {
    private val wifi = context.applicationContext.getSystemService(WifiManager::class.java)
    private val locations = context.getSystemService(LocationManager::class.java)

    @SuppressLint("MissingPermission") // checked in read()
    fun current(): WifiReading = read(
        wifiEnabled = wifi.isWifiEnabled,
        finePermission = context.checkSelfPermission(Manifest.permission.ACCESS_FINE_LOCATION) ==
            PackageManager.PERMISSION_GRANTED,
        locationOn = locations.isLocationEnabled,
        // connectionInfo is deprecated on 31+ in favour of NetworkCallback's
        // TransportInfo, which needs a callback registered before the punch;
        // for a punch taken now it answers the same.
        connected = {
            @Suppress("DEPRECATION")
            wifi.connectionInfo?.let { info -> observation(info.bssid, info.ssid, info.rssi) }
        },
        scanned = {
            wifi.scanResults.orEmpty().mapNotNull { r ->
                @Suppress("DEPRECATION")
                observation(r.BSSID, r.SSID, r.level)
            }
        },
    )

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
