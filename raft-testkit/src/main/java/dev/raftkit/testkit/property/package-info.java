/**
 * Raftkit's seeded property-testing harness: generators driven by one seed, a configurable number
 * of tries, shrinking to a minimal counter-example, and exact replay of a failure from its seed.
 * Raftkit checks its own protocol with it; use it to check your state machine the same way.
 *
 * <h2>Writing a property</h2>
 *
 * <p>A property is a name, a {@link dev.raftkit.testkit.property.Gen generator} and a body that
 * throws when the property does not hold. Build generators from
 * {@link dev.raftkit.testkit.property.Gens}. The strongest pattern for a state machine is to
 * generate a <em>sequence of actions</em>, run it against the implementation and against a
 * simple model, and compare after every step:
 *
 * <pre>{@code
 * sealed interface Op permits Put, Delete {}
 * record Put(String key, int value) implements Op {}
 * record Delete(String key) implements Op {}
 *
 * Gen<String> keys = Gens.oneOf("a", "b", "c");   // few keys, so operations collide
 * Gen<Op> ops = Gens.choose(
 *         Gens.pairs(keys, Gens.ints(0, 9)).map(p -> new Put(p.first(), p.second())),
 *         keys.map(Delete::new));
 *
 * @Test
 * void kvStoreAgreesWithAHashMap() {
 *     Property.check("kv store agrees with a HashMap", Gens.lists(ops, 0, 50), script -> {
 *         KvStateMachine store = new KvStateMachine();
 *         Map<String, Integer> model = new HashMap<>();
 *         for (Op op : script) {
 *             if (op instanceof Put put) {
 *                 store.put(put.key(), put.value());
 *                 model.put(put.key(), put.value());
 *             } else if (op instanceof Delete delete) {
 *                 store.delete(delete.key());
 *                 model.remove(delete.key());
 *             }
 *             assertEquals(model, store.asMap(), "after " + op);
 *         }
 *     });
 * }
 * }</pre>
 *
 * <p>When it fails, the report names the property and the failing try, and shows the original
 * and the shrunk counter-example, the shortest script that still fails, with the simplest
 * values (here perhaps {@code [Put[key=a, value=0], Delete[key=a]]}), and the seed:
 *
 * <pre>
 * Property 'kv store agrees with a HashMap' failed on try 17 of 1000 (after 16 passing tries).
 *   original counter-example: [Put[key=c, value=7], Put[key=a, value=3], …]
 *   shrunk counter-example:   [Put[key=a, value=0], Delete[key=a]]  (212 shrink steps)
 *   shrunk failure: org.opentest4j.AssertionFailedError: after Delete[key=a] ==> …
 *   seed: -4185732112315473417
 *   Replay: -Dproperty.seed=-4185732112315473417 runs exactly this try again …
 * </pre>
 *
 * <h2>Knobs</h2>
 * <ul>
 *   <li>{@code -Dproperty.tries=N}: tries per property (default 1000); a property's own
 *       {@code Property.forAll(gen).tries(n)} takes precedence.
 *   <li>{@code -Dproperty.seed=S}: run only the try with seed S, in every property of the run
 *       (combine it with {@code -Dtest=Class#method}); it regenerates the same original value and
 *       shrinks it the same way. {@code .replay(S)} does the same in code.
 *   <li>Without a seed, a run's seed is a hash of the property's name, so the default build is
 *       reproducible; {@code .seed(s)} explores other runs.
 * </ul>
 *
 * <h2>Design: shrinking by choice sequences</h2>
 *
 * <p>This follows Hypothesis (MacIver and Donaldson, "Test-Case Reduction via Test-Case
 * Generation", ECOOP 2020). A generator is a function of the integer choices it draws from a
 * {@link dev.raftkit.testkit.property.Source}: each draw is a number in a range the generator
 * names. The harness records every choice of a try, stored as its distance from the range's
 * minimum. To shrink, it never looks at values: it edits the recorded sequence (deletes
 * elements' choices and chunks of 8, 4, 2 and 1 choices; zeroes, decrements and binary-searches
 * single choices toward the minimum; sorts adjacent elements and choices; moves value between
 * like choices), replays the generator on the edited sequence (a replayed choice is clamped into
 * the range asked for, and draws past the end get the minimum), and keeps the edit only if the
 * property still fails and the choices drawn are shorter, or as long and lexicographically
 * smaller. That order makes shrinking terminate; a step budget (one step is one run of the body,
 * {@value dev.raftkit.testkit.property.Property#DEFAULT_MAX_SHRINK_STEPS} by default) bounds it.
 *
 * <p>What this buys: every generator shrinks, including ones built with {@code map},
 * {@code flatMap} and {@code filter}, and shrinking can never produce a value the generator could
 * not have produced, so invariants the generator builds in (a valid configuration, a sorted list)
 * hold for every shrunk value too. Generators are written so that smaller choices are simpler
 * values: numbers shrink toward zero, alternatives toward the first listed, lists toward fewer
 * elements (each optional element is preceded by a "continue" choice, so deleting its choices
 * deletes exactly that element).
 *
 * <h2>Rules for generators and bodies</h2>
 * <ul>
 *   <li>Take all randomness from the {@code Source}, and be deterministic; otherwise a seed does
 *       not replay.
 *   <li>Put the simplest alternative first in {@code choose}, {@code oneOf} and
 *       {@code frequency}: that is where shrinking goes.
 *   <li>Prefer building valid values to filtering: a {@code filter} that rejects 100 values in a
 *       row throws a {@link dev.raftkit.testkit.property.GenerationException}.
 *   <li>The body fails by throwing anything. It may mutate its argument (the report regenerates
 *       values), but must not keep state between tries.
 * </ul>
 */
package dev.raftkit.testkit.property;
