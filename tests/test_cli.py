"""The `advisor` command, run in-process and as a console script."""

import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.cli import main


@pytest.fixture
def state_file(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"stage": "after", "hours_since": 150, "via_agency": True}))
    return path


def test_advise_reads_a_file_and_prints_readable_advice(state_file, capsys):
    assert main(["advise", str(state_file)]) == 0
    out = capsys.readouterr().out
    assert "[follow-up-via-recruiter]" in out
    assert "Why: " in out
    assert "Not that:" in out


def test_advise_names_the_actions_to_do_instead_by_their_titles(state_file, capsys, engine):
    assert main(["advise", str(state_file)]) == 0
    out = capsys.readouterr().out
    titles = {a.title for a in engine.catalogue.actions.values()}
    titles |= {v.title for a in engine.catalogue.actions.values() for v in a.variants}
    named = [line.split("Instead: ", 1)[1] for line in out.splitlines() if "Instead: " in line]
    assert named
    for line in named:
        assert {item.strip().rstrip(".") for item in line.split(";")} <= titles, line


@pytest.mark.parametrize(
    ("state", "said"),
    [
        ({"stage": "after", "hours_since": 150, "via_agency": True}, "When: from now, no end"),
        ({"stage": "offer", "hours_since": 2}, "When: from now, within two days"),
        ({"stage": "offer", "hours_since": 2}, "When: from now, within four hours"),
    ],
)
def test_advise_says_when_to_act_in_words(tmp_path, capsys, state, said):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    assert main(["advise", str(path)]) == 0
    out = capsys.readouterr().out
    assert said in out
    assert " h to " not in out
    assert "to open" not in out


def test_moderate_names_the_actions_to_do_instead_by_their_titles(tmp_path, capsys, engine):
    unsafe = tmp_path / "unsafe.txt"
    unsafe.write_text("Have three pints and drive home.")
    assert main(["moderate", str(unsafe)]) == 1
    assert f"Instead: {engine.catalogue.actions['take-time-out'].title}." in capsys.readouterr().out


