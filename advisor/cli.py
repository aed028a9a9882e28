"""The `advisor` command: serve, advise, draft, moderate, and check or explain rules.

Exit status: 0 success, 1 a text flagged (`moderate`) or a check failed (`rules
check`), 2 bad input, 141 the reader of the output stopped reading (as a filter
killed by SIGPIPE); each command's help says its own (`EXIT_STATUS`).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import socket
import sys

from marshmallow import ValidationError

from ._data import DataError, describe_errors
from .answer import write_verdict
from .cases import load_cases, run_cases, run_moderation_cases
from .config import (
    LISTENER_ALLOWED,
    Settings,
    default_engine,
    listener_ok,
    packaged,
    settings_from_env,
)
from .drafts import (
    DETAIL_FIELDS,
    DRAFT_ACTIONS,
    DraftDetailsSchema,
    dump_draft,
    load_draft_cases,
    load_drafts,
    run_draft_cases,
)
from .schemas import dump_advice, dump_trace, dump_upcoming_trace
from .state import InterviewState
from .wording import UP, duration, window_words

__all__ = ["main"]


class UsageError(Exception):
    """Input the command cannot use; reported on stderr with exit status 2."""


def gunicorn_command(*options: str) -> list[str]:
    """The command that serves the app with the packaged gunicorn settings, from any folder."""
    settings = str(packaged("gunicorn.conf.py"))
    return [sys.executable, "-m", "gunicorn", "-c", settings, *options, "advisor.wsgi:app"]


def _settings() -> Settings:
    """The ``ADVISOR_*`` settings; one that is not allowed is bad input, in one line."""
    try:
        return settings_from_env()
    except ValueError as error:
        raise UsageError(str(error)) from None


def _read(name: str) -> str:
    """The text of the file `name`, or of standard input for ``-``: UTF-8 either way,
    whatever the locale, so that piping a file in reads what naming it reads."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as handle:
                data = handle.read()
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{name}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}): "
            "save it as UTF-8"
        ) from None


def _state(name: str) -> InterviewState:
    text = _read(name)
    if not text.strip():
        raise UsageError(f"{name}: is empty: give the interview state as a JSON object")
    if text.startswith("\ufeff"):  # as some editors save UTF-8; the parser's words name Python
        raise UsageError(
            f"{name}: starts with a byte order mark (U+FEFF), which a state must not carry: "
            "save it as UTF-8 without one"
        )
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{name}: not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise UsageError(f"{name}: the state must be a JSON object")
    try:
        return InterviewState.parse(body)
    except ValidationError as error:
        raise UsageError(f"{name}: {describe_errors(error)}") from error


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _window(action: dict, hours_since: float) -> str:
    """When to act, in words: 'from now, within 22 hours (due …)', 'from now, no end'.

    An open window has no deadline: its `due` is when it opened, so it is not said."""
    window = action["window"]
    when = window_words(window["start_hours"], window["end_hours"], hours_since)
    closes = action.get("due") and window["end_hours"] is not None
    return when + (f" (due {action['due']})" if closes else "")


def _titles(ids, titles: dict) -> str:
    return "; ".join(titles.get(i, i) for i in ids)


def _print_advice(body: dict, titles: dict) -> None:
    """The advice as text; `titles` names every action (the answer's own words win)."""
    print(f"Ruleset {body['ruleset']['version']} ({body['ruleset']['digest'][:19]}…)")
    print(f"{body['hours_since']:g} hours since the interview ended.\n")
    titles = {**titles, **{action["id"]: action["title"] for action in body["actions"]}}
    for number, action in enumerate(body["actions"], 1):
        print(f"{number}. {action['title']}  [{action['id']}]")
        print(f"   When: {_window(action, body['hours_since'])}")
        print(f"   {action['detail']}")
        print(f"   Why: {action['because']}")
        for source in action["sources"]:
            print(f"   - {source['publisher']}: “{source['quote']}”")
    if body["upcoming"]:
        print("\nWhat comes next, if you do what is due now and hear nothing:")
        for action in body["upcoming"]:
            when = f"in {duration(action['starts_in_hours'], UP)}"
            if "starts" in action:
                when += f" ({action['starts']})"
            print(f"- {when}: {action['title']}  [{action['id']}]")
            print(f"  Why then: {action['because']}")
    if body["avoid"]:
        print("\nNot that:")
        for item in body["avoid"]:
            print(f"- {item['advice']} ({item['category']})")
            print(f"  {item['reason']} Instead: {_titles(item['instead'], titles)}.")
    if body["plans"]:
        print("\nYour plans:")
        for plan in body["plans"]:
            verdict = plan["verdict"].upper()
            extra = (
                f" ({', '.join(plan['categories'])}): {plan['reason']}"
                if plan["categories"]
                else ""
            )
            print(f"- {verdict} “{plan['text']}”{extra}")


