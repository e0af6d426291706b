"""What must hold of Kafka's replication data plane (the ``replication`` model).

Each safety property names the variant or seeded bug that refutes it (tests/test_replication.py
sees each one fail); each ``sometimes`` property shows that the behaviour the invariants guard
is reachable at the checked bounds.
"""

from kafkacheck.checker.lang import all_of, always, any_of, implies, sometimes
from kafkacheck.model.replication import Replication


def _pairs(domain):
    elems = list(domain)
    return [(a, b) for i, a in enumerate(elems) for b in elems[i + 1:]]


def _holds(m, log, rec):
    """``log`` holds record ``rec`` (a record has one offset: where it was first appended)."""
    return any_of(range(m.max_writes), lambda k: (log.length() > k) & (log[k] == rec))


class ReplicationSpec(Replication):
    """The replication model with its properties."""

    @always
    def acked_record_kept(m, s):
        """No acknowledged record is lost: the partition's leader, once it leads (the
        controller chose it, it runs and it heard of its epoch), holds every acknowledged
        record. Refuted ``--before KIP-101`` (the new leader truncated the record to its
        stale HW), with ``unclean.leader.election.enable``, and after a power loss of the
        last ISR member (``crash_loses_unflushed``)."""
        return all_of(m.replica, lambda L: implies(
            m.leads(s, L), all_of(m.record, lambda rec: implies(
                s.acked.contains(rec), _holds(m, s.log[L], rec)))))

    @always
    def isr_holds_acked(m, s):
        """Every ISR member holds every acknowledged record (the ISR is who may be
        elected). Refuted ``--before KIP-101`` (a restarted follower truncates an
        acknowledged record and stays in the ISR)."""
        return all_of(m.replica, lambda r: implies(
            s.isr.contains(r), all_of(m.record, lambda rec: implies(
                s.acked.contains(rec), _holds(m, s.log[r], rec)))))

    @always
    def hw_prefix_in_leader_isr(m, s):
        """Every replica that presumes leadership has its records below its HW, at the same
        offsets, in every member of *its* ISR (``WeakIsr`` of kafka-specification's
        KafkaReplication.tla). Refuted ``--before KIP-101``, ``--before KIP-279`` and
        ``--before KIP-320`` (docs/models/replication.md compares them with TLC's)."""
        return m._hw_prefix_in(s, lambda L: s.r_isr[L])

    @always
    def hw_prefix_in_isr(m, s):
        """Every replica that presumes leadership has its records below its HW in every
        member of the controller's ISR (``StrongIsr`` of KafkaReplication.tla): whoever is
        elected next holds what any leader exposed to consumers. Refuted by the same three
        variants, and with a replaced disk (the dead ISR member lost it)."""
        return m._hw_prefix_in(s, lambda L: s.isr)

    def _hw_prefix_in(m, s, isr_of):
        def ok(L, r):
            return all_of(range(m.max_writes), lambda k: implies(
                s.hw[L] > k, (s.log[r].length() > k) & (s.log[r][k] == s.log[L][k])))
        return all_of(m.replica, lambda L: implies(
            m.presumes_leadership(s, L), all_of(
                [r for r in m.replica if r is not L],
                lambda r: implies(isr_of(L).contains(r), ok(L, r)))))

    @always
    def isr_credits_are_real(m, s):
        """A leader never credits an ISR member that follows it in its epoch with more log
        than that member has: what the HW counts is there. Refuted ``--before KIP-903``
        (a replaced disk rejoins the ISR on the LEO its previous life fetched with) and with
        ``missed_updates`` (a re-elected leader keeps LEOs from before an epoch it missed)."""
        def ok(L, r):
            follows = s.alive[r] & (s.r_leader[r] == L) & (s.r_epoch[r] == s.r_epoch[L])
            return implies(s.r_isr[L].contains(r) & follows,
                           s.seen[L][r] <= s.log[r].length())
        return all_of(m.replica, lambda L: implies(m.presumes_leadership(s, L), all_of(
            [r for r in m.replica if r is not L], lambda r: ok(L, r))))

    @always
    def committed_logs_agree(m, s):
        """Replicas agree on every offset below both their high watermarks. Refuted
        ``--before KIP-279`` and ``--before KAFKA-7164`` (a follower keeps records another
        epoch overwrote, and its HW then covers them)."""
        def agree(a, b):
            return all_of(range(m.max_writes), lambda k: implies(
                (s.hw[a] > k) & (s.hw[b] > k), s.log[a][k] == s.log[b][k]))
        return all_of(_pairs(m.replica), lambda ab: agree(*ab))

    @always
    def log_matching(m, s):
        """Same offset and same epoch ⇒ same record and the same log before it (KIP-101's
        promise). Refuted ``--before KIP-279`` with three records (the follower keeps its
        epoch-1 record at offset 0 and appends the leader's epoch-2 record after it), and
        ``--before KIP-101`` (tests/test_replication.py)."""
        W = m.max_writes

        def match(a, b, k):
            la, lb = s.log[a], s.log[b]
            both = (la.length() > k) & (lb.length() > k)
            same_epoch = s.record_epoch[la[k]] == s.record_epoch[lb[k]]
            return implies(both & same_epoch,
                           all_of(range(k + 1), lambda j: la[j] == lb[j]))
        return all_of(_pairs(m.replica), lambda ab: all_of(
            range(W), lambda k: match(ab[0], ab[1], k)))

    @always
    def leader_in_isr(m, s):
        """The controller's leader is in the ISR (or there is none). Expected to hold, also
        with unclean election (the ISR becomes the leader); a seeded bug in the tests
        refutes it."""
        return all_of(m.replica, lambda r: implies(s.leader == r, s.isr.contains(r)))

    @always
    def leader_hw_never_decreases(m, s):
        """No replica's high watermark falls while it presumes leadership (ghost
        ``hw_dropped``; a step property will say it directly). A seeded bug in the tests
        refutes it."""
        return ~s.hw_dropped

    @sometimes
    def record_acknowledged(m, s):
        """A record is acknowledged to the producer."""
        return ~s.acked.is_empty()

    @sometimes
    def follower_truncated(m, s):
        """A replica truncated records from its log (a divergent or unreplicated suffix)."""
        return s.truncated

    @sometimes
    def leader_changed(m, s):
        """A replica other than the first leads an epoch it has heard of."""
        return any_of(m.replica, lambda r: (r != m.first) & (s.r_leader[r] == r) &
                      (s.leader == r))

    @sometimes
    def isr_shrunk_and_expanded(m, s):
        """A replica left the ISR and was re-admitted (the ISR starts full, so a re-admission
        follows a removal)."""
        return s.rejoined
