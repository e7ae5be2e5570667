// One device key in Android Keystore: EC P-256, in StrongBox when the phone
// has one, optionally usable only after a biometric prompt per signature
// (the punch key; KeystoreKeys makes both keys). Robolectric has no
// AndroidKeyStore: its tests run this logic on a software SigningKeys. The library verifies every
// signature against the enrolled key, so a broken or replaced key becomes
// PunchException.Signer, never a bad record; a key Android invalidated
// becomes PunchException.KeyInvalidated, and the app rotates the punch key.
package dev.punchcore.android

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
import java.security.PublicKey
import java.security.Signature
import java.security.cert.Certificate
import java.security.spec.ECGenParameterSpec
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

class KeystoreSigner internal constructor(
    private val context: Context,
    private val alias: String,
    /** Require a biometric prompt for every signature (each punch; never the channel key). */
    private val requireUserAuth: Boolean,
    /**
     * The server's enrollment challenge (`fetchEnrollmentChallenge`), baked
     * into the key when it is generated: Keystore attests a key only then.
     */
    private val attestationChallenge: ByteArray?,
    private val keys: SigningKeys,
) : DeviceSigner {
    constructor(
        context: Context,
        alias: String = "punch-device-key",
        requireUserAuth: Boolean = false,
        attestationChallenge: ByteArray? = null,
    ) : this(context, alias, requireUserAuth, attestationChallenge, AndroidKeyStoreKeys)

    init {
        if (!keys.contains(alias)) generate()
    }

    private fun generate() {
        val strongBox = Build.VERSION.SDK_INT >= 28 &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        try {
            keys.generate(alias, strongBox, requireUserAuth, attestationChallenge)
        } catch (e: StrongBoxUnavailableException) {
            // The feature flag said yes but the chip refused: the TEE instead.
            keys.generate(alias, false, requireUserAuth, attestationChallenge)
        }
    }

    /** X.509 SubjectPublicKeyInfo DER: what the library expects. */
    override fun publicKeySpki(): ByteArray =
        keys.publicKey(alias)?.encoded ?: throw PlatformException.Failed("no key '$alias' in Android Keystore")

    /**
     * Android Key Attestation: the Keystore certificate chain, leaf first.
     * Only for the challenge the key was generated with; otherwise the
     * device enrolls without attestation (the server decides what that means).
     */
    override suspend fun attestation(challenge: ByteArray): DeviceAttestation? {
        if (attestationChallenge == null || !attestationChallenge.contentEquals(challenge)) return null
        val chain = keys.certificateChain(alias) ?: return null
        return DeviceAttestation.Android(challenge = challenge, certificateChain = chain.map { it.encoded })
    }

    /** SHA256withECDSA, DER. Suspends (no thread waits) while a prompt is open. */
    override suspend fun sign(message: ByteArray): ByteArray {
        val signature = try {
            keys.initSign(alias) ?: throw PlatformException.Failed("no key '$alias' in Android Keystore")
        } catch (e: KeyPermanentlyInvalidatedException) {
            // A fingerprint was added (or all removed): this key never signs again; the app rotates it.
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

/** Where signing keys live: Android Keystore, or (tests) a software provider. */
internal interface SigningKeys {
    fun contains(alias: String): Boolean
    fun generate(alias: String, strongBox: Boolean, requireUserAuth: Boolean, challenge: ByteArray?)
    fun publicKey(alias: String): PublicKey?
    fun certificateChain(alias: String): Array<Certificate>?
    /** A Signature ready to sign with the key; Android throws KeyPermanentlyInvalidatedException here. */
    fun initSign(alias: String): Signature?
}

internal object AndroidKeyStoreKeys : SigningKeys {
    private val store get() = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    override fun contains(alias: String) = store.containsAlias(alias)

    override fun generate(alias: String, strongBox: Boolean, requireUserAuth: Boolean, challenge: ByteArray?) {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
            .setIsStrongBoxBacked(strongBox)
            .apply { challenge?.let { setAttestationChallenge(it) } }
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

    override fun publicKey(alias: String): PublicKey? = store.getCertificate(alias)?.publicKey

    override fun certificateChain(alias: String): Array<Certificate>? = store.getCertificateChain(alias)

    override fun initSign(alias: String): Signature? {
        val key = store.getKey(alias, null) as? java.security.PrivateKey ?: return null
        return Signature.getInstance("SHA256withECDSA").apply { initSign(key) }
    }
}
