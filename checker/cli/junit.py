"""``--junit-xml PATH``: a check's outcome as a JUnit XML report, for CI.

The file follows the common JUnit schema that Jenkins, GitLab, GitHub Actions reporters and
junitparser read: ``<testsuites>`` holding one ``<testsuite>`` of ``<testcase>`` elements,
each with at most one ``<failure>``, ``<error>`` or ``<skipped>``.

- The suite (``kafkacheck check``): one test case per check file. It passes when the
  outcome is as recorded (a check that records a violation passes when that violation is
  found); a different outcome is a ``<failure>`` whose message lists the differences and
  whose text is the trace; a check stopped at a limit is an ``<error>``; a slow check not
  run is ``<skipped>``.
- A single target: one test case per checked property, so the report names the property
  that broke. ``violated`` (or a sometimes-property with no example) is a ``<failure>``
  with the trace; a property a stopped search could not decide is an ``<error>``; a
  vacuous property (constant true: it checks nothing) and one left undecided because the
  search stopped at another's violation are ``<skipped>``, with the reason.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Text XML 1.0 can hold (control characters it forbids are replaced)."""
    return _NOT_XML.sub("\ufffd", text)


def _case(suite, name: str, classname: str, seconds: float):
    return ET.SubElement(suite, "testcase", name=_clean(name), classname=_clean(classname),
                         time=f"{seconds:.3f}")


def _outcome(case, tag: str, message: str, text: str = "", kind: str | None = None):
    el = ET.SubElement(case, tag, message=_clean(message))
    if kind:
        el.set("type", kind)
    if text:
        el.text = _clean(text)
    return el


def _document(suite_name: str, cases: list) -> str:
    """``cases``: ``(name, classname, seconds, outcome)`` with outcome None (passed) or
    ``(tag, message, text, type)``, plus optional system-out text as a fifth item."""
    root = ET.Element("testsuites", name="kafkacheck")
    suite = ET.SubElement(root, "testsuite", name=suite_name)
    counts = {"failure": 0, "error": 0, "skipped": 0}
    total = 0.0
    for name, classname, seconds, outcome, *out in cases:
        case = _case(suite, name, classname, seconds)
        total += seconds
        if outcome is not None:
            tag, message, text, kind = outcome
            counts[tag] += 1
            _outcome(case, tag, message, text, kind)
        if out and out[0]:
            ET.SubElement(case, "system-out").text = _clean(out[0])
    for el in (suite, root):
        el.set("tests", str(len(cases)))
        el.set("failures", str(counts["failure"]))
        el.set("errors", str(counts["error"]))
        el.set("skipped", str(counts["skipped"]))
        el.set("time", f"{total:.3f}")
    root.attrib.pop("skipped")  # <testsuites> has no skipped attribute in the schema
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"


def _trace(run, result) -> str:
    from ..render import trace_text
    v = result.violation
    return trace_text(v, command=run.argv) if v is not None and v.steps else \
        f"Reproduce: {run.argv}\n"


def suite_report(rows, skipped, not_run=()) -> str:
    """The suite as JUnit XML: ``rows`` are ``(spec, run, result, mismatches)``."""
    cases = []
    for spec, run, result, diff in rows:
        classname = f"kafkacheck.{spec.model}"
        seconds = result.seconds + result.build_seconds
        summary = (f"{result.verdict}: {result.distinct_states:,} states, depth "
                   f"{result.depth}" + (f", {result.violation.property} violated in "
                                        f"{result.violation.length} steps"
                                        if result.violation else ""))
        if result.verdict == "incomplete" and result.stop_reason in (
                "interrupted", "time_limit", "memory_limit"):
            outcome = ("error", f"stopped at {result.stop_reason} before an outcome",
                       f"Reproduce: {run.argv}\n", "stopped")
        elif diff:
            outcome = ("failure", "differs from the record: " + "; ".join(diff),
                       _trace(run, result), "differs")
        else:
            outcome = None
        out = f"{summary} (as recorded)\n" + (_trace(run, result) if result.violation else "") \
            if outcome is None else ""
        cases.append((spec.name, classname, seconds, outcome, out))
    for spec in skipped:
        cases.append((spec.name, f"kafkacheck.{spec.model}", 0.0,
                      ("skipped", "slow: kafkacheck check --slow runs it", "", None)))
    for spec in not_run:
        cases.append((spec.name, f"kafkacheck.{spec.model}", 0.0,
                      ("error", "not run: the suite stopped before it", "", "stopped")))
    return _document("kafkacheck check", cases)


def target_report(run, result) -> str:
    """One target as JUnit XML: one test case per checked property."""
    classname = f"kafkacheck.{run.system.name}"
    status = result.status()
    v = result.violation
    cases = []
    seconds = result.seconds + result.build_seconds
    for name, st in status.items():
        if st in ("violated", "unreachable"):
            what = f"violated: shortest trace {v.length} steps" if st == "violated" else \
                "no reachable state satisfies it"
            outcome = ("failure", what, _trace(run, result), "violated")
        elif st == "vacuous":
            outcome = ("skipped", "vacuous: constant true in this configuration, it checks "
                                  "nothing", "", None)
        elif st in ("not_violated_so_far", "not_reached_before_stop"):
            if result.verdict == "violated":
                outcome = ("skipped", f"not decided: the search stopped at the violation of "
                                      f"{v.property}", "", None)
            else:
                why = result.stop_reason or "a bound"
                outcome = ("error", f"not decided: the search stopped ({why}) after "
                                    f"{result.distinct_states:,} states",
                           f"Reproduce: {run.argv}\n", "incomplete")
        else:
            outcome = None
        note = ""
        if outcome is None:
            how = f"in all {result.distinct_states:,} reachable states" if result.complete \
                else f"up to depth {result.depth} (the search was cut at the depth bound)"
            note = f"{st.replace('_', ' ')}: {how}; reproduce: {run.argv}\n"
        cases.append((name, classname, seconds if name == next(iter(status)) else 0.0,
                      outcome, note))
    if not cases:
        cases.append(("(no properties)", classname, seconds, None))
    return _document(f"kafkacheck check {run.target.name}", cases)
