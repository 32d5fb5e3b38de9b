package dev.raftkit.core;

import java.util.ArrayList;
import java.util.List;

/**
 * What the pure core may not use (docs/architecture.md, section The pure core): I/O, threads and concurrency, clocks, the
 * environment, and randomness that is not seeded. Each rule says why, so a violation explains
 * itself.
 */
final class PurityRules {

    /** A forbidden class, or a whole package when the name ends with {@code /}. */
    private record TypeRule(String name, String why) {

        boolean matches(String type) {
            return name.endsWith("/") ? type.startsWith(name) : type.equals(name) || type.startsWith(name + "$");
        }
    }

    /**
     * A forbidden field or method: owner (a class, or a package ending with {@code /}), name, and
     * a descriptor prefix ({@code ""} for any descriptor).
     */
    private record MemberRule(String owner, String name, String descriptorPrefix, String why) {

        boolean matches(ClassFileReferences.Member m) {
            boolean ownerMatches = owner.endsWith("/") ? m.owner().startsWith(owner) : m.owner().equals(owner);
            return ownerMatches && m.name().equals(name) && m.descriptor().startsWith(descriptorPrefix);
        }
    }

    private static final String IO = "I/O: the core reads and writes nothing; the runtime and the SPIs do";
    private static final String THREADS = "threads or concurrency: the core is single-threaded; the runtime owns threads";
    private static final String CLOCK = "a clock: the core counts time in ticks given to it";
    private static final String ENVIRONMENT = "the process environment: the core is a function of its inputs";
    private static final String UNSEEDED = "unseeded randomness: use the seed from RaftConfig";

    private static final List<TypeRule> TYPES = List.of(
            new TypeRule("java/io/", IO),
            new TypeRule("java/nio/file/", IO),
            new TypeRule("java/nio/channels/", IO),
            new TypeRule("java/net/", IO),
            new TypeRule("java/util/logging/", IO),
            new TypeRule("java/lang/System$Logger", IO),
            new TypeRule("org/slf4j/", IO + " (logging belongs to the runtime)"),
            new TypeRule("java/lang/Thread", THREADS),
            new TypeRule("java/lang/ThreadLocal", THREADS),
            new TypeRule("java/lang/ThreadGroup", THREADS),
            new TypeRule("java/util/concurrent/", THREADS),
            new TypeRule("java/util/Timer", THREADS),
            new TypeRule("java/util/TimerTask", THREADS),
            new TypeRule("java/lang/Runtime", ENVIRONMENT),
            new TypeRule("java/lang/Process", ENVIRONMENT),
            new TypeRule("java/lang/ProcessBuilder", ENVIRONMENT),
            new TypeRule("java/lang/ProcessHandle", ENVIRONMENT),
            new TypeRule("java/time/Clock", CLOCK),
            new TypeRule("java/time/InstantSource", CLOCK),
            new TypeRule("java/security/SecureRandom", UNSEEDED));

    private static final List<MemberRule> MEMBERS = List.of(
            new MemberRule("java/lang/System", "currentTimeMillis", "", CLOCK),
            new MemberRule("java/lang/System", "nanoTime", "", CLOCK),
            new MemberRule("java/time/", "now", "", CLOCK),
            new MemberRule("java/lang/System", "getenv", "", ENVIRONMENT),
            new MemberRule("java/lang/System", "getProperty", "", ENVIRONMENT),
            new MemberRule("java/lang/System", "getProperties", "", ENVIRONMENT),
            new MemberRule("java/lang/System", "exit", "", ENVIRONMENT),
            new MemberRule("java/lang/Math", "random", "", UNSEEDED),
            new MemberRule("java/lang/StrictMath", "random", "", UNSEEDED),
            // A Random or SplittableRandom built without a seed; the seeded constructors are fine.
            new MemberRule("java/util/Random", "<init>", "()V", UNSEEDED),
            new MemberRule("java/util/SplittableRandom", "<init>", "()V", UNSEEDED),
            new MemberRule("java/util/random/RandomGenerator", "getDefault", "", UNSEEDED),
            new MemberRule("java/util/random/RandomGenerator", "of", "", UNSEEDED),
            new MemberRule("java/util/random/RandomGeneratorFactory", "create", "()", UNSEEDED),
            new MemberRule("java/util/Collections", "shuffle", "(Ljava/util/List;)", UNSEEDED),
            new MemberRule("java/util/UUID", "randomUUID", "", UNSEEDED));

    private PurityRules() {
    }

    /** Every forbidden reference of one class, each as "class refers to X — why". */
    static List<String> violations(ClassFileReferences refs) {
        String owner = refs.className().replace('/', '.');
        List<String> found = new ArrayList<>();
        for (String type : refs.types()) {
            for (TypeRule rule : TYPES) {
                if (rule.matches(type)) {
                    found.add(owner + " refers to " + type.replace('/', '.') + " — " + rule.why());
                    break;
                }
            }
        }
        for (ClassFileReferences.Member member : refs.members()) {
            for (MemberRule rule : MEMBERS) {
                if (rule.matches(member)) {
                    found.add(owner + " calls " + member + " — " + rule.why());
                    break;
                }
            }
        }
        return found;
    }
}
