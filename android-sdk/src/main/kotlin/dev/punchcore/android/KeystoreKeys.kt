// The library's two device keys in Android Keystore (KeyProvider): the
// punch key asks for a fingerprint per punch and dies with a new
// fingerprint; the channel key never asks, so the background upload works
// with the phone in a pocket. Each key is generated with the server's
// challenge, so Keystore attests it. The aliases in force are remembered:
// the client is opened with their signers.
package dev.punchcore.android

import android.content.Context
import dev.punchcore.KeyProvider
import dev.punchcore.KeyRole
import dev.punchcore.ProvidedKey
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

class KeystoreKeys(context: Context) : KeyProvider {
    private val context = context.applicationContext
    private val prefs = context.getSharedPreferences("punch-keys", Context.MODE_PRIVATE)

    /** Key generation takes a moment (StrongBox: seconds): off the main thread. */
    override suspend fun createKey(role: KeyRole, challenge: ByteArray?): ProvidedKey =
        withContext(Dispatchers.IO) {
            val alias = "punch-${role.name.lowercase()}-${System.currentTimeMillis()}"
            val signer = signer(role, alias, challenge)
            // Remembered now: from enrollment (or rotation) on, the library holds this key.
            prefs.edit().putString(role.name, alias).apply()
            ProvidedKey(
                signer = signer,
                publicKeySpki = signer.publicKeySpki(),
                attestation = challenge?.let { signer.attestation(it) },
            )
        }

    /** The signer of the [role] key in force, for `ClientOptions`; null before enrollment. */
    fun current(role: KeyRole): KeystoreSigner? =
        prefs.getString(role.name, null)?.let { signer(role, it, null) }

    private fun signer(role: KeyRole, alias: String, challenge: ByteArray?) = KeystoreSigner(
        context,
        alias = alias,
        requireUserAuth = role == KeyRole.PUNCH,
        attestationChallenge = challenge,
    )
}
