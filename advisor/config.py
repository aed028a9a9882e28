"""Settings from ``ADVISOR_*`` environment variables, with safe defaults."""

from __future__ import annotations

import difflib
import functools
import hashlib
import ipaddress
import os
import re
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from .engine import Advice, Engine
from .moderation import Verdict
from .state import InterviewState

__all__ = [
    "LISTENER_ALLOWED",
    "Settings",
    "SERVER_VARIABLES",
    "allowed_origins",
    "api_key_hashes",
    "data_folders",
    "default_engine",
    "evaluate",
    "hash_api_key",
    "listener_ok",
    "listeners_overlap",
    "moderate",
    "packaged",
    "rate_limit_storage_problem",
    "settings_from_env",
    "unknown_variables",
]


def packaged(*parts: str) -> Path:
    """A file or folder shipped inside the package, as a path (wheels install unzipped)."""
    return Path(os.fspath(files(__package__).joinpath(*parts)))


@dataclass(frozen=True)
class Settings:
    """Every setting; each field ``name`` is read from ``ADVISOR_NAME``."""

    #: Rule files; by default those shipped in the package.
    rules_dir: Path = packaged("data", "rules")
    #: Content files; by default those shipped in the package.
    content_dir: Path = packaged("data", "content")
    #: Largest request body, in bytes.
    max_body_bytes: int = 256 * 1024
    #: Per-client limits on /v1/ (the limits library's syntax, ";"-separated); "" turns them off.
    rate_limits: str = "600 per minute;60 per second"
    #: Further per-client limits on /v1/moderate, the costliest endpoint; "" (the
    #: default) for none: callers that screen texts in bulk share one address.
    moderate_rate_limits: str = ""
    #: Per-client limits on the bytes of request bodies past the first `FREE_BODY_BYTES`
    #: of each (a text costs its length to screen); applied where `rate_limits` are.
    text_rate_limits: str = "250000 per minute;50000 per 10 seconds"
    #: The same per API key, where `api_key_rate_limits` are.
    api_key_text_rate_limits: str = "2500000 per minute;500000 per 10 seconds"
    #: Where rate-limit counts live: memory:// (per process) or redis://host:port/db (shared).
    rate_limit_storage: str = "memory://"
    #: Seconds to wait for the rate-limit storage to connect or answer before counting per process.
    rate_limit_timeout: float = 0.25
    #: Limits per API key, as `rate_limits` is per IP address for callers without one.
    api_key_rate_limits: str = "6000 per minute;600 per second"
    #: API keys, as NAME:SHA256 entries (the hex SHA-256 of the key) separated by commas.
    api_keys: str = ""
    #: A file of more API keys, one NAME:SHA256 entry a line ("#" starts a comment).
    api_keys_file: str = ""
    #: How many proxies in front of us set X-Forwarded-For (0: use the peer address).
    proxy_count: int = 0
    #: Python log level of the application's JSON logs.
    log_level: str = "INFO"
    #: Origins that browsers may call the API from, comma-separated; "*" allows any.
    cors_origins: str = "*"
    #: Rule outcomes the engine remembers per distinct set of condition truths (0: none).
    engine_memo: int = 4096
    #: JSON answers to /v1/advice kept per worker for identical requests, from a request's
    #: second time (0: none).
    answer_cache: int = 512
    #: Seconds that clients and shared caches may keep catalogue responses.
    cache_max_age: int = 300
    #: The listener /metrics is served on under gunicorn (host:port or unix:path), apart
    #: from the API's; empty: /metrics is not served under gunicorn at all.
    metrics_bind: str = ""
    #: The service's public origin, with any path prefix (https://advice.example.org),
    #: as /demo's snippets name it; empty: the request's own, from loopback only.
    public_url: str = ""

    def __post_init__(self):
        """Refuse a value no worker could serve with, before any worker starts."""
        for name, least in _LEAST.items():
            if getattr(self, name) < least:
                raise _bad(name, getattr(self, name))
        if self.log_level.upper() not in _LOG_LEVELS:
            raise _bad("log_level", self.log_level)
        if not 0 < self.rate_limit_timeout <= 60:
            raise _bad("rate_limit_timeout", self.rate_limit_timeout)
        allowed_origins(self.cors_origins)
        if self.public_url and not _PUBLIC_URL.match(self.public_url):
            raise _bad("public_url", self.public_url)
        if not _storage_ok(self.rate_limit_storage):
            raise _bad("rate_limit_storage", self.rate_limit_storage)
        if self.metrics_bind and not listener_ok(self.metrics_bind):
            raise _bad("metrics_bind", self.metrics_bind)
        from limits import parse_many  # the rate-limit syntax the limits are counted in

        for name in (
            "rate_limits",
            "api_key_rate_limits",
            "moderate_rate_limits",
            "text_rate_limits",
            "api_key_text_rate_limits",
        ):
            value = getattr(self, name)
            try:
                if value.strip():
                    parse_many(value)
            except ValueError:
                raise _bad(name, value) from None
        api_key_hashes(self)

    @classmethod
    def from_env(cls, environ=os.environ) -> Settings:
        """Read every ``ADVISOR_*`` variable; a bad value, or a variable named almost as
        a setting (`unknown_variables`), is a ValueError of one line naming its variable
        and the values it may take."""
        unknown_variables(environ)
        values = {}
        for item in fields(cls):
            name = f"ADVISOR_{item.name.upper()}"
            if name not in environ:
                continue
            kind = type(item.default)
            try:
                values[item.name] = kind(environ[name])
            except ValueError:
                raise _bad(item.name, environ[name]) from None
        return cls(**values)


