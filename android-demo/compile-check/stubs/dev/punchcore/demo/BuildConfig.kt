// Stand-in for the BuildConfig class the Android Gradle plugin generates,
// so the compile check (no Android SDK) can compile the demo's sources.
package dev.punchcore.demo

object BuildConfig {
    const val PUNCH_SERVER_URL = "http://10.0.2.2:8787"
    const val PUNCH_POLICY_KEY = "compile-check"
}
