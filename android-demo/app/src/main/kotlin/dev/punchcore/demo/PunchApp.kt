// One PunchClient for the whole process, opened on first use; sync scheduled
// with JobScheduler (network constraint) and kicked when the network returns.
package dev.punchcore.demo

import android.app.Application
import android.app.job.JobInfo
import android.app.job.JobScheduler
import android.content.ComponentName
import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import dev.punchcore.ClientOptions
import dev.punchcore.KeyRole
import dev.punchcore.LogLevel
import dev.punchcore.PunchClient
import dev.punchcore.PunchException
import dev.punchcore.setLogSink
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import java.io.File

class PunchApp : Application() {
    /** The process's scope: work that outlives a screen (network callbacks, jobs). */
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /** Opened once, on first use (open is a suspend call: it touches the disk). */
    private val opened: Deferred<PunchClient> by lazy { scope.async { open() } }

    suspend fun punch(): PunchClient = opened.await()

    /** Makes the device keys in Android Keystore (enrollment, rotation). */
    val keys by lazy { KeystoreKeys(this) }

    override fun onCreate() {
        super.onCreate()
        setLogSink(LogcatSink(), LogLevel.INFO)
        SyncJobService.schedulePeriodic(this)
        getSystemService(ConnectivityManager::class.java)
            .registerDefaultNetworkCallback(object : ConnectivityManager.NetworkCallback() {
                override fun onAvailable(network: Network) {
                    // Ends a network backoff; the job does the upload.
                    scope.launch { runCatching { punch().networkAvailable() } }
                    SyncJobService.scheduleNow(this@PunchApp)
                }
            })
    }

    private suspend fun open(): PunchClient {
        // filesDir/punch/ is excluded from backups (res/xml/*backup*_rules.xml).
        val dir = File(filesDir, "punch")
        val options = ClientOptions(
            serverUrl = BuildConfig.PUNCH_SERVER_URL,
            policyKeyBase64 = BuildConfig.PUNCH_POLICY_KEY,
            // The keys enrollWithKeys / rotatePunchKey made (none yet: software keys until enrollment).
            signer = keys.current(KeyRole.PUNCH),
            channelSigner = keys.current(KeyRole.CHANNEL),
            clock = AndroidClock(contentResolver),
        )
        return PunchClient.open(dir.absolutePath, options)
    }

    companion object {
        fun from(context: Context): PunchApp = context.applicationContext as PunchApp
    }
}

/** Runs PunchClient.sync() when JobScheduler says the network is there. */
class SyncJobService : android.app.job.JobService() {
    private var running: kotlinx.coroutines.Job? = null

    override fun onStartJob(params: android.app.job.JobParameters): Boolean {
        val app = PunchApp.from(this)
        running = app.scope.launch {
            val retry = try {
                app.punch().sync().error != null
            } catch (e: PunchException) {
                true // not enrolled yet, database busy: try again later
            }
            jobFinished(params, retry)
        }
        return true // work continues in the coroutine
    }

    // Cancelling stops the upload's wait at once; the library's sync is safe
    // to abandon at any point (re-sending yields "duplicate").
    override fun onStopJob(params: android.app.job.JobParameters): Boolean {
        running?.cancel()
        return true
    }

    companion object {
        private const val PERIODIC = 1
        private const val NOW = 2

        /** Every 15 minutes (the platform's minimum), with any network, across reboots. */
        fun schedulePeriodic(context: Context) {
            val job = JobInfo.Builder(PERIODIC, ComponentName(context, SyncJobService::class.java))
                .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                .setPeriodic(15 * 60 * 1000L)
                .setPersisted(true)
                .build()
            context.getSystemService(JobScheduler::class.java).schedule(job)
        }

        /** Soon, once a network is there: after each punch and when connectivity returns. */
        fun scheduleNow(context: Context) {
            val job = JobInfo.Builder(NOW, ComponentName(context, SyncJobService::class.java))
                .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                .setBackoffCriteria(30_000L, JobInfo.BACKOFF_POLICY_EXPONENTIAL)
                .build()
            context.getSystemService(JobScheduler::class.java).schedule(job)
        }
    }
}
