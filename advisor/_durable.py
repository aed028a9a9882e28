"""A safe wrapper around the durable_rules engine.

durable_rules 2.0.28 has crash paths that must never be reachable from a
request (see the project's engine notes).  `RuleSession` closes each of them:

- each evaluation runs in a session with a unique sid, deleted in `finally`;
- a catch-all rule guarantees at least one action runs, so deleting the
  session never frees uninitialised memory;
- every pattern carries ``$nex $s`` so the engine's own state fact never
  re-triggers a rule (which would loop forever);
- the host's timer threads are disabled and every call holds one lock per
  ruleset, so threads never touch the engine at the same time;
- at most `MAX_RULES` rules per ruleset, so fewer than 64 rules can match one
  fact (error 303, after which deleting the session crashes the process);
- facts are validated flat dicts of JSON scalars or lists of strings, with at
  most `MAX_PROPERTIES` properties and no float the engine's JSON reader
  cannot parse (it fails on exponents such as ``1e-05``);
- an action that raised is reported instead of being swallowed;
- the engine's storage callbacks are never set (on Python 3.13 their
  compiled calls misread the result: see `advisor/_pyeval.c`).

A compiled ruleset is given plain condition dicts; which rules fired is
collected by Python actions, de-duplicated, in firing order.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import itertools
import json
import os
import re
import sys
import threading
from collections.abc import Mapping


def _provide_pyeval_call_object() -> None:
    """Let durable_rules' engine module load on Python 3.13 and later.

    The module refers to PyEval_CallObject, which Python 3.13 removed.
    `advisor._pyeval`, compiled with this package, defines it; imported with
    RTLD_GLOBAL, its symbols resolve those of modules loaded after it.
    """
    if sys.version_info < (3, 13):
        return
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_GLOBAL)
    try:
        importlib.import_module("advisor._pyeval")
    finally:
        sys.setdlopenflags(flags)


_provide_pyeval_call_object()

import durable.engine as _engine  # noqa: E402 - after the call above
import durable_rules_engine as _native  # noqa: E402

__all__ = ["EngineError", "RuleSession", "MAX_RULES", "MAX_PROPERTIES", "CATCH_ALL"]

#: Fewer than 64 rules may be true for one fact at once (error 303).
MAX_RULES = 60
#: More than about 250 properties in one fact raise error 302.
MAX_PROPERTIES = 200
#: Name of the rule that always fires, so at least one action runs.
CATCH_ALL = "__catch_all__"

_NOT_STATE = {"$nex": {"$s": 1}}
_PLAIN_FLOAT = re.compile(r"^-?\d+\.\d+$")
_names = itertools.count()


class EngineError(RuntimeError):
    """The rules engine refused a ruleset or failed during an evaluation."""


class _Host(_engine.Host):
    """A host without timer threads whose actions are resolved by name."""

    def __init__(self, actions):
        self._named_actions = actions
        super().__init__()

    def get_action(self, action_name):
        return self._named_actions[action_name]

    def _run(self):
        # The default host starts timer threads that touch every live state
        # and segfault under concurrent use; these rulesets use no timers.
        pass


def _guard(pattern: Mapping) -> dict:
    """Return `pattern` and-ed with the guard against the engine's state fact."""
    if "$and" in pattern and len(pattern) == 1:
        return {"$and": [*pattern["$and"], _NOT_STATE]}
    return {"$and": [dict(pattern), _NOT_STATE]}


