package dev.raftkit.jepsen.checker;

import dev.raftkit.jepsen.history.Codec;
import dev.raftkit.jepsen.history.OpType;
import dev.raftkit.jepsen.history.TypedOperation;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A user's own operation type and model: append-only lists, one per key (append(x), read → list). */
final class AppendListModel implements Model<List<Long>, TypedOperation<AppendListModel.ListOp, List<Long>>> {

    sealed interface ListOp permits Append, ReadList {
        String list();
    }

    /** Appends {@code value} to {@code list}; answers nothing (output null). */
    record Append(String list, long value) implements ListOp {
    }

    /** Reads {@code list}; answers its elements in order. */
    record ReadList(String list) implements ListOp {
    }

    static final OpType<ListOp, List<Long>> TYPE = OpType
            .of(Codec.auto(ListOp.class), Codec.listOf(Codec.auto(Long.class)))
            .keyedBy(ListOp::list)
            .readOnlyWhen(op -> op instanceof ReadList);

    @Override
    public List<Long> init() {
        return List.of();
    }

    @Override
    public Optional<List<Long>> step(List<Long> state, TypedOperation<ListOp, List<Long>> op) {
        if (op.input() instanceof Append a) {
            List<Long> next = new ArrayList<>(state.size() + 1);
            next.addAll(state);
            next.add(a.value());
            return Optional.of(List.copyOf(next));
        }
        // An indeterminate read is dropped by the checker (readOnlyWhen); an ok one must match.
        return op.output() == null || op.output().equals(state) ? Optional.of(state) : Optional.empty();
    }

    @Override
    public long estimatedBytes(List<Long> state) {
        // An immutable list (24 bytes) and its array (16 + a reference per element). The boxed
        // Longs are shared by every list that holds them (List.copyOf copies references).
        return 40 + 4L * state.size();
    }
}
