"""``kafkacheck check``: one target, or with no target the built-in suite of check files."""

from __future__ import annotations

import json
import os
import sys
import time

import click

from ..explicit import check as run_engine
from ..render import TRACE_FORMATS, header, render_trace, result_json, trace_text
from .. import engines
from ..specfile import mismatches
from . import guard
from .config import config_option, echo as echo_config, resolve_configured
from .output import check_output, write_whole
from .targets import (MAX_COUNT, MAX_DEPTH, Target, UserError, builtin_specs, model_options,
                      parse_settings, reproduce, resolve, seconds_type)

EXIT = {"holds": 0, "violated": 1, "incomplete": 3}
ENGINES = engines.names()


@click.command("check")
@click.argument("target", required=False)
@model_options("Check")
@config_option
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Check only this property (repeatable); default: all.")
@click.option("--engine", type=click.Choice(ENGINES), default=None,
              help="; ".join(f"{e.name}: {e.help}" for e in engines.ENGINES.values())
              + " (default: batch where it applies, else bfs).")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Run the distributed engine (ray) on a Ray cluster: local (start one on "
                   "this machine), auto or ray://HOST:PORT (join one). Needs "
                   "pip install 'kafkacheck[ray]'.")
@click.option("--workers", type=click.IntRange(1, 4096), default=None,
              help="With --cluster: the Ray actors that share the states (default: the "
                   "cores, or the cluster's CPUs).")
@click.option("--max-depth", type=click.IntRange(0, MAX_DEPTH), default=None,
              help="Explore at most this many steps from an initial state (default: no "
                   "bound for bfs/dfs, 10 for bmc).")
@click.option("--max-states", type=click.IntRange(1, MAX_COUNT), default=None,
              help="Store at most this many distinct states; a space that needs more stops there (verdict incomplete).")
@click.option("--time-limit", type=seconds_type(), default=None,
              metavar="SECONDS", help="Stop after this long (verdict incomplete); for the suite, "
                                     "all its checks together.")
@click.option("--query-time-limit", type=seconds_type(), default=None,
              metavar="SECONDS", help="bmc only: give up on any one solver query after this long.")
@click.option("--memory-limit", type=click.IntRange(64, 2 ** 40), default=None, metavar="MB",
              help="Stop with the statistics so far (exit 3) past this much memory "
                   "(default: 3/4 of the machine's).")
@click.option("--exact", is_flag=True, help="Store whole states instead of 64-bit fingerprints.")
@click.option("--symmetry", is_flag=True,
              help="Store one state per permutation of the ids of domains the model declares "
                   "symmetric=True (proved symmetric with Z3 first; exit 2 if it is not).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--trace-out", default=None, metavar="PATH",
              help="Write the counterexample to this file (a new file; --force replaces one).")
@click.option("--junit-xml", "junit_xml", default=None, metavar="PATH",
              help="Also write a JUnit XML report: one test case per check (the suite) or "
                   "per property (a TARGET), the trace in each failure.")
@click.option("--force", is_flag=True,
              help="Let --trace-out or --junit-xml replace an existing file (never an input "
                   "of the run).")
@click.option("--trace-format", type=click.Choice(TRACE_FORMATS), default=None,
              help="Format of --trace-out (default: from its suffix, .json, .itf.json, "
                   ".svg, .mmd, .html, else text): svg a message-sequence chart, mermaid a "
                   "sequence diagram, html a page with the chart and the step tables; "
                   "without --trace-out, any but text prints the trace so on stdout, the "
                   "report on stderr.")
@click.option("--trace-of", "trace_of", default=None, metavar="NAME",
              help="Write (or print) the example of this sometimes-property as the trace, "
                   "instead of the counterexample: --trace-out or --trace-format.")
@click.option("--liveness", is_flag=True,
              help="Also check every liveness property (eventually, leads_to): a second pass "
                   "over the whole reachable graph; --property NAME checks one.")
@click.option("--fairness", type=click.Choice(["none", "weak", "strong"]), default=None,
              help="Liveness: make every action this fair, overriding the model's "
                   "declarations (default: as declared).")
@click.option("--seed", type=click.IntRange(0, 2 ** 63 - 1), default=None,
              help="simulate: the random seed (default 0); the same seed gives the same walks.")
@click.option("--traces", type=click.IntRange(1, MAX_COUNT), default=None,
              help="simulate: how many random walks (default 100).")
