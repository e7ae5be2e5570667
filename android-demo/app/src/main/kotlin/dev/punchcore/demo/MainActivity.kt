// The demo's one screen: live verdict, punch buttons, the queue and the sync
// status. Plain framework views (no AndroidX); all logic is in the library.
package dev.punchcore.demo

import android.Manifest
import android.app.Activity
import android.content.pm.PackageManager
import android.os.Bundle
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ListView
import android.widget.TextView
import dev.punchcore.Decision
import dev.punchcore.Evaluation
import dev.punchcore.PunchException
import dev.punchcore.PunchKind
import dev.punchcore.RotationReason
import dev.punchcore.Signal
import dev.punchcore.SyncStatus
import dev.punchcore.Evidence
import dev.punchcore.android.LocationAdapter
import dev.punchcore.android.LocationState
import dev.punchcore.android.WifiAdapter
import dev.punchcore.detail
import dev.punchcore.evaluate
import dev.punchcore.punch
import dev.punchcore.standingUpdates
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.collectLatest
import kotlinx.coroutines.launch
import java.text.DateFormat
import java.util.Date

class MainActivity : Activity() {
    private val scope = MainScope()
    private lateinit var verdict: TextView
    private lateinit var status: TextView
    private lateinit var queue: ArrayAdapter<String>
    private val location by lazy { LocationAdapter(this) }
    private val wifi by lazy { WifiAdapter(this) }
    private suspend fun punch() = PunchApp.from(this).punch()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        verdict = TextView(this).apply { textSize = 18f }
        status = TextView(this)
        queue = ArrayAdapter(this, android.R.layout.simple_list_item_1)
        val code = EditText(this).apply { hint = "Enrollment code" }
        fun button(label: String, action: suspend () -> Unit) = Button(this).apply {
            text = label
            setOnClickListener { scope.launch { report { action() } } }
        }
        setContentView(LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(32, 32, 32, 32)
            addView(code)
            addView(button("Enroll") {
                // The keys are made for the server's challenge, so Keystore attests them.
                punch().enrollWithKeys(code.text.toString(), PunchApp.from(this@MainActivity).keys)
                punch().refreshPolicy()
            })
            addView(verdict)
            addView(button("Check location") { showVerdict(punch().evaluate(collect())) })
            addView(button("Clock in") { takePunch(PunchKind.CLOCK_IN) })
            addView(button("Clock out") { takePunch(PunchKind.CLOCK_OUT) })
            addView(button("Sync now") { punch().syncNow() })
            addView(status)
            addView(ListView(this@MainActivity).apply { adapter = queue })
        })
        askPermissions()
        // This screen's own subscription: it ends with the scope (onDestroy).
        scope.launch { punch().standingUpdates().collectLatest { showStatus(it.sync); showQueue() } }
    }

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    /**
     * Says why before asking: precise location for the fix (a site is ~100 m
     * across), and Android shows the office Wi-Fi only with it. Approximate
     * alone still works: the punch records it, and the policy decides.
     */
    private fun askPermissions() {
        val wanted = arrayOf(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)
        if (wanted.all { checkSelfPermission(it) == PackageManager.PERMISSION_GRANTED }) return
        verdict.text = "Punches are checked against your work sites: the app needs your precise location " +
            "while you punch (never in the background), and Android reveals the office Wi-Fi only with it."
        requestPermissions(wanted, 1)
    }

    /** What the phone observes now; a missing permission or switch is recorded, not fatal. */
    private suspend fun collect(): Evidence {
        val place = location.current()
        val aps = wifi.current()
        if (place.state != LocationState.FIX) verdict.text = "No location fix (${place.state}): the punch records why."
        return Evidence(gps = place.fix, wifi = aps.observations)
    }

    private suspend fun takePunch(kind: PunchKind) {
        try {
            val receipt = punch().punch(kind, collect())
            showVerdict(receipt.evaluation)
            PunchApp.from(this).uploads.uploadSoon()
        } catch (e: PunchException.Refused) {
            showVerdict(e.evaluation) // a refused attempt, not a punch: the reasons say why
        } catch (e: PunchException.KeyInvalidated) {
            // A new fingerprint killed the punch key: punches taken before
            // still upload; a new key (signed in by the channel key) and punch again.
            punch().rotatePunchKey(PunchApp.from(this).keys, RotationReason.INVALIDATED)
            verdict.text = "Your fingerprints changed: punch again to confirm with the new key."
        }
        showQueue()
    }

    /** Shows any library error as its human sentence. */
    private suspend fun report(block: suspend () -> Unit) {
        try {
            block()
        } catch (e: PunchException) {
            verdict.text = "${e.javaClass.simpleName}: ${e.detail}"
        }
    }

    private fun showVerdict(e: Evaluation) {
        val check = e.sites.firstOrNull { it.siteId == e.siteId }?.checks?.firstOrNull { it.signal == Signal.GPS }
        val where = e.siteId?.let { "at $it" } ?: e.nearestSite?.let { "nearest ${it.siteId}, ${it.distanceM.toInt()} m away" } ?: ""
        val icon = when (e.decision) {
            Decision.ACCEPTED -> "✔"
            Decision.REVIEW -> "?"
            Decision.REJECTED -> "✘"
        }
        verdict.text = buildString {
            append("$icon ${e.decision.name.lowercase()} $where\n")
            check?.let { append("GPS ${it.containment ?: it.outcome}, ${it.distanceToEdgeM?.toInt() ?: "-"} m to the edge\n") }
            e.flags.forEach { append("⚑ ${it.kind}: ${it.detail}\n") }
            e.reasons.forEach { append("· $it\n") }
        }
    }

    private fun showStatus(s: SyncStatus) {
        val fmt = DateFormat.getTimeInstance(DateFormat.SHORT)
        status.text = buildString {
            append("Waiting: ${s.pending}  uploaded: ${s.uploaded}  refused: ${s.rejected}\n")
            append("Last sync: ${s.lastSuccess?.let { fmt.format(Date.from(it)) } ?: "never"}")
            s.lastError?.let { append("\nProblem: ${it.message}") }
            s.nextAttempt?.let { append("\nNext try: ${fmt.format(Date.from(it))}") }
            if (!s.anchored) append("\nTime not anchored since reboot: sync once online")
        }
    }

    private suspend fun showQueue() {
        val page = punch().history(null, 50) // newest first
        val fmt = DateFormat.getDateTimeInstance(DateFormat.SHORT, DateFormat.SHORT)
        queue.clear()
        queue.addAll(page.entries.map {
            "#${it.seq} ${it.kind} ${fmt.format(Date.from(it.wallTime))} ${it.decision} · ${it.uploadState.name.lowercase()}"
        })
    }
}
