"""Reading a JSON request body strictly: nothing sent is silently dropped."""

from __future__ import annotations

import json
import re

from flask import request
from marshmallow import RAISE, Schema, ValidationError
from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)

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
    return _read_body()


def _read_body() -> bytes:
    """The body, read once through Werkzeug (``request.get_data``, within
    ``MAX_CONTENT_LENGTH`` and the declared length): 413 over the limit (a declared
    length at once, before any byte is read), 400 when it ends before its length or
    its chunked framing is broken, 408 when it does not arrive in time."""
    try:
        body = request.get_data()
    except ClientDisconnected as error:
        # Werkzeug's stream ends a read that fails, or gets nothing before the
        # declared length, with ClientDisconnected; the failure is its context.
        got, cause = _received(), error.__cause__ or error.__context__
        if isinstance(cause, TimeoutError):
            raise _timed_out(got) from error
        if cause is None and request.content_length is not None:
            raise BadRequest(
                f"The body ended after {got} of its {request.content_length} bytes."
            ) from error
        raise _broken() from error
    except HTTPException:  # a declared length over the limit: 413 before any byte is read
        raise
    except TimeoutError as error:  # a stream Werkzeug leaves unwrapped (no limit set)
        raise _timed_out(_received()) from error
    except Exception as error:
        # The server parses chunked framing as the body is read and raises its own
        # errors for a bad chunk size, a missing CRLF or a trailer without a colon
        # (gunicorn's derive from Exception): the client sent a broken body.
        raise _broken() from error
    length, limit = request.content_length, request.max_content_length
    if length is not None and len(body) < length:
        # A server that ends the stream itself (gunicorn sets wsgi.input_terminated)
        # gets it read to the limit, not to the declared length: the end comes early.
        raise BadRequest(f"The body ended after {len(body)} of its {length} bytes.")
    if length is None and limit is not None and len(body) >= limit:
        # A body of no declared length (chunked) is cut at the limit by Werkzeug,
        # silently: one byte more on the raw stream tells one at the limit from a
        # larger one.
        try:
            more = request.input_stream.read(1)
        except Exception as error:
            raise _broken() from error
        if more:
            raise RequestEntityTooLarge()
    return body


def _received() -> int:
    """How many bytes of the body were read (0 when the stream cannot say)."""
    try:
        return request.stream.tell()
    except (AttributeError, OSError):
        return 0


def _timed_out(got: int) -> RequestTimeout:
    # The server gives a body a deadline (ADVISOR_CLIENT_TIMEOUT) and closes the
    # connection after this answer: the rest of the body may never come.
    return RequestTimeout(f"The body did not arrive in time: {got} bytes came before the deadline.")


def _broken() -> BadRequest:
    return BadRequest(
        "The body could not be read: its chunked framing is broken or it ended early."
    )


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


def json_body(raw: bytes | None = None):
    """The request's JSON value, or a 415/400/408/413 error saying what is wrong.

    `raw` is the body already read by `raw_json_body`, so that it is read once."""
    if raw is None:
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


def load_body(schema: Schema, load=None, raw: bytes | None = None) -> dict:
    """The JSON body, which must be an object, loaded through `schema` (or `load`, which
    must answer as `schema.load` does); `raw` as for `json_body`."""
    body = json_body(raw)
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
