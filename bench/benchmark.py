"""Benchmark: in-process engine timings and HTTP throughput under wrk.

    python -m bench [--duration 20] [--connections 32] [--rounds 20]
                    [--out bench/results.json] [--no-http] [--soak N]

In-process it times `Engine.evaluate` on states that never repeat (random
stages, fractional hours, absolute times with `now`, random flags): cold
(memo off: durable_rules runs for every state), warm (every region of the
rules put to durable_rules beforehand, as a gunicorn worker has them, and
20,000 other states seen), with the memo filled only as states come (as
before regions were prepared), and firing alone (the rules fired, no answer
built), each as median and p99; zen-engine's bare evaluation of the same
rules beside it (`bench.zen_peer`, when installed), cold and warm; then the
same states with three plans of 100 characters against none, the 60 repeated
states, and moderation of a 5,000-character article (1,000 characters of
each article of the corpus), of 5,000 characters of the satire alone (the
worst case, dense with harms), of one plan;
the catalogue's GET routes through the whole app, prepared against built per
request (`bench.catalogue`); and, through the whole app with its caches off,
the costliest requests the contract accepts (`worst_requests`), reporting the
worst one's server time.

Over HTTP it starts gunicorn with the packaged settings on loopback (rate
limits off, so the load generator is not throttled) and drives, with wrk in
interleaved rounds of the same run: ``/health/live`` (the framework's
ceiling on this machine), ``/v1/advice`` with states that never repeat (the
headline), the same states with three plans each, the 60 repeated states,
and ``/v1/moderate`` (cycling through 10 texts). It reports requests/s, p50
and p99 with the ratios to the ceiling (plans: to the same states without
plans), then whether each target is met.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import random
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

from advisor.config import Settings, default_engine
from advisor.engine import Engine, prepare_regions
from advisor.state import FLAGS, InterviewState, to_fact

from . import zen_peer
from .catalogue import catalogue_timings
from .moderation import PLANS, median_ms, sample_article
from .server import gunicorn

STAGES = ("closing", "after", "offer", "rejected", "next_round")
HOURS = (0, 2, 23, 30, 100, 150, 260, 400, 2000)

#: The end of every script: one line of figures for the benchmark to read.
_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  local drawn = drawn_by_threads and drawn_by_threads() or 0
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f,'
    .. ' "errors": %d, "drawn": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, drawn))
end
"""

#: A script cycling through fixed bodies, each request formatted once, before the
#: clock starts (wrk runs `init` first), so that wrk spends no time building them.
_CYCLE = string.Template(
    """
local bodies = {$bodies}
local requests = {}
local counter = 0
init = function(args)
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("$method", "$path", {["Content-Type"] = "application/json"}, body)
  end
end
request = function()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end
"""
)

#: Words the plans of the never-repeating load are made of; a few are unsafe.
PLAN_WORDS = {
    "verbs": ["Send", "Write", "Ask", "Call", "Email", "Prepare", "Review", "Draft", "Plan"],
    "objects": [
        "a short thank-you note to the panel",
        "my consultant for news about the role",
        "the notes I took about the team",
        "questions about the start date",
        "three pints at the pub and drive home",
        "the hiring manager every hour until they answer",
        "my referees about the final round",
    ],
    "whens": ["tonight", "tomorrow morning", "on Friday", "after lunch", "next week"],
}
PLAN_CHARS = 100