@click.option("--depth", type=click.IntRange(0, MAX_DEPTH), default=None,
              help="simulate: the most steps per walk (default 100).")
@click.option("--show-examples", is_flag=True, help="Print the sometimes-properties' examples.")
@click.option("--coverage", is_flag=True, help="Print how often each action fired.")
@click.option("--progress/--no-progress", default=None,
              help="A progress line on stderr (default: when stderr is a terminal).")
@click.option("--slow", is_flag=True, help="Suite only: also run the checks marked slow.")
@click.option("--list", "list_only", is_flag=True, help="List the built-in checks and exit.")
@click.pass_context
def check_command(ctx, target, params, configs, before, properties, engine, cluster, workers,
                  max_depth,
                  max_states, time_limit, query_time_limit, memory_limit, exact, symmetry, fmt,
                  trace_out, junit_xml, force, trace_format, trace_of, liveness, fairness,
                  seed, traces,
                  depth, show_examples, coverage, progress,
                  slow, list_only):
    """Check TARGET (a model, a check name, a .toml check file, or path/to/file.py:Class).

    With no TARGET, run every built-in check and compare each outcome with its record.
    """
    if list_only:
        for spec in builtin_specs():
            click.echo(f"{spec.name:<32} {spec.model:<12} expects {spec.expect.verdict:<9}"
                       f"{' (slow)' if spec.slow else '':<8} {spec.description}")
        ctx.exit(0)
    if progress is None:
        progress = sys.stderr.isatty()
    if force and trace_out is None and junit_xml is None:
        raise UserError("--force lets --trace-out or --junit-xml replace a file; give "
                        "--trace-out PATH or --junit-xml PATH")
    guard.limit_memory(memory_limit or guard.default_memory_mb())
    if target is None:
        given = [n for n, v in (("-p", params), ("--config", configs), ("--before", before),
                                ("--property", properties), ("--engine", engine),
                                ("--cluster", cluster), ("--workers", workers),
                                ("--max-depth", max_depth), ("--max-states", max_states),
                                ("--trace-out", trace_out is not None),
                                ("--trace-of", trace_of is not None),
                                ("--exact", exact), ("--symmetry", symmetry),
                                ("--liveness", liveness),
                                ("--fairness", fairness), ("--seed", seed is not None),
                                ("--traces", traces), ("--depth", depth is not None)) if v]
        if given:
            raise UserError(f"{given[0]} needs a TARGET; the suite runs each check as recorded")
        if junit_xml is not None:
            check_output(junit_xml, "--junit-xml", inputs=[str(s.path) for s in builtin_specs()],
                         force=force)
        ctx.exit(run_suite(fmt=fmt, slow=slow, time_limit=time_limit, progress=progress,
                           junit_xml=junit_xml))
    if slow:
        raise UserError("--slow applies to the suite only (no TARGET)")
    # --trace-format json/itf without --trace-out: the trace in that format is the standard
    # output (the report goes to stderr), never text in its place.
    trace_to_stdout = trace_format not in (None, "text") and trace_out is None
    if trace_to_stdout and fmt == "json":
        raise UserError(f"--trace-format {trace_format} without --trace-out would print the "
                        "trace on stdout after the --format json report; give --trace-out PATH")
    engine, cluster = cluster_engine(engine, cluster, workers, exact)
    settings = parse_settings(params)
    with guard.deadline(time_limit) as clock:
        resolved, settings, applied = resolve_configured(target, configs, settings)
        inputs = [*resolved.inputs(), *configs]
        if trace_out is not None:
            check_output(trace_out, "--trace-out", inputs=inputs, force=force)
        if junit_xml is not None:
            check_output(junit_xml, "--junit-xml", inputs=inputs, force=force)
            if trace_out is not None and os.path.abspath(junit_xml) == os.path.abspath(trace_out):
                raise UserError("--junit-xml and --trace-out name the same file; give two")
        run = Run(resolved, settings, before, properties, engine, max_depth, max_states,
                  time_limit, exact, progress, query_time_limit, symmetry=symmetry,
                  liveness=liveness, fairness=fairness, simulation=(seed, traces, depth),
                  cluster=cluster, workers=workers)
        run.config = applied
        if trace_of is not None:
            run.check_trace_of(trace_of, trace_out is not None or trace_to_stdout)
        echo_config(applied)  # once the model is built: bad input stays one line
        result = run.execute(clock.hand_over())
    guard.phase = "writing the results"
    show_examples = show_examples or bool(resolved.spec and resolved.spec.show_examples)
    if fmt == "json":
        click.echo(json.dumps(run.json(result), indent=2))
    else:
        click.echo(run.text(result, show_examples=show_examples, coverage=coverage), nl=False,
                   err=trace_to_stdout)
    if trace_out is not None or trace_to_stdout:
        run.write_trace(result, trace_out, trace_format, of=trace_of)
    if junit_xml is not None:
        from .junit import target_report
        write_whole(junit_xml, target_report(run, result))
    ctx.exit(EXIT[result.verdict])


