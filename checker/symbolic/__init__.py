"""The symbolic engines: Z3 bounded model checking, induction proofs, quorum queries.

- ``bmc``: a shortest violation up to a depth bound, or none up to that bound;
- ``prove``: k-induction and inductive invariants (proved / refuted / not inductive / unknown);
- ``quorum``: intersection, failure tolerance and reconfiguration of quorum systems.

They read the same ``Built`` model as the explicit engines (``checker.lang``), through the
Z3 back-end in ``z3gen``.
"""

from .bmc import ReplayError, bmc
from .induction import CounterexampleToInduction, ProofResult, prove, prove_property
from .z3gen import Encoding, EncodingError

__all__ = ["bmc", "ReplayError", "prove", "prove_property", "ProofResult",
           "CounterexampleToInduction", "Encoding", "EncodingError"]
