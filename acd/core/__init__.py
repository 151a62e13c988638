"""The ACD core (R1-R6): queues, agents, distribution and wait prediction, pure and without I/O.

``Acd`` takes inputs with ``now`` and returns decisions; see docs/acd-core.md and docs/architecture.md.
"""

from acd.core import decisions
from acd.core.agents import AgentState, ImpossibleTransition
from acd.core.config import AgentConfig, AgentsFile, NoAnswerPolicy, QueueConfig, QueuesFile, RelaxStep
from acd.core.decisions import (
    AgentStateChanged,
    Announce,
    AssignCallback,
    CallQueued,
    CancelOffer,
    Decision,
    Offer,
    Overflow,
    RingNoAnswer,
)
from acd.core.engine import Acd, AcdError
from acd.core.prediction import WaitEstimate
from acd.core.validate import validate

__all__ = [
    "Acd",
    "AcdError",
    "AgentConfig",
    "AgentState",
    "AgentStateChanged",
    "AgentsFile",
    "Announce",
    "AssignCallback",
    "CallQueued",
    "CancelOffer",
    "Decision",
    "ImpossibleTransition",
    "NoAnswerPolicy",
    "Offer",
    "Overflow",
    "QueueConfig",
    "QueuesFile",
    "RelaxStep",
    "RingNoAnswer",
    "WaitEstimate",
    "decisions",
    "validate",
]
