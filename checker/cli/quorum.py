"""``kafkacheck quorum``: questions about quorum systems, answered with Z3.

\b
kafkacheck quorum table [--max N]                 majority size and failures tolerated, n = 1..N
kafkacheck quorum check --voters 5                do quorums intersect; which failures break it
kafkacheck quorum check --voters 4 --rule half    the unsafe rule: two disjoint halves
kafkacheck quorum check --groups 1:2:3 --groups 4:5:6 --groups 7:8:9 [--weight 1=2]...
kafkacheck quorum reconfig --from 1,2,3 --to 1,2,3,4,5

Exit codes: 0 the answer is safe (every two quorums intersect); 1 it is not (two disjoint
quorums are shown); 2 bad input.
"""

from __future__ import annotations

import json

import click

from ..symbolic import quorum as Q


def _ids(text: str, what: str) -> list[int]:
    try:
        ids = [int(x) for x in text.replace(":", ",").split(",") if x.strip()]
    except ValueError:
        raise click.UsageError(f"{what} expects integer voter ids such as 1,2,3, not "
                               f"{text!r}") from None
    if not ids:
        raise click.UsageError(f"{what} needs at least one voter id")
    big = [i for i in ids if not 0 <= i < 2 ** 63]
    if big:
        raise click.UsageError(f"{what}: voter id {big[0]} is outside 0..2^63-1 (ZooKeeper's "
                               "myid is a long)")
    if len(ids) > 1000:
        raise click.UsageError(f"{what}: {len(ids)} voters; at most 1000")
    return ids


def _system(voters, ids, rule, groups, weights, config) -> Q.QuorumSystem:
    try:
        if config:
            if voters or ids or groups or weights:
                raise click.UsageError("--config gives the whole system; drop --voters, "
                                       "--ids, --groups and --weight")
            from ..specfile import SpecError, read_text
            try:
                text = read_text(config, "configuration file")
            except SpecError as e:
                raise click.UsageError(str(e)) from None
            return Q.from_properties(Q.parse_properties(text))
        ws = {}
        for pair in weights:
            key, sep, value = pair.partition("=")
            if not sep:
                raise click.UsageError(f"--weight expects ID=WEIGHT (weight.ID=W in zoo.cfg), "
                                       f"got {pair!r}")
            try:
                ws[int(key)] = int(value)
                if not 0 <= int(key) < 2 ** 63:
                    raise ValueError
            except ValueError:
                raise click.UsageError(f"--weight expects integers, got {pair!r}") from None
        if groups:
            if voters or ids or rule != "majority":
                raise click.UsageError("--groups defines a hierarchical system; drop "
                                       "--voters, --ids and --rule")
            return Q.hierarchical({g: _ids(text, "--groups")
                                   for g, text in enumerate(groups, 1)}, ws)
        if voters is not None and ids:
            raise click.UsageError("give --voters N or --ids 1,2,3, not both")
        members = _ids(ids, "--ids") if ids else \
            list(range(1, voters + 1)) if voters is not None else list(ws)
        if not members:
            raise click.UsageError("name the voters: --voters N, --ids 1,2,3, --groups or "
                                   "--config")
        if ws:
            if rule != "majority":
                raise click.UsageError("--weight makes a weighted majority; drop --rule")
            missing = [v for v in ws if v not in members]
            if missing:
                raise click.UsageError(f"voter {missing[0]} has a weight but is not a voter")
            return Q.weighted({v: ws.get(v, 1) for v in members})
        if rule == "majority":
            return Q.majority(members)
        if rule == "half":
            return Q.half(members)
        return Q.threshold(members, int(rule.split(":", 1)[1]))
    except Q.QuorumError as e:
        raise click.UsageError(str(e)) from None


class _Rule(click.ParamType):
    name = "RULE"

    def convert(self, value, param, ctx):
        if value in ("majority", "half"):
            return value
        head, _, t = value.partition(":")
        if head == "threshold" and t.isdigit():
            return value
        self.fail(f"{value!r}: use majority, half or threshold:T", param, ctx)


@click.group("quorum")
def quorum_command():
    """Quorum systems with Z3: intersection, failures survived, reconfiguration.

    \b
    kafkacheck quorum table --max 51
    kafkacheck quorum check --voters 4 --rule half
    kafkacheck quorum check --groups 1:2:3 --groups 4:5:6 --groups 7:8:9
    kafkacheck quorum reconfig --from 1,2,3 --to 1,2,3,4,5
    """


