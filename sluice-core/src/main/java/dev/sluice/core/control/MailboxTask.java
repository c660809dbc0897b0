package dev.sluice.core.control;

import dev.sluice.core.concurrent.JoinableNode;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One operation waiting in a {@link RevisionMailbox}'s inbox: an {@link Action} (no result), a
 * pod's {@link MailboxReport} or a {@link Query}. It is its caller's future and its own link in
 * the inbox, so posting allocates this one object.
 *
 * <h2>Implementation notes</h2>
 * Its fields are final, set by the producer before the offer that publishes it to the writer
 * (see the mailbox's "Single writer").
 */
abstract class MailboxTask extends JoinableNode<Object, PodEvent> {
    final Operation operation;
    final long enqueuedNanos;

    MailboxTask(Operation operation, long enqueuedNanos) {
        this.operation = operation;
        this.enqueuedNanos = enqueuedNanos;
    }

    abstract Object apply(RevisionWriter writer);

    /** An operation with no result. */
    static final class Action extends MailboxTask {
        final Consumer<RevisionWriter> body;

        Action(Operation operation, Consumer<RevisionWriter> body, long enqueuedNanos) {
            super(operation, enqueuedNanos);
            this.body = body;
        }

        @Override
        Object apply(RevisionWriter writer) {
            body.accept(writer);
            return null;
        }
    }

    /** An operation whose result the caller hears. */
    static final class Query extends MailboxTask {
        final Function<RevisionWriter, ?> body;

        Query(Operation operation, Function<RevisionWriter, ?> body, long enqueuedNanos) {
            super(operation, enqueuedNanos);
            this.body = body;
        }

        @Override
        Object apply(RevisionWriter writer) {
            return body.apply(writer);
        }
    }
}
