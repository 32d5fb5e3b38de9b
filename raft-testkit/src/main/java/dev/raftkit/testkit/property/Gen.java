package dev.raftkit.testkit.property;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A generator of values of type {@code T}: a function of the choices it draws from a
 * {@link Source}. It must be deterministic (same choices, same value) and must take all of its
 * randomness from the source, so that a seed replays a try exactly and shrinking works.
 *
 * <p>See {@link Gens} for the building blocks and the package documentation for the design.
 *
 * @param <T> the type of the generated values
 */
@FunctionalInterface
public interface Gen<T> {

    /** Generates one value from the choices drawn from {@code source}. */
    T generate(Source source);

    /** A generator of {@code f} applied to this generator's values; shrinks as this one does. */
    default <R> Gen<R> map(Function<? super T, ? extends R> f) {
        Objects.requireNonNull(f, "f");
        return source -> f.apply(generate(source));
    }

    /**
     * A generator that draws a value from this generator, then a value from the generator
     * {@code f} chooses for it. Use it when one value's shape depends on another (a list of
     * indexes into a list just drawn, say).
     */
    default <R> Gen<R> flatMap(Function<? super T, Gen<R>> f) {
        Objects.requireNonNull(f, "f");
        return source -> f.apply(generate(source)).generate(source);
    }

    /**
     * A generator of this generator's values that satisfy {@code p}. It draws again when a value
     * is rejected, at most {@value Limits#FILTER_ATTEMPTS} times in a row, then throws a
     * {@link GenerationException}. Filter only what is rarely rejected; build valid values
     * directly (with {@link #map} or narrower ranges) otherwise.
     */
    default Gen<T> filter(Predicate<? super T> p) {
        Objects.requireNonNull(p, "p");
        return source -> {
            T last = null;
            for (int attempt = 0; attempt < Limits.FILTER_ATTEMPTS; attempt++) {
                last = generate(source);
                if (p.test(last)) {
                    return last;
                }
            }
            throw new GenerationException("filter rejected " + Limits.FILTER_ATTEMPTS
                    + " generated values in a row (the last was " + Limits.describe(last)
                    + "): the predicate is too strict for this generator; generate valid values "
                    + "directly instead (with map, or narrower ranges)");
        };
    }
}
