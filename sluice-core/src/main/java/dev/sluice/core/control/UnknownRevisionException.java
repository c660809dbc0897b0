package dev.sluice.core.control;

import dev.sluice.core.RevisionId;

/** An event or request named a revision the control path does not run. */
public final class UnknownRevisionException extends IllegalArgumentException {

    private final transient RevisionId revision;

    public UnknownRevisionException(RevisionId revision) {
        super("unknown revision " + revision);
        this.revision = revision;
    }

    public RevisionId revision() {
        return revision;
    }
}