class Run:
    """One check of one target: builds the model, runs the engine, renders the outcome."""

    def __init__(self, target: Target, settings, before, properties, engine, max_depth,
                 max_states, time_limit, exact, progress, query_time_limit=None, *,
                 symmetry=False, liveness=False, fairness=None,
                 simulation=(None, None, None), cluster=None, workers=None):
        spec = target.spec
        self.target = target
        self.settings = settings
        self.before = tuple(before)
        started = time.perf_counter()
        self.model, self.system = target.system(settings, before)
        self.build_seconds = time.perf_counter() - started
        self.engine = engine or (spec.engine if spec else None) or \
            engines.default_for(self.system, exact=exact)
        self.default_engine = engines.default_for(self.system, exact=exact)
        self.max_depth = max_depth if max_depth is not None else (spec.max_depth if spec else None)
        self.properties = list(properties) or (spec.properties if spec else None)
        self._check_properties()
        self.liveness = liveness
        self.fairness = fairness or (spec.fairness if spec else None)
        self.options = dict(properties=self.properties, max_depth=self.max_depth,
                            max_states=max_states, time_limit=time_limit)
        live = engines.wants_liveness(self.system, {"properties": self.properties,
                                                    "liveness": liveness})
        self.live = live
        if live and not engines.get(self.engine).liveness and \
                engines.get(self.engine).explicit is False:
            raise UserError(f"engine {self.engine} cannot check liveness property {live[0]} "
                            f"(engines that can: {', '.join(engines.supporting('liveness'))})")
        if live and self.max_depth is not None:
            raise UserError(f"liveness property {live[0]} needs the whole reachable graph; "
                            "drop --max-depth (or check only safety properties)")
        if self.fairness is not None and not live:
            raise UserError("--fairness applies to liveness properties; name one with "
                            "--property or give --liveness")
        self.simulation = simulation
        if self.engine != "simulate" and any(v is not None for v in simulation):
            raise UserError("--seed, --traces and --depth apply to --engine simulate")
        if self.engine == "simulate":
            if live:
                raise UserError(f"liveness property {live[0]} cannot be refuted by a finite "
                                "random walk; check it with bfs or dfs")
            for flag, bad in (("--exact", exact), ("--max-states", max_states),
                              ("--max-depth", max_depth), ("--query-time-limit",
                                                           query_time_limit)):
                if bad:
                    raise UserError(f"{flag} does not apply to --engine simulate "
                                    "(--depth bounds each walk)")
            seed, traces, depth = simulation
            self.options = dict(properties=self.properties, time_limit=time_limit,
                                seed=seed or 0, traces=traces or 100,
                                depth=100 if depth is None else depth)
        elif self.engine != "bmc":
            self.options["liveness"] = liveness
            self.options["fairness"] = self.fairness
            if query_time_limit is not None:
                raise UserError("--query-time-limit applies to --engine bmc only")
            self.options["exact"] = exact
            self.options["progress"] = _progress_printer() if progress else None
            if engines.get(self.engine).distributed:
                self.options["cluster"] = cluster or "local"
                self.options["workers"] = workers
        elif exact or max_states:
            raise UserError("--exact and --max-states apply to the explicit engines, not bmc")
        else:
            self.options["query_time_limit"] = query_time_limit
        self.symmetry = symmetry or bool(spec and spec.symmetry)
        self.symmetry_note = ""
        if self.symmetry:
            self.options["symmetry"] = self._symmetry()
        self.argv = self._command(max_states, time_limit, exact)

    def _symmetry(self):
        """The permutation group of the model's symmetric domains, once Z3 has proved that
        the model commutes with it."""
        if self.live:
            raise UserError(f"--symmetry does not apply to liveness property {self.live[0]} "
                            "yet (a cycle among permutation classes need not be a cycle of "
                            "states); check it without --symmetry")
        if not engines.get(self.engine).symmetry:
            able = ", ".join(e.name for e in engines.ENGINES.values() if e.symmetry)
            raise UserError(f"--symmetry applies to the engines {able}, not {self.engine}")
        built = getattr(self.system, "built", None)
        if built is None:
            raise UserError("--symmetry needs a model written in kafkacheck's language")
        domains = list({id(d): d for d in built.domains.values() if d.symmetric}.values())
        if not domains:
            raise UserError(f"--symmetry: model {self.system.name} declares no domain "
                            "symmetric (Domain(..., symmetric=True) says its ids are "
                            "interchangeable)")
        from ..lang.errors import ModelError
        from ..symbolic.symmetry import NotSymmetric, verify
        from ..symmetry import Symmetry
        try:
            group = Symmetry(built.layout, domains)
        except ModelError as e:
            raise UserError(f"--symmetry: {e}") from None
        guard.phase = "proving the model symmetric"
        started = time.perf_counter()
        try:
            queries = verify(built, group)
        except NotSymmetric as e:
            raise UserError(f"--symmetry: the model is not symmetric: {e}") from None
        self.symmetry_note = (f"{group.describe()}, proved symmetric with {queries} solver "
                              f"queries in {time.perf_counter() - started:.2f} s")
        return group

    def _check_properties(self):
        self.system.select(self.properties)  # raises PropertyError, one line

    def _command(self, max_states, time_limit, exact) -> str:
        spec = self.target.spec
        opts = []
        if self.properties and not (spec and self.properties == spec.properties):
            opts += [("--property", p) for p in self.properties]
        if self.engine != self.default_engine and not engines.get(self.engine).distributed:
            opts.append(("--engine", self.engine))
        if engines.get(self.engine).distributed:
            opts += [("--cluster", self.options.get("cluster")),
                     ("--workers", self.options.get("workers"))]
        if not (spec and self.max_depth == spec.max_depth):
            opts.append(("--max-depth", self.max_depth))
        opts += [("--max-states", max_states), ("--time-limit", time_limit), ("--exact", exact),
                 ("--symmetry", self.symmetry and not (spec and spec.symmetry)),
                 ("--liveness", self.liveness)]
        if not (spec and self.fairness == spec.fairness):
            opts.append(("--fairness", self.fairness))
        if self.engine == "simulate":
            seed, traces, depth = self.simulation
            opts += [("--seed", seed or 0), ("--traces", traces or 100),
                     ("--depth", 100 if depth is None else depth)]
        return reproduce("check", self.target.name, self.settings, self.before, opts)

    def execute(self, time_left=None):
        """Run the engine; ``time_left`` (what the command's time limit leaves after loading
        and building the model) replaces the time limit when given."""
        guard.phase = f"checking with {self.engine}"
        if time_left is not None:
            self.options["time_limit"] = time_left
        if self.engine == "simulate":
            from ..simulate import simulate
            result = simulate(self.system, **self.options)
            result.build_seconds = self.build_seconds
            return result
        if self.engine == "bmc":
            try:
                from ..symbolic.bmc import bmc
            except ImportError:
                raise UserError("engine bmc needs the symbolic engine, which this build "
                                "lacks") from None
            return bmc(self.system, **{k: v for k, v in self.options.items()
                                       if k in ("properties", "max_depth", "time_limit",
                                                "query_time_limit")})
        if self.engine == "ray":
            from ..distributed import ClusterUnreachable
            try:
                result = run_engine(self.system, engine=self.engine, **self.options)
            except ClusterUnreachable as e:  # a cluster that is not there: the user's input
                raise UserError(str(e)) from None
        else:
            result = run_engine(self.system, engine=self.engine, **self.options)
        result.build_seconds = self.build_seconds
        if self.symmetry_note:
            result.symmetry = self.symmetry_note
        if self.options.get("progress") is not None:
            sys.stderr.write("\r" + " " * 160 + "\r")  # clear the progress line
        return result

    # -- rendering -------------------------------------------------------------------------
    def json(self, result) -> dict:
        out = {"target": self.target.name, "model": self.system.name,
               "params": self.model.param_values(), "before": sorted(self.model.before)}
        if self.model.before_bugs:
            out["before_bugs"] = {b: list(f) for b, f in self.model.before_bugs.items()}
        out.update(result_json(result))
        out["command"] = self.argv
        if getattr(self, "config", None) is not None:
            out["config"] = self.config.as_dict()
        return out

    def text(self, result, *, show_examples=False, coverage=False) -> str:
        lines = []
        lines.append(header(self.system.name, self.model.param_values(),
                            self.model.before_names()))
        if result.violation is not None and result.violation.steps:
            lines.append("")
            lines.append(trace_text(result.violation, command=self.argv).rstrip("\n"))
            lines.append("")
        lines.append(_stats_line(result))
        if result.distributed:
            lines.append(_workers_line(result))
        if result.liveness:
            lv = result.liveness
            size = f", about {_size(lv['bytes'])}" if lv.get("bytes") else ""
            lines.append(f"Liveness: a second pass over the whole graph ({lv['edges'] or 0:,} "
                         f"edges{size}), {lv['seconds']:.2f} s of the {result.seconds:.2f} s "
                         f"search; fairness {lv['fairness']}")
        if result.unchecked:
            lines.append(f"Note: liveness properties not checked: {', '.join(result.unchecked)}"
                         " (--liveness checks them, or --property NAME one)")
        lines.extend(_property_lines(result))
        if show_examples:
            for name, ex in result.examples.items():
                lines.append("")
                lines.append(trace_text(ex).rstrip("\n"))
        if coverage:
            lines.append("Coverage (fired / new states):")
            lines.extend(f"  {c.action:<48} {c.fired:>10,} {c.new_states:>10,}"
                         for c in result.coverage)
        elif result.engine == "simulate":
            never = [c.action for c in result.coverage if c.fired == 0]
            if never:
                lines.append(f"Note: {len(never)} action(s) never taken by a walk, e.g. "
                             f"{never[0]} (--coverage lists each action's count)")
        else:
            never = [c.action for c in result.coverage if c.fired == 0]
            if never and result.complete:
                lines.append(f"Note: {len(never)} action(s) never fired, e.g. {never[0]} "
                             "(--coverage lists them)")
        lines.append(_verdict_line(result))
        return "\n".join(lines) + "\n"

    def check_trace_of(self, name: str, writes: bool):
        """``--trace-of NAME``: a checked sometimes-property, and somewhere to write it."""
        if not writes:
            raise UserError("--trace-of NAME chooses the trace that --trace-out writes (or "
                            "--trace-format prints); give --trace-out PATH")
        kinds = self.system.kinds([name])
        if kinds.get(name) != "sometimes":
            some = [p.name for p in self.system.properties if p.kind == "sometimes"]
            what = f"a property of kind {kinds[name]}" if name in kinds else "not a property"
            raise UserError(f"--trace-of {name}: {what} of {self.system.name}; it takes a "
                            f"sometimes-property, whose example it writes (these: "
                            f"{', '.join(some) or 'none'})")
        if self.properties is not None and name not in self.properties:
            raise UserError(f"--trace-of {name}: the property is not checked in this run; add "
                            f"--property {name}")

    def write_trace(self, result, path, fmt, *, of=None):
        trace = result.violation if of is None else result.examples.get(of)
        if trace is None or not trace.steps:
            where = path or "no trace was printed"
            what = "no counterexample" if of is None else f"no example of {of}"
            click.echo(f"note: {what}, so {where}" +
                       (" was not written" if path else ""), err=True)
            return
        fmt = fmt or trace_format_for(path)
        types = {v.name: v.type for v in self.system.layout.variables} \
            if hasattr(self.system, "layout") else None
        from ..charts import Lanes
        text = render_trace(trace, fmt, command=self.argv, types=types, source=self.argv,
                            lanes=Lanes.of(self.system))
        if path is None:
            click.echo(text, nl=not text.endswith("\n"))
        else:
            write_whole(path, text)


