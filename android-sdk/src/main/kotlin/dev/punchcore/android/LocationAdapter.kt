// The location fix for a punch from the framework's LocationManager (no Play
// services): the fused provider where the phone has one (API 31+), else GPS,
// else network. What the library needs to judge it travels with the fix: the
// mock flag, the fix's age on the monotonic clock, and whether the user
// granted only approximate location. A missing permission or location
// switched off is a state to record, not an exception.
package dev.punchcore.android

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.location.Location
import android.location.LocationManager
import android.os.Build
import android.os.CancellationSignal
import dev.punchcore.GpsFix
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeoutOrNull
import java.time.Duration
import java.time.Instant
import kotlin.coroutines.resume

/** Why a reading has no fix, or that it has one. */
enum class LocationState { FIX, NO_PERMISSION, LOCATION_OFF, NO_FIX }

/** A fix (or none) and why. */
data class LocationReading(val fix: GpsFix?, val state: LocationState)

class LocationAdapter(private val context: Context) {
    private val locations = context.getSystemService(LocationManager::class.java)

    /** A fresh fix within [timeout], else the newest last-known one (the library judges its age). */
    suspend fun current(timeout: Duration = Duration.ofSeconds(20)): LocationReading {
        val fine = granted(Manifest.permission.ACCESS_FINE_LOCATION)
        val coarse = granted(Manifest.permission.ACCESS_COARSE_LOCATION)
        if (!fine && !coarse) return LocationReading(null, LocationState.NO_PERMISSION)
        if (!locations.isLocationEnabled) return LocationReading(null, LocationState.LOCATION_OFF)
        val provider = provider() ?: return LocationReading(null, LocationState.LOCATION_OFF)
        val location = withTimeoutOrNull(timeout.toMillis()) { fresh(provider) } ?: lastKnown()
        val fix = location?.let { toFix(it, approximateOnly = !fine) }
        return LocationReading(fix, if (fix == null) LocationState.NO_FIX else LocationState.FIX)
    }

    private fun provider(): String? {
        val enabled = locations.getProviders(true)
        return when {
            Build.VERSION.SDK_INT >= 31 && LocationManager.FUSED_PROVIDER in enabled -> LocationManager.FUSED_PROVIDER
            LocationManager.GPS_PROVIDER in enabled -> LocationManager.GPS_PROVIDER
            LocationManager.NETWORK_PROVIDER in enabled -> LocationManager.NETWORK_PROVIDER
            else -> null
        }
    }

    @SuppressLint("MissingPermission") // checked in current()
    private suspend fun fresh(provider: String): Location? = suspendCancellableCoroutine { cont ->
        val cancel = CancellationSignal()
        cont.invokeOnCancellation { cancel.cancel() }
        if (Build.VERSION.SDK_INT >= 30) {
            locations.getCurrentLocation(provider, cancel, context.mainExecutor) { cont.resume(it) }
        } else {
            @Suppress("DEPRECATION")
            locations.requestSingleUpdate(provider, { cont.resume(it) }, context.mainLooper)
        }
    }

    @SuppressLint("MissingPermission")
    private fun lastKnown(): Location? = locations.getProviders(true)
        .mapNotNull { locations.getLastKnownLocation(it) }
        .maxByOrNull { it.elapsedRealtimeNanos }

    private fun granted(permission: String) =
        context.checkSelfPermission(permission) == PackageManager.PERMISSION_GRANTED

    companion object {
        /** The library's record of [location]. */
        fun toFix(location: Location, approximateOnly: Boolean) = GpsFix(
            lat = location.latitude,
            lon = location.longitude,
            // No accuracy is no confidence: a radius no site fits in.
            accuracyM = if (location.hasAccuracy()) location.accuracy.toDouble() else 9_999.0,
            fixTime = Instant.ofEpochMilli(location.time),
            provider = location.provider ?: "",
            isMock = if (Build.VERSION.SDK_INT >= 31) location.isMock else @Suppress("DEPRECATION") location.isFromMockProvider,
            speedMps = if (location.hasSpeed()) location.speed.toDouble() else null,
            // The age the library computes from this cannot be moved by changing the wall clock.
            elapsedRealtime = location.elapsedRealtimeNanos.takeIf { it > 0 }?.let { Duration.ofNanos(it) },
            reducedAccuracy = approximateOnly,
            externalReceiver = false,
        )
    }
}
