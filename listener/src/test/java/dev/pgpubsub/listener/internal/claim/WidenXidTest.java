package dev.pgpubsub.listener.internal.claim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The claim's 32-bit deleter id, widened to 64 bits next to its top transaction's id. */
class WidenXidTest {

    private static final long EPOCH = 1L << 32;

    @Test
    void theSameTransaction() {
        assertThat(ClaimStatements.widen(3 * EPOCH + 1000, 1000)).isEqualTo(3 * EPOCH + 1000);
    }

    @Test
    void aSubtransactionAfterItsTopTransaction() {
        assertThat(ClaimStatements.widen(3 * EPOCH + 1000, 1007)).isEqualTo(3 * EPOCH + 1007);
    }

    @Test
    void aSubtransactionPastTheWraparound() {
        // The top transaction is just below an epoch's end; its subtransaction's 32-bit id has wrapped.
        assertThat(ClaimStatements.widen(4 * EPOCH - 2, 5)).isEqualTo(4 * EPOCH + 5);
    }

    @Test
    void anEarlierIdAcrossTheWraparound() {
        assertThat(ClaimStatements.widen(4 * EPOCH + 3, EPOCH - 10)).isEqualTo(4 * EPOCH - 10);
    }
}