#: The variables read besides the fields of `Settings`: gunicorn's own settings
#: (advisor/gunicorn.conf.py, advisor/_gunicorn.py), and those the service sets for
#: its own processes (never suggested for a misspelt name).
SERVER_VARIABLES = frozenset(
    {
        "ADVISOR_BIND",
        "ADVISOR_WORKERS",
        "ADVISOR_WORKER_CONNECTIONS",
        "ADVISOR_TIMEOUT",
        "ADVISOR_GRACEFUL_TIMEOUT",
        "ADVISOR_CLIENT_TIMEOUT",
        "ADVISOR_CLIENT_CONNECTIONS",
        "ADVISOR_ACCESS_LOG",
        "ADVISOR_CONTROL_SOCKET",
        "ADVISOR_METRICS_DIR",
    }
)
_OWN_VARIABLES = frozenset(
    {"ADVISOR_METRICS_DIR_TEMPORARY", "ADVISOR_SNAPSHOTS", "ADVISOR_WORKER_GENERATION"}
)
#: How close (difflib's ratio, after the prefix) a name must come to a setting's to be
#: taken for a misspelling of it: PROXY_COUNTS, CORS_ORIGIN, METRIC_BIND, WORKER.
_MISSPELT = 0.8


def unknown_variables(environ=os.environ) -> list[str]:
    """The ``ADVISOR_*`` variables of `environ` the service does not read, in order.

    One named almost as a setting (``ADVISOR_PROXY_COUNTS``) is a ValueError naming
    the setting meant, not its value (it may hold a password): read by nothing, it
    would leave that setting at its default without a word.
    """
    settings = [f"{_PREFIX}{item.name.upper()}" for item in fields(Settings)]
    known = [*settings, *sorted(SERVER_VARIABLES)]
    unknown = sorted(
        name
        for name in environ
        if name.startswith(_PREFIX) and name not in known and name not in _OWN_VARIABLES
    )
    suffixes = [name.removeprefix(_PREFIX) for name in known]
    for name in unknown:
        meant = difflib.get_close_matches(name.removeprefix(_PREFIX), suffixes, 1, _MISSPELT)
        if meant:
            raise ValueError(
                f"{name} is not a setting: did you mean {_PREFIX}{meant[0]}? "
                "(the settings are listed in the operations guide)"
            )
    return unknown


