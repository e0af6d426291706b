"""failover: the benchmark model of ZooKeeper-mode controller failover and ISR election.

This model is fixed to the letter by ``shared/bench/failover.md`` so that kafkacheck can be
measured side by side with TLC and Spin on the very same state space. It is a yardstick, not
a faithful model: its semantics must not drift, even where Kafka differs (the faithful model
is ``zk-cluster``).

Brokers 1..N crash and restart; a crashed broker's ZooKeeper session lingers until it expires,
which deletes its ``/brokers/ids/<id>`` registration. A live, registered broker may become the
controller when there is none, bumping the controller epoch. The controller elects a leader
for a partition whose leader is gone (offline or unregistered): the least registered ISR member
other than the old leader, which leaves the ISR; with no candidate the partition goes offline.
A live leader shrinks its ISR by dead replicas and expands it by live ones.

Replicas of partition p are R(p) = {((p+i) mod N) + 1 : i < RF}; its first leader is
(p mod N) + 1. Every epoch is bounded by ``max_epoch``.

Abstracted away: logs, offsets and the high watermark; LeaderAndIsr propagation (brokers act on
the partition state directly); the controller's event queue; ZooKeeper itself (writes are
atomic and instantly visible).
"""

from kafkacheck.checker.lang import (Bool, Domain, Int, Map, Maybe, Model, Param, Set,
                                     action, require, set_of, when)


class Failover(Model):
    """The failover benchmark: crash, restart, session expiry, controller and leader
    election, ISR shrink and expand."""

    name = "failover"

    brokers = Param(3, lo=1, hi=9, doc="number of brokers N (ids 1..N)")
    partitions = Param(1, lo=1, hi=8, doc="number of partitions P (0..P-1)")
    replication_factor = Param(2, key="replication.factor", lo=1, hi=9,
                               doc="replicas per partition RF (at most N)")
    max_epoch = Param(3, lo=0, hi=15, doc="bound E on the controller and leader epochs")

    def setup(m):
        if m.replication_factor > m.brokers:
            from kafkacheck.checker.lang import ParameterError
            raise ParameterError(f"replication.factor={m.replication_factor} exceeds "
                                 f"brokers={m.brokers}")
        n = m.brokers
        m.broker = Domain("broker", ids=range(1, n + 1))
        m.partition = Domain("partition", size=m.partitions)
        m.replicas = {p: [m.broker.of((p_id + i) % n + 1) for i in range(m.replication_factor)]
                      for p, p_id in zip(m.partition, m.partition.ids)}

    def variables(m):
        return {
            # per broker
            "alive": Map(m.broker, Bool),           # the broker process is up
            "registered": Map(m.broker, Bool),      # its ZK session and /brokers/ids/<b> exist
            # the controller
            "controller": Maybe(m.broker),          # none: no /controller znode
            "controller_epoch": Int(0, m.max_epoch),
            # per partition
            "leader": Map(m.partition, Maybe(m.broker)),  # none: offline
            "isr": Map(m.partition, Set(m.broker)),
            "leader_epoch": Map(m.partition, Int(0, m.max_epoch)),
        }

    def init(m, s):
        for b in m.broker:
            s.alive[b] = True
            s.registered[b] = True
        s.controller = None
        s.controller_epoch = 0
        for p in m.partition:
            s.leader[p] = m.replicas[p][0]
            s.isr[p] = set(m.replicas[p])
            s.leader_epoch[p] = 0

    @action("broker")
    def crash(m, s, broker):
        """A broker process dies; its ZooKeeper session lingers until it expires."""
        require(s.alive[broker])
        s.alive[broker] = False

    @action("broker")
    def restart(m, s, broker):
        """A dead broker whose session has expired starts again and re-registers."""
        require(~s.alive[broker] & ~s.registered[broker])
        s.alive[broker] = True
        s.registered[broker] = True

    @action("broker")
    def session_expire(m, s, broker):
        """ZooKeeper expires a dead broker's session, deleting its ephemeral znodes."""
        require(~s.alive[broker] & s.registered[broker])
        s.registered[broker] = False
        with when(s.controller == broker):
            s.controller = None

    @action("broker")
    def elect_controller(m, s, broker):
        """A live, registered broker wins the /controller znode and bumps the epoch."""
        require(s.controller.is_none() & s.alive[broker] & s.registered[broker])
        require(s.controller_epoch < m.max_epoch)
        s.controller = broker
        s.controller_epoch = s.controller_epoch + 1

    @action("partition")
    def elect_leader(m, s, partition):
        """The controller replaces a gone leader with the least registered ISR member."""
        old = s.leader[partition]
        require(s.controller.is_some() & s.alive[s.controller])
        require(old.is_none() | ~s.registered[old])
        require(s.leader_epoch[partition] < m.max_epoch)
        candidates = m.candidates(s, partition, old)
        s.leader[partition] = candidates.least()
        with when(~candidates.is_empty()):
            s.isr[partition] = s.isr[partition] - old
        s.leader_epoch[partition] = s.leader_epoch[partition] + 1

    def candidates(m, s, partition, old):
        """Who may replace a gone leader: the registered ISR members other than the old one
        (a variant overrides this one rule)."""
        isr = s.isr[partition]
        return set_of(m.broker, lambda r: isr.contains(r) & s.registered[r] & (r != old))

    @action("partition", "broker", where=lambda m, p, r: r in m.replicas[p])
    def shrink_isr(m, s, partition, broker):
        """A live leader removes a dead replica from the ISR."""
        leader = s.leader[partition]
        require(leader.is_some() & s.alive[leader])
        require(s.isr[partition].contains(broker) & (broker != leader) & ~s.alive[broker])
        s.isr[partition] = s.isr[partition] - broker

    @action("partition", "broker", where=lambda m, p, r: r in m.replicas[p])
    def expand_isr(m, s, partition, broker):
        """A live leader adds a live replica back to the ISR."""
        leader = s.leader[partition]
        require(leader.is_some() & s.alive[leader])
        require(~s.isr[partition].contains(broker) & s.alive[broker])
        s.isr[partition] = s.isr[partition] | broker
