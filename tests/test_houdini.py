"""``prove --auto``: Houdini finds the largest inductive subset of a model's properties."""

import json

from kafkacheck.checker.cli import main
from kafkacheck.checker.lang import Int, Model, action, always, require, transition
from kafkacheck.checker.symbolic.houdini import houdini
from kafkacheck.checker.symbolic.induction import prove_property
from kafkacheck.specs.catalog import MODELS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_houdini_proves_the_ensembles_election_safety_unaided():
    system = MODELS["ensemble"]().compile()
    # alone, the property is not inductive: it needs lemmas
    assert prove_property(system, "one_leader_per_epoch").outcome == "not_inductive"
    r = houdini(system)
    assert r.outcome == "done"
    assert set(r.proved) == {"one_leader_per_epoch", "one_epoch_leader",
                             "epoch_leader_has_quorum", "roles_consistent"}
    assert {d.property for d in r.dropped} == {"committed_in_later_leaders",
                                              "committed_txns_agree", "committed_on_quorum",
                                              "current_epoch_accepted"}
    assert all(d.cti is not None and d.round >= 1 for d in r.dropped)
    # what it kept really is inductive together: the hand-picked proof agrees
    proof = prove_property(system, "one_leader_per_epoch",
                           strengthen=["one_epoch_leader", "epoch_leader_has_quorum",
                                       "roles_consistent"])
    assert proof.outcome == "proved"


class Counter(Model):
    name = "counter"

    def variables(m):
        return {"n": Int(0, 9)}

    def init(m, s):
        s.n = 1

    @action()
    def add_two(m, s):
        require(s.n < 8)
        s.n = s.n + 2

    @always
    def odd(m, s):
        """Inductive on its own."""
        return (s.n != 0) & (s.n != 2) & (s.n != 4) & (s.n != 6) & (s.n != 8)

    @always
    def not_eight(m, s):
        """True, and inductive only with odd."""
        return s.n != 8

    @always
    def starts_at_zero(m, s):
        """False in the initial state."""
        return s.n != 1

    @always
    def below_nine(m, s):
        """False: 9 is reachable. Not inductive (a CTI)."""
        return s.n < 9

    @transition
    def grows(m, s):
        return s.n > s.pre.n


def test_houdini_drops_what_fails_initially_or_by_a_step_and_keeps_the_rest():
    r = houdini(Counter().compile())
    assert r.proved == ["odd", "not_eight", "grows"]
    dropped = {d.property: d for d in r.dropped}
    assert dropped["starts_at_zero"].round == 0 and dropped["starts_at_zero"].state == {"n": 1}
    assert dropped["below_nine"].cti.action == "add_two()"
    assert dropped["below_nine"].cti.after["n"] == 9


def test_prove_auto_exit_codes_and_json(capsys, tmp_path):
    code, out, _ = run(capsys, "prove", "ensemble", "--auto", "--property",
                       "one_leader_per_epoch")
    assert code == 0 and "Goals: one_leader_per_epoch: every one proved" in out
    code, out, _ = run(capsys, "prove", "ensemble", "--auto", "--format", "json")
    d = json.loads(out)
    assert code == 3 and d["outcome"] == "not_inductive" and d["engine"] == "houdini"
    assert "one_leader_per_epoch" in d["proved"] and len(d["dropped"]) == 4
    code, _, err = run(capsys, "prove", "ensemble", "--auto", "--strengthen", "roles_consistent")
    assert code == 2 and "--auto chooses the lemmas itself" in err
