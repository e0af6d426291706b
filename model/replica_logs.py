"""Replica logs shared by the ZooKeeper-mode and KRaft models: what a partition's data is.

A replica's log is a ``Seq`` of leader epochs, one entry per record (Raft-style log matching:
a record is identified by its offset and the leader epoch it was written in). A replica also
has a *flushed* prefix, the part ``LogManager`` has fsynced; a power loss keeps only that.
The producer's acknowledged prefix is a ghost ``Seq`` of the same shape.

These are expression builders over the model's state, used by both ``zk-cluster`` and
``kraft-cluster``. Where the two control planes differ (who decides the leader epoch a
follower fetches at, what the leader remembers of a follower's fetch) the models say it.
"""

from kafkacheck.checker.lang import all_of, implies, ite, when


def match_len(la, lb, width):
    """Length of the common prefix of two logs (records equal by leader epoch)."""
    n, same = 0, None
    for k in range(width):
        step = (la.length() > k) & (lb.length() > k) & (la[k] == lb[k])
        same = step if same is None else same & step
        n = n + ite(same, 1, 0)
    return n


def fetch_step(flog, llog, n, flushed):
    """``ReplicaFetcherThread`` / ``AbstractFetcherThread``: the follower truncates to its
    common prefix ``n`` with the leader (the divergingEpoch answer, KIP-320) and appends the
    leader's next record; its flushed prefix cannot extend past the truncation point.
    Returns the new flushed length."""
    nxt = llog[n]
    has_next = llog.length() > n
    flog.truncate(n)
    with when(has_next):
        flog.append(nxt)
    return ite(flushed < n, flushed, n)


def acknowledge(acked, log, n, width):
    """Ghost: the producer now holds an acknowledgement for ``log``'s first ``n`` records."""
    with when(n > acked.length()):
        for k in range(width):
            acked[k] = ite(n > k, log[k], 0)
        acked.truncate(n)


def holds_acked(acked, log, width):
    """``log`` holds every acknowledged record at its offset and epoch."""
    return all_of(range(width), lambda k: implies(
        acked.length() > k, (log.length() > k) & (log[k] == acked[k])))
