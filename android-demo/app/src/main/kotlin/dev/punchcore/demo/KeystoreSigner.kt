// One device key in Android Keystore: EC P-256, in StrongBox when the phone
// has one, optionally usable only after a biometric prompt per signature
// (the punch key; KeystoreKeys makes both keys). The library verifies every
// signature against the enrolled key, so a broken or replaced key becomes
// PunchException.Signer, never a bad record; a key Android invalidated
// becomes PunchException.KeyInvalidated, and the app rotates the punch key.
package dev.punchcore.demo

import android.content.Context
import android.content.pm.PackageManager
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.CancellationSignal
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import dev.punchcore.DeviceAttestation
import dev.punchcore.DeviceSigner
import dev.punchcore.PlatformException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

class KeystoreSigner(
    private val context: Context,
    private val alias: String = "punch-device-key",
    /** Require a biometric prompt for every signature (each punch and each sync request). */
    private val requireUserAuth: Boolean = false,
    /**
     * The server's enrollment challenge (`fetchEnrollmentChallenge`), baked
     * into the key when it is generated: Keystore attests a key only then.
     */
    private val attestationChallenge: ByteArray? = null,
) : DeviceSigner {
    private val keyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    init {
        if (!keyStore.containsAlias(alias)) generate()
    }

    private fun generate() {
        val strongBox = Build.VERSION.SDK_INT >= 28 &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        try {
            generate(strongBox)
        } catch (e: StrongBoxUnavailableException) {
            generate(false) // the feature flag said yes but the chip refused: TEE instead
        }
    }

    private fun generate(strongBox: Boolean) {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
            .setIsStrongBoxBacked(strongBox)
            .apply { attestationChallenge?.let { setAttestationChallenge(it) } }
            .apply {
                if (requireUserAuth) {
                    setUserAuthenticationRequired(true)
                    // Per-use: each signature needs its own prompt (API 30+).
                    if (Build.VERSION.SDK_INT >= 30) {
                        setUserAuthenticationParameters(0, KeyProperties.AUTH_BIOMETRIC_STRONG)
                    }
                    setInvalidatedByBiometricEnrollment(true)
                }
            }
            .build()
        KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, "AndroidKeyStore").run {
            initialize(spec)
            generateKeyPair()
        }
    }

    /** X.509 SubjectPublicKeyInfo DER: what the library expects. */
    override fun publicKeySpki(): ByteArray =
        keyStore.getCertificate(alias)?.publicKey?.encoded
            ?: throw PlatformException.Failed("no key '$alias' in Android Keystore")

    /**
     * Android Key Attestation: the Keystore certificate chain, leaf first.
     * Only for the challenge the key was generated with; otherwise the
     * device enrolls without attestation (the server decides what that means).
     */
    override suspend fun attestation(challenge: ByteArray): DeviceAttestation? {
        if (attestationChallenge == null || !attestationChallenge.contentEquals(challenge)) return null
        val chain = keyStore.getCertificateChain(alias) ?: return null
        return DeviceAttestation.Android(challenge = challenge, certificateChain = chain.map { it.encoded })
    }

    /** SHA256withECDSA, DER. Suspends (no thread waits) while a prompt is open. */
    override suspend fun sign(message: ByteArray): ByteArray {
        val key = keyStore.getKey(alias, null) as? PrivateKey
            ?: throw PlatformException.Failed("no key '$alias' in Android Keystore")
        val signature = try {
            Signature.getInstance("SHA256withECDSA").apply { initSign(key) }
        } catch (e: KeyPermanentlyInvalidatedException) {
            // A fingerprint was added (or all removed): this key never signs again.
            throw PlatformException.KeyInvalidated("the Keystore key '$alias' was invalidated")
        }
        if (requireUserAuth) authenticate(signature)
        signature.update(message)
        return signature.sign()
    }

    /**
     * Shows a biometric prompt and suspends until the user answers. When the
     * punch is cancelled (or the library's signer deadline passes) this
     * coroutine is cancelled, and the prompt closes with it.
     */
    private suspend fun authenticate(signature: Signature) = withContext(Dispatchers.Main) {
        suspendCancellableCoroutine { continuation ->
            val cancel = CancellationSignal()
            continuation.invokeOnCancellation { cancel.cancel() }
            BiometricPrompt.Builder(context)
                .setTitle("Confirm your punch")
                .setNegativeButton("Cancel", context.mainExecutor) { _, _ ->
                    continuation.resumeWithException(PlatformException.Failed("cancelled by the user"))
                }
                .build()
                .authenticate(
                    BiometricPrompt.CryptoObject(signature), cancel, context.mainExecutor,
                    object : BiometricPrompt.AuthenticationCallback() {
                        override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                            continuation.resume(Unit)
                        }
                        override fun onAuthenticationError(code: Int, message: CharSequence) {
                            if (continuation.isActive) {
                                continuation.resumeWithException(PlatformException.Failed("biometric error $code: $message"))
                            }
                        }
                    },
                )
        }
    }
}
