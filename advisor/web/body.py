"""Reading a JSON request body strictly: nothing sent is silently dropped."""

from __future__ import annotations

import json
import re
from functools import cache

import orjson
from flask import current_app, request
from marshmallow import RAISE, Schema, ValidationError, fields
from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    HTTPException,
    LengthRequired,
    RequestEntityTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from werkzeug.wsgi import get_content_length

from .._data import hint_unknown
from .caching import refuse_if_match
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


#: The detail of a 411, over HTTP/1.1 and (True) over HTTP/1.0, which has no chunked bodies.
LENGTH_REQUIRED = {
    False: "The request has neither Content-Length nor Transfer-Encoding, so it has no body: "
    "send the JSON body with a Content-Length header (or chunked).",
    True: "The request has no Content-Length, so it has no body: send the JSON body with a "
    "Content-Length header (HTTP/1.0 has no chunked bodies).",
}
#: Content types that need no parsing to know they are UTF-8 JSON.
_PLAIN_JSON = frozenset(("application/json", "application/json; charset=utf-8"))


def raw_json_body(takes_query: bool = True) -> bytes:
    """The request's body bytes, once its framing and content type say UTF-8 JSON
    (else 411 or 415). For an endpoint that takes no query parameters (not
    `takes_query`), one sent is refused by name next (`refuse_query`), before the
    body is read: a client is never waited for only to be told that; so is an
    ``If-Match`` (412: `refuse_if_match`)."""
    environ = request.environ
    if not environ.get("CONTENT_LENGTH") and "HTTP_TRANSFER_ENCODING" not in environ:
        # Without either, HTTP gives the request no body (RFC 9112, 6.3): whatever the
        # client sent after its headers is not read as one (the server closes the
        # connection after this answer, rather than read those bytes as a request).
        raise LengthRequired(LENGTH_REQUIRED[environ.get("SERVER_PROTOCOL") == "HTTP/1.0"])
    if "HTTP_CONTENT_ENCODING" in environ:
        _require_identity(environ["HTTP_CONTENT_ENCODING"])
    if environ.get("CONTENT_TYPE", "").lower() not in _PLAIN_JSON:
        _require_utf8_json()
    if not takes_query:
        refuse_query()
    refuse_if_match()
    length = get_content_length(environ)  # as `request.content_length` reads it
    if length and length <= (request.max_content_length or 0):
        raw = _read_declared(environ["wsgi.input"], length)
    else:
        raw = _read_body()
    if len(raw) > FREE_BODY_BYTES:  # a long text: counted by the text limits
        limiter = current_app.extensions.get("advisor_limiter")
        if limiter is not None:
            limiter.charge_text(len(raw))
    return raw


#: The bytes of each request's body that cost nothing of a client's text limits
#: (`limits.RateLimits.charge_text`): an advice without long plans stays within them.
FREE_BODY_BYTES = 1024


#: How much of the body one read asks for, as Werkzeug's stream asks (64 KiB).
READ_SIZE = 64 * 1024


def _read_declared(stream, length: int) -> bytes:
    """A body of a declared length within the limit, read from the WSGI input as the
    WSGI spec has an application read it (never past the declared length), in the
    reads Werkzeug's stream makes (`_read_body`) and with the same answers: 400 when
    it ends early or the server cannot read it, 408 when it does not arrive in time."""
    parts, got = [], 0
    while got < length:
        try:
            part = stream.read(min(length - got, READ_SIZE))
        except TimeoutError as error:
            raise _timed_out() from error
        except Exception as error:
            raise _broken() from error
        if not part:
            raise BadRequest(f"The body ended after {got} of its {length} bytes.")
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


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
            raise _timed_out() from error
        if cause is None and request.content_length is not None:
            raise BadRequest(
                f"The body ended after {got} of its {request.content_length} bytes."
            ) from error
        raise _broken() from error
    except HTTPException:  # a declared length over the limit: 413 before any byte is read
        raise
    except TimeoutError as error:  # a stream Werkzeug leaves unwrapped (no limit set)
        raise _timed_out() from error
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


def _timed_out() -> RequestTimeout:
    # The server gives a body a deadline (ADVISOR_CLIENT_TIMEOUT) and closes the
    # connection after this answer: the rest of the body may never come. How much of
    # it came is not said: a read cut short by the deadline (gunicorn's reads wait
    # for all the bytes they ask for) returns none of what it had received.
    length = request.content_length
    if length is None:
        return RequestTimeout("The body did not arrive in time: its last chunk had not come.")
    return RequestTimeout(f"The body did not arrive in time: its {length} bytes had not all come.")


