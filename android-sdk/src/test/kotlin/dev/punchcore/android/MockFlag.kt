package dev.punchcore.android

import android.location.Location
import android.os.Build

/**
 * Marks a test fix as mocked the way the running SDK records it: `setMock`
 * from API 31, the hidden `setIsFromMockProvider` before (the adapter reads
 * `isFromMockProvider` there), so the suite runs below 31 too.
 */
fun Location.markMock(mock: Boolean) {
    if (Build.VERSION.SDK_INT >= 31) {
        isMock = mock
    } else {
        Location::class.java.getMethod("setIsFromMockProvider", Boolean::class.javaPrimitiveType).invoke(this, mock)
    }
}