def _as_sentence(text: str) -> str:
    """A verdict's reason (a clause: "drinking … and can kill") as a sentence of its own."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _titles_of(engine) -> dict:
    return {a.id: a.title for a in engine.catalogue.actions.values()}


def _advise(args) -> int:
    state = _state(args.state)
    engine = default_engine(_settings())
    body = dump_advice(engine.evaluate(state), state.hours_since)
    _print_json(body) if args.json else _print_advice(body, _titles_of(engine))
    return 0


def _moderate(args) -> int:
    engine = default_engine(_settings())
    verdict = engine.moderate(_read(args.file))
    if args.json:
        _print_json(write_verdict(verdict))
    else:
        titles = _titles_of(engine)
        for sentence in verdict.sentences:
            if sentence.flagged:
                print(f"FLAGGED [{', '.join(sentence.categories)}] {sentence.text}")
                reason = _as_sentence(sentence.reason)
                print(f"  {reason} Instead: {_titles(sentence.instead, titles)}.")
            else:
                print(f"ok {sentence.text}")
        total = len(verdict.sentences)
        flagged = sum(s.flagged for s in verdict.sentences)
        print(f"\n{flagged} of {total} sentence{'' if total == 1 else 's'} flagged.")
        if not verdict.english:
            print("Not read as English, the only language the screen reads: ok is no verdict here.")
    return 1 if verdict.flagged else 0


def _check(args) -> int:
    settings = _settings()
    engine = default_engine(settings)
    report = run_cases(engine, load_cases(settings.rules_dir))
    for result in report.failures:
        print(f"FAIL {result.case.label}: {'; '.join(result.problems)}")
    fired = len(engine.rulebook.rules) - len(report.unfired)
    print(
        f"{len(report.results) - len(report.failures)} of {len(report.results)} cases pass; "
        f"{fired} of {len(engine.rulebook.rules)} rules exercised."
    )
    for rule_id in report.unfired:
        print(f"UNCOVERED rule {rule_id}: no case makes it fire")
    for action_id in report.never_expected:
        print(f"UNCOVERED action {action_id}: no case expects it")
    for action_id in report.never_forbidden:
        print(f"UNCOVERED action {action_id}: no case forbids it")
    count, failures = run_moderation_cases(engine, settings.rules_dir / "moderation")
    for failure in failures:
        print(f"FAIL moderation {failure}")
    print(f"{count - len(failures)} of {count} moderation cases pass.")
    drafts_ok = _check_drafts(engine, settings.content_dir)
    return 0 if report.ok and not failures and drafts_ok else 1


def _check_drafts(engine, content_dir) -> bool:
    """Run the draft cases; print each failure and each variant no case reaches."""
    cases = load_draft_cases(content_dir)
    drafts = load_drafts(content_dir, engine.catalogue, engine.moderator)
    failures, unreached = run_draft_cases(drafts, cases)
    for name, problems in failures.items():
        print(f"FAIL draft {name}: {'; '.join(problems)}")
    print(f"{len(cases) - len(failures)} of {len(cases)} draft cases pass.")
    for variant in unreached:
        print(f"UNCOVERED draft {variant}: no case reaches it")
    return not failures


def _explain(args) -> int:
    state = _state(args.state)
    engine = default_engine(_settings())
    traces = dump_trace(engine.trace(state))
    if args.json:
        _print_json(traces)
        return 0
    for trace in traces:
        mark = "FIRED  " if trace["fired"] else "skipped"
        target = trace.get("action") or f"rejects {trace['rejects']}"
        detail = trace.get("because") or trace.get("failed")
        print(f"{mark} {trace['rule']} → {target}\n        {detail}")
    for row in dump_upcoming_trace(engine.evaluate(state).upcoming):
        when = f"in {duration(row['starts_in_hours'], UP)}"
        print(f"LATER   {row['rule']} → {row['action']}, {when}\n        {row['because']}")
    return 0


def _details(pairs: list[str]) -> dict:
    """``--detail name=value`` options, loaded like the API's ``details``."""
    given = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in DETAIL_FIELDS:
            raise UsageError(
                f"--detail {pair!r}: use NAME=VALUE, NAME one of {', '.join(DETAIL_FIELDS)}"
            )
        given[name] = value
    try:
        return DraftDetailsSchema().load(given)
    except ValidationError as error:
        raise UsageError(describe_errors(ValidationError({"details": error.messages}))) from error


