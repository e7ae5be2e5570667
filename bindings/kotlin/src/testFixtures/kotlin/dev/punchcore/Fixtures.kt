// Test fixtures: the real punch-server (built by cargo) on 127.0.0.1 with a
// throw-away database, its admin CLI, and evidence near the test site.
package dev.punchcore

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.json.JSONArray
import org.junit.jupiter.api.Assertions.assertTrue
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.util.concurrent.TimeUnit

/** The site every test uses: server/examples/hq.json (a 120 m circle at Alexanderplatz). */
const val HQ_LAT = 52.520008
const val HQ_LON = 13.404954
const val HQ_BSSID = "a4:2b:b0:10:20:30"

private val SITE_JSON = """
{ "id": "hq", "name": "Head office",
  "shape": { "type": "circle", "center": { "lat": $HQ_LAT, "lon": $HQ_LON }, "radius_m": 120 },
  "wifi": { "bssids": ["A4:2B:B0:10:20:30"], "ssids": ["ACME-Office"] },
  "cidrs": ["203.0.113.0/24"], "rule": { "mode": "any" } }
""".trimIndent()

/** A fix `metresNorth` north of the site's centre, taken now. */
fun fixAt(metresNorth: Double, accuracyM: Double, isMock: Boolean = false) = Evidence(
    gps = GpsFix(
        lat = HQ_LAT + metresNorth / 111_320.0,
        lon = HQ_LON,
        accuracyM = accuracyM,
        fixTime = java.time.Instant.now(),
        provider = "gps",
        isMock = isMock,
    ),
)

val INSIDE get() = fixAt(0.0, 10.0)
/** 110 m from the centre of a 120 m circle with a 40 m accuracy: straddles the fence. */
val UNCERTAIN get() = fixAt(110.0, 40.0)
/** Two kilometres away: outside, refused by the default policy. */
val FAR get() = fixAt(2_000.0, 10.0)

/** The policy a local-only client installs by hand (unsigned). */
fun localPolicy(expiresAtMs: Long? = null): ByteArray = """
{ "version": 1, "issued_at_ms": ${System.currentTimeMillis() - 60_000},
  "expires_at_ms": ${expiresAtMs ?: "null"}, "sites": [ $SITE_JSON ] }
""".trimIndent().toByteArray()

/**
 * The dispatcher every test body runs on: `-Dpunch.dispatcher=default|unconfined|io`
 * (default: runBlocking's own event loop). The suite runs under several
 * (mozilla/uniffi-rs#1901: async calls once deadlocked under Unconfined).
 */
val TEST_DISPATCHER: CoroutineDispatcher? = when (System.getProperty("punch.dispatcher", "")) {
    "default" -> Dispatchers.Default
    "unconfined" -> Dispatchers.Unconfined
    "io" -> Dispatchers.IO
    "" -> null
    else -> error("unknown punch.dispatcher ${System.getProperty("punch.dispatcher")}")
}

/** A test body as a coroutine on [TEST_DISPATCHER]. */
fun testBlocking(body: suspend CoroutineScope.() -> Unit): Unit = runBlocking {
    val dispatcher = TEST_DISPATCHER
    if (dispatcher == null) body() else withContext(dispatcher) { body() }
}

/** assertThrows for suspend calls: the exception [block] throws, which must be a [T]. */
suspend inline fun <reified T : Throwable> assertThrowsAsync(crossinline block: suspend () -> Unit): T {
    val thrown = try {
        block()
        null
    } catch (e: Throwable) {
        e
    }
    assertTrue(thrown is T, "expected ${T::class.simpleName}, got $thrown")
    return thrown as T
}

/** A local-only client (no server) with a policy and an employee. */
suspend fun localClient(dir: Path, options: ClientOptions = ClientOptions()): PunchClient {
    val client = PunchClient.open(dir.toString(), options)
    client.bindEmployee("e-local")
    client.installPolicy(localPolicy(), null)
    return client
}

