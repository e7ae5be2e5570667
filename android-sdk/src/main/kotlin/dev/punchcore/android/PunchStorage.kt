// Where the library's database lives: noBackupFilesDir, which Android never
// backs up or moves to another phone. The database holds the device's
// signed chain and identity; restored onto another device it would be a
// second phone claiming to be the first.
package dev.punchcore.android

import android.content.Context
import java.io.File

object PunchStorage {
    /** The directory to pass to `PunchClient.open`. */
    fun directory(context: Context): File = File(context.noBackupFilesDir, "punch")
}
