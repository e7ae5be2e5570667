// One PunchCore for the whole process, opened on app start; sync scheduled
// with JobScheduler (network constraint) and kicked when the network returns.
package com.example.punch.demo

import android.app.Application
import android.app.job.JobInfo
import android.app.job.JobScheduler
import android.content.ComponentName
import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import com.example.punch.ClientOptions
import com.example.punch.LogLevel
import com.example.punch.PunchClient
import com.example.punch.PunchCore
import com.example.punch.setLogSink
import java.io.File

class PunchApp : Application() {
    /** Opened lazily on first use, from a background thread (it touches the disk). */
    val punch: PunchCore by lazy { open() }

    override fun onCreate() {
        super.onCreate()
        setLogSink(LogcatSink(), LogLevel.INFO)
        SyncJobService.schedulePeriodic(this)
        getSystemService(ConnectivityManager::class.java)
            .registerDefaultNetworkCallback(object : ConnectivityManager.NetworkCallback() {
                override fun onAvailable(network: Network) {
                    // Ends a network backoff; the job does the upload off this callback.
                    Thread { runCatching { punch.client.networkAvailable() } }.start()
                    SyncJobService.scheduleNow(this@PunchApp)
                }
            })
    }

    private fun open(): PunchCore {
        // filesDir/punch/ is excluded from backups (res/xml/*backup*_rules.xml).
        val dir = File(filesDir, "punch")
        val options = ClientOptions(
            serverUrl = BuildConfig.PUNCH_SERVER_URL,
            policyKeyBase64 = BuildConfig.PUNCH_POLICY_KEY,
            signer = KeystoreSigner(this, requireUserAuth = false),
            clock = AndroidClock(contentResolver),
        )
        return PunchCore(PunchClient.open(dir.absolutePath, options))
    }

    companion object {
        fun from(context: Context): PunchApp = context.applicationContext as PunchApp
    }
}

/** Runs PunchClient.sync() when JobScheduler says the network is there. */
class SyncJobService : android.app.job.JobService() {
    override fun onStartJob(params: android.app.job.JobParameters): Boolean {
        Thread {
            val retry = try {
                PunchApp.from(this).punch.client.sync().error != null
            } catch (e: Exception) {
                true // not enrolled yet, database busy: try again later
            }
            jobFinished(params, retry)
        }.start()
        return true // work continues on the thread
    }

    // The library's sync is safe to abandon at any point: re-sending yields "duplicate".
    override fun onStopJob(params: android.app.job.JobParameters): Boolean = true

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
