"""Benchmark: in-process engine timings and HTTP throughput under wrk.

    python -m advisor.bench [--duration 20] [--connections 32] [--rounds 20]
                            [--out bench/results.json]

In-process it times `Engine.evaluate` (memoised, and fresh through
durable_rules) over 60 varied states, and moderation of a 5,000-character
article (1,000 characters of each article of the corpus), of 5,000 characters
of the satire alone (the worst case, dense with harms) and of one plan; and,
through the whole app with its caches off, the costliest requests the contract
accepts (`worst_requests`), reporting the worst one's server time.

Over HTTP it starts gunicorn with the packaged settings on loopback (rate
limits off, so the load generator is not throttled) and drives
``/health/live`` (the framework's ceiling on this machine), ``/v1/advice``
(cycling through the states) and ``/v1/moderate`` (cycling through 10 texts)
with wrk, in interleaved rounds of the same run, and reports requests/s, p50
and p99 with the ratios to the ceiling, then whether each target is met.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ._server import gunicorn
from .config import Settings, default_engine
from .engine import Engine
from .moderation.bench import PLANS, median_ms, sample_article
from .state import InterviewState

STAGES = ("closing", "after", "offer", "rejected", "next_round")
HOURS = (0, 2, 23, 30, 100, 150, 260, 400, 2000)

_LUA = """
local bodies = {%(bodies)s}
local counter = 0
request = function()
  counter = counter + 1
  local body = bodies[(counter %% #bodies) + 1]
  return wrk.format("%(method)s", "%(path)s", {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %%d, "seconds": %%.3f, "p50_ms": %%.3f, "p99_ms": %%.3f, "errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors))
end
"""


def bench_states() -> list[dict]:
    """60 varied, valid request bodies (every stage, thresholds either side)."""
    flags = itertools.cycle(
        [
            {},
            {"via_agency": True},
            {"final_round": True, "thank_you_sent": True},
            {"decision_expected_in_days": 3, "notes_written": True},
            {"follow_ups_sent": 2, "linkedin_connected": True},
            {"still_interested": "unsure", "competing_offers": 1},
            {"still_interested": "no"},
            {"plans": ["Send a short thank-you email tonight.", "Phone them every hour."]},
        ]
    )
    # At stage closing the interview has not ended: only 0 hours is valid.
    states = [
        {"stage": stage, "hours_since": hours, **next(flags)}
        for stage in STAGES
        for hours in (HOURS if stage != "closing" else (0,))
    ]
    states += [{"stage": "after", "hours_since": h + 0.5, **next(flags)} for h in range(25)]
    return states[:60]


def bench_texts() -> list[str]:
    """10 moderation texts cut from the five articles (≤ 2,000 characters each)."""
    texts = []
    for article in sorted((Settings().content_dir / "articles").glob("*.txt")):
        words = article.read_text(encoding="utf-8")
        texts += [words[:2000], words[2000:4000] or words[:1000]]
    return texts[:10]


def _median_us(func, items, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        for item in items:
            started = time.perf_counter()
            func(item)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e6


def in_process(engine: Engine) -> dict:
    states = [InterviewState.parse(s) for s in bench_states()]
    fresh = Engine(engine.catalogue, engine.rulebook, engine.moderator, memo_size=0)
    moderator = engine.moderator
    content = Settings().content_dir
    article = sample_article(content)
    satire = (content / "articles" / "accolade.txt").read_text(encoding="utf-8")[:5000]
    for state in states:  # warm the memo, as a running service has
        engine.evaluate(state)
    return {
        "evaluate_median_us": round(_median_us(engine.evaluate, states, 30), 1),
        "evaluate_fresh_median_us": round(_median_us(fresh.evaluate, states, 5), 1),
        # Moderation figures start each run with the engine's answers forgotten.
        "moderate_article_5000_chars_median_ms": round(median_ms(moderator, article, 100), 3),
        "moderate_satire_5000_chars_median_ms": round(median_ms(moderator, satire, 100), 3),
        "moderate_plan_median_ms": round(median_ms(moderator, PLANS[0], 500), 3),
    }


def worst_requests() -> dict[str, dict]:
    """The costliest bodies the contract accepts, each as (path, body): the longest
    text dense with harms and negations, and the most plans of the longest length,
    explained."""
    dense = ("Three pints then drive home, don't. " * 600)[:20_000]
    plan = ("Pay a referee, then phone them hourly; never. " * 12)[:500]
    return {
        "moderate 20,000 characters of harms and negations": (
            "/v1/moderate",
            {"text": dense},
        ),
        "moderate 20,000 characters of the satire": (
            "/v1/moderate",
            {"text": (_satire() * 5)[:20_000]},
        ),
        "advice with 20 plans of 500 characters, explained": (
            "/v1/advice?explain=true",
            {"stage": "after", "hours_since": 30, "via_agency": True, "plans": [plan] * 20},
        ),
    }


def _satire() -> str:
    return (Settings().content_dir / "articles" / "accolade.txt").read_text(encoding="utf-8")


def worst_request(engine: Engine, runs: int = 5) -> dict:
    """Server time of the costliest accepted request (through the whole app, no
    caches), the median of `runs` for each candidate."""
    from .web import create_app

    settings = Settings(rate_limits="", answer_cache=0)
    client = create_app({"ENGINE": engine, "SETTINGS": settings}).test_client()
    timings = {}
    for name, (path, body) in worst_requests().items():
        runs_ms = []
        for _ in range(runs):
            engine.moderator.clear_cache()
            started = time.perf_counter()
            response = client.post(path, json=body)
            runs_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {response.status_code}, not an accepted request")
        timings[name] = round(statistics.median(runs_ms), 1)
    worst = max(timings, key=timings.get)
    return {"worst_accepted_request": worst, "worst_accepted_request_ms": timings[worst]}


def _lua(folder: Path, name: str, method: str, path: str, bodies: list[str]) -> Path:
    quoted = ", ".join(json.dumps(b) for b in bodies)  # JSON strings are valid Lua strings
    script = folder / f"{name}.lua"
    script.write_text(_LUA % {"bodies": quoted or '""', "method": method, "path": path})
    return script


def _wrk(url: str, script: Path, duration: int, connections: int) -> dict:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    figures = json.loads(line.removeprefix("RESULT "))
    figures["rps"] = round(figures["requests"] / figures["seconds"], 1)
    return figures


@contextlib.contextmanager
def served(**settings: str):
    """The service as `_server.gunicorn` runs it, rate limits off; yield it and a scratch folder."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench`, which installs it")
    env = {"ADVISOR_RATE_LIMITS": ""}
    env.update({f"ADVISOR_{k.upper()}": v for k, v in settings.items()})
    with gunicorn(env=env) as server, tempfile.TemporaryDirectory() as folder:
        yield server, Path(folder)


def _advice_script(folder: Path) -> Path:
    return _lua(folder, "advice", "POST", "/v1/advice", [json.dumps(s) for s in bench_states()])


#: Pause before each slice, so that requests still queued from the last one
#: (wrk stops sending, the workers do not stop answering) are not counted in it.
SETTLE_SECONDS = 0.5


def over_http(duration: int, connections: int, rounds: int = 20) -> dict:
    """Each endpoint for `duration` seconds in all, cut into `rounds` interleaved slices
    (of a whole number of seconds, at least one).

    The machines are shared, so their speed drifts over seconds. Each round runs
    every endpoint once, the order reversed every other round, so a ratio to
    the ceiling compares slices run side by side; the ratio reported is the
    median of the rounds' ratios, with every round's kept.
    """
    with served() as (server, folder):
        base = server.base
        texts = [json.dumps({"text": t}) for t in bench_texts()]
        scripts = {
            "ceiling": ("/health/live", _lua(folder, "live", "GET", "/health/live", [""])),
            "advice": ("/v1/advice", _advice_script(folder)),
            "moderate": ("/v1/moderate", _lua(folder, "moderate", "POST", "/v1/moderate", texts)),
        }
        for path, script in scripts.values():
            _wrk(f"{base}{path}", script, 2, connections)  # warm up
        slices: dict[str, list[dict]] = {name: [] for name in scripts}
        seconds = max(1, round(duration / rounds))
        for number in range(rounds):
            order = list(scripts) if number % 2 == 0 else list(reversed(scripts))
            for name in order:
                path, script = scripts[name]
                time.sleep(SETTLE_SECONDS)
                slices[name].append(_wrk(f"{base}{path}", script, seconds, connections))
    results = {name: {"path": scripts[name][0], **_combined(runs)} for name, runs in slices.items()}
    ceiling = slices["ceiling"]
    for name in ("advice", "moderate"):
        pairs = list(zip(slices[name], ceiling, strict=True))
        rps = [run["rps"] / alongside["rps"] for run, alongside in pairs]
        p99 = [run["p99_ms"] / alongside["p99_ms"] for run, alongside in pairs]
        results[name]["rps_ratio_to_ceiling"] = round(statistics.median(rps), 3)
        results[name]["p99_ratio_to_ceiling"] = round(statistics.median(p99), 3)
        results[name]["rps_ratios_by_round"] = [round(r, 3) for r in rps]
        results[name]["p99_ratios_by_round"] = [round(r, 3) for r in p99]
    return results


def _combined(runs: list[dict]) -> dict:
    """One endpoint's slices together: totals, rates over the whole time, median latencies."""
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["seconds"] for run in runs)
    return {
        "requests": requests,
        "seconds": round(seconds, 3),
        "p50_ms": round(statistics.median(run["p50_ms"] for run in runs), 3),
        "p99_ms": round(statistics.median(run["p99_ms"] for run in runs), 3),
        "errors": sum(run["errors"] for run in runs),
        "rps": round(requests / seconds, 1),
        "rounds": len(runs),
    }


def soak(total: int, connections: int) -> dict:
    """`total` advice requests with both caches off, so every one runs durable_rules."""
    with served(answer_cache="0", engine_memo="0") as (server, folder):
        base, script = server.base, _advice_script(folder)
        _wrk(f"{base}/v1/advice", script, 5, connections)  # warm up every worker
        before = server.workers_rss_kb()
        done = errors = 0
        started = time.monotonic()
        while done < total:
            figures = _wrk(f"{base}/v1/advice", script, 30, connections)
            done += figures["requests"]
            errors += figures["errors"]
        seconds = time.monotonic() - started
        after = server.workers_rss_kb()
    growth = {pid: (after[pid] - before[pid]) / 1024 for pid in before if pid in after}
    return {
        "requests": done,
        "errors": errors,
        "seconds": round(seconds, 1),
        "rps": round(done / seconds, 1),
        "workers": len(before),
        "workers_replaced": len(set(before) ^ set(after)) // 2,
        "rss_before_mb": round(max(before.values()) / 1024, 1),
        "max_rss_growth_mb": round(max(growth.values()), 2),
    }


#: The targets, each as (name, figure, comparison, bound): met when the figure
#: compares so to the bound.
TARGETS = (
    ("/v1/advice req/s vs ceiling", ("http", "advice", "rps_ratio_to_ceiling"), ">=", 0.8),
    ("/v1/advice p99 vs ceiling", ("http", "advice", "p99_ratio_to_ceiling"), "<=", 1.5),
    ("evaluate() median, µs", ("in_process", "evaluate_median_us"), "<=", 100),
    ("worst accepted request, ms", ("in_process", "worst_accepted_request_ms"), "<=", 50),
)


def targets(report: dict) -> list[dict]:
    """Each target the report has a figure for, with the figure and whether it is met."""
    checked = []
    for name, keys, comparison, bound in TARGETS:
        figure = report
        for key in keys:
            figure = figure.get(key, {}) if isinstance(figure, dict) else {}
        if isinstance(figure, int | float):
            met = figure >= bound if comparison == ">=" else figure <= bound
            checked.append({"target": f"{name} {comparison} {bound}", "figure": figure, "met": met})
    return checked


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m advisor.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=20, help="interleaved slices the load is cut into"
    )
    parser.add_argument("--out", type=Path, default=Path("bench", "results.json"))
    parser.add_argument("--no-http", action="store_true", help="only the in-process figures")
    parser.add_argument(
        "--soak", type=int, metavar="N", help="instead: N advice requests, memory growth per worker"
    )
    args = parser.parse_args(argv)
    if args.soak:
        report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
        report["soak"] = soak(args.soak, args.connections)
        out = args.out.with_name("soak.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report["soak"], indent=2))
        print(f"written to {out}")
        return 0

    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    report["in_process"] = in_process(default_engine())
    report["in_process"].update(worst_request(default_engine()))
    if not args.no_http:
        report["connections"] = args.connections
        report["rounds"] = args.rounds
        report["http"] = over_http(args.duration, args.connections, args.rounds)
    report["targets"] = targets(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    print(f"machine: {report['machine']['cpus']} CPUs, {report['machine']['cpu']}")
    for key, value in report["in_process"].items():
        print(f"  {key:34} {value}")
    for _name, figures in report.get("http", {}).items():
        ratios = ""
        if "rps_ratio_to_ceiling" in figures:
            ratios = (
                f"  ×{figures['rps_ratio_to_ceiling']} rps, ×{figures['p99_ratio_to_ceiling']} p99"
            )
        print(
            f"  {figures['path']:14} {figures['rps']:9.1f} req/s  p50 {figures['p50_ms']:.2f} ms"
            f"  p99 {figures['p99_ms']:.2f} ms  errors {figures['errors']}{ratios}"
        )
    for row in report["targets"]:
        print(f"  {'met   ' if row['met'] else 'MISSED'} {row['target']}: {row['figure']}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
