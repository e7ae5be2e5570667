// The library's log lines in Logcat.
package com.example.punch.demo

import android.util.Log
import com.example.punch.LogLevel
import com.example.punch.LogSink

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