#: The least value of each whole-number setting.
_LEAST = {
    "max_body_bytes": 1,
    "proxy_count": 0,
    "engine_memo": 0,
    "answer_cache": 0,
    "cache_max_age": 0,
}
#: What a listener (``ADVISOR_BIND``, ``ADVISOR_METRICS_BIND``) may be, in words.
LISTENER_ALLOWED = "host:port (a port from 1 to 65535) or unix:/path"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: What an API key's entry holds, in words.
_KEY_ENTRY = "(a name of letters, digits, . _ -; the key's SHA-256 in 64 hex digits)"
#: What each setting may be, in the words of its error message.
_ALLOWED = {
    **{name: f"a whole number of at least {least}" for name, least in _LEAST.items()},
    "log_level": " or ".join(_LOG_LEVELS),
    "rate_limits": 'limits such as "600 per minute;60 per second", or empty for none',
    "api_key_rate_limits": 'limits such as "6000 per minute;600 per second", or empty for none',
    "rate_limit_timeout": "a number of seconds above 0 and at most 60",
    "api_keys": f"NAME:SHA256 entries separated by commas {_KEY_ENTRY}",
    "api_keys_file": "a readable file of NAME:SHA256 lines",
    "api_keys_file_line": f"one NAME:SHA256 a line {_KEY_ENTRY}, # for a comment",
    "moderate_rate_limits": 'limits such as "120 per minute;10 per second", or empty for none',
    "text_rate_limits": 'limits in bytes such as "250000 per minute", or empty for none',
    "api_key_text_rate_limits": 'limits in bytes such as "2500000 per minute", or empty for none',
    "cors_origins": "origins (scheme://host[:port]) separated by commas, *, or empty for none",
    "rate_limit_storage": "memory:// or redis://host[:port][/db] (rediss:// with TLS, "
    "redis+unix:///path; a password as redis://:PASSWORD@host, its / ? # @ % written "
    "%2F %3F %23 %40 %25)",
    "public_url": "scheme://host[:port][/path] (http or https, no query), or empty",
    "metrics_bind": f"{LISTENER_ALLOWED}, or empty for none",
    "rules_dir": "a folder of rule files",
    "content_dir": "a folder of content files",
}


def listener_ok(bind: str, least_port: int = 1) -> bool:
    """Whether `bind` is a listener gunicorn can be given: ``host:port`` (a port from
    `least_port`, 0 being any free one) or ``unix:path``."""
    match = _BIND.match(bind)
    return bool(match) and least_port <= int(match["port"] or least_port) < 65536


def data_folders(settings: Settings) -> None:
    """Raise ValueError naming the variable when the rule or content folder is not one."""
    for name in ("rules_dir", "content_dir"):
        if not Path(getattr(settings, name)).is_dir():
            raise _bad(name, str(getattr(settings, name)))


_BIND = re.compile(r"^(unix:/\S+|([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5}))$")
_PUBLIC_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def allowed_origins(setting: str) -> list[str]:
    """The origins in `setting` (``ADVISOR_CORS_ORIGINS``); a value that is not ``*``
    or an origin is an error."""
    origins = [part.strip() for part in setting.split(",") if part.strip()]
    if any(o != "*" and not _ORIGIN.match(o) for o in origins):
        raise _bad("cors_origins", setting)
    return ["*"] if "*" in origins else origins


_KEY_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_KEY_HASH = re.compile(r"^[0-9a-f]{64}$")