def trace_format_for(path: str) -> str:
    """The trace format a --trace-out path asks for by its suffix (text when none does)."""
    low = path.lower()
    for suffix, fmt in ((".itf.json", "itf"), (".json", "json"), (".svg", "svg"),
                        (".mmd", "mermaid"), (".mermaid", "mermaid"), (".html", "html"),
                        (".htm", "html")):
        if low.endswith(suffix):
            return fmt
    return "text"


def _stats_line(result) -> str:
    rate = f"{result.states_per_second:,.0f} states/s" if result.distinct_states else ""
    if result.engine == "bmc":
        return f"Engine bmc: bound {result.depth}, {result.seconds:.2f} s"
    if result.engine == "simulate":
        b = result.bound
        return (f"Engine simulate: {b['walks']:,} random walk(s) of up to {b['depth']} steps "
                f"(seed {b['seed']}): {result.distinct_states:,} distinct states visited, "
                f"{result.states_generated:,} generated, longest walk {result.depth}, "
                f"{result.seconds:.2f} s search + {result.build_seconds:.2f} s build")
    fp = "exact state storage" if result.fingerprints == "exact" else \
        f"64-bit fingerprints, collision probability {result.collision_probability:.1e}"
    depth = f"longest path explored {result.depth}" if result.engine == "dfs" else \
        f"depth {result.depth}"
    note = f"Note: {result.note}\n" if result.note else ""
    if result.symmetry:
        note += f"Symmetry: {result.symmetry}; states are counted one per permutation class\n"
    memory = f"; {result.bytes_per_state:.0f} bytes/state stored" if result.stored_bytes else ""
    return (f"{note}Engine {result.engine}: {result.distinct_states:,} distinct states, "
            f"{result.states_generated:,} generated, {depth}, "
            f"{result.seconds:.2f} s search + {result.build_seconds:.2f} s build "
            f"({rate}; {fp}{memory})")


