// The SDK's HTTP transport: OkHttp, so that on Android the platform's trust
// store, user CAs, network-security-config, proxies and VPNs apply exactly as
// in the rest of the app (the library's own reqwest/rustls transport is for
// desktop and tests; it is left out of the mobile build).
package dev.punchcore

import kotlinx.coroutines.suspendCancellableCoroutine
import okhttp3.Call
import okhttp3.Callback
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.toRequestBody
import okhttp3.Response
import java.io.IOException
import java.io.InterruptedIOException
import java.net.ConnectException
import java.net.NoRouteToHostException
import java.net.SocketTimeoutException
import java.net.UnknownHostException
import java.security.cert.CertPathValidatorException
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import javax.net.ssl.SSLHandshakeException
import javax.net.ssl.SSLPeerUnverifiedException
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * [HttpTransport] on OkHttp. Every HTTP answer, 4xx and 5xx included, goes
 * back to the library unchanged with all its headers (the library reads
 * Retry-After and the server's error codes itself); only a missing answer
 * is an exception:
 * - [PlatformException.Timeout]: the request's own timeout passed (connect,
 *   TLS handshake, a server that stalls);
 * - [PlatformException.Unreachable]: no route, DNS, connection refused;
 * - [PlatformException.Tls]: the certificate was refused or the handshake
 *   failed (a wrong or untrusted certificate, a captive portal, a proxy
 *   intercepting HTTPS): the app sees `PunchException.Tls` or a sync issue
 *   of kind `SyncIssueKind.TLS`, never "offline";
 * - [PlatformException.Failed]: any other I/O failure.
 *
 * Cancelling the coroutine (the library does when the call it serves is
 * cancelled or its deadline passes) cancels the OkHttp call.
 *
 * Pass your app's own [OkHttpClient] (its interceptors, certificate pinner,
 * cache-less settings) as [client]; redirects are turned off on the copy
 * used here, since signed requests must reach the URL they were signed for.
 */
class OkHttpTransport(client: OkHttpClient = OkHttpClient()) : HttpTransport {
    private val http: OkHttpClient = client.newBuilder()
        .followRedirects(false)
        .followSslRedirects(false)
        .build()

    override suspend fun send(request: HttpRequest): HttpResponse {
        val call = http.newCall(request.toOkHttp())
        // The library's timeout covers the whole exchange: connect, TLS, upload, answer.
        call.timeout().timeout(request.timeout.toMillis().coerceAtLeast(1), TimeUnit.MILLISECONDS)
        // OkHttp cancels the call itself when its timeout passes: only this flag tells the two apart.
        val cancelledByCaller = AtomicBoolean(false)
        return suspendCancellableCoroutine { cont ->
            cont.invokeOnCancellation {
                cancelledByCaller.set(true)
                call.cancel()
            }
            call.enqueue(object : Callback {
                override fun onResponse(call: Call, response: Response) {
                    val answer = try {
                        response.use { it.toPunch() }
                    } catch (e: IOException) {
                        cont.resumeWithException(classify(e, cancelledByCaller.get()))
                        return
                    }
                    cont.resume(answer)
                }

                override fun onFailure(call: Call, e: IOException) {
                    cont.resumeWithException(classify(e, cancelledByCaller.get()))
                }
            })
        }
    }

    private fun HttpRequest.toOkHttp(): Request {
        val builder = Request.Builder().url(url)
        // OkHttp sets these from the connection and the body itself.
        val own = setOf("host", "content-length", "connection", "transfer-encoding")
        headers.filter { it.name.lowercase() !in own }.forEach { builder.addHeader(it.name, it.value) }
        return when (method) {
            HttpMethod.GET -> builder.get()
            // The Content-Type header (added above) names the body's type.
            HttpMethod.POST -> builder.post(body.toRequestBody(null))
        }.build()
    }

    private fun Response.toPunch(): HttpResponse {
        val length = body.contentLength()
        if (length > MAX_BODY_BYTES) throw IOException("answer of $length bytes is larger than $MAX_BODY_BYTES")
        val bytes = body.source().use { source ->
            // A server that announces nothing may still send too much: read at most one byte past the cap.
            if (source.request(MAX_BODY_BYTES + 1)) throw IOException("answer larger than $MAX_BODY_BYTES bytes")
            source.readByteArray()
        }
        return HttpResponse(code, headers.map { (name, value) -> HttpHeader(name, value) }, bytes)
    }

    private fun classify(e: IOException, cancelledByCaller: Boolean): PlatformException = when {
        // OkHttp's call timeout arrives as InterruptedIOException("timeout").
        e is SocketTimeoutException || (e is InterruptedIOException && !cancelledByCaller) ->
            PlatformException.Timeout("$e")
        e is UnknownHostException || e is ConnectException || e is NoRouteToHostException ->
            PlatformException.Unreachable("$e")
        e.isTls() -> PlatformException.Tls("$e")
        else -> PlatformException.Failed("$e")
    }

    // A certificate or handshake failure, however it is wrapped (Conscrypt and
    // the JDK wrap CertPathValidatorException in an SSLHandshakeException);
    // an SSLException mid-exchange (a reset) stays an I/O failure.
    private fun Throwable.isTls(): Boolean = generateSequence(this) { it.cause }.take(8).any {
        it is SSLHandshakeException || it is SSLPeerUnverifiedException || it is CertPathValidatorException
    }

    private companion object {
        /** The library's answers are small; a larger one is not a punch server's. */
        const val MAX_BODY_BYTES = 16L * 1024 * 1024
    }
}
