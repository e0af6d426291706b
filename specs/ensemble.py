"""What must hold of a ZooKeeper ensemble running Zab (seed claims C8, C9)."""

from kafkacheck.checker.lang import (all_of, always, any_of, count_of, implies, set_of,
                                     sometimes)
from kafkacheck.model.ensemble import Ensemble


class EnsembleSpec(Ensemble):
    """The ensemble model with Zab's safety properties and sanity checks."""

    # -- safety ------------------------------------------------------------------------------
    @always
    def one_leader_per_epoch(m, s):
        """At most one server is ever established as leader of an epoch.

        Seed claim C8: one leader takes the writes. Expected to hold with quorum=majority;
        violated with quorum=half on an even ensemble, where two halves elect two leaders."""
        return all_of(m.epoch, lambda e: s.led[e].size() <= 1)

    @always
    def committed_in_later_leaders(m, s):
        """Every established leader has the transactions committed up to its epoch.

        A transaction committed in epoch e is in the history, at its position, of every
        established leader of an epoch >= e (Zab's primary integrity; Raft's leader
        completeness). Expected to hold with quorum=majority."""
        def has_committed(x):
            h = s.history[x]
            return all_of(range(m.max_txns), lambda k: implies(
                (s.committed.length() > k) & (s.committed_in[k] <= s.current_epoch[x]),
                (h.length() > k) & (h[k] == s.committed[k])))
        return all_of(m.server, lambda x: implies(
            (s.state[x] == "LEADING") & (s.phase[x] == "BROADCAST"), has_committed(x)))

    @always
    def committed_txns_agree(m, s):
        """No two leaders commit different transactions at one position.

        Zab's agreement and total order: every server delivers the same sequence. Expected
        to hold with quorum=majority."""
        return ~s.commit_conflict

    @always
    def committed_on_quorum(m, s):
        """Every committed transaction stays on the disks of a quorum of servers.

        Crashed servers count: their logs survive. Seed claim C9: a majority agrees on the
        synchronized data. Expected to hold with quorum=majority."""
        def kept(k):
            holders = count_of(m.server, lambda x: (s.history[x].length() > k) &
                               (s.history[x][k] == s.committed[k]))
            return implies(s.committed.length() > k, m.is_quorum(holders))
        return all_of(range(m.max_txns), kept)

    @always
    def current_epoch_accepted(m, s):
        """No server's currentEpoch exceeds its acceptedEpoch.

        A server syncs only with a leader whose epoch it accepted. Expected to hold."""
        return all_of(m.server, lambda x: s.current_epoch[x] <= s.accepted_epoch[x])

    # -- sanity: the model gets somewhere ------------------------------------------------------
    @sometimes
    def leader_elected(m, s):
        """Sanity: some server is established as leader (a quorum synced to it)."""
        return any_of(m.server, lambda x: (s.state[x] == "LEADING") &
                      (s.phase[x] == "BROADCAST"))

    @sometimes
    def txn_committed(m, s):
        """Sanity: a transaction proposed in broadcast is committed."""
        return s.committed.length() > 0

    @sometimes
    def commits_with_a_server_down(m, s):
        """Seed claim C9: the ensemble commits while a server is down.

        With a server down, the others establish a leader of an epoch that server never
        accepted and commit a transaction in it. Expected reachable when a quorum survives
        one failure (servers >= 3 with quorum=majority); unreachable with 1 or 2 servers, or
        with max_down=0."""
        def without(x):
            return ~s.up[x] & any_of(range(m.max_txns), lambda k:
                                     (s.committed.length() > k) &
                                     (s.committed_in[k] > s.accepted_epoch[x]))
        return any_of(m.server, without)

    @sometimes
    def stale_txn_superseded(m, s):
        """Sanity: a server holds a superseded transaction that its next sync truncates.

        The transaction lost to a committed one at the same position, so a new leader must
        truncate it (TRUNC)."""
        return any_of(m.server, lambda x: any_of(range(m.max_txns), lambda k:
                      (s.committed.length() > k) & (s.history[x].length() > k) &
                      (s.history[x][k] != s.committed[k])))

    # -- proof-only lemmas: with them one_leader_per_epoch is inductive (kafkacheck prove) ------

    def _epoch_leaders(m, s, k):
        """The servers that led epoch k, or lead it now past discovery."""
        e = m.epoch.ids[k.value]
        running = set_of(m.server, lambda x: (s.state[x] == "LEADING") &
                         ((s.phase[x] == "SYNCHRONIZATION") | (s.phase[x] == "BROADCAST")) &
                         (s.accepted_epoch[x] == e))
        return s.led[k] | running

    @always
    def one_epoch_leader(m, s):
        """Lemma: at most one server leads, or has led, each epoch past discovery."""
        return all_of(m.epoch, lambda k: m._epoch_leaders(s, k).size() <= 1)

    @always
    def epoch_leader_has_quorum(m, s):
        """Lemma: once a server leads epoch e past discovery, a quorum accepted e or later."""
        return all_of(m.epoch, lambda k: implies(
            ~m._epoch_leaders(s, k).is_empty(),
            m.is_quorum(count_of(m.server,
                                 lambda x: s.accepted_epoch[x] >= m.epoch.ids[k.value]))))

    @always
    def roles_consistent(m, s):
        """Lemma: LOOKING servers are in ELECTION with no leader; a LEADING server follows
        itself; a FOLLOWING one another server."""
        def ok(x):
            looking = s.state[x] == "LOOKING"
            return ((looking == (s.phase[x] == "ELECTION")) &
                    (looking == s.leader[x].is_none()) &
                    implies(s.state[x] == "LEADING", s.leader[x] == x) &
                    implies(s.state[x] == "FOLLOWING", s.leader[x] != x))
        return all_of(m.server, ok)