def _check_fact(fact: Mapping) -> None:
    if not isinstance(fact, Mapping):
        raise EngineError("a fact must be a dict")
    if len(fact) > MAX_PROPERTIES:
        raise EngineError(f"a fact may have at most {MAX_PROPERTIES} properties")
    for key, value in fact.items():
        if not isinstance(key, str) or key.startswith("$") or key in ("sid", "id"):
            raise EngineError(f"fact property {key!r} is reserved or not a string")
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise EngineError(f"fact property {key!r}: lists may hold only strings")
        elif value is not None and not isinstance(value, str | int | float | bool):
            raise EngineError(f"fact property {key!r}: unsupported type {type(value).__name__}")
        elif isinstance(value, float) and not _PLAIN_FLOAT.match(json.dumps(value)):
            # The engine's JSON reader fails on exponents (1e-05) and NaN (error 204).
            raise EngineError(f"fact property {key!r}: {value!r} needs an exponent; round it")


class RuleSession:
    """One compiled durable_rules ruleset, evaluated in throw-away sessions.

    `rules` maps a rule id to ``{"when": PATTERN, "priority": N, "then": FACT,
    "carry": NAMES}`` where PATTERN is a durable_rules condition on the fact
    (``m``), and the optional FACT is asserted into the same session when the
    rule fires (forward chaining: other rules may match it), with the fields
    NAMES copied from the fact that fired the rule.
    """

    def __init__(self, rules: Mapping[str, Mapping]):
        if not rules:
            raise EngineError("a ruleset needs at least one rule")
        if len(rules) + 1 > MAX_RULES:
            raise EngineError(
                f"{len(rules)} rules: split the ruleset, at most {MAX_RULES - 1} fit in one"
            )
        self.name = f"ruleset_{next(_names)}"
        self._lock = threading.Lock()
        self._fired: list[str] = []
        self._derived = itertools.count()
        definition, actions = {}, {}
        for rule_id, rule in rules.items():
            definition[rule_id] = {
                "all": [{"m": _guard(rule["when"])}],
                "pri": int(rule.get("priority", 0)),
                "run": rule_id,
            }
            actions[rule_id] = self._action(rule_id, rule.get("then"), rule.get("carry", ()))
        # Lowest priority of all (the engine runs higher numbers later).
        definition[CATCH_ALL] = {
            "all": [{"m": dict(_NOT_STATE)}],
            "pri": 1_000_000,
            "run": CATCH_ALL,
        }
        actions[CATCH_ALL] = self._action(CATCH_ALL, None)
        self._host = _Host(actions)
        try:
            # The engine mutates what it is given.
            self._host.set_rulesets({self.name: copy.deepcopy(definition)})
        except Exception as error:  # the native module raises its own error type
            raise EngineError(f"the rules engine refused the ruleset: {error}") from error
        self._ruleset = self._host.get_ruleset(self.name)

    def _action(self, rule_id, then, carry=()):
        def run(closure):
            self._fired.append(rule_id)
            if then:
                fact = dict(then)
                for name in carry:
                    fact[name] = closure.m[name]
                fact["id"] = f"derived-{next(self._derived)}"
                closure.assert_fact(fact)

        return run

    def evaluate(self, fact: Mapping) -> list[str]:
        """Return the ids of the rules `fact` fires, each once, in firing order."""
        _check_fact(fact)
        with self._lock:
            self._fired = []
            sid = f"s{next(_names)}"
            message = {**fact, "sid": sid, "id": "state"}
            try:
                state = self._host.assert_fact(self.name, message)
            except Exception as error:
                # The session may not exist (a refused fact): deleting it then
                # fails too, and that second error would hide the first.
                with contextlib.suppress(Exception):
                    self._ruleset.delete_state(sid)
                raise EngineError(f"evaluation failed: {error}") from error
            self._ruleset.delete_state(sid)
            if isinstance(state, dict) and "exception" in state:
                raise EngineError(f"a rule action failed: {state['exception']}")
            fired = list(dict.fromkeys(self._fired))
        if CATCH_ALL not in fired:
            raise EngineError("the catch-all rule did not fire")
        fired.remove(CATCH_ALL)
        return fired

    def close(self) -> None:
        """Free the native ruleset; the session must not be used afterwards."""
        with self._lock:
            _native.delete_ruleset(self._ruleset._handle)