/** The JVM twin of an Android Keystore signer: EC P-256, SHA256withECDSA (DER). */
class JavaSigner : DeviceSigner {
    val keyPair = KeyPairGenerator.getInstance("EC").apply {
        initialize(ECGenParameterSpec("secp256r1"))
    }.generateKeyPair()
    @Volatile var signatures = 0

    override fun publicKeySpki(): ByteArray = keyPair.public.encoded

    /** A JVM key has no hardware to attest it: enrolls as a software-level key. */
    override suspend fun attestation(challenge: ByteArray): DeviceAttestation? = null

    override suspend fun sign(message: ByteArray): ByteArray = signNow(message)

    fun signNow(message: ByteArray): ByteArray {
        signatures++
        return Signature.getInstance("SHA256withECDSA").run {
            initSign(keyPair.private)
            update(message)
            sign()
        }
    }
}

/** punch-server on 127.0.0.1 with its own database; `admin` runs its CLI. */
class TestServer(private val dir: Path) : AutoCloseable {
    private val bin = System.getProperty("punch.server.bin")
        ?: error("system property punch.server.bin is not set")
    private val db = dir.resolve("server.db")
    val port: Int = ServerSocket(0).use { it.localPort }
    val url = "http://127.0.0.1:$port"
    private var process: Process? = null
    val policyKey: String

    init {
        check(Files.isExecutable(Path.of(bin))) { "no punch-server at $bin (cargo build --workspace)" }
        admin("add-employee", "e-42", "Ada Lovelace")
        val site = dir.resolve("hq.json")
        Files.writeString(site, SITE_JSON)
        admin("add-site", "--json", site.toString())
        admin("publish", "--ttl-days", "30")
        policyKey = admin("policy-key").trim()
    }

    fun admin(vararg args: String): String {
        val p = ProcessBuilder(listOf(bin, "admin", "--db", db.toString()) + args)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) { "admin ${args.toList()} failed: $out" }
        return out
    }

    /** Where the development sender writes PIN reset codes (JSON lines). */
    val pinCodes: Path = dir.resolve("pin-codes.jsonl")

    fun enrollCode(employee: String = "e-42"): String = admin("enroll-code", employee).trim()

    /** The server's accepted punches (`admin --json punches`). */
    fun punches(): JSONArray = JSONArray(admin("--json", "punches"))

    fun options(
        signer: DeviceSigner? = null,
        transport: HttpTransport? = null,
        serverUrl: String = url,
    ) = ClientOptions(
        serverUrl = serverUrl,
        policyKeyBase64 = policyKey,
        signer = signer,
        transport = transport,
    )

    fun start(): TestServer {
        check(process == null)
        process = ProcessBuilder(bin, "serve", "--db", db.toString(), "--listen", "127.0.0.1:$port")
            .apply { environment()["PUNCH_PIN_CODES_FILE"] = pinCodes.toString() }
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("server.log").toFile())
            .start()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
        while (System.nanoTime() < deadline) {
            val up = runCatching { Socket().use { it.connect(InetSocketAddress("127.0.0.1", port), 200) } }.isSuccess
            if (up) return this
            check(process!!.isAlive) { "punch-server exited: " + Files.readString(dir.resolve("server.log")) }
            Thread.sleep(50)
        }
        error("punch-server did not listen on $port within 20 s")
    }

    fun stop() {
        process?.let {
            it.destroy()
            check(it.waitFor(20, TimeUnit.SECONDS)) { "punch-server did not stop" }
        }
        process = null
    }

    override fun close() = stop()
}

/**
 * A TLS endpoint on 127.0.0.1 with [certificate] (okhttp-tls): it forwards
 * each connection to the real punch-server on [backendPort], or, as
 * [mode] says, holds it without answering (a stalled server) or answers
 * every request with [canned] (raw HTTP/1.1 bytes).
 */
