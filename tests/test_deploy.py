"""The deployment recipe, run: deploy/nginx.conf in front of two instances sharing one Redis.

nginx (the Debian package) runs as the user running the tests, with a temporary
prefix and the recipe's site configuration, only its ports changed to free
loopback ones; each instance is the packaged gunicorn on a free port with
``ADVISOR_PROXY_COUNT=1``. The tests share one
site; the last one kills an instance.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from advisor.config import hash_api_key

from .live import ROOT, free_port, gunicorn, load, redis_server, wait_until_up

pytestmark = pytest.mark.server

KEY = "load-generator-key-for-the-deployment-test"
BODY = json.dumps({"stage": "after", "hours_since": 3, "via_agency": True}).encode()
ANONYMOUS_LIMIT = 20


def _nginx_binary() -> str:
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError("nginx is not installed: `make test-all` installs it")
    return found


def _site(ports: list[int], listen: int, folder) -> str:
    """deploy/nginx.conf with its instances' and its own ports replaced by these, and
    its access log in `folder`."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    for number, port in enumerate(ports, 1):
        default = f"server 127.0.0.1:800{number} "
        assert site.count(default) == 1, default
        site = site.replace(default, f"server 127.0.0.1:{port} ")
    assert site.count("listen 80;") == 1
    for log in ("interview-advisor.log", "interview-advisor.error.log"):
        assert site.count(f"/var/log/nginx/{log} ") == 1, log
        site = site.replace(f"/var/log/nginx/{log} ", f"{folder}/{log} ")
    return site.replace("listen 80;", f"listen 127.0.0.1:{listen};")