#: States that never repeat, drawn by wrk itself: every stage, hours with decimals
#: (or the interview's end and `now` as date-times in one of four offsets), random
#: flags, counts and decision dates; with `with_plans`, three plans of `PLAN_CHARS`
#: characters. Each thread seeds its own generator, so two scripts with the same
#: seed send the same states, with and without plans. Seeded alike at every run of
#: wrk, it would send the same states in every slice of a benchmark, so the loads
#: send prepared bodies (`_POOL`), and draw here only past them.
_FRESH = string.Template(
    """
local stages = {"closing", "after", "offer", "rejected", "next_round"}
local flags = {$flags}
local interest = {"yes", "unsure", "no"}
local zones = {{"+00:00", 0}, {"+01:00", 3600}, {"-05:00", -18000}, {"+05:30", 19800}}
local verbs = {$verbs}
local objects = {$objects}
local whens = {$whens}
local with_plans = $with_plans
local base = os.time()
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

init = function(args)
  math.randomseed($seed + 7919 * (thread_number or 0))
end

local function pick(list)
  return list[math.random(#list)]
end

local function plan()
  local text = pick(verbs) .. " " .. pick(objects) .. " " .. pick(whens)
  while #text < $plan_chars do
    text = text .. ", then " .. string.lower(pick(verbs)) .. " " .. pick(objects) .. " " .. pick(whens)
  end
  return string.sub(text, 1, $plan_chars - 1) .. "."
end

local function stamp(seconds, zone)
  return os.date("!%Y-%m-%dT%H:%M:%S", seconds + zone[2]) .. zone[1]
end

request = function()
  local stage = pick(stages)
  local parts = {'"stage":"' .. stage .. '"'}
  local hours = math.random() * 720
  if math.random() < 0.1 then hours = math.random() * 8000 end
  if stage == "closing" then hours = 0 end
  if math.random() < 0.3 then
    local zone = pick(zones)
    local now = base + math.random(0, 86400 * 30)
    parts[#parts + 1] = '"interview_ended_at":"' .. stamp(now - math.floor(hours * 3600), zone)
      .. '","now":"' .. stamp(now, zone) .. '"'
  elseif stage ~= "closing" then
    parts[#parts + 1] = string.format('"hours_since":%.3f', hours)
  end
  for i = 1, #flags do
    local draw = math.random()
    if draw < 0.4 then
      parts[#parts + 1] = '"' .. flags[i] .. '":true'
    elseif draw < 0.7 then
      parts[#parts + 1] = '"' .. flags[i] .. '":false'
    end
  end
  if math.random() < 0.4 then
    parts[#parts + 1] = '"decision_expected_in_days":' .. math.random(0, 21)
  end
  if math.random() < 0.3 then parts[#parts + 1] = '"follow_ups_sent":' .. math.random(0, 3) end
  if math.random() < 0.2 then parts[#parts + 1] = '"competing_offers":' .. math.random(0, 2) end
  if math.random() < 0.3 then
    parts[#parts + 1] = '"still_interested":"' .. pick(interest) .. '"'
  end
  local plans = {plan(), plan(), plan()}
  if with_plans then
    parts[#parts + 1] = '"plans":["' .. table.concat(plans, '","') .. '"]'
  end
  local body = "{" .. table.concat(parts, ",") .. "}"
  return wrk.format("POST", "/v1/advice", {["Content-Type"] = "application/json"}, body)
end
"""
)

#: States that never repeat, prepared before the clock starts: each thread reads its
#: own file of bodies (one a line, `NeverRepeated`) in `init`, formats each request
#: once, and sends each once. A thread that runs out of them (a load faster than
#: prepared for) draws further states as `_FRESH` does, seeded by the clock, and
#: counts them (`drawn`).
_POOL = string.Template(
    _FRESH.template.replace("request = function()", "local function draw()", 1)
    + """
local prepared = {}
local sent = 0
drawn = 0 -- global: the main state reads each thread's in `done`
local all_threads = {}

setup = function(thread)
  all_threads[#all_threads + 1] = thread
  thread:set("thread_number", #all_threads)
end

init = function(args)
  math.randomseed(os.time() + 7919 * (thread_number or 0))
  for line in io.lines(args[1] .. "." .. thread_number) do
    prepared[#prepared + 1] = wrk.format(
      "POST", "/v1/advice", {["Content-Type"] = "application/json"}, line)
  end
end

request = function()
  sent = sent + 1
  local request = prepared[sent]
  if request then return request end
  drawn = drawn + 1
  return draw()
end

drawn_by_threads = function()
  local total = 0
  for _, thread in ipairs(all_threads) do total = total + (thread:get("drawn") or 0) end
  return total
end
"""
)

