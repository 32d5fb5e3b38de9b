package dev.raftkit.core;

/** Volatile state worth telling observers about: who leads, and this node's role. Not persisted. */
public record SoftState(long leader, Role role) {
    @Override
    public String toString() {
        return role + " leader=" + leader;
    }
}