@contextlib.contextmanager
def _nginx(folder, ports: list[int]):
    """nginx with the recipe's site in front of `ports`, as the current user; yield its URL."""
    folder.mkdir()
    port = free_port()
    (folder / "site.conf").write_text(_site(ports, port, folder))
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root nginx would hand its workers to `nobody`, who cannot enter the test's folder.
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log;\nevents {{ worker_connections 512; }}\n"
        f"http {{\n    access_log {folder}/access.log;\n{temp}\n"
        f"    include {folder}/site.conf;\n}}\n"
    )
    command = [_nginx_binary(), "-e", str(folder / "error.log"), "-p", str(folder)]
    command += ["-c", str(folder / "nginx.conf")]
    subprocess.run([*command, "-t", "-q"], check=True, capture_output=True)
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(lambda: _status(f"{base}/health/live") == 200, "nginx", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _status(url: str, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _json(url: str, body: bytes | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=40) as response:
        return json.loads(response.read())


def _answered(server) -> set[str]:
    """The request ids in an instance's access log."""
    lines = [json.loads(text) for text in server.output().splitlines() if text.startswith("{")]
    return {line["request_id"] for line in lines if line["logger"] == "advisor.access"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Redis, two instances and nginx in front; yield (nginx URL, [instances], data folder)."""
    folder = tmp_path_factory.mktemp("deploy")
    shutil.copytree(ROOT / "rules", folder / "rules")
    shutil.copytree(ROOT / "content", folder / "content")
    with contextlib.ExitStack() as stack:
        storage = stack.enter_context(redis_server(folder))
        env = {
            "ADVISOR_RATE_LIMIT_STORAGE": storage,
            "ADVISOR_RATE_LIMITS": f"{ANONYMOUS_LIMIT} per minute",
            "ADVISOR_API_KEYS": f"load:{hash_api_key(KEY)}",
            "ADVISOR_API_KEY_RATE_LIMITS": "100000 per minute",
            "ADVISOR_PROXY_COUNT": "1",
            "ADVISOR_RULES_DIR": str(folder / "rules"),
            "ADVISOR_CONTENT_DIR": str(folder / "content"),
        }
        instances = [
            stack.enter_context(
                gunicorn(
                    workers=2,
                    env={**env, "ADVISOR_METRICS_DIR": str(folder / f"metrics-{n}")},
                    log=folder / f"instance-{n}.log",
                )
            )
            for n in (1, 2)
        ]
        base = stack.enter_context(
            _nginx(folder / "nginx", [int(i.base.rsplit(":", 1)[1]) for i in instances])
        )
        yield base, instances, folder


def _keyed():
    return {"Authorization": f"Bearer {KEY}"}


def test_requests_spread_over_both_instances(site):
    base, instances, _ = site
    sent = [f"spread-{n}" for n in range(40)]
    for request_id in sent:
        assert _status(f"{base}/v1/sources", {**_keyed(), "X-Request-ID": request_id}) == 200
    first, second = (_answered(i) & set(sent) for i in instances)
    assert first | second == set(sent)
    assert len(first) >= 10
    assert len(second) >= 10


def test_the_per_client_limit_is_shared_by_both_instances(site):
    base, instances, _ = site
    statuses, sent = [], []
    for n in range(ANONYMOUS_LIMIT + 10):
        # A client cannot buy a new budget with X-Forwarded-For: nginx replaces it.
        forged = {"X-Forwarded-For": f"10.9.8.{n}"} if n % 2 else {}
        sent.append(f"limit-{n}")
        statuses.append(_status(f"{base}/v1/guidance", {**forged, "X-Request-ID": sent[-1]}))
    assert statuses.count(200) == ANONYMOUS_LIMIT
    assert statuses.count(429) == 10
    assert all(_answered(i) & set(sent[:ANONYMOUS_LIMIT]) for i in instances)
    assert _status(f"{base}/v1/guidance", _keyed()) == 200  # a key has its own budget
    assert _status(f"{base}/metrics") == 404


def _version(instance) -> str:
    return _json(f"{instance.base}/health/ready")["ruleset"]["version"]


def test_the_access_log_names_paths_without_query_strings(site):
    """`/embed?plans=…` carries a candidate's text: nginx's log keeps the path alone."""
    base, _, folder = site
    assert _status(f"{base}/embed?plans=my%20secret%20plan") == 200
    log = folder / "nginx" / "interview-advisor.log"
    deadline = time.monotonic() + 10  # nginx writes the line once the answer has gone
    while not (log.is_file() and "/embed" in log.read_text()):
        assert time.monotonic() < deadline, "no access line"
        time.sleep(0.2)
    assert "secret" not in log.read_text()


def test_a_long_path_is_cut_in_every_log(site):
    """A path matching no route is counted by no rate limit: no log takes kilobytes of it."""
    base, instances, folder = site
    path = "/v1/advice/" + "kilobytes-of-path-" * 400
    assert _status(f"{base}{path}", {"X-Request-ID": "long-path"}) == 404
    log = folder / "nginx" / "interview-advisor.log"
    deadline = time.monotonic() + 10  # nginx writes the line once the answer has gone
    while not (log.is_file() and "long-path" in log.read_text()):
        assert time.monotonic() < deadline, "no access line"
        time.sleep(0.2)
    (line,) = [line for line in log.read_text().splitlines() if "long-path" in line]
    assert path[:99] + "... HTTP/1.1" in line
    answered = [
        json.loads(text)
        for instance in instances
        for text in instance.output().splitlines()
        if text.startswith("{") and '"long-path"' in text
    ]
    assert [entry["path"] for entry in answered] == [path[:99] + "\u2026"]


def test_no_log_line_quotes_a_query_string_when_an_instance_is_down(site, tmp_path):
    """nginx's error lines quote whole request lines: with an instance down, a
    candidate's text in `/embed?plans=…` was written to its error log. The access log
    says which instance failed instead."""
    _, instances, _ = site
    dead = free_port()
    ports = [int(instances[0].base.rsplit(":", 1)[1]), dead]
    with _nginx(tmp_path / "nginx", ports) as base:
        for _ in range(4):  # one of them is sent to the instance that is down first
            assert _status(f"{base}/embed?plans=my%20secret%20plan") == 200
    logs = {path.name: path.read_text() for path in (tmp_path / "nginx").glob("*.log")}
    assert not [name for name, text in logs.items() if "secret" in text]
    assert f"127.0.0.1:{dead}" in logs["interview-advisor.log"]


def test_a_sighup_rule_reload_on_both_keeps_serving(site):
    """One instance after the other, as the guide says; every request is answered.

    New workers load one at a time while the old ones serve, and each stops its
    share of the old ones once it is ready; the load has two threads, to leave
    the machine to the loading.
    """
    base, instances, folder = site
    ruleset = folder / "rules" / "ruleset.yaml"
    text = ruleset.read_text()
    current = re.search(r'^version: "(\d+)\.(\d+)\.(\d+)"', text, re.MULTILINE)
    major, minor, patch = current.groups()
    bumped = f"{major}.{minor}.{int(patch) + 1}"
    ruleset.write_text(text.replace(current[0], f'version: "{bumped}"'))
    old_workers = [set(i.workers()) for i in instances]
    with load(f"{base}/v1/advice", threads=2, body=BODY, headers=_keyed(), timeout=40) as running:
        for instance in instances:
            time.sleep(1)
            instance.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 120
            while _version(instance) != bumped:
                assert time.monotonic() < deadline, "the instance did not reload"
                time.sleep(0.5)
        for instance, old in zip(instances, old_workers, strict=True):
            deadline = time.monotonic() + 120
            while not set(instance.workers()).isdisjoint(old):
                assert time.monotonic() < deadline, "old workers still serve"
                time.sleep(0.5)
        time.sleep(1)
    assert len(running.answers) > 20
    assert {a.status for a in running.answers} == {200}
    assert all(
        set(i.workers()).isdisjoint(old) for i, old in zip(instances, old_workers, strict=True)
    )
    assert _json(f"{base}/v1/advice", BODY, _keyed())["ruleset"]["version"] == bumped


def test_killing_one_instance_loses_at_most_the_requests_in_flight(site):
    """Last: it leaves one instance."""
    base, (doomed, survivor), _ = site
    threads = 4
    with load(f"{base}/v1/advice", threads=threads, body=BODY, headers=_keyed()) as running:
        time.sleep(2)
        killed = time.monotonic()
        for pid in [doomed.process.pid, *doomed.workers()]:
            os.kill(pid, signal.SIGKILL)
        time.sleep(3)
    before, after = running.between(0, killed), running.between(killed + 0.5)
    assert len(before) > 20
    assert len(after) > 20
    lost = [a for a in running.answers if a.status != 200]
    assert len(lost) <= threads, lost
    assert {a.status for a in after} == {200}
    assert {a.request_id for a in after} <= _answered(survivor)
    assert _status(f"{base}/health/ready") == 200


#: Requests a client sends before shutting its sending side (a half-close).
HALF_CLOSED = {
    "GET": b"GET /v1/sources HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST": b"POST /v1/advice HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
    b'Content-Length: 17\r\n\r\n{"stage":"after"}',
    "GET, closing": b"GET /v1/sources HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
}


@pytest.mark.parametrize("name", HALF_CLOSED)
def test_a_client_that_half_closes_after_its_request_gets_the_answer(site, name):
    """nginx took the end of the client's input for a client gone, and answered
    nothing (its log said 499)."""
    base, _, _ = site
    head, _, body = _exchange(base, HALF_CLOSED[name]).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(body)


#: A request nginx must not pass on, hidden in the body of another.
SMUGGLED = b"GET /v1/sources/smuggled-by-the-client HTTP/1.1\r\nHost: a\r\n\r\n"
_POST = b"POST /v1/advice HTTP/1.1\r\nHost: a\r\n"
_CL = b"Content-Length: %d\r\n" % (5 + len(SMUGGLED))
#: Requests whose framing front and back end could read differently, and headers past
#: nginx's limits: what nginx answers itself, in the API's problem+json.
REFUSED_BY_NGINX = {
    "CL.TE": (_POST + _CL + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    "TE.CL": (
        _POST
        + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(SMUGGLED)
        + SMUGGLED
        + b"\r\n0\r\n\r\n",
        400,
    ),
    "TE folded": (_POST + _CL + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    "TE in odd case": (
        _POST + _CL + b"Transfer-Encoding: ChUnKeD\r\n\r\n0\r\n\r\n" + SMUGGLED,
        400,
    ),
    "TE name with a space": (
        _POST + _CL + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
        400,
    ),
    "two Content-Length": (_POST + b"Content-Length: 2\r\n" + _CL + b"\r\n{}" + SMUGGLED, 400),
    "an unknown coding": (
        _POST + _CL + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
        501,
    ),
    "a compression before chunked": (
        _POST
        + b"Transfer-Encoding: gzip, chunked\r\n\r\n%x\r\n" % len(SMUGGLED)
        + SMUGGLED
        + b"\r\n0\r\n\r\n",
        501,
    ),
    "a 16 KB header": (b"GET /v1/sources HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 16000, 431),
    # Request lines nginx cannot read: answered without a named location.
    "no request line": (b"GARBAGE", 400),
    "a method in lower case": (b"get /v1/sources HTTP/1.1\r\nHost: a", 400),
    "a NUL in the path": (b"GET /v1/sources%00 HTTP/1.1\r\nHost: a", 400),
    "a path above the root": (b"GET /../v1/sources HTTP/1.1\r\nHost: a", 400),
    "an asterisk target": (b"GET * HTTP/1.1\r\nHost: a", 400),
    "a TLS greeting": (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"a" * 32, 400),
    "a request line of 9 KB": (b"GET /v1/sources?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a", 414),
    "HTTP/9.9": (b"GET /v1/sources HTTP/9.9\r\nHost: a", 505),
    "TRACE": (b"TRACE /v1/sources HTTP/1.1\r\nHost: a", 405),
    "an error page's own path": (b"GET /.problems/400 HTTP/1.1\r\nHost: a", 404),
    "/metrics": (b"GET /metrics HTTP/1.1\r\nHost: a", 404),
}


def _exchange(base: str, raw: bytes) -> bytes:
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(raw if raw.endswith(b"\n") else raw + b"\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("name", REFUSED_BY_NGINX)
def test_nginx_refuses_smuggling_odd_request_lines_and_huge_headers_with_a_problem(site, name):
    base, instances, _ = site
    raw, status = REFUSED_BY_NGINX[name]
    head, _, body = _exchange(base, raw).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status), head
    assert b"content-type: application/problem+json" in head.lower(), head
    assert json.loads(body)["status"] == status
    if status == 405:
        assert b"allow: get, head, post, options" in head.lower(), head
    # Nothing hidden in the body reached an instance, and the site still answers.
    assert _status(f"{base}/v1/sources", _keyed()) == 200
    assert "smuggled-by-the-client" not in "".join(i.output() for i in instances)


#: The requests one client may have in progress at once (deploy/nginx.conf, limit_conn).
REQUESTS_IN_PROGRESS = 32


def test_one_client_trickling_bodies_holds_at_most_its_share_of_nginx(site):
    """A client sending its bodies a byte at a time held a connection of nginx for each,
    until nginx had none left for anyone else. Past its share, it is answered 429
    problem+json at once and closed; another client is answered meanwhile."""
    base, _, _ = site
    parts = urlsplit(base)
    head = (
        b"POST /v1/advice HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    # From an address of its own: the other tests' requests come from 127.0.0.1.
    trickling = []
    try:
        for _ in range(REQUESTS_IN_PROGRESS + 3):
            sock = socket.create_connection(
                (parts.hostname, parts.port), timeout=10, source_address=("127.0.0.3", 0)
            )
            sock.sendall(head)
            trickling.append(sock)
            time.sleep(0.02)  # each in turn, so that the last ones are past the share
        refused = []
        for sock in trickling[REQUESTS_IN_PROGRESS:]:
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            refused.append(answer)
        other = socket.create_connection(
            (parts.hostname, parts.port), timeout=10, source_address=("127.0.0.4", 0)
        )
        with other:
            other.sendall(b"GET /health/live HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            assert other.recv(65536).startswith(b"HTTP/1.1 200"), "another client waits"
    finally:
        for sock in trickling:
            sock.close()
    for answer in refused:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 429"), head
        assert b"content-type: application/problem+json" in head.lower(), head
        assert b"retry-after: 5" in head.lower(), head
        assert json.loads(body)["status"] == 429