@quorum_command.command("table")
@click.option("--max", "max_n", type=click.IntRange(1, 201), default=51, show_default=True,
              help="Largest number of voters.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def table_command(max_n, fmt):
    """Majority size and failures tolerated for n = 1..MAX voters, odd against even."""
    rows = Q.table(max_n)
    every_n = Q.majority_intersects_for_all_n()
    single = Q.single_change_safe_for_all_n()
    if fmt == "json":
        click.echo(json.dumps({"rows": [r.to_json() for r in rows],
                               "majority_intersects_for_all_n": every_n,
                               "single_change_safe_for_all_n": single}, indent=2))
        return
    click.echo("    n  parity  majority  tolerates  majorities meet  half  halves meet")
    for r in rows:
        click.echo(f"  {r.n:>3}  {r.parity:<6}  {r.majority:>8}  {r.tolerated:>9}  "
                   f"{'yes' if r.majority_intersects else 'NO':>15}  {r.half:>4}  "
                   f"{'yes' if r.half_intersects else 'NO':>11}")
    click.echo("An even ensemble tolerates no more failures than the odd one below it "
               "(n = 2k and n = 2k - 1 both tolerate k - 1), and any-half quorums of an even "
               "ensemble can be disjoint.")
    click.echo(f"For every n at once (linear arithmetic): majorities intersect: "
               f"{'proved' if every_n else 'NOT proved'}; a majority before and after "
               f"adding or removing one voter intersect: {'proved' if single else 'NOT proved'}.")


@quorum_command.command("check")
@click.option("--voters", type=click.IntRange(1, 1000), default=None,
              help="Voters 1..N.")
@click.option("--ids", default=None, metavar="1,2,3", help="The voter ids.")
@click.option("--rule", type=_Rule(), default="majority", show_default=True,
              help="majority (more than half), half (at least half) or threshold:T.")
@click.option("--groups", multiple=True, metavar="1:2:3",
              help="A group of voters (zoo.cfg's group.N=1:2:3), repeatable: a "
                   "hierarchical system.")
@click.option("--weight", "weights", multiple=True, metavar="ID=W",
              help="A voter's weight (zoo.cfg's weight.ID=W; default 1), repeatable.")
@click.option("--config", default=None, metavar="FILE",
              help="Read group.N / weight.N / server.N lines from a key=value file.")
@click.option("--limit", type=click.IntRange(1, 1000), default=5, show_default=True,
              help="Show at most this many smallest failure sets.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def check_command(ctx, voters, ids, rule, groups, weights, config, limit, fmt):
    """Do every two quorums intersect, and which failures does the system survive?"""
    q = _system(voters, ids, rule, groups, weights, config)
    inter = Q.intersection(q)
    res = Q.resilience(q, limit=limit)
    if fmt == "json":
        click.echo(json.dumps({"system": q.to_json(), "describe": q.describe(),
                               "intersection": inter.to_json(),
                               "resilience": res.to_json()}, indent=2))
    else:
        click.echo(q.describe())
        if inter.intersect:
            click.echo("  every two quorums intersect: yes (at most one leader per epoch)")
        else:
            a, b = inter.witness
            click.echo(f"  every two quorums intersect: NO: {_set(a)} and {_set(b)} are "
                       "disjoint quorums (two leaders can be elected)")
        if res.tolerated < 0:
            click.echo("  no quorum even with every voter up")
        else:
            click.echo(f"  survives any {res.tolerated} failure{'s' if res.tolerated != 1 else ''};"
                       f" at most {res.best_case} when the right voters fail "
                       f"(smallest quorum {_set(res.min_quorum)})")
            shown = ", ".join(_set(s) for s in res.breaking) + (", ..." if res.more else "")
            n = res.tolerated + 1
            click.echo(f"  smallest failure sets that leave no quorum "
                       f"({n} voter{'s' if n != 1 else ''}): {shown}")
    ctx.exit(0 if inter.intersect else 1)


@quorum_command.command("reconfig")
@click.option("--from", "old", required=True, metavar="1,2,3", help="The old voter set.")
@click.option("--to", "new", required=True, metavar="1,2,3,4,5", help="The new voter set.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def reconfig_command(ctx, old, new, fmt):
    """Can a majority of the old voters and a majority of the new ones be disjoint?

    Checks the change made at once, and made one voter at a time (each added voter, then
    each removed one)."""
    a, b = _ids(old, "--from"), _ids(new, "--to")
    for ids, what in ((a, "--from"), (b, "--to")):
        if len(set(ids)) != len(ids):
            raise click.UsageError(f"{what} lists a voter twice")
    plan = Q.stepwise(a, b)
    if fmt == "json":
        click.echo(json.dumps({"from": a, "to": b, **plan.to_json()}, indent=2))
    else:
        d = plan.direct
        click.echo(f"{_set(a)} -> {_set(b)} at once: " + (
            "safe: every old majority meets every new majority" if d.intersect else
            f"UNSAFE: old majority {_set(d.witness[0])} and new majority "
            f"{_set(d.witness[1])} are disjoint (two leaders)"))
        click.echo("one voter at a time:")
        for x, y, r in plan.steps:
            click.echo(f"  {_set(x)} -> {_set(y)}: " + (
                "safe" if r.intersect else
                f"UNSAFE: {_set(r.witness[0])} and {_set(r.witness[1])} are disjoint"))
        click.echo("one voter at a time is " + ("safe" if plan.safe else "NOT safe"))
    ctx.exit(0 if plan.direct.intersect else 1)


def _set(s) -> str:
    return "{" + ",".join(map(str, sorted(s))) + "}"
