"""What must hold of the failover benchmark model."""

from kafkacheck.checker.lang import all_of, always, any_of, set_of, sometimes
from kafkacheck.model.failover import Failover


class FailoverSpec(Failover):
    """The benchmark model with its one invariant and two sanity checks."""

    @always
    def leader_in_isr(m, s):
        """Every partition is offline or led by a member of its ISR. Expected to hold."""
        return all_of(m.partition, lambda p: s.leader[p].is_none() |
                      s.isr[p].contains(s.leader[p]))

    @sometimes
    def controller_elected(m, s):
        """Sanity: some broker becomes the controller."""
        return s.controller.is_some()

    @sometimes
    def leader_failed_over(m, s):
        """Sanity: some partition gets a new leader after its first one is gone."""
        return any_of(m.partition, lambda p: s.leader[p].is_some() & (s.leader_epoch[p] > 0))


class UncleanElectionFailover(FailoverSpec):
    """Known-unsafe variant, kept on record: the controller may elect any registered replica
    of the partition, in the ISR or not, so ``leader_in_isr`` is violated (not in the
    catalog; the tests refute it with every engine)."""

    def candidates(m, s, partition, old):
        replicas = m.replicas[partition]
        return set_of(m.broker, lambda r: s.registered[r] & (r != old) & (r in replicas))
