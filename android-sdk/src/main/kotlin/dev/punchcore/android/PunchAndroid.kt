// ClientOptions for Android: OkHttp as the transport (the platform's trust
// store, user CAs, network-security-config, proxies), the platform clock,
// the Keystore-wrapped data key, and the Keystore keys once enrolled.
package dev.punchcore.android

import android.content.Context
import dev.punchcore.ClientOptions
import dev.punchcore.KeyRole
import dev.punchcore.OkHttpTransport
import okhttp3.OkHttpClient

object PunchAndroid {
    fun options(
        context: Context,
        serverUrl: String,
        policyKeyBase64: String,
        keys: KeystoreKeys = KeystoreKeys(context),
        /** The app's own client (interceptors, certificate pinning), if it has one. */
        okHttp: OkHttpClient = OkHttpClient(),
    ) = ClientOptions(
        serverUrl = serverUrl,
        policyKeyBase64 = policyKeyBase64,
        signer = keys.current(KeyRole.PUNCH),
        channelSigner = keys.current(KeyRole.CHANNEL),
        transport = OkHttpTransport(okHttp),
        clock = AndroidClock(context.contentResolver),
        keyWrapper = KeystoreDataKeyWrapper(),
    )
}