def _broken() -> BadRequest:
    return BadRequest(
        "The body could not be read: its chunked framing is broken or it ended early."
    )


class _UnsupportedCoding(UnsupportedMediaType):
    """415 for a body in a content coding the service does not decode, saying which it
    takes (RFC 9110, 15.5.16)."""

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Accept-Encoding", "identity")]


def _require_identity(value: str) -> None:
    """415 unless the Content-Encoding `value` names no coding but ``identity``: a
    compressed body would otherwise be read as if it were not (or refused as bad UTF-8)."""
    codings = {coding.strip().lower() for coding in value.split(",")} - {"", "identity"}
    if codings:
        raise _UnsupportedCoding(
            "The body has a Content-Encoding the service does not decode: send it "
            "uncompressed, without Content-Encoding."
        )


def _require_utf8_json() -> None:
    mimetype = request.mimetype
    if mimetype != "application/json" and not (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        raise UnsupportedMediaType(
            f"Send the body as application/json (got {shortened(mimetype) or 'no content type'})."
        )
    # Werkzeug keeps the last of a parameter given twice and drops one with no value or
    # with bytes no token holds ("charset=\xff\xfe"): none may decide the charset unseen.
    named = [
        part.partition("=")
        for part in request.environ.get("CONTENT_TYPE", "").split(";")[1:]
        if part.partition("=")[0].strip().lower() == "charset"
    ]
    if len(named) > 1 or named and not named[0][2].strip(' \t"'):
        raise UnsupportedMediaType(
            "Send the body as UTF-8, with one charset parameter (charset=utf-8) or none."
        )
    charset = named[0][2].strip(' \t"').lower() if named else "utf-8"
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"Send the body as UTF-8 (got charset {shortened(charset)}).")


#: What `_quick_json` answers when the strict reading must decide.
_REFUSED = object()
#: Where a key written without spaces ends.
_KEY_END = b'":'
#: A closing quote before whitespace: a key may end there, before a spaced colon.
_SPACED = (b'" ', b'"\n', b'"\t', b'"\r')
#: Floats at least this large may be integers past 64 bits, which orjson reads as floats.
_BIG = float(2**63)


def _quick_json(raw: bytes):
    """`raw`'s JSON value read by orjson, when it is an object of plain fields (no
    object inside it, arrays of strings, numbers, booleans and nulls only) that the
    strict reading (`strict_json`) reads alike; else `_REFUSED`.

    orjson refuses what is not JSON (invalid UTF-8, NaN, a lone surrogate) but reads
    an integer past 64 bits as a float and keeps the last of a key written twice. So
    a body is left to the strict reading, which answers it with its own value or
    error, when it holds an escape, a quote before whitespace (a key may end there,
    uncounted), more ``":`` than the keys read (each key written without spaces
    ends so, and a string may hold it too: never fewer), a float past 2**63, or any
    other shape. `tests/test_fast_path.py` compares the two readings on any bytes."""
    if b"\\" in raw or any(spaced in raw for spaced in _SPACED):
        return _REFUSED
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _REFUSED
    if type(value) is not dict or raw.count(_KEY_END) != len(value):
        return _REFUSED
    for item in value.values():
        kind = type(item)
        if kind is float:
            if not -_BIG < item < _BIG:
                return _REFUSED
        elif kind is list:
            for element in item:
                kind = type(element)
                if kind is dict or kind is list or kind is float and not -_BIG < element < _BIG:
                    return _REFUSED
        elif kind is dict:
            return _REFUSED
    return value


def json_body(raw: bytes | None = None):
    """The request's JSON value, or a 415/400/408/413 error saying what is wrong.

    `raw` is the body already read by `raw_json_body`, so that it is read once."""
    if raw is None:
        raw = raw_json_body()
    value = _quick_json(raw)
    if value is _REFUSED:
        value = strict_json(raw)
    if _OVERRIDE_MARK.search(raw):
        _refuse_overrides(value)
    return value


#: A bidirectional override (LRO, RLO) as UTF-8 or as a JSON escape.
_OVERRIDE_MARK = re.compile(rb"\xe2\x80[\xad\xae]|\\u202[dDeE]")
_OVERRIDE = re.compile("[\u202d\u202e]")
OVERRIDE = (
    "Holds a bidirectional override (U+202D or U+202E), which shows the characters "
    "after it in another order than they are read (and screened): remove it."
)


def _refuse_overrides(value) -> None:
    """422 naming a field whose string holds a bidirectional override: a text that
    reads as one thing and is shown as another cannot be screened for what it shows."""
    found = _holding(value, _OVERRIDE)
    if found is not None:
        path, in_key = found
        message = f"A key of it {OVERRIDE[0].lower()}{OVERRIDE[1:]}" if in_key else OVERRIDE
        raise ValidationError({path or "$": [message]})


