package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code raftkit server --min-free-disk}'s byte counts: bare bytes or KiB, MiB, GiB. */
class ServerByteCountTest {

    private final CommandLine cl = new CommandLine(new ServerCommand());

    @Test
    void byteCountsTakeBinarySuffixes() {
        assertEquals(0, ServerCommand.bytes(cl, "0", "--min-free-disk"));
        assertEquals(4096, ServerCommand.bytes(cl, "4096", "--min-free-disk"));
        assertEquals(64L << 10, ServerCommand.bytes(cl, "64KiB", "--min-free-disk"));
        assertEquals(256L << 20, ServerCommand.bytes(cl, "256MiB", "--min-free-disk"));
        assertEquals(2L << 30, ServerCommand.bytes(cl, "2 GiB", "--min-free-disk"));
    }
}
