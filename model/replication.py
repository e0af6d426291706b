"""replication: Kafka's replication data plane for one partition — logs, high watermarks,
leader epochs, truncation, the ISR and acks.

The protocol (Kafka 3.9, ``kafka.cluster.Partition``, ``kafka.server.ReplicaFetcherThread``
and ``AbstractFetcherThread``, ``org.apache.kafka.storage.internals.epoch.LeaderEpochFileCache``,
``kafka.log.UnifiedLog``). A partition has ``replication.factor`` replicas. Each keeps a log of
records; a record has an identity of its own (the producer's write number) and carries the
leader epoch it was appended in (its batch's ``partitionLeaderEpoch``). Each replica has a log
end offset (LEO), its own high watermark (HW) and a *leader-epoch cache*
(``leader-epoch-checkpoint``: epoch → the offset where that epoch starts). The controller
writes (leader, leader epoch, ISR) and sends LeaderAndIsr; each replica acts on the newest
epoch it has *heard of*, so a deposed leader keeps taking writes and answering fetches until
its LeaderAndIsr arrives.

A follower fetches from the leader it knows with its fetch offset (its LEO) and its current
leader epoch (KIP-320); the leader refuses a different epoch (FENCED_LEADER_EPOCH or
UNKNOWN_LEADER_EPOCH). Before fetching in a new epoch the follower reconciles its log with the
leader's (3.9: the first fetch's ``divergingEpoch``; before 2.7 an OffsetsForLeaderEpoch
request): it sends its latest epoch, the leader answers the largest epoch it has at or below
it and where that epoch ends (KIP-279), and the follower truncates there, asking again while
the leader's epoch is one it does not have. The leader answers a fetch with the next record
and its HW *as it was before this fetch*; it then records the fetch offset as the follower's
LEO and raises its HW to the least LEO in the ISR (``maybeIncrementLeaderHW``; never while
the ISR is below ``min.insync.replicas``, KAFKA-15583). So a follower learns the HW one fetch
late. The leader drops a lagging follower from the ISR and re-admits one whose LEO reached
the HW and the start offset of the leader's epoch (``maybeExpandIsr``), through
AlterPartition. ``acks=all`` is refused below ``min.insync.replicas`` and acknowledged once
the HW passes the record.

Variants (``--before``): KIP-101 (a restarted or demoted replica truncates to its own HW),
KIP-279 (the pre-2.0 OffsetsForLeaderEpoch answer: the start of the next larger epoch, no
iteration), KAFKA-7164 (no truncation on a new epoch if the leader id is unchanged), KIP-320
(fetches and OffsetsForLeaderEpoch carry no leader epoch, so a leader in another epoch answers),
KIP-903 (with a disk-loss fault: a replaced disk rejoins the ISR on its previous life's fetch).

Abstracted away (docs/models/replication.md):
- The controller is its effect: an election from the live ISR with a bumped epoch (offline,
  preferred or controlled-shutdown alike), the removal of a dead replica from the ISR (with
  NoLeader when it led alone), an unclean election when enabled. ZooKeeper or KRaft, brokers'
  sessions and registrations are not modeled. LeaderAndIsr requests are delayed at will; a
  live replica gets every epoch in order (with ``missed_updates`` it may skip some), a
  restarted one the current epoch.
- A request and its answer are one step (fetch, OffsetsForLeaderEpoch, AlterPartition). Time
  is gone: "lagging for replica.lag.time.max.ms" is "may be dropped whenever it is behind".
- A fetch brings at most one record. One produce request is in flight at a time.
- Only ISR members hold the HW back (3.9 also counts caught-up followers that may join).
- A crash keeps the log unless ``crash_loses_unflushed`` (then only the flushed prefix, which
  ``replica_flush`` extends, survives); the HW checkpoint survives, clamped to the log. With
  ``max_disk_losses`` a stopped replica's disk may be replaced (KIP-903's case). A restarted
  replica first gets a LeaderAndIsr after the controller handled its bounce.
"""

from __future__ import annotations

from kafkacheck.checker.lang import (Bool, Domain, Int, Map, Maybe, Model, Param,
                                     ParameterError, Seq, Set, action, all_of, any_of,
                                     ite, minimum, require, set_of, when)


# -- the leader-epoch cache (LeaderEpochFileCache) ------------------------------------------

