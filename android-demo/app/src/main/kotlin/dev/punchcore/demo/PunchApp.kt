// One PunchClient for the whole process, opened off the main thread on first
// use, with the SDK's Android options (OkHttp, the platform clock, Keystore
// keys and data-key wrapper); upload on JobScheduler through the SDK.
package dev.punchcore.demo

import android.app.Application
import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import dev.punchcore.LogLevel
import dev.punchcore.PunchClient
import dev.punchcore.android.KeystoreKeys
import dev.punchcore.android.LogcatSink
import dev.punchcore.android.PunchAndroid
import dev.punchcore.android.PunchStorage
import dev.punchcore.android.PunchUploadJobService
import dev.punchcore.android.UploadScheduler
import dev.punchcore.setLogSink
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.launch

class PunchApp : Application() {
    /** The process's scope: work that outlives a screen (network callbacks, jobs). */
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /** Opened once, on first use, on Dispatchers.IO (open touches the disk; never the main thread). */
    private val opened: Deferred<PunchClient> by lazy { scope.async(Dispatchers.IO) { open() } }

    suspend fun punch(): PunchClient = opened.await()

    /** Makes the device keys in Android Keystore (enrollment, rotation). */
    val keys by lazy { KeystoreKeys(this) }

    val uploads by lazy { UploadScheduler(this, SyncJobService::class.java) }

    override fun onCreate() {
        super.onCreate()
        setLogSink(LogcatSink(), LogLevel.INFO)
        uploads.schedulePeriodic()
        getSystemService(ConnectivityManager::class.java)
            .registerDefaultNetworkCallback(object : ConnectivityManager.NetworkCallback() {
                override fun onAvailable(network: Network) {
                    // Ends a network backoff; the job does the upload.
                    scope.launch { runCatching { punch().networkAvailable() } }
                    uploads.uploadSoon()
                }
            })
    }

    private suspend fun open(): PunchClient {
        // noBackupFilesDir: never backed up nor moved to another phone.
        val options = PunchAndroid.options(
            this,
            serverUrl = BuildConfig.PUNCH_SERVER_URL,
            policyKeyBase64 = BuildConfig.PUNCH_POLICY_KEY,
            keys = keys,
        )
        return PunchClient.open(PunchStorage.directory(this).absolutePath, options)
    }

    companion object {
        fun from(context: Context): PunchApp = context.applicationContext as PunchApp
    }
}

/** The SDK's upload job with this app's client (declared in the manifest). */
class SyncJobService : PunchUploadJobService() {
    override suspend fun client(): PunchClient = PunchApp.from(this).punch()
}
