"""kafkacheck.checker: the modeling language and the engines. It knows nothing of Kafka.

>>> from kafkacheck.checker import ExplicitSystem, bfs
>>> counter = ExplicitSystem("counter", init=[0],
...                          next=lambda n: [("inc", n + 1)] if n < 5 else [],
...                          always={"below_four": lambda n: n < 4})
>>> result = bfs(counter)
>>> result.verdict, result.violation.length
('violated', 4)
"""

from .explicit import bfs, check, dfs
from .result import ActionCoverage, CheckResult
from .system import ExplicitSystem, PropertyInfo, TransitionSystem
from .trace import Step, Trace

__all__ = ["bfs", "dfs", "check", "CheckResult", "ActionCoverage", "TransitionSystem",
           "ExplicitSystem", "PropertyInfo", "Trace", "Step"]