def epoch_at(m, view, e):
    """``view[e]`` for a map over epochs read at an integer expression ``e``."""
    if isinstance(e, int):
        return view[m.epoch.of(e)]
    eps = list(m.epoch)
    out = view[eps[0]]
    for x in eps[1:]:
        out = ite(e == x.value, view[x], out)
    return out


def latest_epoch(m, cache):
    """``LeaderEpochFileCache.latestEpoch``: the largest cached epoch, -1 when empty."""
    out = None
    for x in m.epoch:
        out = ite(cache[x] >= 0, x.value, -1 if out is None else out)
    return out


def end_offset_for(m, cache, leo, requested, *, kip_279=True):
    """``LeaderEpochFileCache.endOffsetFor``: the answer to OffsetsForLeaderEpoch(requested),
    as (epoch, end offset). With KIP-279 the epoch is the largest cached epoch at or below the
    requested one and the offset is where the next larger epoch starts (the LEO for the
    latest epoch); (-1, -1) is UNDEFINED. Before KIP-279 only the offset was answered, and the
    epoch returned here is the requested one."""
    latest = latest_epoch(m, cache)
    higher = -1          # start offset of the smallest epoch above ``requested``
    for x in reversed(list(m.epoch)):
        higher = ite((requested < x.value) & (cache[x] >= 0), cache[x], higher)
    at_latest = requested == latest
    offset = ite(at_latest, leo, higher)
    if not kip_279:
        return requested, offset
    floor = -1           # largest epoch at or below ``requested``
    for x in m.epoch:
        floor = ite((requested >= x.value) & (cache[x] >= 0), x.value, floor)
    epoch = ite(at_latest, requested, ite(higher < 0, -1, ite(floor < 0, requested, floor)))
    return epoch, offset


def cache_assign(m, cache, epoch, start):
    """``LeaderEpochFileCache.assign``: a new (epoch, start offset) entry; entries with an
    epoch or start offset at or past it are removed first (non-monotonic entries)."""
    latest = latest_epoch(m, cache)
    latest_start = epoch_at(m, cache, ite(latest < 0, 0, latest))
    needed = (latest < 0) | (latest != epoch) | (start < latest_start)
    with when(needed):
        for x in m.epoch:
            with when((cache[x] >= 0) & ((epoch <= x.value) | (cache[x] >= start))):
                cache[x] = -1
        for x in m.epoch:
            with when(epoch == x.value):
                cache[x] = start


def cache_truncate_from_end(m, cache, end):
    """``LeaderEpochFileCache.truncateFromEnd``: drop the entries that start at or past
    ``end``."""
    for x in m.epoch:
        with when(cache[x] >= end):
            cache[x] = -1


