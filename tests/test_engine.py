"""The engine without HTTP: isolation, the durable_rules limits we rely on, imports."""

import ctypes
import random
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from advisor import Engine, EngineError
from advisor._durable import MAX_PROPERTIES, MAX_RULES, RuleSession
from advisor.engine import MEMO_SIZE, MemoInfo
from advisor.state import InterviewState, InterviewStateSchema


def _summary(advice):
    return (
        tuple((a.action.id, a.because, a.start_hours, a.end_hours) for a in advice.actions),
        tuple(a.rejected.id for a in advice.avoid),
    )


HOURS = [0, 3, 23, 25, 30, 96, 130, 200, 290, 400, 2000]


def _random_states(count, seed):
    rng = random.Random(seed)
    stages = ["closing", "after", "offer", "rejected", "next_round"]
    result = []
    for _ in range(count):
        stage = rng.choice(stages)
        body = {
            "stage": stage,
            # At stage closing the interview has not ended yet.
            "hours_since": 0 if stage == "closing" else rng.choice(HOURS),
            "via_agency": rng.random() < 0.5,
            "final_round": rng.random() < 0.5,
            "follow_ups_sent": rng.choice([0, 1, 2]),
            "still_interested": rng.choice(["yes", "unsure", "no"]),
            "decision_expected_in_days": rng.choice([None, 2, 7]),
        }
        loaded = InterviewStateSchema().load(body)
        result.append(InterviewState.from_request(loaded, datetime.now(UTC)))
    return result


@pytest.fixture
def memoised(engine):
    """memoised(size): an engine on the same rules with a memo of its own."""
    made = []

    def make(memo_size):
        made.append(Engine(engine.catalogue, engine.rulebook, engine.moderator, memo_size))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_threads_get_exactly_the_single_threaded_answers(unmemoised_engine):
    # With the memo off every evaluation runs durable_rules: the threads meet
    # at the engine's lock, not at a dictionary.
    engine = unmemoised_engine
    work = _random_states(400, seed=7)
    expected = [_summary(engine.evaluate(s)) for s in work]
    results = [None] * len(work)

    def run(offset):
        for index in range(offset, len(work), 4):
            results[index] = _summary(engine.evaluate(work[index]))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected
    assert engine.memo_info().currsize == 0


def test_sessions_are_deleted_after_each_evaluation(unmemoised_engine):
    # More than 1024 live sessions per ruleset would raise MemoryError.
    engine = unmemoised_engine
    state = _random_states(1, seed=1)[0]
    first = _summary(engine.evaluate(state))
    for _ in range(1500):
        engine.evaluate(state)
    assert _summary(engine.evaluate(state)) == first


def test_a_ruleset_with_64_rules_true_at_once_is_refused():
    # 64 rules matching one fact raise error 303, and deleting that session
    # crashes the process: rulesets stay below MAX_RULES.
    rules = {f"r{i}": {"when": {"x": 1}} for i in range(MAX_RULES)}
    with pytest.raises(EngineError, match="split the ruleset"):
        RuleSession(rules)


def test_the_largest_allowed_ruleset_with_every_rule_true_works():
    rules = {f"r{i}": {"when": {"x": 1}} for i in range(MAX_RULES - 1)}
    session = RuleSession(rules)
    assert len(session.evaluate({"x": 1})) == MAX_RULES - 1
    session.close()


def test_every_matching_rule_fires_not_just_the_first():
    session = RuleSession({"a": {"when": {"x": 1}}, "b": {"when": {"$gte": {"x": 1}}}})
    assert session.evaluate({"x": 1}) == ["a", "b"]
    session.close()


def test_nothing_matching_still_cleans_up():
    # A session where no action ran could crash on delete: the catch-all runs.
    session = RuleSession({"a": {"when": {"x": 1}}})
    for _ in range(1100):
        assert session.evaluate({"x": 2}) == []
    session.close()


def test_two_branches_of_an_or_fire_the_rule_once():
    session = RuleSession({"a": {"when": {"$or": [{"x": 1}, {"y": 1}]}}})
    assert session.evaluate({"x": 1, "y": 1}) == ["a"]
    session.close()


