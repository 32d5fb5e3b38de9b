package dev.raftkit.jepsen.checker;

import dev.raftkit.jepsen.history.OpType;
import dev.raftkit.jepsen.history.TypedOperation;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A user's own operation type with no key: a bank of three accounts (0, 1, 2), 100 each.
 * transfer(from, to, amount) is refused (transferred = false) when {@code from} has less than
 * {@code amount}; read answers every balance. A transfer touches two accounts, so the history is
 * one partition.
 */
final class BankModel {

    private BankModel() {
    }

    sealed interface BankOp permits Transfer, ReadBalances {
    }

    record Transfer(int from, int to, long amount) implements BankOp {
    }

    record ReadBalances() implements BankOp {
    }

    sealed interface Reply permits Done, Balances {
    }

    /** A transfer's answer: whether the money moved. */
    record Done(boolean transferred) implements Reply {
    }

    /** A read's answer. */
    record Balances(List<Long> balances) implements Reply {
    }

    static final OpType<BankOp, Reply> TYPE = OpType.of(BankOp.class, Reply.class)
            .readOnlyWhen(op -> op instanceof ReadBalances);

    static final Model<List<Long>, TypedOperation<BankOp, Reply>> MODEL = Model.of(
            () -> List.of(100L, 100L, 100L),
            (balances, op, reply) -> {
                if (op instanceof Transfer t) {
                    boolean enough = balances.get(t.from()) >= t.amount();
                    // Unknown outcome (reply == null): it took effect, answering whatever it would have.
                    boolean transferred = reply == null ? enough : ((Done) reply).transferred();
                    if (transferred != enough) {
                        return Optional.empty();
                    }
                    if (!transferred) {
                        return Optional.of(balances);
                    }
                    List<Long> next = new ArrayList<>(balances);
                    next.set(t.from(), next.get(t.from()) - t.amount());
                    next.set(t.to(), next.get(t.to()) + t.amount());
                    return Optional.of(List.copyOf(next));
                }
                return ((Balances) reply).balances().equals(balances) ? Optional.of(balances) : Optional.empty();
            });
}