class Replication(Model):
    """Replicas of one partition: logs of records, high watermarks, leader-epoch caches,
    fetch and truncation, ISR upkeep, acks, crashes; the controller as its elections."""

    name = "replication"
    fixes = {
        "KIP-101": "truncation by leader epoch (OffsetsForLeaderEpoch) instead of to the "
                   "replica's own high watermark (0.11.0)",
        "KIP-279": "OffsetsForLeaderEpoch answers the largest epoch at or below the requested "
                   "one, and the follower iterates until the epochs match (2.0.0)",
        "KAFKA-7164": "a follower truncates on every new leader epoch, also when the leader "
                      "id is unchanged (2.1.0)",
        "KIP-320": "Fetch and OffsetsForLeaderEpoch carry the current leader epoch; a leader "
                   "of another epoch refuses them (2.1.0)",
        "KIP-903": "AlterPartition carries the broker epoch each new ISR member fetched with; "
                   "a stale one (an earlier incarnation's) is refused (3.5.0)",
    }

    replication_factor = Param(3, key="replication.factor", lo=2, hi=4,
                               doc="replicas of the partition (ids 1..n; 1 leads epoch 0)")
    min_insync_replicas = Param(1, key="min.insync.replicas", lo=1, hi=4,
                                doc="acks=all refuses writes and the HW stalls below it")
    unclean_leader_election_enable = Param(False, key="unclean.leader.election.enable",
                                           doc="elect a live non-ISR replica when no ISR "
                                               "member is alive")
    acks = Param("all", choices=("all", "1"), doc="the producer's acks")
    max_writes = Param(2, lo=1, hi=4, doc="records produced (each with its own id)")
    max_leader_epoch = Param(2, lo=1, hi=5, doc="bound on leader epochs (epoch 0 is the "
                                                 "initial one)")
    max_crashes = Param(0, lo=0, hi=3, doc="replica crashes (each may restart)")
    missed_updates = Param(False, doc="a broker may miss LeaderAndIsr updates and see only a "
                                      "later epoch (KAFKA-7164's premise; a KRaft broker "
                                      "applying several metadata records as one delta); "
                                      "false: each live broker gets every epoch in order")
    max_disk_losses = Param(0, lo=0, hi=1, doc="a stopped replica's log disk is replaced by "
                                               "an empty one (KIP-903's case)")
    crash_loses_unflushed = Param(False, doc="a crash keeps only the flushed prefix of the "
                                             "log (a power loss); false: a process crash")

    def setup(m):
        if m.min_insync_replicas > m.replication_factor:
            raise ParameterError(f"min.insync.replicas={m.min_insync_replicas} exceeds "
                                 f"replication.factor={m.replication_factor}; Kafka would "
                                 f"refuse every acks=all write")
        m.replica = Domain("replica", ids=range(1, m.replication_factor + 1))
        m.epoch = Domain("epoch", ids=range(0, m.max_leader_epoch + 1))
        m.record = Domain("record", ids=range(1, m.max_writes + 1))
        m.first = m.replica.of(1)
        m.min_isr = min(m.min_insync_replicas, m.replication_factor)
        m.lossy = m.crash_loses_unflushed and m.max_crashes > 0
        m.disks = m.max_disk_losses > 0 and m.max_crashes > 0
        # broker epochs: a restart starts a new incarnation (KIP-903)
        m.incarnations = m.max_crashes > 0

    def variables(m):
        R, EP, REC = m.replica, m.epoch, m.record
        W, E = m.max_writes, m.max_leader_epoch
        v = {
            # == the controller's partition state (the /state znode or the metadata image) ==
            "leader": Maybe(R),                     # none: NoLeader (offline)
            "leader_epoch": Int(0, E),
            "isr": Set(R),
            "epoch_leader": Map(EP, Maybe(R)),      # the LeaderAndIsr sent for each epoch
            "epoch_isr": Map(EP, Set(R)),
            # == per replica (its broker's Partition and log) ==
            "alive": Map(R, Bool),
            "r_epoch": Map(R, Int(-1, E)),          # newest leader epoch heard; -1 after restart
            "r_leader": Map(R, Maybe(R)),           # the leader it heard of
            "r_isr": Map(R, Set(R)),                # a leader's ISR (empty on followers)
            "fetching": Map(R, Bool),               # fetch state Fetching: log reconciled
            "log": Map(R, Seq(REC, W)),             # record ids; LEO = length
            "hw": Map(R, Int(0, W)),
            "cache": Map(R, Map(EP, Int(-1, W))),   # epoch -> start offset, -1: no entry
            "seen": Map(R, Map(R, Int(-1, W))),     # a leader's view of followers' LEOs
            # == records and the producer ==
            "record_epoch": Map(REC, Int(0, E)),    # the batch's partitionLeaderEpoch
            "writes": Int(0, W),
            "produce_at": Maybe(R),                 # the leader holding the DelayedProduce
            "produce_offset": Int(0, W - 1),
            "crashes": Int(0, m.max_crashes),
            # == ghosts (proof only) ==
            "acked": Set(REC),                      # acknowledged to the producer
            "truncated": Bool,                      # a replica truncated records
            "rejoined": Bool,                       # a replica re-entered the ISR
            "hw_dropped": Bool,                     # a replica's HW fell while it led
        }
        if m.lossy:
            v["flushed"] = Map(R, Int(0, W))
        if m.disks:
            v["disk_losses"] = Int(0, m.max_disk_losses)
        if m.incarnations:
            C = m.max_crashes
            v.update({
                "incarnation": Map(R, Int(0, C)),       # the broker epoch: one per start
                "seen_incarnation": Map(R, Map(R, Int(0, C))),  # ... of the follower's fetch
            })
        return v

    def init(m, s):
        """Epoch 0: replica 1 leads, every replica is in the ISR and knows it; logs empty."""
        s.leader = m.first
        s.leader_epoch = 0
        s.isr = set(m.replica)
        s.epoch_leader[m.epoch.of(0)] = m.first
        s.epoch_isr[m.epoch.of(0)] = set(m.replica)
        for r in m.replica:
            s.alive[r] = True
            s.r_epoch[r] = 0
            s.r_leader[r] = m.first
            s.r_isr[r] = set(m.replica) if r is m.first else set()
            s.fetching[r] = r is not m.first
            s.hw[r] = 0
            for x in m.epoch:
                s.cache[r][x] = 0 if (r is m.first and x.value == 0) else -1
            for x in m.replica:
                s.seen[r][x] = 0 if (r is m.first and x is not r) else -1
        s.produce_at = None

    # -- helpers -----------------------------------------------------------------------------

    def presumes_leadership(m, s, r):
        """The replica runs and believes it leads (``Partition.leaderReplicaIdOpt``)."""
        return s.alive[r] & (s.r_leader[r] == r)

    def answers(m, s, leader, follower):
        """The leader answers the follower's Fetch or OffsetsForLeaderEpoch: it presumes
        leadership and (KIP-320) both are in the same leader epoch."""
        ok = m.presumes_leadership(s, leader)
        if m.fixed("KIP-320"):
            ok = ok & (s.r_epoch[leader] == s.r_epoch[follower])
        return ok

    def is_true_leader(m, s, r):
        """The controller accepts the replica's AlterPartition: it leads the current epoch."""
        return m.presumes_leadership(s, r) & (s.leader == r) & \
            (s.r_epoch[r] == s.leader_epoch)

    def leads(m, s, r):
        """The replica leads: the controller's leader, alive, and it heard of its epoch."""
        return (s.leader == r) & m.is_true_leader(s, r)

    def set_hw(m, s, r, value):
        s.hw_dropped = s.hw_dropped | ((s.r_leader[r] == r) & (value < s.hw[r]))
        s.hw[r] = value

    def maybe_increment_hw(m, s, leader):
        """``Partition.maybeIncrementLeaderHW``: the least LEO over the ISR, if larger (and
        the ISR is not below min.insync.replicas)."""
        L = leader
        new = s.log[L].length()
        for r in m.replica:
            if r is not L:
                new = ite(s.r_isr[L].contains(r), minimum(new, s.seen[L][r]), new)
        with when((new > s.hw[L]) & (s.r_isr[L].size() >= m.min_isr)):
            m.set_hw(s, L, new)

    def truncate(m, s, r, target):
        """``UnifiedLog.truncateTo``: keep the first ``target`` records; the epoch cache is
        truncated from the end also when no record goes (a leader's empty epoch)."""
        log = s.log[r]
        n = minimum(target, log.length())
        s.truncated = s.truncated | (n < log.length())
        cache_truncate_from_end(m, s.cache[r], n)
        log.truncate(n)
        with when(s.hw[r] > n):
            m.set_hw(s, r, n)
        if m.lossy:
            with when(s.flushed[r] > n):
                s.flushed[r] = n

    def new_epoch(m, s, leader, isr):
        """The controller writes a new leader epoch and sends its LeaderAndIsr."""
        e = s.leader_epoch + 1
        s.leader_epoch = e
        s.isr = isr
        for x in m.epoch:
            with when(e == x.value):
                s.epoch_leader[x] = leader
                s.epoch_isr[x] = isr
        s.leader = leader

    def alter_partition(m, s, L, isr):
        """The controller commits the leader's AlterPartition: the partition state (which a
        later LeaderAndIsr of this epoch carries) and the leader's ISR."""
        s.isr = isr
        s.r_isr[L] = isr
        for x in m.epoch:
            with when(s.leader_epoch == x.value):
                s.epoch_isr[x] = isr

    def fail_produce(m, s, r):
        with when(s.produce_at == r):
            s.produce_at = None
            s.produce_offset = 0

    # == the controller ==========================================================================

    @action("replica")
    def controller_elect_leader(m, s, replica):
        """The controller elects a live ISR member other than the current leader with a new
        leader epoch; dead replicas leave the ISR (``offlinePartitionLeaderElection`` when the
        leader died; a preferred or controlled-shutdown election when it is alive, and then
        it is deposed but keeps leading until its LeaderAndIsr arrives)."""
        r = replica
        require(s.alive[r] & s.isr.contains(r) & (s.leader != r))
        require(s.leader_epoch < m.max_leader_epoch)
        m.new_epoch(s, r, set_of(m.replica, lambda x: s.isr.contains(x) & s.alive[x]))

    @action("replica")
    def controller_remove_replica(m, s, replica):
        """``onBrokerFailure`` → ``removeReplicasFromIsr``: a dead follower (or a bounced one,
        KIP-380: restarted and not yet told its role) leaves the ISR; a dead leader with no
        live ISR member to succeed it leaves the partition leaderless (NoLeader, the last ISR
        member kept). Both bump the leader epoch."""
        r = replica
        require((~s.alive[r] | (s.r_epoch[r] < 0)) & (s.leader_epoch < m.max_leader_epoch))
        others_alive = any_of(m.replica, lambda x: (x != r) & s.isr.contains(x) & s.alive[x])
        require(((s.leader == r) & ~others_alive) |
                ((s.leader != r) & s.isr.contains(r) & (s.isr.size() > 1)))
        was_leader = s.leader == r
        m.new_epoch(s, s.leader, ite(s.isr.size() > 1, s.isr - r, s.isr))
        with when(was_leader):
            s.leader = None
            for x in m.epoch:
                with when(s.leader_epoch == x.value):
                    s.epoch_leader[x] = None

    @action("replica", where=lambda m, r: m.unclean_leader_election_enable)
    def controller_elect_unclean(m, s, replica):
        """``unclean.leader.election.enable``: no ISR member is alive, so the controller
        elects a live replica outside the ISR; the ISR becomes just it."""
        r = replica
        require(s.alive[r] & ~s.isr.contains(r) & (s.leader_epoch < m.max_leader_epoch))
        require(~any_of(m.replica, lambda x: s.isr.contains(x) & s.alive[x]))
        m.new_epoch(s, r, set_of(m.replica, lambda x: x == r))

    # == LeaderAndIsr ===========================================================================

    @action("replica", "epoch")
    def replica_become_leader_or_follower(m, s, replica, epoch):
        """``ReplicaManager.becomeLeaderOrFollower``: the replica receives the LeaderAndIsr of
        an epoch newer than any it heard of (requests may arrive late or be superseded; a
        restarted replica gets the current one).
        ``makeLeader``: assign the epoch's start offset (its LEO) in the epoch cache, reset
        what it knows of followers if it was not leading. ``makeFollower``: fail a pending
        produce, restart fetching from the new leader (truncation first)."""
        r, e = replica, epoch
        require(s.alive[r] & (s.r_epoch[r] < e.value) & (s.leader_epoch >= e.value))
        # a restarted broker gets the current state (``onBrokerStartup``: the requests queued
        # for its previous incarnation were dropped with its channel) after the controller
        # handled the bounce (KIP-380): it left the ISR unless it was its last member, and it
        # does not resume a leadership it held
        require((s.r_epoch[r] >= 0) | ((s.leader_epoch == e.value) & (s.epoch_leader[e] != r) &
                                       (~s.isr.contains(r) | (s.isr.size() == 1))))
        if not m.missed_updates:
            # the controller's channel to a live broker is ordered and retried
            require((s.r_epoch[r] < 0) | (s.r_epoch[r] == e.value - 1))
        new_leader = s.epoch_leader[e]
        old_leader = s.pre.r_leader[r]
        was_leader = old_leader == r
        s.r_epoch[r] = e.value
        leo = s.log[r].length()
        with when(new_leader == r):
            with when(~was_leader):
                for x in m.replica:
                    if x is not r:
                        s.seen[r][x] = -1
            s.r_leader[r] = r
            s.r_isr[r] = s.epoch_isr[e]
            s.fetching[r] = False
            cache_assign(m, s.cache[r], s.r_epoch[r], leo)
            m.maybe_increment_hw(s, r)
        with when(new_leader != r):
            s.r_leader[r] = new_leader
            s.r_isr[r] = set_of(m.replica, lambda x: False)
            for x in m.replica:
                if x is not r:
                    s.seen[r][x] = -1
            m.fail_produce(s, r)
            m.become_follower(s, r, old_leader, new_leader)

    def become_follower(m, s, r, old_leader, new_leader):
        """The fetcher restarts in state Truncating (KAFKA-7164: on every new epoch; before
        it, only when the leader id changed)."""
        if m.fixed("KAFKA-7164"):
            s.fetching[r] = False
        else:
            s.fetching[r] = s.fetching[r] & (old_leader == new_leader)
        if not m.fixed("KIP-101"):
            # pre-0.11 ``makeFollower``: truncate to the replica's own high watermark
            m.truncate(s, r, s.hw[r])
            s.fetching[r] = True

    # == followers ==============================================================================

    @action("replica", "replica", where=lambda m, f, l: f is not l and m.fixed("KIP-101"))
    def follower_truncate(m, s, follower, leader):
        """``AbstractFetcherThread`` in state Truncating (3.9: the first fetch of the epoch,
        answered with ``divergingEpoch``; 2.0–2.6: OffsetsForLeaderEpoch): the follower sends
        its latest epoch, the leader answers (epoch, end offset) and the follower truncates
        (``getOffsetTruncationState``). If the leader's epoch is one the follower lacks, it
        truncates to the end of its own epoch below and asks again."""
        f, L = follower, leader
        require(s.alive[f] & ~s.fetching[f] & (s.r_leader[f] == L) & m.answers(s, L, f))
        target, done = m.truncation_point(s, f, L)
        m.truncate(s, f, target)
        s.fetching[f] = done

    def truncation_point(m, s, f, L):
        leo_f = s.log[f].length()
        mine = latest_epoch(m, s.cache[f])
        kip_279 = m.fixed("KIP-279")
        ep, end = end_offset_for(m, s.cache[L], s.log[L].length(), mine, kip_279=kip_279)
        to_hw = (mine < 0) | (end < 0)          # no epochs, or UNDEFINED: truncate to the HW
        if not kip_279:
            return ite(to_hw, s.hw[f], minimum(end, leo_f)), True
        fep, fend = end_offset_for(m, s.cache[f], leo_f, ep)
        knows = fep == ep
        target = ite(to_hw, s.hw[f], ite(knows, minimum(fend, end), minimum(fend, leo_f)))
        return target, to_hw | knows

    @action("replica", "replica", where=lambda m, f, l: f is not l)
    def follower_fetch(m, s, follower, leader):
        """``ReplicaFetcherThread``: Fetch(fetch offset = its LEO, current leader epoch). The
        leader reads the next record and its HW, then records the fetch offset as the
        follower's LEO and maybe raises its HW (``Partition.fetchRecords``,
        ``updateFollowerFetchState``). The follower appends (a new epoch enters its cache) and
        takes min(leader's HW, its LEO) as its HW. A fetch offset past the leader's LEO is
        OFFSET_OUT_OF_RANGE: the follower truncates to the leader's LEO."""
        f, L = follower, leader
        require(s.alive[f] & s.fetching[f] & (s.r_leader[f] == L) & m.answers(s, L, f))
        o = s.log[f].length()
        llen = s.log[L].length()
        rec = s.log[L][o]
        has = llen > o
        ahead = o > llen
        resp_hw = s.hw[L]
        new_len = ite(has, o + 1, ite(ahead, llen, o))
        require(has | ahead | (s.seen[L][f] != o) | (minimum(resp_hw, new_len) != s.hw[f]))
        with when(ahead):
            m.truncate(s, f, llen)
        with when(has):
            rec_epoch = s.record_epoch[rec]
            with when(rec_epoch > latest_epoch(m, s.cache[f])):
                for x in m.epoch:
                    with when(rec_epoch == x.value):
                        s.cache[f][x] = o
            s.log[f].append(rec)
        m.set_hw(s, f, minimum(resp_hw, s.log[f].length()))
        with when(~ahead):
            s.seen[L][f] = o
            if m.incarnations:
                s.seen_incarnation[L][f] = s.incarnation[f]
            m.maybe_increment_hw(s, L)

    # == leaders: ISR upkeep (AlterPartition) ===================================================

    @action("replica", "replica", where=lambda m, l, r: l is not r)
    def leader_shrink_isr(m, s, leader, replica):
        """``Partition.maybeShrinkIsr``: the leader drops a follower whose LEO it saw behind
        its own (or has not seen since it became leader); the controller accepts the
        AlterPartition of the current epoch's leader."""
        L, r = leader, replica
        require(m.is_true_leader(s, L) & s.r_isr[L].contains(r))
        require(s.seen[L][r] < s.log[L].length())
        m.alter_partition(s, L, s.isr - r)
        m.maybe_increment_hw(s, L)

    @action("replica", "replica", where=lambda m, l, r: l is not r)
    def leader_expand_isr(m, s, leader, replica):
        """``Partition.maybeExpandIsr``: a live follower whose fetch offset reached the HW
        and the start offset of the leader's epoch rejoins the ISR. KIP-903: the controller
        refuses the AlterPartition if that fetch came from an earlier incarnation of the
        broker (the leader still holds the LEO its previous life reported)."""
        L, r = leader, replica
        require(m.is_true_leader(s, L) & ~s.r_isr[L].contains(r) & s.alive[r])
        seen = s.seen[L][r]
        require((seen >= s.hw[L]) & (seen >= epoch_at(m, s.cache[L], s.r_epoch[L])))
        if m.incarnations and m.fixed("KIP-903"):
            require(s.seen_incarnation[L][r] == s.incarnation[r])
        m.alter_partition(s, L, s.isr | r)
        s.rejoined = True

    # == the producer ===========================================================================

    @action("replica")
    def producer_append(m, s, leader):
        """``Partition.appendRecordsToLeader``: a replica that presumes leadership appends the
        next record in its epoch; acks=all is refused (NotEnoughReplicas) while its ISR is
        below min.insync.replicas, else waits in DelayedProduce."""
        L = leader
        require((s.writes < m.max_writes) & s.produce_at.is_none())
        require(m.presumes_leadership(s, L))
        if m.acks == "all":
            require(s.r_isr[L].size() >= m.min_isr)
        offset = s.log[L].length()
        for k, rec in enumerate(m.record):
            with when(s.writes == k):
                s.record_epoch[rec] = s.r_epoch[L]
                s.log[L].append(rec)
                if m.acks != "all":
                    s.acked = s.acked | rec
        s.writes = s.writes + 1
        if m.acks == "all":
            s.produce_at = L
            s.produce_offset = offset
        m.maybe_increment_hw(s, L)

    @action("replica", where=lambda m, r: m.acks == "all")
    def leader_complete_produce(m, s, leader):
        """``DelayedProduce`` completes: the HW passed the record and the ISR has
        min.insync.replicas members (``checkEnoughReplicasReachOffset``)."""
        L = leader
        require((s.produce_at == L) & m.presumes_leadership(s, L))
        require((s.hw[L] > s.produce_offset) & (s.r_isr[L].size() >= m.min_isr))
        for k, rec in enumerate(m.record):
            with when(s.writes == k + 1):
                s.acked = s.acked | rec
        s.produce_at = None
        s.produce_offset = 0

    # == faults =================================================================================

    @action("replica", where=lambda m, r: m.max_crashes > 0)
    def replica_crash(m, s, replica):
        """The broker stops: what it knew of the partition's leadership is gone; with
        ``crash_loses_unflushed`` (a power loss) the log keeps only its flushed prefix."""
        r = replica
        require(s.alive[r] & (s.crashes < m.max_crashes))
        s.crashes = s.crashes + 1
        s.alive[r] = False
        s.r_epoch[r] = -1
        s.r_leader[r] = None
        s.r_isr[r] = set_of(m.replica, lambda x: False)
        s.fetching[r] = False
        for x in m.replica:
            if x is not r:
                s.seen[r][x] = -1
        m.fail_produce(s, r)
        if m.lossy:
            m.truncate(s, r, s.flushed[r])

    @action("replica", where=lambda m, r: m.max_crashes > 0)
    def replica_restart(m, s, replica):
        """The broker starts again with its log and HW checkpoint and waits for
        LeaderAndIsr."""
        require(~s.alive[replica])
        s.alive[replica] = True
        if m.incarnations:
            s.incarnation[replica] = s.incarnation[replica] + 1

    @action("replica", where=lambda m, r: m.disks)
    def replica_disk_loss(m, s, replica):
        """The stopped broker's log disk is replaced by an empty one: no records, no epoch
        cache, no HW checkpoint."""
        r = replica
        require(~s.alive[r] & (s.disk_losses < m.max_disk_losses))
        s.disk_losses = s.disk_losses + 1
        m.truncate(s, r, 0)
        for x in m.epoch:
            s.cache[r][x] = -1

    @action("replica", where=lambda m, r: m.lossy)
    def replica_flush(m, s, replica):
        """``LogManager`` flushes the log (fsync): the whole log now survives a power
        loss."""
        r = replica
        require(s.alive[r] & (s.flushed[r] < s.log[r].length()))
        s.flushed[r] = s.log[r].length()