_STATUS_TEXT = {
    "holds": "holds",
    "violated": "VIOLATED",
    "not_violated_so_far": "not violated so far",
    "trivially_reached": "trivially reached (initial state)",
    "unreachable": "NO EXAMPLE (unreachable)",
    "not_reached_before_stop": "not reached before the stop",
}


def _property_lines(result) -> list[str]:
    out = []
    for name, status in result.status().items():
        if status == "vacuous":
            text = "vacuous (constant true in this configuration: checks nothing)" \
                if result.kinds.get(name) != "sometimes" else \
                "trivially reached (constant true in this configuration)"
        elif status == "reached":
            n = result.examples[name].length
            text = f"example in {n} step{'s' if n != 1 else ''}"
        else:
            text = _STATUS_TEXT[status]
        out.append(f"  {name:<40} {text}")
    return out


def _verdict_line(result) -> str:
    if result.engine == "simulate":
        b = result.bound
        walks = f"{b['walks']:,} random walk(s) of up to {b['depth']} steps (seed {b['seed']})"
        if result.verdict == "violated":
            v = result.violation
            return (f"Verdict: violated: {v.property}, by a random walk of {v.length} steps "
                    "(not necessarily shortest)")
        if result.verdict == "incomplete" and result.stop_reason == "simulation":
            missing = [n for n, st in result.status().items()
                       if st == "not_reached_before_stop"]
            return (f"Verdict: incomplete: no violation in {walks}, but no walk reached "
                    f"{', '.join(missing)}; not a proof.")
        if result.verdict == "incomplete":
            return (f"Verdict: incomplete: stopped ({result.stop_reason}) after "
                    f"{b['walks']:,} walk(s); no violation found so far.")
        return (f"Verdict: holds in {walks}: no walk broke a checked property; not a proof "
                "(the walks sample the space, they do not exhaust it).")
    if result.verdict == "violated":
        v = result.violation
        if v.kind == "sometimes":
            return f"Verdict: violated: no reachable state satisfies {v.property}."
        if v.is_lasso:
            return (f"Verdict: violated: {v.property} ({v.kind}), on a fair behaviour: a lasso "
                    f"of {v.length} steps (stem {v.loop}, loop {v.loop_length})")
        return f"Verdict: violated: {v.property}, shortest trace {v.length} steps" \
            if engines.get(result.engine).shortest_traces else \
            f"Verdict: violated: {v.property}, trace of {v.length} steps (not necessarily shortest)"
    if result.verdict == "incomplete":
        why = {"time_limit": "the time limit", "max_states": "the state limit",
               "memory_limit": "the memory limit (--memory-limit)",
               "max_depth": "the depth bound (a sometimes-property has no example yet)",
               "interrupted": "an interrupt", "worker_lost": "a lost worker",
               "unknown": "an unknown solver answer",
               "query_time_limit": "a solver query that ran past --query-time-limit"}
        where = f"at bound {result.depth}" if result.engine == "bmc" else \
            f"after {result.distinct_states:,} states"
        return (f"Verdict: incomplete: stopped at {why.get(result.stop_reason, result.stop_reason)}"
                f" {where}; no violation found so far.")
    vacuous = [n for n in result.vacuous if result.kinds.get(n) != "sometimes"]
    inner = ""
    if vacuous:
        real = [n for n in result.properties if n not in vacuous and
                result.kinds.get(n) != "sometimes"]
        noun = "invariants" if all(result.kinds.get(n) == "always" for n in real + vacuous) \
            else "properties"
        inner = (f"{len(real)} of {len(real) + len(vacuous)} {noun} checked; "
                 f"{len(vacuous)} vacuous, constant true in this configuration: "
                 f"{', '.join(vacuous)}")
    note = f" ({inner})" if inner else ""
    if not result.complete:
        return (f"Verdict: holds up to depth {result.bound.get('max_depth')} (the search was "
                f"cut at the depth bound; deeper states were not explored"
                f"{'; ' + inner if inner else ''}).")
    if vacuous and all(n in vacuous for n in result.properties
                       if result.kinds.get(n) != "sometimes"):
        return (f"Verdict: holds vacuously: no checked invariant can fail in this "
                f"configuration{note}.")
    if not result.properties:
        counted = "" if result.engine == "bmc" else \
            f"; {result.distinct_states:,} reachable states"
        return f"Verdict: no properties to check{counted}."
    if result.engine == "bmc":
        # BMC stores no states: complete means no path of depth+1 steps exists.
        every = "the non-vacuous properties hold" if vacuous else "every checked property holds"
        return (f"Verdict: holds: no path is longer than {result.depth} steps, so the "
                f"unrolling is complete and {every} in every reachable state{note}.")
    states = f"{result.distinct_states:,} reachable states"
    if result.symmetry:
        states = (f"reachable states ({result.distinct_states:,} classes of states equal up "
                  f"to a permutation of symmetric ids)")
    if vacuous:
        return f"Verdict: holds: the non-vacuous properties hold in all {states}{note}."
    return f"Verdict: holds: every checked property holds in all {states}."