def test_the_same_rules_compile_twice_side_by_side():
    rules = {"a": {"when": {"x": 1}}}
    first, second = RuleSession(rules), RuleSession(rules)
    assert first.evaluate({"x": 1}) == second.evaluate({"x": 1}) == ["a"]
    first.close()
    second.close()


@pytest.mark.parametrize(
    "fact",
    [
        ["not", "a", "dict"],
        "a string",
        {f"p{i}": 1 for i in range(MAX_PROPERTIES + 1)},
        {"sid": "0"},
        {"$s": 1},
        {"nested": {"a": 1}},
        {"mixed": [1, "a"]},
        {"x": 1e-05},
        {"x": float("nan")},
    ],
)
def test_facts_that_crash_the_engine_are_refused(fact):
    session = RuleSession({"a": {"when": {"x": 1}}})
    with pytest.raises(EngineError):
        session.evaluate(fact)
    session.close()


class _RaisingSession(RuleSession):
    def _action(self, rule_id, then, carry=()):
        if rule_id != "a":
            return super()._action(rule_id, then, carry)

        def run(closure):
            raise RuntimeError("boom")

        return run


def test_an_action_that_raises_is_reported_not_swallowed():
    session = _RaisingSession({"a": {"when": {"x": 1}}})
    with pytest.raises(EngineError, match="boom"):
        session.evaluate({"x": 1})
    assert session.evaluate({"x": 2}) == []
    session.close()


def test_importing_the_engine_does_not_import_flask():
    code = (
        "import sys, advisor, advisor.engine, advisor.moderation, advisor.cases;"
        "assert 'flask' not in sys.modules, 'flask imported';"
        "assert 'werkzeug' not in sys.modules, 'werkzeug imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(sys.version_info < (3, 13), reason="Python's own until 3.13 removed it")
def test_the_pyeval_call_object_we_provide_calls_like_pyobject_call_object():
    # durable_rules' engine module refers to it (see advisor/_pyeval.c).
    import advisor._pyeval

    call = ctypes.PyDLL(advisor._pyeval.__file__).PyEval_CallObject
    call.argtypes = [ctypes.py_object, ctypes.py_object]
    call.restype = ctypes.py_object
    assert call(len, ("abc",)) == 3
    with pytest.raises(TypeError, match="argument list must be a tuple"):
        call(len, ["abc"])


def test_memoised_answers_equal_fresh_ones(memoised, unmemoised_engine):
    engine = memoised(MEMO_SIZE)
    states = _random_states(600, seed=11)
    for state in states:
        assert engine.evaluate(state) == unmemoised_engine.evaluate(state)
    # Each outcome not yet remembered is remembered once: fewer outcomes than
    # states means the others were answered from the memo.
    assert 0 < engine.memo_info().currsize < len(states)
    assert unmemoised_engine.memo_info() == MemoInfo(maxsize=0, currsize=0)


def test_the_memo_is_bounded_and_evicts_without_changing_answers(memoised, unmemoised_engine):
    engine = memoised(5)
    for state in _random_states(200, seed=3):
        assert engine.evaluate(state) == unmemoised_engine.evaluate(state)
    assert engine.memo_info() == MemoInfo(maxsize=5, currsize=5)


def test_the_upcoming_actions_remembered_are_bounded_and_answer_as_worked_out(
    memoised, unmemoised_engine
):
    engine = memoised(8)
    forecast = engine._forecast
    for state in _random_states(300, seed=5) * 2:  # each state a second time too
        assert engine.evaluate(state).upcoming == unmemoised_engine.evaluate(state).upcoming
        assert len(forecast._memo) + len(forecast._memo_before) <= 8


@pytest.mark.parametrize("hours", [1e-05, 0.00015, 1e-300, 43919.99999999])
def test_hours_the_engine_cannot_read_as_written_are_rounded(unmemoised_engine, hours):
    # A float with an exponent fails the engine's JSON reader (error 204).
    loaded = InterviewStateSchema().load({"stage": "after", "hours_since": hours})
    state = InterviewState.from_request(loaded, datetime.now(UTC))
    assert unmemoised_engine.evaluate(state).actions