ZONES = (0, 60, -300, 330)


def fresh_bodies(count: int, seed: int, with_plans: bool = False) -> list[dict]:
    """`count` request bodies drawn as the never-repeating HTTP load draws them."""
    rng = random.Random(seed)
    return [_fresh_body(rng, with_plans) for _ in range(count)]


#: The moment the absolute times of `fresh_bodies` are drawn around.
FRESH_NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def _fresh_body(rng: random.Random, with_plans: bool) -> dict:
    stage = rng.choice(STAGES)
    body: dict = {"stage": stage}
    hours = rng.random() * (8000 if rng.random() < 0.1 else 720)
    if stage == "closing":
        hours = 0
    if rng.random() < 0.3:
        zone = timezone(timedelta(minutes=rng.choice(ZONES)))
        moment = FRESH_NOW + timedelta(seconds=rng.randint(0, 86400 * 30))
        ended = moment - timedelta(seconds=math.floor(hours * 3600))
        body["interview_ended_at"] = ended.astimezone(zone).isoformat()
        body["now"] = moment.astimezone(zone).isoformat()
    elif stage != "closing":
        body["hours_since"] = round(hours, 3)
    for flag in FLAGS:
        draw = rng.random()
        if draw < 0.7:
            body[flag] = draw < 0.4
    if rng.random() < 0.4:
        body["decision_expected_in_days"] = rng.randint(0, 21)
    if rng.random() < 0.3:
        body["follow_ups_sent"] = rng.randint(0, 3)
    if rng.random() < 0.2:
        body["competing_offers"] = rng.randint(0, 2)
    if rng.random() < 0.3:
        body["still_interested"] = rng.choice(("yes", "unsure", "no"))
    plans = [_plan(rng) for _ in range(3)]
    if with_plans:
        body["plans"] = plans
    return body


class NeverRepeated:
    """Bodies of states that never repeat within a run, for one HTTP load: drawn as
    `fresh_bodies` draws them, from one generator for the whole run, each state
    (plans aside) sent at most once. A state drawn again is skipped (`skipped`), and
    skipped alike with and without plans, so that two loads of the same seed keep
    sending the same states."""

    def __init__(self, seed: int, with_plans: bool = False):
        self._rng = random.Random(seed)
        self._with_plans = with_plans
        self._seen: set[str] = set()
        self.skipped = 0

    def take(self, count: int) -> list[str]:
        """The next `count` bodies, as compact JSON, none of them taken before."""
        bodies = []
        while len(bodies) < count:
            body = _fresh_body(self._rng, self._with_plans)
            plans = body.pop("plans", None)
            state = json.dumps(body, separators=(",", ":"))
            if state in self._seen:
                self.skipped += 1
                continue
            self._seen.add(state)
            if plans is not None:
                body["plans"] = plans
                state = json.dumps(body, separators=(",", ":"))
            bodies.append(state)
        return bodies

    def files(self, folder: Path, per_thread: int, threads: int = 2) -> str:
        """Write the next `per_thread` bodies for each of `threads` wrk threads, one a
        line, to files named by the prefix returned and each thread's number."""
        prefix = folder / f"bodies-{id(self)}-{len(self._seen)}"
        for number in range(1, threads + 1):
            lines = "\n".join(self.take(per_thread))
            Path(f"{prefix}.{number}").write_text(lines + "\n")
        return str(prefix)


def _plan(rng: random.Random) -> str:
    def clause() -> str:
        words = PLAN_WORDS
        verb = rng.choice(words["verbs"])
        return f"{verb} {rng.choice(words['objects'])} {rng.choice(words['whens'])}"

    text = clause()
    while len(text) < PLAN_CHARS:
        more = clause()
        text += ", then " + more[0].lower() + more[1:]
    return text[: PLAN_CHARS - 1] + "."


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


