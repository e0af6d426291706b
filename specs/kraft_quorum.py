"""What must hold of KRaft's metadata quorum: Raft's safety, and what check-quorum adds."""

from kafkacheck.checker.lang import all_of, always, any_of, count_of, implies, sometimes
from kafkacheck.model.kraft_quorum import KraftQuorum


class KraftQuorumSpec(KraftQuorum):
    """The KRaft quorum with Raft's safety properties (Ongaro's thesis, §3.6) and sanity
    checks. Each safety property is expected to hold."""

    # -- safety ------------------------------------------------------------------------------
    @always
    def election_safety(m, s):
        """At most one voter is ever elected leader of an epoch (one active controller per
        epoch)."""
        return all_of(m.epochs, lambda e: s.led[e].size() <= 1)

    @always
    def log_matching(m, s):
        """Two logs with a record of the same epoch at an offset agree on every record up to
        it."""
        def agree(x, y, k):
            same = (s.log[x].length() > k) & (s.log[y].length() > k) & \
                (s.log[x][k] == s.log[y][k])
            return implies(same, all_of(range(k), lambda j: s.log[x][j] == s.log[y][j]))
        return all_of(m.voter, lambda x: all_of(m.voter, lambda y: all_of(
            range(1, m.max_records), lambda k: agree(x, y, k))))

    @always
    def leader_completeness(m, s):
        """A leader of the epoch that committed last, or of a later one, holds every
        committed record."""
        def holds_committed(x):
            return all_of(range(m.max_records), lambda k: implies(
                s.committed.length() > k,
                (s.log[x].length() > k) & (s.log[x][k] == s.committed[k])))
        return all_of(m.voter, lambda x: implies(
            (s.role[x] == "LEADER") & (s.epoch[x] >= s.commit_epoch), holds_committed(x)))

    @always
    def state_machine_safety(m, s):
        """Every voter's log below its high watermark is the committed log: no two
        controllers apply different metadata records at one offset."""
        def applied_ok(x):
            return (s.hw[x] <= s.committed.length()) & all_of(
                range(m.max_records), lambda k: implies(
                    s.hw[x] > k, (s.log[x].length() > k) & (s.log[x][k] == s.committed[k])))
        return all_of(m.voter, applied_ok)

    # -- lemmas: with election_safety, an inductive invariant (kafkacheck prove) ----------------
    @always
    def granted_votes_recorded(m, s):
        """Lemma: every vote a candidate holds was cast for it in its epoch."""
        return all_of(m.voter, lambda c: all_of(m.voter, lambda v: implies(
            s.granted[c].contains(v), all_of(m.epochs, lambda e: implies(
                s.epoch[c] == e.value + 1, s.vote_of[v][e] == c)))))

    @always
    def granted_only_to_candidates(m, s):
        """Lemma: only a running candidate holds votes, and a candidate voted for itself."""
        return all_of(m.voter, lambda c: implies(
            ~s.granted[c].is_empty(), s.up[c] & (s.role[c] == "CANDIDATE")) &
            implies(s.role[c] == "CANDIDATE", s.voted[c] == c))

    @always
    def votes_persisted(m, s):
        """Lemma: the vote history agrees with the persisted votedKey in the voter's epoch and
        holds no vote for an epoch the voter has not reached."""
        return all_of(m.voter, lambda v: all_of(m.epochs, lambda e: implies(
            s.epoch[v] == e.value + 1, s.vote_of[v][e] == s.voted[v]) & implies(
            s.epoch[v] < e.value + 1, s.vote_of[v][e].is_none())))

    @always
    def leader_had_majority(m, s):
        """Lemma: whoever led an epoch received a majority of that epoch's votes."""
        return all_of(m.epochs, lambda e: all_of(m.voter, lambda x: implies(
            s.led[e].contains(x),
            count_of(m.voter, lambda v: s.vote_of[v][e] == x) >= m.majority)))

    # -- sanity: the model gets somewhere ---------------------------------------------------
    @sometimes
    def leader_elected(m, s):
        """Some voter becomes leader (the quorum has an active controller)."""
        return any_of(m.voter, lambda x: s.role[x] == "LEADER")

    @sometimes
    def record_committed(m, s):
        """A metadata record beyond the LeaderChange record is committed."""
        return s.committed.length() >= 2

    @sometimes
    def controller_failover(m, s):
        """A second leader is elected after a record was committed in an earlier epoch."""
        return any_of(m.voter, lambda x: (s.role[x] == "LEADER") &
                      (s.epoch[x] > s.commit_epoch) & (s.commit_epoch > 0))

    @sometimes
    def isolated_leader_resigns(m, s):
        """A leader cut off from the quorum resigns while still cut off, in a run without
        crashes (a restart resigns too: that is not check quorum). KAFKA-15489's fix; with
        --before KAFKA-15489 no run reaches it, so the stale leader stays leader for as long
        as it is cut off."""
        if m.n_voters == 1 or m.max_isolations == 0:
            return True     # no voter can be cut off: reported as trivially reached
        return (s.crashes == 0) & any_of(m.voter, lambda x: (s.role[x] == "RESIGNED") &
                                         s.isolated[x] & (s.leader[x] == x))