def hash_api_key(key: str) -> str:
    """What an API key is stored and compared as: its SHA-256, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_hashes(settings: Settings) -> dict[str, str]:
    """The name of each API key by its hash (`hash_api_key`), from ``ADVISOR_API_KEYS``
    and the file ``ADVISOR_API_KEYS_FILE`` names.

    A malformed entry is an error that says where it is but never repeats it: an
    operator may have pasted a key itself where its hash belongs.
    """
    entries = [("API_KEYS", "api_keys", part) for part in settings.api_keys.split(",")]
    if settings.api_keys_file:
        try:
            text = Path(settings.api_keys_file).read_text(encoding="utf-8")
        except OSError as error:  # the reason tells a missing file from one unreadable
            raise _bad("api_keys_file", settings.api_keys_file, error.strerror) from None
        except UnicodeDecodeError:
            raise _bad("api_keys_file", settings.api_keys_file, "not UTF-8 text") from None
        lines = enumerate(text.splitlines(), 1)
        entries += [
            (f"API_KEYS_FILE, line {n},", "api_keys_file_line", line.split("#", 1)[0])
            for n, line in lines
        ]
    hashes = {}
    for where, allowed, entry in entries:
        if not entry.strip():
            continue
        name, _, digest = (part.strip() for part in entry.partition(":"))
        digest = digest.lower()
        if not (_KEY_NAME.match(name) and _KEY_HASH.match(digest)) or digest in hashes:
            raise ValueError(
                f"ADVISOR_{where} is not allowed: use {_ALLOWED[allowed]}, each key once"
            )
        hashes[digest] = name
    return hashes


def _storage_ok(uri: str) -> bool:
    """Whether `uri` is a rate-limit storage the service can use: memory, or Redis
    at an address (the connection itself is tried when the first limit counts)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    if parts.scheme == "memory":
        return uri == "memory://"
    if parts.scheme in ("redis", "rediss"):
        return bool(parts.hostname) and (parts.path in ("", "/") or parts.path[1:].isdigit())
    return parts.scheme == "redis+unix" and parts.path.startswith("/")


def rate_limit_storage_problem(settings: Settings) -> str | None:
    """What keeps the Redis of ``ADVISOR_RATE_LIMIT_STORAGE`` from counting limits, in
    words that say what to mend, asked once (as a worker asks, within
    ``ADVISOR_RATE_LIMIT_TIMEOUT``); None when it answers, or when counts are kept in
    memory or no limit is counted.

    Workers only tell whether it answers (``/health/ready``: ``unreachable``): a
    wrong password looked as a Redis that was down.
    """
    uri = settings.rate_limit_storage
    keyed = (settings.api_keys or settings.api_keys_file) and settings.api_key_rate_limits
    if uri.startswith("memory://") or not (settings.rate_limits or keyed):
        return None
    import redis  # only where Redis is named

    timeout = settings.rate_limit_timeout
    try:
        client = redis.Redis.from_url(
            uri.replace("redis+unix://", "unix://", 1),  # as the limits library reads it
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=None,
        )
        with client:
            client.ping()
    except redis.AuthenticationError as error:
        if "invalid" in str(error) or "WRONGPASS" in str(error):
            why = "Redis refused the password: the URL's must be Redis's own (requirepass)"
        else:
            why = "Redis asks for a password: give it in the URL (redis://:PASSWORD@host:6379/0)"
    except redis.TimeoutError as error:
        why = (
            f"no answer within {timeout:g} s (ADVISOR_RATE_LIMIT_TIMEOUT): {error} "
            "(a firewall dropping packets, or rediss:// to a Redis without TLS)"
        )
    except redis.ResponseError as error:
        why = f"Redis refused to set the connection up: {error}"
        if "DB index" in str(error):
            why += " (a Redis has databases 0 to 15 unless its `databases` setting says more)"
    except redis.RedisError as error:  # refused, no such host or socket
        why = str(error)
    else:
        return None
    return (
        f"rate-limit storage {_without_password(uri)} does not count limits: {why}; "
        "until it does, each worker counts limits alone"
    )


def listener_matches(bind: str, local) -> bool:
    """Whether a connection whose local address is `local` (``getsockname()``)
    came in through the listener `bind` (``host:port`` or ``unix:path``).

    Host and port must both match: ``0.0.0.0`` is any IPv4 address, ``::`` (or an
    empty host) any address, ``localhost`` any loopback address, a name the
    addresses it resolves to, and an address itself (IPv4-mapped IPv6 addresses
    taken as the IPv4 address they carry).
    """
    if bind.startswith("unix:"):
        return local == bind[len("unix:") :]
    if not isinstance(local, tuple) or len(local) < 2:
        return False
    host, _, port = bind.rpartition(":")
    if not port.isdigit() or int(port) != local[1]:
        return False
    address = _address(local[0])
    if address is None:
        return False
    host = host.removeprefix("[").removesuffix("]")
    if host in ("", "::"):
        return True
    if host == "0.0.0.0":
        return address.version == 4
    if host.lower() in ("localhost", "localhost."):
        return address.is_loopback
    wanted = _address(host)
    return address == wanted if wanted is not None else address in _resolved(host)


