"""JSON log lines: one object per line, for the application's logs and gunicorn's.

Imports neither Flask nor gunicorn, so that the gunicorn master can use it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback

import orjson

__all__ = ["ENCODE", "MAX_LOGGED_PATH", "JsonFormatter", "encode_line", "logged_path"]

#: The standard library's encoder, for what orjson cannot write (``json.dumps`` with
#: options builds one per call).
ENCODE = json.JSONEncoder(ensure_ascii=False).encode


#: The most characters of a request's path a log line holds: a path of kilobytes that
#: matches no route (8,190 bytes pass the request line's limit) is cut, so that no
#: request, counted by no rate limit, writes kilobytes of what it sent to the log.
MAX_LOGGED_PATH = 100


def logged_path(path: str) -> str:
    """`path` as a log line holds it: cut to `MAX_LOGGED_PATH` characters, ending in "…"."""
    return path if len(path) <= MAX_LOGGED_PATH else f"{path[: MAX_LOGGED_PATH - 1]}…"


def encode_line(entry: dict) -> str:
    """`entry` as one line of JSON: written by orjson (a twentieth of the standard
    encoder's time, for two lines of every advice), or, for what orjson refuses
    (integers past 64 bits, keys that are not strings, numbers or booleans), by
    the standard encoder; either way the same value once read."""
    try:
        return orjson.dumps(entry, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError
        return ENCODE(entry)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and extra fields.

    Extra fields come as ``fields``, a dict given with ``extra``:
    ``logger.info("request", extra={"fields": {...}})``. The line is one dict
    encoded once, so no key appears twice.
    """

    _second = (-1, "")  # the last whole second formatted, and its text (UTC)

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        entry = {
            "ts": f"{self._second[1]}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _escape_breaks(encode_line(entry))

    def formatException(self, ei) -> str:
        """The traceback of each exception in the chain, naming its type but not its
        message, which may quote the client (a validation error lists the keys sent)."""
        chain, error = [], ei[1]
        while error is not None and error not in chain:
            chain.append(error)
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        parts = []
        for error in reversed(chain):
            kind = type(error)
            parts += [
                "Traceback (most recent call last):\n",
                *traceback.format_tb(error.__traceback__),
                f"{kind.__module__}.{kind.__qualname__} (message withheld)\n",
            ]
        return "".join(parts).rstrip("\n")


#: What JSON leaves raw but readers of logs take as a line break or a terminal
#: control: DEL, the C1 controls (NEL, 8-bit CSI…), and the line and paragraph separators.
_BREAKS = re.compile("[\x7f-\x9f\u2028\u2029]")


def _escape_breaks(line: str) -> str:
    """`line` with every character of `_BREAKS` written as a JSON escape."""
    if line.isascii() and "\x7f" not in line:  # most lines: no character to look for
        return line
    return _BREAKS.sub(lambda m: f"\\u{ord(m[0]):04x}", line)
