"""The benchmark script: its arithmetic, its targets, and one short real run."""

import pytest

from advisor import bench


def _run(requests, seconds, p50, p99, errors=0):
    return {
        "requests": requests,
        "seconds": seconds,
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": errors,
        "rps": requests / seconds,
    }


def test_slices_combine_into_totals_and_median_latencies():
    runs = [_run(1000, 1.0, 5, 9), _run(3000, 1.0, 7, 30, errors=2), _run(2000, 2.0, 6, 10)]
    combined = bench._combined(runs)
    assert combined["requests"] == 6000
    assert combined["seconds"] == 4.0
    assert combined["rps"] == 1500.0
    assert (combined["p50_ms"], combined["p99_ms"]) == (6, 10)
    assert combined["errors"] == 2
    assert combined["rounds"] == 3


@pytest.mark.parametrize(
    ("rps_ratio", "p99_ratio", "evaluate_us", "met"),
    [
        (0.8, 1.5, 100, [True, True, True]),
        (0.79, 1.2, 30, [False, True, True]),
        (0.95, 1.51, 30, [True, False, True]),
        (0.95, 1.0, 100.5, [True, True, False]),
    ],
)
def test_targets_are_met_at_their_bounds_and_missed_past_them(
    rps_ratio, p99_ratio, evaluate_us, met
):
    report = {
        "in_process": {"evaluate_median_us": evaluate_us},
        "http": {"advice": {"rps_ratio_to_ceiling": rps_ratio, "p99_ratio_to_ceiling": p99_ratio}},
    }
    assert [row["met"] for row in bench.targets(report)] == met


def test_targets_without_http_figures_check_only_the_engine():
    rows = bench.targets({"in_process": {"evaluate_median_us": 20}})
    assert [row["target"] for row in rows] == ["evaluate() median, µs <= 100"]


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
    assert set(results) == {"ceiling", "advice", "moderate"}
    for figures in results.values():
        assert figures["requests"] > 0
        assert figures["errors"] == 0
        assert figures["rounds"] == 2
    for name in ("advice", "moderate"):
        assert len(results[name]["rps_ratios_by_round"]) == 2
        assert results[name]["rps_ratio_to_ceiling"] > 0


def test_the_worst_requests_are_accepted_ones(client):
    for name, (path, body) in bench.worst_requests().items():
        assert client.post(path, json=body).status_code == 200, name


def test_the_worst_request_is_a_target():
    rows = bench.targets({"in_process": {"worst_accepted_request_ms": 51}})
    assert rows == [{"target": "worst accepted request, ms <= 50", "figure": 51, "met": False}]