#: What a draft is and whom it is for, by its channel, in the widget's words.
DRAFT_HEADS = {
    "email": "An email to the {}",
    "linkedin": "A LinkedIn connection note to the {}",
    "phone": "Talking points for your call to the {}",
}


def _draft(args) -> int:
    state = _state(args.state)
    details = _details(args.detail)
    settings = _settings()
    engine = default_engine(settings)
    drafts = load_drafts(settings.content_dir, engine.catalogue, engine.moderator)
    try:
        body = dump_draft(drafts.draft(args.action, state, details))
    except ValidationError as error:
        raise UsageError(describe_errors(error)) from error
    if args.json:
        _print_json(body)
        return 0
    print(f"{DRAFT_HEADS[body['channel']].format(body['recipient'])}  [{body['variant']}]")
    if "subject" in body:
        print(f"Subject: {body['subject']}")
    print(f"\n{body['body']}\n")
    print("Following:")
    for source in body["guidance"]:
        print(f"- {source['publisher']}: “{source['quote']}”")
    return 0


def _in_use(bind: str) -> bool:
    """Whether the TCP address `bind` (``host:port``) is already taken, tried as
    gunicorn binds it; any other form, or an address that cannot be tried, is left
    for gunicorn to report."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or bind.startswith(("unix:", "fd://")):
        return False
    host = host.removeprefix("[").removesuffix("]") or "0.0.0.0"
    try:
        addresses = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return True
    return False


def _serve(args) -> int:
    # Said in one line before the engine loads, rather than by gunicorn's retries.
    listeners = [("--bind", args.bind or os.environ.get("ADVISOR_BIND", "127.0.0.1:8000"))]
    listeners.append(("ADVISOR_METRICS_BIND", os.environ.get("ADVISOR_METRICS_BIND", "")))
    for name, bind in listeners:
        if bind and _in_use(bind):
            if name == "ADVISOR_METRICS_BIND":
                instead = "set ADVISOR_METRICS_BIND to another address"
            elif args.bind:
                instead = "serve on another, e.g. advisor serve --bind 127.0.0.1:8080"
            else:
                instead = "serve on another, e.g. ADVISOR_BIND=127.0.0.1:8080 make run"
            raise UsageError(f"{bind} is in use: stop what listens there, or {instead}")
    # As the settings they stand for, not as gunicorn's options: its --bind would replace
    # every listener of the packaged settings, /metrics's (ADVISOR_METRICS_BIND) too.
    if args.bind:
        os.environ["ADVISOR_BIND"] = args.bind
    if args.workers is not None:
        os.environ["ADVISOR_WORKERS"] = str(args.workers)
    argv = gunicorn_command()
    os.execv(argv[0], argv)
    return 0


def _listener(value: str) -> str:
    """``--bind``: a listener as ``ADVISOR_BIND`` takes it, refused as that is, rather than
    by gunicorn's five tries at a host named by the port."""
    if not listener_ok(value, least_port=0):
        raise argparse.ArgumentTypeError(f"{value!r} is not allowed: use {LISTENER_ALLOWED}")
    return value