def _workers_line(result) -> str:
    d = result.distributed
    per = " / ".join(f"{n:,}" for n in d["states_per_worker"])
    return (f"Workers: {d['workers']} Ray actor(s) on {d['cluster']} (started in "
            f"{d.get('startup_seconds', 0):.2f} s, then {d.get('search_seconds', 0):.2f} s of "
            f"search); states per worker {per}; "
            f"{d['bytes_exchanged'] / 2 ** 20:,.1f} MiB sent between workers "
            f"({d['bytes_exchanged_per_state']:.1f} bytes/state), "
            f"{d['driver_bytes'] / 2 ** 20:,.1f} MiB of keys and ranks with the driver")


def cluster_engine(engine, cluster, workers, exact):
    """The engine ``--cluster`` and ``--workers`` ask for (ray), checked before the model is
    built: Ray installed, no other engine named, no --exact."""
    distributed = [n for n in engines.names() if engines.get(n).distributed]
    if cluster is None and workers is None and engine not in distributed:
        return engine, cluster
    if engine is not None and engine not in distributed:
        flag = "--cluster" if cluster is not None else "--workers"
        raise UserError(f"{flag} runs the distributed engine ({distributed[0]}), not "
                        f"--engine {engine}; drop one of them")
    if cluster is None and engine is None:
        raise UserError("--workers applies to a run on a cluster; give --cluster local "
                        "(or auto, or ray://HOST:PORT)")
    if exact:
        raise UserError("--exact stores whole states; the distributed engine stores "
                        "fingerprints: drop --exact or --cluster")
    from ..distributed import RayMissing, ray_module
    try:
        ray_module()
    except RayMissing as missing:
        raise UserError(str(missing)) from None
    if cluster is not None and not (cluster in ("local", "auto")
                                    or cluster.startswith("ray://")):
        raise UserError(f"--cluster takes local, auto or ray://HOST:PORT, not {cluster!r}")
    return distributed[0], cluster or "local"