def test_advise_json_matches_the_api(state_file, capsys, client):
    assert main(["advise", str(state_file), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    served = client.post("/v1/advice", json=json.loads(state_file.read_text())).get_json()
    assert printed["actions"] == served["actions"]
    assert printed["avoid"] == served["avoid"]


def _stdin(monkeypatch, data: bytes, encoding: str = "utf-8", errors: str = "strict") -> None:
    """Standard input holding `data`, decoded as Python decodes it under some locale."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding, errors))


def test_advise_reads_stdin(monkeypatch, capsys):
    _stdin(monkeypatch, b'{"stage": "closing"}')
    assert main(["advise", "-", "--json"]) == 0
    ids = [a["id"] for a in json.loads(capsys.readouterr().out)["actions"]]
    assert ids == ["ask-next-steps", "ask-your-questions"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('\ufeff{"stage": "after"}', "starts with a byte order mark (U+FEFF)"),
        ("[1]", "must be a JSON object"),
        ('{"stage": "lunch"}', "stage: Must be one of"),
        ('{"stage": "after", "extra": 1}', "extra: Unknown field"),
        ('{"stage": "after", "hours": 30}', "hours: Unknown field (did you mean 'hours_since'?)"),
    ],
)
def test_bad_state_exits_2_naming_the_problem(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["advise", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["advise", str(tmp_path / "none.json")]) == 2
    assert "none.json: No such file or directory" in capsys.readouterr().err


# (command, the bytes given it, exit status, what it says): the same whether the bytes
# are in a file named on the command line or piped to standard input ("-").
READ_THE_SAME = [
    (["moderate"], b"Three pints, then drive home.", 1, "FLAGGED [impaired_driving]"),
    (["moderate"], "Un café, then drive home after six pints.".encode(), 1, "FLAGGED"),
    (["moderate"], b"caf\xe9, then home", 2, "not UTF-8 text (byte 0xe9 at offset 3)"),
    (["moderate"], b"\xff\xfeT\x00h\x00", 2, "not UTF-8 text (byte 0xff at offset 0)"),
    (["advise"], b'{"stage": "after", "plans": ["caf\xe9"]}', 2, "not UTF-8 text (byte 0xe9"),
    (["advise"], b"", 2, "is empty: give the interview state as a JSON object"),
    (["advise"], b" \n", 2, "is empty: give the interview state as a JSON object"),
    (["rules", "explain"], b"", 2, "is empty"),
    (["draft", "follow-up"], b"\n", 2, "is empty"),
]
# How Python decodes standard input under a few locales: UTF-8, the C locale (bytes
# that are not UTF-8 smuggled through as surrogates), and Latin-1.
LOCALES = {
    "utf-8": ("utf-8", "strict"),
    "C": ("utf-8", "surrogateescape"),
    "latin-1": ("latin-1", "strict"),
}


@pytest.mark.parametrize(("encoding", "errors"), LOCALES.values(), ids=LOCALES.keys())
@pytest.mark.parametrize(
    ("command", "data", "status", "said"),
    READ_THE_SAME,
    ids=[f"{' '.join(c)}: {d[:12]!r}" for c, d, _, _ in READ_THE_SAME],
)
def test_a_text_piped_in_reads_as_the_same_text_named_as_a_file(
    tmp_path, monkeypatch, capsys, command, data, status, said, encoding, errors
):
    # Piped in, a Latin-1 text was screened as whatever the locale made of it (exit 0 or
    # 1), while the same file named on the command line was refused as not UTF-8.
    path = tmp_path / "given"
    path.write_bytes(data)
    assert main([*command, str(path)]) == status
    by_name = capsys.readouterr()
    _stdin(monkeypatch, data, encoding, errors)
    assert main([*command, "-"]) == status
    piped = capsys.readouterr()
    assert said in by_name.out + by_name.err
    assert (piped.out, piped.err) == (
        by_name.out,
        by_name.err.replace(str(path), "-"),
    )


@pytest.mark.process
def test_a_text_that_is_not_utf8_piped_in_under_the_c_locale_is_refused(tmp_path):
    done = subprocess.run(
        [ADVISOR, "moderate", "-"],
        input=b"Caf\xe9 then drive home after six pints.",
        capture_output=True,
        env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout
    assert (
        done.stderr.decode()
        == "advisor: -: not UTF-8 text (byte 0xe9 at offset 3): save it as UTF-8\n"
    )


def test_moderate_exit_status_says_whether_anything_was_flagged(tmp_path, capsys):
    unsafe, safe = tmp_path / "unsafe.txt", tmp_path / "safe.txt"
    unsafe.write_text("Send a thank-you email. Then have three pints and drive home.")
    safe.write_text("Send a thank-you email the same day.")
    assert main(["moderate", str(unsafe)]) == 1
    assert "FLAGGED [impaired_driving" in capsys.readouterr().out
    assert main(["moderate", str(safe), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["flagged"] is False


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("Send a thank-you email the same day.", True),
        ("Sabi ni kuya, iinom muna ako ng tatlong bote bago ako mag-drive pauwi.", False),
    ],
)
def test_moderate_says_when_the_text_is_not_read_as_english(tmp_path, capsys, text, english):
    given = tmp_path / "text.txt"
    given.write_text(text)
    assert main(["moderate", str(given)]) == 0
    said = "Not read as English" in capsys.readouterr().out
    assert said is not english
    assert main(["moderate", str(given), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["english"] is english


def test_rules_check_runs_every_case(capsys):
    assert main(["rules", "check"]) == 0
    out = capsys.readouterr().out
    assert "cases pass" in out
    assert "UNCOVERED" not in out


def test_rules_check_fails_on_a_broken_case(data_copy, monkeypatch, capsys):
    rules, content = data_copy
    cases = rules / "closing.cases.yaml"
    cases.write_text(
        cases.read_text().replace("forbid: [ask-next-steps]", "forbid: [ask-your-questions]")
    )
    monkeypatch.setenv("ADVISOR_RULES_DIR", str(rules))
    monkeypatch.setenv("ADVISOR_CONTENT_DIR", str(content))
    assert main(["rules", "check"]) == 1
    assert "FAIL closing.cases.yaml" in capsys.readouterr().out


def test_rules_explain_says_why_each_rule_did_or_did_not_fire(state_file, capsys):
    assert main(["rules", "explain", str(state_file), "--json"]) == 0
    rows = {row["rule"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["ask-consultant-after-five-days"]["fired"] is True
    assert rows["ask-consultant-after-five-days"]["because"]
    skipped = rows["follow-up-after-five-days"]
    assert skipped["fired"] is False
    assert skipped["failed"] == "via_agency is false does not hold: via_agency is true"


@pytest.mark.process
def test_console_script_is_installed():
    script = shutil.which("advisor", path=str(Path(sys.executable).parent))
    assert script, "the advisor console script is not installed beside this Python"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=True)
    assert "advise" in result.stdout


@pytest.mark.server
def test_serve_starts_gunicorn_with_the_packaged_settings_from_any_folder(tmp_path):
    import time
    import urllib.request

    from .live import free_port

    port, metrics = free_port(), free_port()
    script = shutil.which("advisor", path=str(Path(sys.executable).parent))
    process = subprocess.Popen(
        [script, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=tmp_path,
        env={**os.environ, "ADVISOR_METRICS_BIND": f"127.0.0.1:{metrics}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready") as answer:
                    assert json.loads(answer.read())["status"] == "ready"
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("advisor serve did not answer")
        # --bind replaced every listener of the settings: /metrics was served nowhere.
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics") as answer:
            assert b"advisor_ruleset_info" in answer.read()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_rules_check_runs_the_moderation_case_tables_too(data_copy, monkeypatch, capsys):
    rules, content = data_copy
    cases = rules / "moderation" / "violence.cases.yaml"
    cases.write_text(cases.read_text().replace("flagged: false", "flagged: true", 1))
    monkeypatch.setenv("ADVISOR_RULES_DIR", str(rules))
    monkeypatch.setenv("ADVISOR_CONTENT_DIR", str(content))
    assert main(["rules", "check"]) == 1
    assert "FAIL moderation violence.cases.yaml" in capsys.readouterr().out


@pytest.mark.process
@pytest.mark.parametrize("command", [["rules", "explain"], ["advise"]])
def test_a_reader_that_stops_early_gets_no_traceback(state_file, command):
    script = shutil.which("advisor", path=str(Path(sys.executable).parent))
    reader, writer = os.pipe()
    os.close(reader)  # as `| head` does once it has its lines
    try:
        result = subprocess.run(
            [script, *command, str(state_file)], stdout=writer, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(writer)
    assert result.stderr == ""
    assert result.returncode == 141


@pytest.mark.parametrize(
    "state",
    [
        {"stage": "after", "hours_since": 2},
        {"stage": "after", "hours_since": 2, "via_agency": True, "decision_expected_in_days": 3},
        {
            "stage": "next_round",
            "final_round": True,
            "interview_ended_at": "2026-11-20T16:30:00+01:00",
            "now": "2026-11-20T18:00:00+01:00",
        },
    ],
)
def test_advise_prints_what_comes_next_in_order_with_when(tmp_path, capsys, client, state):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    assert main(["advise", str(path)]) == 0
    out = capsys.readouterr().out
    upcoming = client.post("/v1/advice", json=state).get_json()["upcoming"]
    assert upcoming, "each of these states has something coming"
    section = out.split("What comes next", 1)[1].split("\nNot that:", 1)[0]
    listed = [line for line in section.splitlines() if line.startswith("- ")]
    assert [line.rsplit("[", 1)[1].rstrip("]") for line in listed] == [a["id"] for a in upcoming]
    for line, action in zip(listed, upcoming, strict=True):
        assert action["title"] in line
        assert line.startswith("- in ")
        assert ("(" in line) == ("starts" in action)
        assert action.get("starts", "") in line
        assert f"Why then: {action['because']}" in section


@pytest.mark.parametrize(
    "state",
    [
        {
            "stage": "after",
            "interview_ended_at": "2026-11-20T16:30:00+01:00",
            "now": "2026-11-20T18:00:00+01:00",
        },
        {
            "stage": "rejected",
            "interview_ended_at": "2026-11-02T10:00:00-05:00",
            "now": "2026-11-20T09:00:00-05:00",
        },
        {
            "stage": "offer",
            "interview_ended_at": "2026-11-20T16:30:00Z",
            "now": "2026-11-23T08:00:00Z",
            "competing_offers": 1,
        },
    ],
)
def test_advise_gives_a_due_time_only_to_an_action_that_must_be_done_by_then(
    tmp_path, capsys, client, state
):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    assert main(["advise", str(path)]) == 0
    out = capsys.readouterr().out
    whens = [line.strip() for line in out.split("What comes next")[0].splitlines()]
    whens = [line for line in whens if line.startswith("When: ")]
    actions = client.post("/v1/advice", json=state).get_json()["actions"]
    assert len(whens) == len(actions)
    for when, action in zip(whens, actions, strict=True):
        if action["window"]["end_hours"] is None:
            assert "due" not in when, (action["id"], when)  # open: nothing to be late for
        else:
            assert when.endswith(f"(due {action['due']})"), (action["id"], when)


def test_advise_json_carries_upcoming_as_the_api_does(state_file, capsys, client):
    assert main(["advise", str(state_file), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    served = client.post("/v1/advice", json=json.loads(state_file.read_text())).get_json()
    assert printed["upcoming"] == served["upcoming"]


def test_advise_prints_nothing_to_come_at_the_close(monkeypatch, capsys):
    _stdin(monkeypatch, b'{"stage": "closing"}')
    assert main(["advise", "-"]) == 0
    assert "What comes next" not in capsys.readouterr().out


def test_rules_explain_says_which_rule_fires_later_and_when(tmp_path, capsys):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"stage": "after", "hours_since": 2}))
    assert main(["rules", "explain", str(path)]) == 0
    later = [line for line in capsys.readouterr().out.splitlines() if line.startswith("LATER")]
    assert any("follow-up-after-five-days → follow-up, in five days" in line for line in later)


#: Each subcommand, as typed after `advisor`.
SUBCOMMANDS = [
    ["serve"],
    ["advise"],
    ["moderate"],
    ["draft"],
    ["rules", "check"],
    ["rules", "explain"],
]


def _help(capsys, command: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*command, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=" ".join)
def test_each_subcommand_help_says_what_it_does_and_what_each_argument_is(capsys, command):
    text = _help(capsys, command)
    _, description, *_ = text.split("\n\n")
    assert description.strip().endswith("."), text
    arguments = (
        text.split("positional arguments:\n", 1)[1].split("\n\n")[0]
        if ("positional arguments:" in text)
        else ""
    )
    for line in arguments.splitlines():
        # An argument alone on its line is described on the next; none goes undescribed.
        assert line.strip().startswith("{") or len(line.split()) > 1, (command, line)
    assert "exit status: 0 " in text


UNSAFE_PLAN = {"stage": "after", "hours_since": 2, "plans": ["Three pints, then drive home"]}
FLAGGED_DETAIL = ["--detail", "highlight=I will pay your referees"]
# (command, the state or text it is given as {given}, exit status, what its help says of
# that status): a script tells a flagged text from advice given by the status alone.
EXIT_STATUSES = [
    (["advise", "{given}"], UNSAFE_PLAN, 0, "0 success, a plan rejected too"),
    (["advise", "{given}"], {"stage": "aftr"}, 2, "2 bad input"),
    (["rules", "explain", "{given}"], UNSAFE_PLAN, 0, "0 success"),
    (["moderate", "{given}"], "Three pints, then drive home.", 1, "1 a sentence flagged"),
    (["moderate", "{given}"], "Send a thank-you.", 0, "0 nothing flagged"),
    (["draft", "send-thank-you", "{given}"], UNSAFE_PLAN, 0, "0 success"),
    (
        ["draft", "send-thank-you", "{given}", *FLAGGED_DETAIL],
        UNSAFE_PLAN,
        2,
        "2 bad input (a detail the moderation screen refuses too)",
    ),
    (["rules", "check"], None, 0, "0 every case passes"),
]


@pytest.mark.parametrize(
    ("command", "given", "status", "said"),
    EXIT_STATUSES,
    ids=[f"{' '.join(w for w in c if w != '{given}')} {s}" for c, _, s, _ in EXIT_STATUSES],
)
def test_each_commands_help_says_what_its_exit_status_means(
    tmp_path, capsys, command, given, status, said
):
    # Every help said "1 a check failed or a text was flagged", yet advice with a
    # rejected plan exits 0: a script vetting plans through `advise` was misled.
    path = tmp_path / "given"
    path.write_text(given if isinstance(given, str) else json.dumps(given))
    assert main([part.format(given=path) for part in command]) == status
    capsys.readouterr()
    subcommand = command[:2] if command[0] == "rules" else command[:1]
    words = " ".join(_help(capsys, subcommand).split())
    assert said in words.split("exit status: ", 1)[1]


@pytest.mark.parametrize("command", [["advise"], ["draft"], ["rules", "explain"]], ids=" ".join)
def test_a_state_argument_says_it_is_json_from_a_file_or_standard_input(capsys, command):
    text = " ".join(_help(capsys, command).split())
    assert "state the interview state as JSON" in text
    assert "- to read it from standard input" in text


def _examples(command: list[str]) -> list[str]:
    text = subprocess.run(
        [ADVISOR, *command, "--help"], capture_output=True, text=True, check=True
    ).stdout
    return [line.strip() for line in text.split("example:\n", 1)[1].split("\n\n")[0].splitlines()]


ADVISOR = str(Path(sys.executable).parent / "advisor")


@pytest.mark.process
@pytest.mark.parametrize(
    ("command", "status", "shows"),
    [
        (["advise"], 0, "Why: "),
        (["moderate"], 1, "FLAGGED [impaired_driving]"),
        (["draft"], 0, "Subject: "),
        (["rules", "explain"], 0, "FIRED   "),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_the_example_in_a_subcommands_help_runs_as_shown(tmp_path, command, status, shows):
    (example,) = _examples(command)
    env = {**os.environ, "PATH": f"{Path(ADVISOR).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        example, shell=True, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert done.returncode == status, done.stderr
    assert shows in done.stdout, done.stdout


@pytest.mark.server
@pytest.mark.process
@pytest.mark.parametrize(
    ("options", "env", "hint"),
    [
        ([], "ADVISOR_BIND", "ADVISOR_BIND=127.0.0.1:8080 make run"),
        (["--bind", "{address}"], None, "advisor serve --bind 127.0.0.1:8080"),
        (["--bind", "127.0.0.1:{other}"], "ADVISOR_METRICS_BIND", "ADVISOR_METRICS_BIND"),
    ],
    ids=["ADVISOR_BIND", "--bind", "ADVISOR_METRICS_BIND"],
)
def test_serve_on_an_address_in_use_says_so_in_one_line_with_what_to_do(
    tmp_path, options, env, hint
):
    from .live import free_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        values = {"address": address, "other": free_port()}
        environ = {**os.environ, **({env: address} if env else {})}
        script = shutil.which("advisor", path=str(Path(sys.executable).parent))
        done = subprocess.run(
            [script, "serve", *(option.format(**values) for option in options)],
            cwd=tmp_path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"advisor: {address} is in use"), line
    assert hint in line


# (variable, value, what the one line says): a setting no command can run with.
BAD_SETTINGS = [
    ("ADVISOR_MAX_BODY_BYTES", "0", "ADVISOR_MAX_BODY_BYTES=0 is not allowed: use a whole number"),
    ("ADVISOR_ENGINE_MEMO", "lots", "ADVISOR_ENGINE_MEMO='lots' is not allowed"),
    ("ADVISOR_RULES_DIRS", "/srv/rules", "did you mean ADVISOR_RULES_DIR?"),
]
COMMANDS = [
    ["rules", "check"],
    ["advise", "{state}"],
    ["rules", "explain", "{state}"],
    ["draft", "follow-up", "{state}"],
    ["moderate", "{state}"],
]


@pytest.mark.parametrize(
    ("variable", "value", "said"), BAD_SETTINGS, ids=[b[0] for b in BAD_SETTINGS]
)
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_a_bad_setting_is_one_line_of_bad_input(
    state_file, monkeypatch, capsys, variable, value, said, command
):
    monkeypatch.setenv(variable, value)
    assert main([part.format(state=state_file) for part in command]) == 2
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    assert line.startswith("advisor: "), err
    assert said in line


# `advisor serve` options gunicorn cannot serve with: refused before anything starts.
BAD_SERVE_OPTIONS = [
    (["--bind", "8000"], "argument --bind: '8000' is not allowed: use host:port"),
    (["--bind", "127.0.0.1:http"], "argument --bind: '127.0.0.1:http' is not allowed"),
    (
        ["--workers", "0"],
        "argument --workers: '0' is not allowed: use a whole number of at least 1",
    ),
    (["--workers", "-2"], "argument --workers: '-2' is not allowed"),
    (["--workers", "four"], "argument --workers: 'four' is not allowed"),
]


# (`advisor serve` options, the settings they give the packaged gunicorn settings)
SERVE_OPTIONS = [
    ([], {}),
    (["--bind", "127.0.0.1:8080"], {"ADVISOR_BIND": "127.0.0.1:8080"}),
    (["--workers", "3"], {"ADVISOR_WORKERS": "3"}),
    (["--bind", "unix:/tmp/a.sock", "--workers", "1"], {"ADVISOR_BIND": "unix:/tmp/a.sock"}),
]


@pytest.mark.parametrize(
    ("options", "settings"), SERVE_OPTIONS, ids=[" ".join(o) or "none" for o, _ in SERVE_OPTIONS]
)
def test_serve_gives_its_options_as_the_settings_they_stand_for(monkeypatch, options, settings):
    # Passed on as gunicorn's own --bind, an address replaced every listener of the
    # packaged settings: ADVISOR_METRICS_BIND's too, so /metrics was served nowhere.
    environ = {k: v for k, v in os.environ.items() if k not in ("ADVISOR_BIND", "ADVISOR_WORKERS")}
    monkeypatch.setattr(os, "environ", environ)
    served = []
    monkeypatch.setattr("advisor.cli._in_use", lambda bind: False)  # binds no socket here
    monkeypatch.setattr(os, "execv", lambda path, argv: served.append(argv))
    assert main(["serve", *options]) == 0
    ((*command, app),) = served
    assert app == "advisor.wsgi:app"
    assert "--bind" not in command
    assert "--workers" not in command
    assert {k: v for k, v in environ.items() if k in ("ADVISOR_BIND", "ADVISOR_WORKERS")} == {
        **settings,
        **({"ADVISOR_WORKERS": "1"} if "1" in options else {}),
    }


@pytest.mark.parametrize(
    ("options", "said"), BAD_SERVE_OPTIONS, ids=[" ".join(o) for o, _ in BAD_SERVE_OPTIONS]
)
def test_serve_refuses_options_gunicorn_cannot_serve_with(monkeypatch, capsys, options, said):
    # gunicorn tried a host named "8000" five times; --workers 0 served with the default.
    monkeypatch.setattr(os, "execv", lambda *argv: pytest.fail(f"would serve: {argv}"))
    with pytest.raises(SystemExit) as stopped:
        main(["serve", *options])
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err


AGENCY = {"stage": "after", "hours_since": 2, "via_agency": True}
# (action, the first line of its draft): what it is and whom it is for, in the widget's words.
DRAFT_HEADS = [
    ("send-thank-you", "An email to the interviewer  [thank-interviewer]"),
    ("connect-on-linkedin", "A LinkedIn connection note to the interviewer  [connection-note]"),
    ("call-recruiter", "Talking points for your call to the consultant  [debrief]"),
]


@pytest.mark.parametrize(("action", "head"), DRAFT_HEADS, ids=[a for a, _ in DRAFT_HEADS])
def test_a_draft_says_what_it_is_and_whom_it_is_for(tmp_path, capsys, action, head):
    # It read "Linkedin to the interviewer" and "Phone to the consultant".
    path = tmp_path / "state.json"
    path.write_text(json.dumps(AGENCY))
    assert main(["draft", action, str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == head


def test_every_channel_of_a_draft_has_its_words():
    from advisor.cli import DRAFT_HEADS as heads
    from advisor.drafts import CHANNELS

    assert set(heads) == set(CHANNELS)