def _timings_us(func, items, repeat: int = 1) -> list[float]:
    timings = []
    for _ in range(repeat):
        for item in items:
            started = time.perf_counter()
            func(item)
            timings.append(time.perf_counter() - started)
    return [t * 1e6 for t in timings]


def _spread(timings: list[float]) -> dict:
    """Median and 99th percentile, in µs."""
    ordered = sorted(timings)
    return {
        "median_us": round(statistics.median(ordered), 1),
        "p99_us": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
    }


#: Never-repeated states a worker has seen before the warm figures are taken.
WARM_STATES = 20000


def in_process(engine: Engine) -> dict:
    """The figures of the module's docstring, on a fresh engine of `engine`'s rules."""
    # Built before the regions are prepared: its memo fills as states come.
    lazy = Engine(engine.catalogue, engine.rulebook, engine.moderator)
    started = time.perf_counter()
    regions = prepare_regions(engine.rulebook)  # as the gunicorn master does
    prepared_s = time.perf_counter() - started
    warm = Engine(engine.catalogue, engine.rulebook, engine.moderator)
    cold = Engine(engine.catalogue, engine.rulebook, engine.moderator, memo_size=0)
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)

    def states(bodies):
        return [InterviewState.parse(b, now) for b in bodies]

    for state in states(fresh_bodies(WARM_STATES, seed=1)):  # as a running worker has it
        warm.evaluate(state)
        lazy.evaluate(state)
    fresh = states(fresh_bodies(5000, seed=2))
    planned = states(fresh_bodies(1000, seed=3, with_plans=True))
    unplanned = states(fresh_bodies(1000, seed=3))
    for state in planned[:100]:
        warm.evaluate(state)
    repeated = [InterviewState.parse(s) for s in bench_states()]
    for state in repeated:
        warm.evaluate(state)
    moderator = engine.moderator
    content = Settings().content_dir
    article = sample_article(content)
    satire = (content / "articles" / "accolade.txt").read_text(encoding="utf-8")[:5000]
    figures = {
        "regions": regions,
        "prepare_regions_s": round(prepared_s, 2),
        "evaluate_cold": _spread(_timings_us(cold.evaluate, fresh[:2000])),
        "fire_cold": _spread(_timings_us(cold.fire, fresh[:2000])),
        "evaluate_warm": _spread(_timings_us(warm.evaluate, fresh)),
        "fire_warm": _spread(_timings_us(warm.fire, fresh)),
        "evaluate_lazy_memo": _spread(_timings_us(lazy.evaluate, fresh)),
        "memo_regions": warm.memo_info().currsize,
        "lazy_memo_regions": lazy.memo_info().currsize,
        "evaluate_repeated": _spread(_timings_us(warm.evaluate, repeated, 30)),
        "evaluate_without_plans": _spread(_timings_us(warm.evaluate, unplanned[100:])),
        "evaluate_with_3_plans": _spread(_timings_us(warm.evaluate, planned[100:])),
        # Moderation figures start each run with the engine's answers forgotten.
        "moderate_article_5000_chars_median_ms": round(median_ms(moderator, article, 100), 3),
        "moderate_satire_5000_chars_median_ms": round(median_ms(moderator, satire, 100), 3),
        "moderate_plan_median_ms": round(median_ms(moderator, PLANS[0], 500), 3),
    }
    figures["plans_ratio"] = round(
        figures["evaluate_with_3_plans"]["median_us"]
        / figures["evaluate_without_plans"]["median_us"],
        2,
    )
    figures.update(zen_figures(warm, fresh))
    if "zen_fire" in figures:
        figures["evaluate_warm_vs_zen"] = round(
            figures["evaluate_warm"]["median_us"] / figures["zen_fire"]["median_us"], 3
        )
    for path, (prepared, built) in catalogue_timings(warm).items():
        figures[f"GET {path}"] = {**_spread(prepared), "built_per_request": _spread(built)}
        figures[f"GET {path} prepared vs built"] = round(
            statistics.median(prepared) / statistics.median(built), 3
        )
    warm.close()
    cold.close()
    lazy.close()
    return figures