def _progress_printer():
    def report(stats):
        workers = ""
        if stats.get("workers"):
            workers = (f"  workers {'/'.join(f'{n:,}' for n in stats['workers'])}"
                       f"  sent {stats['exchanged'] / 2 ** 20:,.0f} MiB")
        sys.stderr.write(f"\r{stats['distinct']:>12,} distinct  queue {stats['queue']:>10,}"
                         f"  depth {stats['depth']:>4}  {stats['states_per_second']:>10,.0f}"
                         f" states/s  {stats['seconds']:>7.1f} s{workers}")
        sys.stderr.flush()
    return report


# -- the suite ---------------------------------------------------------------------------------

def run_suite(*, fmt: str, slow: bool, time_limit, progress, junit_xml=None) -> int:
    """Run every built-in check; exit 0 when each outcome matches its record."""
    specs = builtin_specs()
    skipped = [s for s in specs if s.slow and not slow]
    rows = []
    if fmt == "text":
        click.echo(_suite_header())
    clock = guard.Clock(time_limit)  # --time-limit is for the whole suite
    for spec in specs:
        if spec in skipped:
            continue
        if clock.left() == 0:
            break
        target = Target(spec.name, resolve(spec.name).model_class, spec)
        run = Run(target, {}, (), (), None, None, None, time_limit, False, progress)
        result = run.execute(clock.left())
        rows.append((spec, run, result, mismatches(spec, result)))
        if fmt == "text":
            click.echo(_suite_row(spec, result, rows[-1][3]))
        if result.stop_reason == "interrupted":
            break  # Ctrl-C stops the suite, not just the check it was in
    # a check stopped by a limit or an interrupt has no outcome to compare: exit 3, not 1
    stopped = [r for r in rows if r[2].verdict == "incomplete" and r[2].stop_reason in
               ("interrupted", "time_limit", "memory_limit")]
    failed = [r for r in rows if r[3] and r not in stopped]
    if junit_xml is not None:
        from .junit import suite_report
        ran = {r[0].name for r in rows}
        write_whole(junit_xml, suite_report(rows, skipped, [s for s in specs if s not in skipped
                                                            and s.name not in ran]))
    if fmt == "json":
        results = []
        for spec, run, result, diff in rows:
            obj = run.json(result)
            obj["expected"] = {k: v for k, v in vars(spec.expect).items() if v not in (None, {})}
            obj["matches"] = not diff
            obj["mismatches"] = diff
            results.append(obj)
        click.echo(json.dumps({"results": results, "passed": len(rows) - len(failed),
                               "failed": len(failed),
                               "skipped_slow": [s.name for s in skipped]}, indent=2))
    else:
        note = f" ({len(skipped)} slow check(s) skipped: --slow runs them)" if skipped else ""
        cut = f", {len(stopped)} stopped before an outcome" if stopped else ""
        click.echo(f"{len(rows)} checks: {len(rows) - len(failed) - len(stopped)} as recorded, "
                   f"{len(failed)} differ{cut}{note}")
        for spec, _, _, diff in failed:
            click.echo(f"DIFFERS {spec.name} ({spec.path.name}): {'; '.join(diff)}")
        for spec, _, result, _ in stopped:
            click.echo(f"STOPPED {spec.name} ({spec.path.name}): {result.stop_reason}")
        if len(rows) + len(skipped) < len(specs):
            click.echo(f"stopped: {len(specs) - len(skipped) - len(rows)} check(s) not run")
    if len(rows) + len(skipped) < len(specs) and not stopped:
        stopped = [None]
    return 1 if failed else 3 if stopped else 0


def _size(n: int) -> str:
    return f"{n / 2 ** 20:,.1f} MiB" if n >= 2 ** 20 else f"{max(1, round(n / 1024))} KiB"


def _suite_header() -> str:
    return (f"{'check':<30} {'model':<11} {'verdict':<10} {'states':>11} {'depth':>5} "
            f"{'time':>9}  {'outcome':<12} violated")


def _suite_row(spec, result, diff) -> str:
    outcome = "as recorded" if not diff else "DIFFERS"
    if result.verdict == "incomplete" and result.stop_reason in ("interrupted", "time_limit",
                                                                 "memory_limit"):
        outcome = "STOPPED"
    detail = result.violation.property if result.violation else ""
    return (f"{spec.name:<30} {spec.model:<11} {result.verdict:<10} "
            f"{result.distinct_states:>11,} {result.depth:>5} {result.seconds:>8.2f}s  "
            f"{outcome:<12} {detail}")
