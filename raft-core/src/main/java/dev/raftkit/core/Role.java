package dev.raftkit.core;

/** A node's role (§3.3), plus the pre-candidate of PreVote (§9.6). */
public enum Role { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER }
