// The platform's clocks for trusted offline time: elapsedRealtime counts
// deep sleep and cannot be set by the user; BOOT_COUNT changes at each boot
// (Settings.Global, API 24+), so a reboot is seen as one.
package dev.punchcore.android

import android.content.ContentResolver
import android.os.SystemClock
import android.provider.Settings
import dev.punchcore.ClockReading
import dev.punchcore.PlatformClock
import java.util.TimeZone

class AndroidClock(private val resolver: ContentResolver) : PlatformClock {
    override fun now(): ClockReading {
        val wall = System.currentTimeMillis()
        val boots = Settings.Global.getInt(resolver, Settings.Global.BOOT_COUNT, -1)
        return ClockReading(
            wallTime = java.time.Instant.ofEpochMilli(wall),
            utcOffsetMin = TimeZone.getDefault().getOffset(wall) / 60_000,
            sinceBoot = java.time.Duration.ofMillis(SystemClock.elapsedRealtime()),
            bootId = "boot-$boots",
        )
    }
}
