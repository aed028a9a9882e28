"""The systemd unit (deploy/interview-advisor@.service) against the deployment guide.

The guide's commands install what the unit runs: this checks that they name the
same paths, user and settings, without systemd (the recipe itself, run with nginx
and Redis, is test_deploy).
"""

import re

import pytest

from advisor.config import unknown_variables

from .live import ROOT

UNIT = (ROOT / "deploy" / "interview-advisor@.service").read_text()
GUIDE = (ROOT / "docs" / "deploy.md").read_text()


def _unit(key: str) -> list[str]:
    return re.findall(rf"^{key}=(.*)$", UNIT, re.MULTILINE)


def _settings_file() -> str:
    """The example of the settings file in the guide's section 2."""
    section = GUIDE.split("## 2. Settings", 1)[1].split("## 3.", 1)[0]
    return section.split("```sh", 1)[1].split("```", 1)[0]


# (what, the unit's value, what the guide must say for that value to be there)
UNIT_IN_GUIDE = [
    ("program", _unit("ExecStart")[0].split()[0], "python3 -m venv /opt/interview-advisor\n"),
    ("settings file", _unit("EnvironmentFile")[0], "`/etc/interview-advisor/env`, read by"),
    ("user", _unit("User")[0], "useradd --system --home /nonexistent --shell /usr/sbin/nologin"),
    ("group", _unit("Group")[0], "install -d -m 0750 -g advisor /etc/interview-advisor"),
    ("reload", _unit("ExecReload")[0], "`systemctl reload interview-advisor@8001` sends SIGHUP"),
]


@pytest.mark.parametrize(("what", "value", "said"), UNIT_IN_GUIDE, ids=lambda x: x)
def test_the_guide_installs_what_the_unit_runs(what, value, said):
    assert said in GUIDE, what
    where = GUIDE.index(said)
    if what == "program":
        assert value == "/opt/interview-advisor/bin/advisor"
    elif what == "reload":
        assert value == "/bin/kill -HUP $MAINPID"
    else:
        assert value in GUIDE[where : where + len(said) + 40], what


PER_INSTANCE = [
    line.split("=", 1)[0] for line in _unit("Environment") if "%i" in line.split("=", 1)[1]
] + ["ADVISOR_METRICS_BIND"]


@pytest.mark.parametrize("variable", PER_INSTANCE)
def test_a_per_instance_setting_is_kept_out_of_the_shared_settings_file(variable):
    """systemd lets the settings file override the unit's Environment= lines: one
    address there would be every instance's, and all but one could not listen."""
    assert variable not in _settings_file()
    leave_out = GUIDE.split("Leave out of this file what differs", 1)[1].split("\n\n", 1)[0]
    assert f"`{variable}`" in leave_out


def _settings_values() -> dict[str, str]:
    lines = _settings_file().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


# What an instance behind nginx, one of several, must be told: else it runs, and is wrong.
NEEDED = [
    # every candidate would share the one budget of nginx's address
    "ADVISOR_PROXY_COUNT",
    # each instance would count alone
    "ADVISOR_RATE_LIMIT_STORAGE",
    # /demo's snippets would name paths from the root, which load nothing on a careers site
    "ADVISOR_PUBLIC_URL",
]


@pytest.mark.parametrize("variable", NEEDED)
def test_the_settings_file_sets_what_an_instance_behind_nginx_needs(variable):
    assert variable in _settings_values()


def test_the_settings_file_names_only_settings():
    assert unknown_variables(_settings_values()) == []


#: A pip that is not a virtual environment's: Debian's python3 has none (python3-pip).
BARE_PIP = re.compile(r"(?:^|[\s;&|(`])(?:pip3?|python3? -m pip) (?:wheel|install)\b")
INSTALL_PAGES = [ROOT / "docs" / "deploy.md", ROOT / "docs" / "operations.md"]


@pytest.mark.parametrize("page", INSTALL_PAGES, ids=[page.name for page in INSTALL_PAGES])
def test_the_install_steps_build_and_install_with_the_virtual_environments_pip(page):
    recipes = page.read_text().split("```sh")[1:]
    bare = [line for block in recipes for line in block.split("```")[0].splitlines()]
    assert not [line for line in bare if BARE_PIP.search(line)]


#: A command after which the instance takes connections only some seconds later.
STARTS = re.compile(r"\bsystemctl (?:enable --now|start|restart)\b")


def test_a_probe_after_starting_an_instance_waits_for_it():
    # `systemctl` returns once the process runs, seconds before it listens: a bare
    # `curl -s` printed nothing (connection refused) where the guide showed the answer.
    recipes = [block.split("```")[0] for block in GUIDE.split("```sh")[1:]]
    probes = [
        line.strip()
        for block in recipes
        if STARTS.search(block)
        for line in block.split(STARTS.search(block).group(0), 1)[1].splitlines()
        if "/health/ready" in line
    ]
    assert probes
    assert all(probe.startswith("until curl -sf") for probe in probes), probes


def _files_named_by_settings() -> list[str]:
    return [value for value in _settings_values().values() if value.startswith("/etc/")]


@pytest.mark.parametrize("path", _files_named_by_settings())
def test_a_file_the_settings_name_is_made_by_the_install_steps(path):
    # A missing one stops every instance at start: the keys file, named as optional,
    # was made only in section 5, after section 3 started the instances.
    install = GUIDE.split("## 1. Install", 1)[1].split("## 2.", 1)[0]
    assert f"/dev/null {path}" in install


def test_a_start_refused_for_its_settings_is_not_restarted():
    assert _unit("RestartPreventExitStatus") == ["2"]
    assert "`RestartPreventExitStatus=2`" in GUIDE
