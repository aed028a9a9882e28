"""Time moderation: a ~5,000-character article and a single plan.

Run ``python -m bench.moderation``.  The article is built from the
five articles of the corpus (the first ~1,000 characters of each); each run
starts with the rules engine's answers forgotten, so the figures include
its evaluations.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

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
    timings = []
    for _ in range(runs):
        moderator.clear_cache()
        started = time.perf_counter()
        moderator.moderate(text)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=ROOT / "rules" / "moderation")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    rejected = yaml.safe_load((args.content / "rejected.yaml").read_text(encoding="utf-8"))
    started = time.perf_counter()
    moderator = Moderator.load(args.rules, rejected["rejected"])
    print(f"load and compile: {(time.perf_counter() - started) * 1000:.0f} ms")
    article = sample_article(args.content)
    moderator.moderate(article)  # warm up
    print(
        f"article ({len(article)} chars): median {median_ms(moderator, article, args.runs):.2f} ms"
        f" over {args.runs} runs"
    )
    satire = (args.content / "articles" / "accolade.txt").read_text(encoding="utf-8")[:5000]
    print(
        f"satire only ({len(satire)} chars, the worst case): median"
        f" {median_ms(moderator, satire, args.runs):.2f} ms over {args.runs} runs"
    )
    for plan in PLANS:
        median = median_ms(moderator, plan, args.runs * 5)
        print(f"plan ({len(plan)} chars): median {median:.3f} ms  {plan!r}")


if __name__ == "__main__":
    main()