def zen_figures(engine: Engine, states: list[InterviewState]) -> dict:
    """zen-engine on the same rules (`bench.zen_peer`), beside `engine`: its bare
    evaluation of each state's fact, cold (the decision just built, each state met
    once) and warm (a second pass), and how many states it fired the same rules for."""
    if not zen_peer.available():
        print("zen-engine is not installed: its line is left out", file=sys.stderr)
        return {}
    peer = zen_peer.ZenRules(engine.rulebook)
    facts = [to_fact(state) for state in states]
    cold = _spread(_timings_us(peer.fire, facts))
    agree = sum(
        peer.fire(f) == frozenset(engine.fire(s)) for f, s in zip(facts, states, strict=True)
    )
    return {
        "zen_rows": peer.rows,
        "zen_fire_cold": cold,
        "zen_fire": _spread(_timings_us(peer.fire, facts)),
        "zen_agrees": f"{agree} of {len(states)}",
    }


#: Texts of one shape repeated, each once a screen's worst (time in proportion to the
#: square of a word's or a run's length): one letter, letters doubled, camel case,
#: a ligature, line breaks.
_SHAPES = {
    "one letter": "x",
    "doubled letters": "aabb",
    "camel case": "aA",
    "a ligature": "\ufb00",
    "line breaks": "\n",
}