def _holding(value, pattern: re.Pattern):
    """The path of the first string of `value` in which `pattern` is found, and whether it
    is a key (of the object at that path); None when there is none."""
    stack = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if pattern.search(item):
                return path, False
        elif isinstance(item, dict):
            for key, child in item.items():
                if pattern.search(key):
                    return path, True
                stack.append((_join(path, key), child))
        elif isinstance(item, list):
            stack.extend((_join(path, str(index)), child) for index, child in enumerate(item))
    return None


#: JSON sent over a network carries no byte order mark (RFC 8259, 8.1); some editors
#: save one at the start of a UTF-8 file, and the parser's own words for it name Python.
BYTE_ORDER_MARK = (
    "The body starts with a byte order mark (U+FEFF), which JSON sent over a network "
    "must not carry: send it as UTF-8 without one."
)


def strict_json(raw: bytes):
    """`raw`'s JSON value read by the standard library with every check of the
    contract (`json_body` answers the same, most bodies faster), or a 400."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"The body is not valid UTF-8 (byte {error.start}).") from error
    if text.startswith("\ufeff"):
        raise BadRequest(BYTE_ORDER_MARK)
    if not text.strip(" \t\n\r"):  # JSON's white space: nothing was sent to read
        raise BadRequest("The body is empty: send the request's JSON object.")
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
    found = _holding(value, _SURROGATE)
    if found is not None:
        path, in_key = found
        if in_key:
            raise BadRequest(f"A key of {path or '$'} {LONE_SURROGATE}")
        raise BadRequest(f"{path or '$'}: {LONE_SURROGATE}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def load_body(schema: Schema, load=None, raw: bytes | None = None) -> dict:
    """The JSON body, which must be an object, loaded through `schema` (or `load`, which
    must answer as `schema.load` does); `raw` as for `json_body`."""
    body = json_body(raw)
    if not isinstance(body, dict):
        raise ValidationError({"$": ["The body must be a JSON object."]})
    _refuse_many_unknown(schema, body)
    try:
        return (load or schema.load)(body)
    except ValidationError as error:
        hint_unknown(error.messages, schema)
        raise


def _refuse_many_unknown(schema: Schema, value: dict) -> None:
    """A ValidationError naming the unknown keys of `value`, or of an object in it that
    a nested field of `schema` reads, when more than `MAX_ERRORS` of one object are
    unknown: refused at once, in the order sent. marshmallow's own check costs a merge
    of its errors per key (some 20 times the rest of the work) and lists them in no
    order."""
    if schema.unknown == RAISE and len(value) > MAX_ERRORS:
        known = {item.data_key or name for name, item in schema.load_fields.items()}
        unknown = [key for key in value if key not in known]
        if len(unknown) > MAX_ERRORS:
            raise ValidationError(dict.fromkeys(unknown, [schema.error_messages["unknown"]]))
    for key, nested in _nested_schemas(schema):
        item = value.get(key)
        if isinstance(item, dict):
            try:
                _refuse_many_unknown(nested, item)
            except ValidationError as error:
                raise ValidationError({key: error.messages}) from None


@cache  # the schemas are the endpoints' own, made once
def _nested_schemas(schema: Schema) -> tuple[tuple[str, Schema], ...]:
    """Each key of a body of `schema` whose value one object's schema reads, and that schema."""
    return tuple(
        (item.data_key or name, item.schema)
        for name, item in schema.load_fields.items()
        if isinstance(item, fields.Nested) and not item.many
    )


#: The message for a query parameter an endpoint does not take.
UNKNOWN_PARAMETER = "Unknown query parameter."


def refuse_query() -> None:
    """422 naming each query parameter, for an endpoint that takes none: a field sent
    in the query string rather than in the body is refused, never silently dropped."""
    if request.query_string and request.args:
        raise ValidationError(dict.fromkeys(request.args, [UNKNOWN_PARAMETER]))


def load_query(schema: Schema) -> dict:
    """The query string loaded through `schema`; a repeated parameter is an error, and
    an unknown one is named with the parameter closest to it, as a body's fields are."""
    repeated = [key for key, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise ValidationError({key: ["Give this parameter once."] for key in repeated})
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as error:
        hint_unknown(error.messages, schema, QUERY_CLOSENESS)
        raise


#: How close an unknown query parameter must be to a known one to be named as meant:
#: an endpoint takes few, and a field of the body sent in the query string (`plans`)
#: must not be taken for one of them (`explain`, 0.67 of it).
QUERY_CLOSENESS = 0.8
