// A Rust panic arrives as PunchException.Internal, a normal exception, and the
// library goes on working. panicProbe() exists only in the `bench` build of
// the library (see pom.xml, profile `bench`).
package dev.punchcore

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

class PanicProbeTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `a panic arrives as an exception and the library still works`(): Unit = testBlocking {
        val panic = assertThrowsAsync<PunchException.Internal> { panicProbe() }
        // The panic's own text is for the log sink, not the message.
        assertTrue(panic.detail.contains("bug"), panic.detail)
        assertTrue(!panic.message!!.contains("deliberate"), panic.message)
        localClient(dir.resolve("after")).use { assertEquals(Decision.ACCEPTED, it.evaluate(INSIDE).decision) }
    }
}