def worst_requests() -> dict[str, dict]:
    """The costliest bodies the contract accepts, each as (path, body): the longest
    text dense with harms and negations, the longest runs of one shape, and the most
    plans of the longest length, explained."""
    dense = ("Three pints then drive home, don't. " * 600)[:20_000]
    plan = ("Pay a referee, then phone them hourly; never. " * 12)[:500]
    shapes = {
        f"moderate 20,000 characters of one word: {name}": (
            "/v1/moderate",
            {"text": (run * 20_000)[:20_000]},
        )
        for name, run in _SHAPES.items()
    }
    return {
        **shapes,
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
    from advisor.web import create_app

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
    """A script cycling through `bodies`."""
    quoted = ", ".join(json.dumps(b) for b in bodies)  # JSON strings are valid Lua strings
    code = _CYCLE.substitute(bodies=quoted or '""', method=method, path=path)
    return _script(folder, name, code)


def _pool_lua(folder: Path, name: str) -> Path:
    """A script sending each of the prepared bodies it is given once (see `_POOL`)."""
    code = _POOL.substitute(
        flags=", ".join(json.dumps(f) for f in FLAGS),
        verbs=", ".join(json.dumps(w) for w in PLAN_WORDS["verbs"]),
        objects=", ".join(json.dumps(w) for w in PLAN_WORDS["objects"]),
        whens=", ".join(json.dumps(w) for w in PLAN_WORDS["whens"]),
        with_plans="false",
        seed=0,
        plan_chars=PLAN_CHARS,
    )
    return _script(folder, name, code)


def _script(folder: Path, name: str, code: str) -> Path:
    script = folder / f"{name}.lua"
    script.write_text(code + _DONE)
    return script


#: wrk's threads; each reads its own file of prepared bodies.
WRK_THREADS = 2


def _wrk(url: str, script: Path, duration: int, connections: int, *args: str) -> dict:
    result = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
            *(("--", *args) if args else ()),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    figures = json.loads(line.removeprefix("RESULT "))
    figures["rps"] = round(figures["requests"] / figures["seconds"], 1)
    return figures


@contextlib.contextmanager
def served(baseline: Path | None = None, **settings: str):
    """The service as `server.gunicorn` runs it, rate limits off unless `settings` set
    them; yield the servers by name (``this``, and ``baseline`` serving that copy of the
    project beside it) and a scratch folder."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench`, which installs it")
    env = {"ADVISOR_RATE_LIMITS": ""}
    env.update({f"ADVISOR_{k.upper()}": v for k, v in settings.items()})
    with contextlib.ExitStack() as stack:
        servers = {"this": stack.enter_context(gunicorn(env=env))}
        if baseline is not None:
            servers["baseline"] = stack.enter_context(gunicorn(env=env, checkout=baseline))
        yield servers, Path(stack.enter_context(tempfile.TemporaryDirectory()))


class Load(NamedTuple):
    """An HTTP load: the path it requests, its wrk script, and, for the loads of
    states that never repeat, the bodies it sends (each once)."""

    path: str
    script: Path
    bodies: NeverRepeated | None = None


def _scripts(folder: Path) -> dict[str, Load]:
    """Each load by name."""
    texts = [json.dumps({"text": t}) for t in bench_texts()]
    repeated = [json.dumps(s) for s in bench_states()]
    return {
        "ceiling": Load("/health/live", _lua(folder, "live", "GET", "/health/live", [""])),
        "advice": Load("/v1/advice", _pool_lua(folder, "advice"), NeverRepeated(seed=11)),
        "advice_plans": Load(
            "/v1/advice", _pool_lua(folder, "plans"), NeverRepeated(seed=11, with_plans=True)
        ),
        "advice_repeated": Load(
            "/v1/advice", _lua(folder, "repeated", "POST", "/v1/advice", repeated)
        ),
        "moderate": Load("/v1/moderate", _lua(folder, "moderate", "POST", "/v1/moderate", texts)),
    }


#: Bodies prepared per wrk thread and second of a slice: at first (warm-up), then
#: four times the fastest a thread sent that load so far (at least 1,000 a slice);
#: a thread that runs out draws more itself (counted as `drawn`).
FIRST_BODIES_PER_THREAD_SECOND = 3000


def _slice(base: str, load: Load, seconds: int, connections: int, folder: Path, pace: dict) -> dict:
    """One wrk run of `load` against the server at `base`; `pace` keeps the fastest rate
    per thread this load reached on this server, to prepare enough bodies next time."""
    if load.bodies is None:
        return _wrk(f"{base}{load.path}", load.script, seconds, connections)
    rate = pace.get((base, load.path, load.bodies), FIRST_BODIES_PER_THREAD_SECOND / 4)
    per_thread = max(1000, math.ceil(4 * rate * seconds))
    prefix = load.bodies.files(folder, per_thread, WRK_THREADS)
    try:
        figures = _wrk(f"{base}{load.path}", load.script, seconds, connections, prefix)
    finally:
        for number in range(1, WRK_THREADS + 1):
            Path(f"{prefix}.{number}").unlink(missing_ok=True)
    figures["prepared"] = per_thread * WRK_THREADS
    thread_rate = figures["requests"] / figures["seconds"] / WRK_THREADS
    key = (base, load.path, load.bodies)
    pace[key] = max(pace.get(key, 0), thread_rate)
    return figures


#: Pause before each slice, so that requests still queued from the last one
#: (wrk stops sending, the workers do not stop answering) are not counted in it.
SETTLE_SECONDS = 0.5
#: Seconds of each load before the rounds: every worker meets the regions most
#: states lie in, as it does in its first minute of real traffic.
WARM_UP_SECONDS = {"advice": 10, "advice_plans": 4}
#: The HTTP loads, by name (`_scripts`).
LOADS = ("ceiling", "advice", "advice_plans", "advice_repeated", "moderate")
#: Each load compared with another run beside it in the same round.
COMPARED = {
    "advice": "ceiling",
    "advice_plans": "advice",
    "advice_repeated": "ceiling",
    "moderate": "ceiling",
}


def over_http(
    duration: int,
    connections: int,
    rounds: int = 20,
    loads: list[str] | None = None,
    rate_limits: str = "",
    baseline: Path | None = None,
) -> dict:
    """Each load (`loads`, by default all) for `duration` seconds in all, cut into
    `rounds` interleaved slices (of a whole number of seconds, at least one).

    The machines are shared, so their speed drifts over seconds. Each round runs
    every load once, the order reversed every other round, so a ratio compares
    slices run side by side: to the ceiling, and for plans to the same states
    without plans. The ratio reported is the median of the rounds' ratios, with
    every round's kept. With `rate_limits`, the service counts them (a budget
    the load never spends, so that the limits' cost is in the figures). With
    `baseline`, that copy of the project is served beside this one with the same
    settings, each load's slice run on both in turn in every round; its figures
    come under ``baseline``.
    """
    chosen = set(loads or LOADS)
    chosen |= {COMPARED[name] for name in chosen if name in COMPARED}
    with served(baseline, rate_limits=rate_limits) as (servers, folder):
        scripts = {name: load for name, load in _scripts(folder).items() if name in chosen}
        pace: dict = {}
        for server in servers.values():
            for name, load in scripts.items():
                warm_up = WARM_UP_SECONDS.get(name, 2)
                _slice(server.base, load, warm_up, connections, folder, pace)
        slices = {label: {name: [] for name in scripts} for label in servers}
        seconds = max(1, round(duration / rounds))
        for number in range(rounds):
            turns = [(label, name) for name in scripts for label in servers]
            for label, name in turns if number % 2 == 0 else reversed(turns):
                time.sleep(SETTLE_SECONDS)
                slices[label][name].append(
                    _slice(servers[label].base, scripts[name], seconds, connections, folder, pace)
                )
    results = _results(slices["this"], scripts)
    if "baseline" in slices:
        results["baseline"] = _results(slices["baseline"], scripts)
    return results


def _results(slices: dict[str, list[dict]], scripts: dict) -> dict:
    """One server's figures: each load's slices combined, and the ratios of the rounds."""
    results = {
        name: {"path": scripts[name].path, **_combined(runs)} for name, runs in slices.items()
    }
    for name, other in COMPARED.items():
        if name not in slices:
            continue
        pairs = list(zip(slices[name], slices[other], strict=True))
        rps = [run["rps"] / alongside["rps"] for run, alongside in pairs]
        p99 = [run["p99_ms"] / alongside["p99_ms"] for run, alongside in pairs]
        results[name]["compared_with"] = other
        results[name]["rps_ratio"] = round(statistics.median(rps), 3)
        results[name]["p99_ratio"] = round(statistics.median(p99), 3)
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
        # The slowest request of any slice: a pause of a whole worker shows here.
        "max_ms": round(max(run["max_ms"] for run in runs), 3),
        "errors": sum(run["errors"] for run in runs),
        "rps": round(requests / seconds, 1),
        "rounds": len(runs),
        # Bodies wrk drew itself, past the prepared ones (states that never repeat).
        "drawn": sum(run.get("drawn", 0) for run in runs),
    }


def soak(total: int, connections: int) -> dict:
    """`total` advice requests of states that never repeat, caches at their defaults
    (bounded): how much each worker's memory grows."""
    with served() as (servers, folder):
        server = servers["this"]
        base = server.base
        load = Load("/v1/advice", _pool_lua(folder, "soak"), NeverRepeated(int(time.time())))
        pace: dict = {}
        _slice(base, load, 5, connections, folder, pace)  # warm up every worker
        before = server.workers_rss_kb()
        done = errors = 0
        started = time.monotonic()
        while done < total:
            figures = _slice(base, load, 30, connections, folder, pace)
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
    ("never-repeated /v1/advice req/s vs ceiling", ("http", "advice", "rps_ratio"), ">=", 0.8),
    ("never-repeated /v1/advice p99 vs ceiling", ("http", "advice", "p99_ratio"), "<=", 1.5),
    ("repeated /v1/advice req/s vs ceiling", ("http", "advice_repeated", "rps_ratio"), ">=", 0.88),
    ("3 plans: req/s vs none", ("http", "advice_plans", "rps_ratio"), ">=", 0.667),
    ("3 plans: p99 vs none", ("http", "advice_plans", "p99_ratio"), "<=", 1.5),
    ("evaluate() warm median, µs", ("in_process", "evaluate_warm", "median_us"), "<", 57),
    (
        "evaluate() warm median vs zen-engine's bare evaluation",
        ("in_process", "evaluate_warm_vs_zen"),
        "<",
        1,
    ),
    ("evaluate() warm p99, µs", ("in_process", "evaluate_warm", "p99_us"), "<=", 200),
    ("evaluate() 3 plans vs none", ("in_process", "plans_ratio"), "<=", 1.5),
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
            met = {
                ">=": figure >= bound,
                "<=": figure <= bound,
                "<": figure < bound,
            }[comparison]
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


def _load_average() -> list[float]:
    """The machine's load average over 1, 5 and 15 minutes: how busy it was."""
    return [round(x, 2) for x in os.getloadavg()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=20, help="interleaved slices the load is cut into"
    )
    parser.add_argument("--out", type=Path, default=Path("bench", "results.json"))
    parser.add_argument("--no-http", action="store_true", help="only the in-process figures")
    parser.add_argument(
        "--http-only", action="store_true", help="only the HTTP loads, no in-process figures"
    )
    parser.add_argument(
        "--loads",
        type=lambda text: [name for name in text.split(",") if name],
        help=f"the HTTP loads to run, comma-separated, of {', '.join(LOADS)} (with what each "
        "is compared with); by default all",
    )
    parser.add_argument(
        "--rate-limits",
        default="",
        metavar="LIMITS",
        help='serve with these rate limits (e.g. "100000000 per minute", a budget the load '
        "never spends, so that counting is in the figures); by default none",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another copy of the project (e.g. from git archive) to serve beside this one, "
        "with the same settings, each HTTP slice run on both in turn",
    )
    parser.add_argument(
        "--soak", type=int, metavar="N", help="instead: N advice requests, memory growth per worker"
    )
    args = parser.parse_args(argv)
    if args.soak:
        report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
        report["load_average"] = {"start": _load_average()}
        report["soak"] = soak(args.soak, args.connections)
        report["load_average"]["end"] = _load_average()
        out = args.out.with_name("soak.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report["soak"], indent=2))
        print(f"written to {out}")
        return 0

    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    report["load_average"] = {"start": _load_average()}
    if not args.http_only:
        report["in_process"] = in_process(default_engine())
        report["in_process"].update(worst_request(default_engine()))
    if not args.no_http:
        report["connections"] = args.connections
        report["rounds"] = args.rounds
        report["rate_limits"] = args.rate_limits or "off"
        report["http"] = over_http(
            args.duration,
            args.connections,
            args.rounds,
            args.loads,
            args.rate_limits,
            args.baseline.resolve() if args.baseline else None,
        )
        if args.baseline:
            report["baseline"] = str(args.baseline)
            report["http_baseline"] = report["http"].pop("baseline")
    report["load_average"]["end"] = _load_average()
    report["targets"] = targets(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"machine: {report['machine']['cpus']} CPUs, {report['machine']['cpu']};"
        f" load average (1, 5, 15 min) {report['load_average']['start']} at the start,"
        f" {report['load_average']['end']} at the end"
    )
    for key, value in report.get("in_process", {}).items():
        if isinstance(value, dict):
            value = f"median {value['median_us']} µs, p99 {value['p99_us']} µs"
        print(f"  {key:38} {value}")
    for part, title in (("http", "this code"), ("http_baseline", "baseline")):
        if part in report and "http_baseline" in report:
            print(f" {title}:")
        for name, figures in report.get(part, {}).items():
            ratios = ""
            if "rps_ratio" in figures:
                ratios = (
                    f"  ×{figures['rps_ratio']} req/s, ×{figures['p99_ratio']} p99"
                    f" vs {figures['compared_with']}"
                )
            print(
                f"  {name:16} {figures['rps']:9.1f} req/s  p50 {figures['p50_ms']:.2f} ms"
                f"  p99 {figures['p99_ms']:.2f} ms  max {figures['max_ms']:.0f} ms"
                f"  errors {figures['errors']}{ratios}"
            )
    for row in report["targets"]:
        print(f"  {'met   ' if row['met'] else 'MISSED'} {row['target']}: {row['figure']}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
