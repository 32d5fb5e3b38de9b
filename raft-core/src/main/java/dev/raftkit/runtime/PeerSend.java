package dev.raftkit.runtime;

import dev.raftkit.core.message.Message;
import java.util.List;

/**
 * {@link dev.raftkit.spi.Transport#send} alone, for a stage that may send messages but must not
 * start, close or stream snapshots through the transport (the log writer). Never blocks.
 */
@FunctionalInterface
interface PeerSend {

    void send(List<Message> messages);
}
