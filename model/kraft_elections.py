"""The KRaft controller's partition-change rules, as expressions (``PartitionChangeBuilder``).

Kafka 3.9 / 4.x, ``metadata/src/main/java/org/apache/kafka/controller/PartitionChangeBuilder``.
Where ZooKeeper mode's ``PartitionLeaderElectionAlgorithms`` (``zk_elections.py``) picks the
first live ISR replica and keeps the last ISR member even when it is dead, the KRaft builder
works on the *target ISR* and, with ``eligible.leader.replicas.enable`` (KIP-966), on the ELR:

1. ``electLeader``: keep the current leader if it is still in the target ISR and acceptable
   (registered, unfenced, not in controlled shutdown: ``isAcceptableLeader``); otherwise the
   first acceptable replica of the target ISR in assignment order; if the ISR is empty, the
   first acceptable ELR member (the ISR becomes ``[leader]``); if the ELR is empty too, the
   last known leader (``lastKnownElr``, balanced recovery) — before KAFKA-19522 that path did
   not test acceptability, and could elect a fenced broker; then, with
   ``unclean.leader.election.enable``, any acceptable replica (ISR ``[leader]``); else
   NO_LEADER (-1).
2. ``maybePopulateTargetElr``: with ELR on, replicas leaving an ISR that is below
   ``min.insync.replicas`` join the ELR (they had every record up to the high watermark, which
   cannot advance while the ISR is that small); once the ISR is back at min ISR the ELR is
   cleared; an ISR member is never in the ELR. Without ELR the ISR is never emptied: its last
   member stays even when fenced (as in ZooKeeper mode).

The functions are pure: they take the assignment (Python list of broker elements) and
set-valued expressions and return new expressions; the model writes the results.
"""

from kafkacheck.checker.lang import TRUE, first, ite, set_of


def empty_like(like):
    return set_of(like.type.domain, lambda r: False)


def singleton(like, element):
    """``{element}`` as a set of ``like``'s type; empty when ``element`` is none."""
    empty = empty_like(like)
    return ite(element.is_some(), empty | element, empty)


def target_isr_and_elr(isr, new_isr, elr, min_isr, elr_on):
    """``maybePopulateTargetElr``: the ISR and ELR after ``isr`` becomes ``new_isr``. Without
    ELR an ISR that would become empty keeps its last member."""
    if not elr_on:
        kept = ite(new_isr.is_empty(), isr, new_isr)
        return kept, empty_like(isr)
    grown = (elr | (isr - new_isr)) - new_isr
    return new_isr, ite(new_isr.size() >= min_isr, empty_like(isr), grown)


def elect_leader(assignment, leader, isr, elr, last_known, acceptable, *, elr_on, unclean,
                 fixed_19522):
    """``PartitionChangeBuilder.electLeader`` on the target ``isr``/``elr``.

    ``acceptable(r)`` is ``isAcceptableLeader``. Returns ``(leader, isr, elr, clean)``:
    ``clean`` is true when the leader came from the ISR or the ELR (or there is none)."""
    keep = isr.contains(leader) & _acc(assignment, leader, acceptable)
    from_isr = first(assignment, lambda r: isr.contains(r) & acceptable(r))
    new = ite(keep, leader, from_isr)
    out_isr, out_elr = isr, elr
    clean = TRUE
    if elr_on:
        from_elr = first(assignment, lambda r: elr.contains(r) & acceptable(r))
        use_elr = new.is_none() & isr.is_empty() & from_elr.is_some()
        new = ite(use_elr, from_elr, new)
        out_isr = ite(use_elr, singleton(isr, from_elr), out_isr)
        out_elr = ite(use_elr, elr - from_elr, out_elr)
        if fixed_19522:
            lkl = first(assignment, lambda r: last_known.contains(r) & acceptable(r))
        else:
            lkl = first(assignment, lambda r: last_known.contains(r))
        use_lkl = new.is_none() & isr.is_empty() & elr.is_empty() & lkl.is_some()
        new = ite(use_lkl, lkl, new)
        out_isr = ite(use_lkl, singleton(isr, lkl), out_isr)
    if unclean:
        dirty = first(assignment, lambda r: acceptable(r))
        use_dirty = new.is_none() & dirty.is_some()
        clean = ~use_dirty
        new = ite(use_dirty, dirty, new)
        out_isr = ite(use_dirty, singleton(isr, dirty), out_isr)
        out_elr = ite(use_dirty, empty_like(isr), out_elr)
    return new, out_isr, out_elr, clean


def _acc(assignment, leader, acceptable):
    from kafkacheck.checker.lang import Or
    return Or(*((leader == r) & acceptable(r) for r in assignment))