class TlsProxy(
    certificate: okhttp3.tls.HeldCertificate,
    private val backendPort: Int,
    @Volatile var mode: Mode = Mode.FORWARD,
) : AutoCloseable {
    enum class Mode { FORWARD, STALL, CANNED }

    @Volatile var canned: ByteArray = ByteArray(0)
    /** Connections accepted, and of those the ones the client closed while stalled. */
    val accepted = java.util.concurrent.atomic.AtomicInteger()
    val closedByClient = java.util.concurrent.LinkedBlockingQueue<Int>()

    private val server: javax.net.ssl.SSLServerSocket = okhttp3.tls.HandshakeCertificates.Builder()
        .heldCertificate(certificate)
        .build()
        .sslContext()
        .serverSocketFactory
        .createServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1")) as javax.net.ssl.SSLServerSocket
    val port: Int = server.localPort
    private val threads = java.util.concurrent.Executors.newCachedThreadPool { r ->
        Thread(r, "tls-proxy").apply { isDaemon = true }
    }

    init {
        threads.execute {
            while (!server.isClosed) {
                val client = runCatching { server.accept() }.getOrNull() ?: break
                val n = accepted.incrementAndGet()
                threads.execute { serve(n, client) }
            }
        }
    }

    private fun serve(n: Int, client: Socket): Unit = client.use {
        try {
            when (mode) {
                Mode.FORWARD -> Socket("127.0.0.1", backendPort).use { backend ->
                    val up = threads.submit {
                        pump(client.getInputStream(), backend.getOutputStream())
                        runCatching { backend.shutdownOutput() }
                    }
                    pump(backend.getInputStream(), client.getOutputStream())
                    up.get(60, TimeUnit.SECONDS)
                }
                Mode.STALL -> {
                    // Handshake and read the request, then never answer: the client gives up.
                    val input = client.getInputStream()
                    while (input.read() >= 0) Unit
                    closedByClient.add(n)
                }
                Mode.CANNED -> {
                    val reader = client.getInputStream().bufferedReader(Charsets.ISO_8859_1)
                    var contentLength = 0
                    while (true) {
                        val line = reader.readLine() ?: return
                        if (line.isEmpty()) break
                        if (line.lowercase().startsWith("content-length:")) {
                            contentLength = line.substringAfter(':').trim().toInt()
                        }
                    }
                    repeat(contentLength) { reader.read() }
                    client.getOutputStream().apply { write(canned); flush() }
                }
            }
        } catch (_: java.io.IOException) {
            // A refused handshake or a client that went away: the test asserts the client's side.
            if (mode == Mode.STALL) closedByClient.add(n)
        }
    }

    private fun pump(from: java.io.InputStream, to: java.io.OutputStream) {
        runCatching { from.copyTo(to); to.flush() }
    }

    override fun close() {
        server.close()
        threads.shutdownNow()
    }
}

/** A test certificate authority and certificates it (or a stranger) issues for 127.0.0.1. */
object TestCa {
    val root: okhttp3.tls.HeldCertificate = okhttp3.tls.HeldCertificate.Builder()
        .certificateAuthority(0)
        .commonName("punch test CA")
        .build()

    fun serverCertificate(
        issuer: okhttp3.tls.HeldCertificate = root,
        host: String = "127.0.0.1",
    ): okhttp3.tls.HeldCertificate = okhttp3.tls.HeldCertificate.Builder()
        .commonName(host)
        .addSubjectAlternativeName(host)
        .signedBy(issuer)
        .build()

    /** An OkHttpClient that trusts only [root] (as an app trusting a private CA through network-security-config). */
    fun client(): okhttp3.OkHttpClient {
        val trust = okhttp3.tls.HandshakeCertificates.Builder().addTrustedCertificate(root.certificate).build()
        return okhttp3.OkHttpClient.Builder()
            .sslSocketFactory(trust.sslSocketFactory(), trust.trustManager)
            .build()
    }
}
