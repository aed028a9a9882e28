"""Reading a JSON request body strictly: nothing sent is silently dropped."""

from __future__ import annotations

import json
import re

from flask import current_app, g, request
from marshmallow import RAISE, Schema, ValidationError
from werkzeug.exceptions import (
    BadRequest,
    RequestEntityTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from werkzeug.wsgi import get_content_length

from .errors import MAX_ERRORS, shortened

MAX_INT_DIGITS = 30


def _no_duplicate_keys(pairs):
    result = dict(pairs)
    if len(result) < len(pairs):  # rare: find the key, named short (it is the client's)
        seen = set()
        key = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"the key {shortened(key)!r} appears twice in one object")
    return result


def _no_constants(name):
    raise ValueError(f"{name} is not valid JSON")


def _bounded_int(digits: str) -> int:
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(digits)


#: Content types that need no parsing to know they are UTF-8 JSON.
_PLAIN_JSON = frozenset(("application/json", "application/json; charset=utf-8"))


def raw_json_body() -> bytes:
    """The request's body bytes, once its content type says UTF-8 JSON (else 415)."""
    if request.environ.get("CONTENT_TYPE", "").lower() not in _PLAIN_JSON:
        _require_utf8_json()
    body = g.get("body")
    if body is None:
        body = g.body = _read_body()
    return body


def _read_body() -> bytes:
    """The body, read once: 413 over the limit, 400 when it ends before its length,
    408 when it does not arrive in time.

    A body of declared length is read to that length; a chunked one (which the
    server ends) to the limit and one byte more, to tell a body at the limit
    from a larger one.
    """
    environ = request.environ
    stream = environ.get("wsgi.input")
    length = get_content_length(environ)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if stream is None or (length is None and not environ.get("wsgi.input_terminated")):
        return b""  # no body, or no way to tell where it ends (werkzeug's safe choice too)
    if length is None:
        body = _read_up_to(stream, None if limit is None else limit + 1)
        if limit is not None and len(body) > limit:
            raise RequestEntityTooLarge()
        return body
    if limit is not None and length > limit:
        raise RequestEntityTooLarge()
    body = _read_up_to(stream, length)
    if len(body) < length:
        raise BadRequest(f"The body ended after {len(body)} of its {length} bytes.")
    return body


def _read_up_to(stream, most: int | None) -> bytes:
    """Bytes from `stream` until it ends or `most` of them have come (None: no bound);
    408 when they do not come in time, 400 when the server cannot read them."""
    chunks, got = [], 0
    while most is None or got < most:
        try:
            chunk = stream.read(65536 if most is None else most - got)
        except TimeoutError as error:
            # The server gives a body a deadline (ADVISOR_CLIENT_TIMEOUT) and closes
            # the connection after this answer: the rest of the body may never come.
            raise RequestTimeout(
                f"The body did not arrive in time: {got} bytes came before the deadline."
            ) from error
        except Exception as error:
            # The server parses chunked framing as the body is read and raises its own
            # errors for a bad chunk size, a missing CRLF, a trailer without a colon
            # or an end mid-chunk (gunicorn's derive from Exception, werkzeug's from
            # OSError): the client sent a broken body.
            raise BadRequest(
                "The body could not be read: its chunked framing is broken or it ended early."
            ) from error
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _require_utf8_json() -> None:
    mimetype = request.mimetype
    if mimetype != "application/json" and not (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        raise UnsupportedMediaType(
            f"Send the body as application/json (got {mimetype or 'no content type'})."
        )
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"Send the body as UTF-8 (got charset {charset}).")


def json_body():
    """The request's JSON value, or a 415/400/408/413 error saying what is wrong."""
    raw = raw_json_body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"The body is not valid UTF-8 (byte {error.start}).") from error
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constants,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"The body is not valid JSON: {error.msg} at character {error.pos}."
        ) from error
    except RecursionError as error:
        raise BadRequest("The body is nested too deeply.") from error
    except ValueError as error:
        raise BadRequest(f"The body is not acceptable JSON: {error}.") from error
    if "\\u" in text:  # only an escape can give a lone surrogate: UTF-8 cannot
        _refuse_lone_surrogates(value)
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE = (
    "holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not a character."
)


def _refuse_lone_surrogates(value) -> None:
    """400 naming a field whose string or key holds a lone surrogate: it is
    no character, so it can be neither moderated nor written back as UTF-8.

    Fields are named by their path (``plans.0``; ``$`` is the whole body), never
    by the client's text.
    """
    stack = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise BadRequest(f"{path or '$'}: {LONE_SURROGATE}")
        elif isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):
                    raise BadRequest(f"A key of {path or '$'} {LONE_SURROGATE}")
                stack.append((_join(path, key), child))
        elif isinstance(item, list):
            stack.extend((_join(path, str(index)), child) for index, child in enumerate(item))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def load_body(schema: Schema, load=None) -> dict:
    """The JSON body, which must be an object, loaded through `schema` (or `load`, which
    must answer as `schema.load` does)."""
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError({"$": ["The body must be a JSON object."]})
    if schema.unknown == RAISE and len(body) > MAX_ERRORS:
        known = {item.data_key or name for name, item in schema.load_fields.items()}
        unknown = [key for key in body if key not in known]
        if len(unknown) > MAX_ERRORS:
            # Refused at once: marshmallow's own check costs a merge of its errors per key.
            raise ValidationError(dict.fromkeys(unknown, [schema.error_messages["unknown"]]))
    return (load or schema.load)(body)


def load_query(schema: Schema) -> dict:
    """The query string loaded through `schema`; a repeated parameter is an error."""
    repeated = [key for key, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise ValidationError({key: ["Give this parameter once."] for key in repeated})
    return schema.load(request.args.to_dict())
