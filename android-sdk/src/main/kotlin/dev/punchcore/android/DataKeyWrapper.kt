// The data key that seals record payloads at rest, wrapped by an AES-256-GCM
// key held in Android Keystore (never exported). Without the Keystore key
// (app data restored elsewhere, Keystore wiped) unwrap fails and the library
// keeps stored records, refusing new punches until rotateDataKey.
package dev.punchcore.android

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import dev.punchcore.DataKeyWrapper
import dev.punchcore.PlatformException
import java.security.GeneralSecurityException
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

class KeystoreDataKeyWrapper internal constructor(
    /** The wrapping key; created on first use. Tests pass a software key (no AndroidKeyStore there). */
    private val wrappingKey: () -> SecretKey,
) : DataKeyWrapper {
    constructor(alias: String = "punch-data-key-wrapper") : this({ androidKeyStoreKey(alias) })

    /** `[1][12-byte IV][ciphertext + 16-byte tag]`; the version byte lets the format change. */
    override fun wrap(key: ByteArray): ByteArray = guarded("wrap") {
        val cipher = Cipher.getInstance(TRANSFORMATION).apply { init(Cipher.ENCRYPT_MODE, wrappingKey()) }
        byteArrayOf(VERSION) + cipher.iv + cipher.doFinal(key)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray = guarded("unwrap") {
        if (wrapped.size < 1 + IV_BYTES + TAG_BYTES || wrapped[0] != VERSION) {
            throw PlatformException.Failed("not a wrapped data key (${wrapped.size} bytes)")
        }
        val iv = wrapped.copyOfRange(1, 1 + IV_BYTES)
        Cipher.getInstance(TRANSFORMATION).run {
            init(Cipher.DECRYPT_MODE, wrappingKey(), GCMParameterSpec(TAG_BYTES * 8, iv))
            doFinal(wrapped, 1 + IV_BYTES, wrapped.size - 1 - IV_BYTES)
        }
    }

    private inline fun <T> guarded(what: String, block: () -> T): T = try {
        block()
    } catch (e: GeneralSecurityException) {
        // A tampered blob fails the GCM tag; a lost Keystore key fails to load.
        throw PlatformException.Failed("data key $what failed: $e")
    }

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val VERSION: Byte = 1
        const val IV_BYTES = 12
        const val TAG_BYTES = 16

        fun androidKeyStoreKey(alias: String): SecretKey {
            val store = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
            (store.getKey(alias, null) as? SecretKey)?.let { return it }
            val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build()
            return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").run {
                init(spec)
                generateKey()
            }
        }
    }
}