def _workers(value: str) -> int:
    """``--workers``: as ``ADVISOR_WORKERS``, a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not allowed: use a whole number of at least 1"
        )
    return number


#: What a state argument is, in every subcommand that takes one.
STATE_HELP = (
    "the interview state as JSON, as POST /v1/advice takes it: "
    "a file, or - to read it from standard input"
)
#: Bad input, as every command but `serve` says it (exit status 2).
BAD_INPUT = "2 bad input or a broken rule or content file"
#: What each command's exit status means, below the options of its help: a script
#: tells success from a flagged text or a failed check by it, so each says its own.
EXIT_STATUS = {
    "advisor": "0 success; 1 moderate flagged a sentence, or rules check found a failing "
    f"case\nor a rule or action uncovered; {BAD_INPUT}",
    "serve": "0 stopped (Ctrl+C, SIGTERM); 2 a setting, an address in use, or a broken\n"
    "rule or content file, refused at start; 1 gunicorn's own refusals (an address\n"
    "it cannot listen on, an access log it cannot write); 3 a worker that could not\n"
    "start (the code changed since the start, among others); 75 a reload (SIGHUP)\n"
    "that found the code changed since the start: serve again to run the new code",
    "advise": "0 success, a plan rejected too (its verdict is printed under\n"
    f'"Your plans", or in "plans" with --json); {BAD_INPUT}',
    "moderate": f"0 nothing flagged; 1 a sentence flagged;\n{BAD_INPUT}",
    "draft": "0 success; 2 bad input (a detail the moderation screen refuses too)\n"
    "or a broken rule or content file",
    "rules": "0 success; 1 rules check found a failing case or a rule or action\n"
    f"uncovered; {BAD_INPUT}",
    "check": "0 every case passes and covers every rule and action; 1 a case failed\n"
    f"(FAIL), or a rule or action no case covers (UNCOVERED); {BAD_INPUT}",
    "explain": f"0 success; {BAD_INPUT}",
}


def _exit_status(command: str) -> str:
    return f"exit status: {EXIT_STATUS[command]}"


def _command(commands, name: str, summary: str, example: str | None = None):
    """A subcommand whose help says what it does, shows an example when given one, and
    says what its exit status means."""
    epilog = _exit_status(name)
    epilog = f"example:\n  {example}\n\n{epilog}" if example else epilog
    return commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advisor",
        description=__doc__.splitlines()[0],
        epilog=f"'advisor COMMAND --help' says more about each.\n\n{_exit_status('advisor')}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = _command(commands, "serve", "serve the HTTP API with gunicorn")
    serve.add_argument(
        "--bind", type=_listener, help="host:port or unix:path (default from ADVISOR_BIND)"
    )
    serve.add_argument(
        "--workers", type=_workers, help="worker processes (default from ADVISOR_WORKERS)"
    )
    serve.set_defaults(run=_serve)

    advise = _command(
        commands,
        "advise",
        "advice for an interview state (JSON file or -)",
        """echo '{"stage": "after", "hours_since": 30}' | advisor advise -""",
    )
    advise.add_argument("state", help=STATE_HELP)
    advise.add_argument("--json", action="store_true", help="print the API's JSON")
    advise.set_defaults(run=_advise)

    moderate = _command(
        commands,
        "moderate",
        "screen a text file (or -) for unsafe advice",
        "echo 'Three pints, then drive home.' | advisor moderate -",
    )
    moderate.add_argument("file", help="the text to screen: a file, or - for standard input")
    moderate.add_argument("--json", action="store_true", help="print the API's JSON")
    moderate.set_defaults(run=_moderate)

    draft = _command(
        commands,
        "draft",
        "a ready-to-edit message for an action, for a state (JSON file or -)",
        """echo '{"stage": "after", "hours_since": 2}' | """
        "advisor draft send-thank-you - --detail role='Data Analyst'",
    )
    draft.add_argument("action", choices=DRAFT_ACTIONS, help="the action to draft")
    draft.add_argument("state", help=STATE_HELP)
    draft.add_argument(
        "--detail",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"fill a slot ({', '.join(DETAIL_FIELDS)}); may be repeated",
    )
    draft.add_argument("--json", action="store_true", help="print the API's JSON")
    draft.set_defaults(run=_draft)

    rules = _command(commands, "rules", "check or explain the rules")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True)
    check = _command(
        rule_commands, "check", "validate rules and content, run every case, report coverage"
    )
    check.set_defaults(run=_check)
    explain = _command(
        rule_commands,
        "explain",
        "every rule, fired or not, for a state (JSON file or -)",
        """echo '{"stage": "after", "hours_since": 30}' | advisor rules explain -""",
    )
    explain.add_argument("state", help=STATE_HELP)
    explain.add_argument("--json", action="store_true", help="print the API's JSON")
    explain.set_defaults(run=_explain)
    return parser


#: The exit status of a command whose reader stopped reading, as a shell reports
#: a filter killed by SIGPIPE (`advisor rules explain state.json | head`).
STOPPED_READING = 128 + signal.SIGPIPE


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()  # a reader gone after the last print shows up here
        return status
    except (UsageError, DataError) as error:
        print(f"advisor: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Nothing more can be written; stop quietly, and keep the interpreter's
        # own flush at exit from failing on the same pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return STOPPED_READING


if __name__ == "__main__":
    sys.exit(main())