def listeners_overlap(one: str, other: str) -> bool:
    """Whether the listeners `one` and `other` (``host:port`` or ``unix:path``) would
    take the same address: one socket path, or one port (not 0, any free one) on hosts
    that share an address (``0.0.0.0``, ``::`` or an empty host sharing every one)."""
    if one.startswith("unix:") or other.startswith("unix:"):
        return one == other
    (host, _, port), (other_host, _, other_port) = one.rpartition(":"), other.rpartition(":")
    if int(port) != int(other_port) or int(port) == 0:
        return False
    hosts = [h.removeprefix("[").removesuffix("]") for h in (host, other_host)]
    if {"", "::", "0.0.0.0"} & set(hosts):
        return True
    one_found, other_found = ({_address(h)} - {None} or _resolved(h) for h in hosts)
    return bool(one_found & other_found)


def _address(text) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `text` names (an IPv4-mapped one as IPv4), or None."""
    try:
        address = ipaddress.ip_address(str(text).split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=16)
def _resolved(host: str) -> frozenset:
    """The addresses the name `host` resolves to (as gunicorn resolves it to bind)."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return frozenset()
    return frozenset(filter(None, (_address(entry[4][0]) for entry in found)))


def _without_password(uri: str) -> str:
    """A Redis address as it may be shown: whatever it holds up to its last ``@`` may
    be a password, one holding ``/``, ``@``, ``?`` or ``#`` (not written as ``%2F``…)
    included."""
    return re.sub(r"//.*@", "//***@", uri)


def _bad(name: str, value, why: str | None = None) -> ValueError:
    """The error for a setting that is not allowed: its variable, its value, what it may
    be and, given one, why this value is not."""
    if name == "rate_limit_storage":
        value = _without_password(value)
    because = f" ({why})" if why else ""
    return ValueError(
        f"ADVISOR_{name.upper()}={value!r} is not allowed: use {_ALLOWED[name]}{because}"
    )


#: Engines `default_engine` keeps, by folders and memo size: the most recently used
#: ones. An engine dropped is not closed (an app may still serve with it).
ENGINES_KEPT = 4
_lock = threading.Lock()
_engines: OrderedDict[tuple[Path, Path, int], Engine] = OrderedDict()


def settings_from_env(environ=os.environ) -> Settings:
    """The settings of `environ`, read and checked once for each distinct set of
    ``ADVISOR_*`` values (a key file is read when they are first seen)."""
    return _settings_of(tuple(sorted((k, v) for k, v in environ.items() if k.startswith(_PREFIX))))


_PREFIX = "ADVISOR_"


@functools.lru_cache(maxsize=8)
def _settings_of(variables: tuple[tuple[str, str], ...]) -> Settings:
    return Settings.from_env(dict(variables))


def default_engine(settings: Settings | None = None) -> Engine:
    """The engine for `settings` (from the environment by default), loaded once while it
    is among the `ENGINES_KEPT` most recently asked for."""
    settings = settings or settings_from_env()
    key = (settings.rules_dir, settings.content_dir, settings.engine_memo)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = Engine.load(*key)
            while len(_engines) > ENGINES_KEPT:
                _engines.popitem(last=False)
        else:
            _engines.move_to_end(key)
        return engine


def evaluate(state: InterviewState) -> Advice:
    """The advice for `state` from the default engine."""
    return default_engine().evaluate(state)


def moderate(text: str) -> Verdict:
    """The moderation verdict on `text` from the default engine."""
    return default_engine().moderate(text)
