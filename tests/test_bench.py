"""The benchmark script: its arithmetic, its targets, and one short real run."""

from pathlib import Path

import pytest

from bench import benchmark as bench


def _run(requests, seconds, p50, p99, errors=0, slowest=None):
    return {
        "requests": requests,
        "seconds": seconds,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": p99 if slowest is None else slowest,
        "errors": errors,
        "rps": requests / seconds,
    }


def test_slices_combine_into_totals_and_median_latencies():
    runs = [
        _run(1000, 1.0, 5, 9),
        _run(3000, 1.0, 7, 30, errors=2, slowest=250),
        _run(2000, 2.0, 6, 10, slowest=40),
    ]
    combined = bench._combined(runs)
    assert combined["requests"] == 6000
    assert combined["seconds"] == 4.0
    assert combined["rps"] == 1500.0
    assert (combined["p50_ms"], combined["p99_ms"]) == (6, 10)
    assert combined["max_ms"] == 250  # the slowest request of any slice
    assert combined["errors"] == 2
    assert combined["rounds"] == 3


def _report(
    rps=0.9,
    p99=1.2,
    repeated=0.9,
    plans=(0.7, 1.4),
    median=40,
    p99_us=150,
    ratio=1.2,
    worst=20,
    zen=0.5,
):
    return {
        "in_process": {
            "evaluate_warm": {"median_us": median, "p99_us": p99_us},
            "evaluate_warm_vs_zen": zen,
            "plans_ratio": ratio,
            "worst_accepted_request_ms": worst,
        },
        "http": {
            "advice": {"rps_ratio": rps, "p99_ratio": p99},
            "advice_repeated": {"rps_ratio": repeated, "p99_ratio": 1.0},
            "advice_plans": {"rps_ratio": plans[0], "p99_ratio": plans[1]},
        },
    }


@pytest.mark.parametrize(
    ("report", "missed"),
    [
        (_report(), []),
        (
            _report(rps=0.8, p99=1.5, repeated=0.88, median=56.9, p99_us=200, ratio=1.5, worst=50),
            [],
        ),
        (_report(rps=0.79), ["never-repeated /v1/advice req/s vs ceiling >= 0.8"]),
        (_report(p99=1.51), ["never-repeated /v1/advice p99 vs ceiling <= 1.5"]),
        (_report(repeated=0.87), ["repeated /v1/advice req/s vs ceiling >= 0.88"]),
        (
            _report(plans=(0.6, 1.6)),
            ["3 plans: req/s vs none >= 0.667", "3 plans: p99 vs none <= 1.5"],
        ),
        (_report(median=57), ["evaluate() warm median, µs < 57"]),
        (_report(zen=1), ["evaluate() warm median vs zen-engine's bare evaluation < 1"]),
        (_report(p99_us=201), ["evaluate() warm p99, µs <= 200"]),
        (_report(ratio=1.6), ["evaluate() 3 plans vs none <= 1.5"]),
        (_report(worst=51), ["worst accepted request, ms <= 50"]),
    ],
)
def test_targets_are_met_at_their_bounds_and_missed_past_them(report, missed):
    rows = bench.targets(report)
    assert len(rows) == len(bench.TARGETS)
    assert [row["target"] for row in rows if not row["met"]] == missed


def test_targets_without_http_figures_check_only_the_engine():
    rows = bench.targets({"in_process": _report()["in_process"]})
    assert [row["target"] for row in rows] == [
        "evaluate() warm median, µs < 57",
        "evaluate() warm median vs zen-engine's bare evaluation < 1",
        "evaluate() warm p99, µs <= 200",
        "evaluate() 3 plans vs none <= 1.5",
        "worst accepted request, ms <= 50",
    ]


def test_never_repeated_states_are_valid_and_never_repeat(engine):
    from advisor.state import InterviewState

    bodies = bench.fresh_bodies(2000, seed=5)
    assert len({str(b) for b in bodies}) == len(bodies)
    assert {b["stage"] for b in bodies} == set(bench.STAGES)
    assert any("now" in b for b in bodies)
    for body in bodies:
        engine.evaluate(InterviewState.parse(body))
    planned = bench.fresh_bodies(50, seed=5, with_plans=True)
    for body, twin in zip(planned, bodies, strict=False):
        assert {k: v for k, v in body.items() if k != "plans"} == twin
        assert [len(p) for p in body["plans"]] == [bench.PLAN_CHARS] * 3


def test_prepared_bodies_never_repeat_across_slices_and_keep_the_mix(tmp_path):
    import json

    bodies = bench.NeverRepeated(seed=5)
    planned = bench.NeverRepeated(seed=5, with_plans=True)
    taken, taken_planned = [], []
    for count in (3000, 1, 2500, 4000):  # slices of different sizes, one generator a run
        prefix = bodies.files(tmp_path, count)
        for number in (1, 2):
            lines = Path(f"{prefix}.{number}").read_text().splitlines()
            assert len(lines) == count
            taken += lines
        taken_planned += planned.take(2 * count)
    assert len(set(taken)) == len(taken)
    # The states drawn as `fresh_bodies` draws them, in order, those met before left out.
    drawn = [json.dumps(b, separators=(",", ":")) for b in bench.fresh_bodies(len(taken) + 100, 5)]
    unseen = list(dict.fromkeys(drawn))
    assert taken == unseen[: len(taken)]
    assert bodies.skipped > 0  # states do come again among this many
    # With plans: the same states, each with three plans.
    for body, twin in zip(taken_planned, taken, strict=True):
        body = json.loads(body)
        assert len(body.pop("plans")) == 3
        assert body == json.loads(twin)


def test_zen_engine_fires_the_rules_the_engine_fires(engine):
    pytest.importorskip("zen")
    from advisor.state import InterviewState, to_fact
    from bench.zen_peer import ZenRules

    peer = ZenRules(engine.rulebook)
    for body in bench.fresh_bodies(500, seed=8):
        state = InterviewState.parse(body)
        assert peer.fire(to_fact(state)) == frozenset(engine.fire(state)), body


def test_the_states_and_texts_are_varied_and_valid(engine):
    from advisor.state import InterviewState

    states = bench.bench_states()
    assert len(states) >= 50
    assert len({str(s) for s in states}) == len(states)
    for state in states:
        engine.evaluate(InterviewState.parse(state))
    texts = bench.bench_texts()
    assert len(texts) == 10
    assert all(0 < len(t) <= 2000 for t in texts)


@pytest.mark.server
def test_a_short_run_over_http_reports_every_endpoint_and_round():
    results = bench.over_http(duration=2, connections=4, rounds=2)
    assert set(results) == {"ceiling", "advice", "advice_plans", "advice_repeated", "moderate"}
    for figures in results.values():
        assert figures["requests"] > 0
        assert figures["errors"] == 0
        assert figures["rounds"] == 2
        assert figures["drawn"] == 0  # only prepared bodies were sent
    for name in bench.COMPARED:
        assert len(results[name]["rps_ratios_by_round"]) == 2
        assert results[name]["rps_ratio"] > 0


def test_the_worst_requests_are_accepted_ones(client):
    for name, (path, body) in bench.worst_requests().items():
        assert client.post(path, json=body).status_code == 200, name


def test_the_worst_request_is_a_target():
    rows = bench.targets({"in_process": {"worst_accepted_request_ms": 51}})
    assert rows == [{"target": "worst accepted request, ms <= 50", "figure": 51, "met": False}]
