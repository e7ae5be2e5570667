// The library's log lines in Logcat (tag "punch/<target>", within Logcat's 23 characters).
package dev.punchcore.android

import android.util.Log
import dev.punchcore.LogLevel
import dev.punchcore.LogSink

class LogcatSink : LogSink {
    override fun log(level: LogLevel, target: String, message: String) {
        val tag = "punch/" + target.take(17)
        when (level) {
            LogLevel.ERROR -> Log.e(tag, message)
            LogLevel.WARN -> Log.w(tag, message)
            LogLevel.INFO -> Log.i(tag, message)
            LogLevel.DEBUG -> Log.d(tag, message)
            LogLevel.TRACE -> Log.v(tag, message)
        }
    }
}
