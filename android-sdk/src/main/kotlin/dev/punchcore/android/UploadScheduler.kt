// Background upload on the framework's JobScheduler (no AndroidX needed):
// one periodic job and one "soon" job, each under a fixed id so there is
// never a second copy, both needing a network. Scheduling a job id again
// replaces it and STOPS it if it is running; so neither call reschedules a
// job that is pending or running. WorkManager equivalent (docs/integration.md):
// enqueueUniquePeriodicWork(KEEP) + enqueueUniqueWork(KEEP) with
// Constraints(NetworkType.CONNECTED).
package dev.punchcore.android

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import dev.punchcore.PunchClient
import dev.punchcore.PunchException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import java.util.concurrent.ConcurrentHashMap

class UploadScheduler(
    private val context: Context,
    /** The app's subclass of [PunchUploadJobService], declared in its manifest. */
    private val service: Class<out PunchUploadJobService>,
) {
    private val jobs = context.getSystemService(JobScheduler::class.java)

    /** Every 15 minutes (the platform's minimum) with a network, across reboots. Idempotent. */
    fun schedulePeriodic() {
        if (jobs.getPendingJob(PERIODIC_JOB_ID) != null) return
        jobs.schedule(
            JobInfo.Builder(PERIODIC_JOB_ID, ComponentName(context, service))
                .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                .setPeriodic(PERIOD_MS)
                .setPersisted(true) // needs RECEIVE_BOOT_COMPLETED
                .build(),
        )
    }

    /** Soon, once a network is there (after a punch, when connectivity returns). */
    fun uploadSoon() {
        // Pending: it will run anyway. Running: rescheduling would stop it mid-upload.
        if (PunchUploadJobService.isRunning(UPLOAD_NOW_JOB_ID) || jobs.getPendingJob(UPLOAD_NOW_JOB_ID) != null) return
        jobs.schedule(
            JobInfo.Builder(UPLOAD_NOW_JOB_ID, ComponentName(context, service))
                .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                .setBackoffCriteria(30_000L, JobInfo.BACKOFF_POLICY_EXPONENTIAL)
                .build(),
        )
    }

    companion object {
        /** Fixed ids ("pu" + n): an app using JobScheduler itself must not reuse them. */
        const val PERIODIC_JOB_ID = 0x7075_0001
        const val UPLOAD_NOW_JOB_ID = 0x7075_0002
        const val PERIOD_MS = 15 * 60 * 1000L
    }
}

/**
 * Runs `PunchClient.sync()` when JobScheduler starts a job. Subclass it,
 * return the app's one client from [client], and declare the subclass in
 * the manifest with `android:permission="android.permission.BIND_JOB_SERVICE"`.
 */
abstract class PunchUploadJobService : JobService() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    private val running = ConcurrentHashMap<Int, Job>()

    /** The app's client (opened once per process). */
    abstract suspend fun client(): PunchClient

    override fun onStartJob(params: JobParameters): Boolean {
        val id = params.jobId
        started(id)
        running[id] = scope.launch {
            val retry = try {
                client().sync().error != null
            } catch (e: PunchException) {
                true // not enrolled yet, database busy: JobScheduler's backoff, then again
            } finally {
                finished(id)
                running.remove(id)
            }
            jobFinished(params, retry)
        }
        return true // the work goes on in the coroutine
    }

    // The library's sync may be abandoned at any point: a re-sent batch is answered "duplicate".
    override fun onStopJob(params: JobParameters): Boolean {
        finished(params.jobId)
        running.remove(params.jobId)?.cancel()
        return true
    }

    companion object {
        private val runningIds = ConcurrentHashMap.newKeySet<Int>()
        internal fun isRunning(jobId: Int) = jobId in runningIds
        internal fun started(jobId: Int) = runningIds.add(jobId)
        internal fun finished(jobId: Int) = runningIds.remove(jobId)
    }
}
