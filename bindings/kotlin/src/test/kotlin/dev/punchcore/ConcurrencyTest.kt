// One client shared by many coroutines: punches take turns, none is lost,
// the chain stays gapless, reads go on meanwhile.
package dev.punchcore

import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

class ConcurrencyTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `several coroutines punch, evaluate and read at once`(): Unit = testBlocking {
        localClient(dir.resolve("phone")).use { core ->
            val punchers = (0 until 8).map { worker ->
                async {
                    (0 until 10).map { i ->
                        val kind = if ((worker + i) % 2 == 0) PunchKind.CLOCK_IN else PunchKind.CLOCK_OUT
                        core.punch(kind, INSIDE).seq
                    }
                }
            }
            val readers = (0 until 4).map {
                async {
                    repeat(20) {
                        assertEquals(Decision.ACCEPTED, core.evaluate(INSIDE).decision)
                        core.status()
                        core.history(null, 100)
                    }
                }
            }
            val seqs = punchers.awaitAll().flatten()
            readers.awaitAll()
            assertEquals((1L..80L).toList(), seqs.sorted())
            val chain = core.verifyChain()
            assertTrue(chain.intact)
            assertEquals(80L, chain.records)
            assertEquals(80L, core.status().pending)
        }
    }
}
