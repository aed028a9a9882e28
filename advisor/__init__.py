"""Interview Advisor: what to do after a job interview, with the evidence.

The public surface of the engine (no web framework is imported here)::

    from advisor import InterviewState, evaluate, moderate
    advice = evaluate(InterviewState(stage="after", hours_since=2))
    verdict = moderate("Never drive after drinking.")

Errors: `DataError` (a rule or content file is invalid: start-up fails),
`EngineError` (the rules engine failed; never caused by a validated state).
"""

from ._data import DataError
from ._durable import EngineError
from .config import Settings, default_engine, evaluate, moderate
from .engine import ActionAdvice, Advice, AvoidAdvice, Engine, PlanVerdict, RuleTrace
from .state import InterviewState, InterviewStateSchema

__all__ = [
    "ActionAdvice",
    "Advice",
    "AvoidAdvice",
    "DataError",
    "Engine",
    "EngineError",
    "InterviewState",
    "InterviewStateSchema",
    "PlanVerdict",
    "RuleTrace",
    "Settings",
    "default_engine",
    "evaluate",
    "moderate",
]
