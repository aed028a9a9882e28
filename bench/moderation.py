"""Time moderation: a ~5,000-character article, a single plan and a request's three plans.

Run ``python -m bench.moderation``.  The article is built from the
five articles of the corpus (the first ~1,000 characters of each); each run
starts with the rules engine's answers forgotten, so the figures include
its evaluations.  Each figure is given in CPU time (this process's, so
other programs on the machine count less) and in wall time.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

import yaml

from advisor.engine import Engine
from advisor.moderation import Moderator

ROOT = Path(__file__).resolve().parents[1]
#: A harmful and a harmless plan.
PLANS = (
    "I'm going to have a few pints after the interview and then drive home.",
    "I'll send one short email next Tuesday asking if there's any news.",
)


def sample_article(content: Path, size: int = 5000) -> str:
    texts = [
        path.read_text(encoding="utf-8") for path in sorted((content / "articles").glob("*.txt"))
    ]
    share = size // len(texts)
    return "\n\n".join(text[:share] for text in texts)[:size]


def median_ms(moderator: Moderator, text: str, runs: int) -> float:
    """The median wall time of moderating `text`, in milliseconds."""
    return medians_ms(moderator, text, runs)[1]


def medians_ms(moderator: Moderator, text: str, runs: int) -> tuple[float, float]:
    """The median CPU and wall time of moderating `text`, in milliseconds."""
    cpu, wall = [], []
    for _ in range(runs):
        moderator.clear_cache()
        started, started_cpu = time.perf_counter(), time.process_time()
        moderator.moderate(text)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(cpu) * 1000, statistics.median(wall) * 1000


def plans_medians_ms(moderator: Moderator, requests: list[list[str]]) -> tuple[float, float]:
    """The median CPU and wall time of moderating each request's plans, in
    milliseconds; the rules engine's answers are forgotten before each."""
    cpu, wall = [], []
    for plans in requests:
        moderator.clear_cache()
        started, started_cpu = time.perf_counter(), time.process_time()
        for plan in plans:
            moderator.moderate(plan)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(cpu) * 1000, statistics.median(wall) * 1000


def _figures(cpu: float, wall: float, digits: int = 2) -> str:
    return f"median {cpu:.{digits}f} ms CPU, {wall:.{digits}f} ms wall"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=ROOT / "rules" / "moderation")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    # First, as a command-line run starts: nothing compiled yet.
    started, started_cpu = time.perf_counter(), time.process_time()
    Engine.load(args.rules.parent, args.content).close()
    print(
        "engine start-up (rules compiled, content gate passed):"
        f" {(time.process_time() - started_cpu) * 1000:.0f} ms CPU,"
        f" {(time.perf_counter() - started) * 1000:.0f} ms wall"
    )
    re.purge()  # compile again, not from the regex module's cache
    rejected = yaml.safe_load((args.content / "rejected.yaml").read_text(encoding="utf-8"))
    started, started_cpu = time.perf_counter(), time.process_time()
    moderator = Moderator.load(args.rules, rejected["rejected"])
    print(
        f"load and compile: {(time.process_time() - started_cpu) * 1000:.0f} ms CPU,"
        f" {(time.perf_counter() - started) * 1000:.0f} ms wall"
    )
    article = sample_article(args.content)
    moderator.moderate(article)  # warm up
    figures = _figures(*medians_ms(moderator, article, args.runs))
    print(f"article ({len(article)} chars): {figures} over {args.runs} runs")
    satire = (args.content / "articles" / "accolade.txt").read_text(encoding="utf-8")[:5000]
    figures = _figures(*medians_ms(moderator, satire, args.runs))
    print(f"satire only ({len(satire)} chars, the worst case): {figures} over {args.runs} runs")
    for plan in PLANS:
        figures = _figures(*medians_ms(moderator, plan, args.runs * 5), digits=3)
        print(f"plan ({len(plan)} chars): {figures}  {plan!r}")
    from .benchmark import PLAN_CHARS, fresh_bodies  # it imports this module

    requests = [body["plans"] for body in fresh_bodies(args.runs * 5, seed=3, with_plans=True)]
    figures = _figures(*plans_medians_ms(moderator, requests), digits=3)
    print(f"the 3 plans of a request ({PLAN_CHARS} chars each, all different): {figures}")


if __name__ == "__main__":
    main()
