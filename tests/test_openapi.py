"""The OpenAPI 3.1 document at /openapi.json, and its page at /docs."""

import json
import re
from html.parser import HTMLParser

import pytest
from gunicorn.http import errors
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from advisor._gunicorn import problem_of
from advisor.state import MAX_HOURS, MAX_PLAN_CHARS, MAX_PLANS
from advisor.web import apidoc, openapi
from advisor.web.docs import CSP, constraints, prose, type_of
from advisor.web.moderation import MAX_TEXT_CHARS
from advisor.web.openapi import INVALID_STATE, build_document

from .apps import make_app
from .live import ROOT

PROBLEM = "application/problem+json"
METHODS = {"get", "post", "put", "patch", "delete"}
#: Routes that are the API (the rest, e.g. static files and the widget, are not).
API_PREFIXES = ("/v1/", "/health/", "/metrics", "/openapi.json", "/docs")


@pytest.fixture(scope="module")
def app(engine):
    return make_app(engine)


@pytest.fixture(scope="module")
def doc(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _resolve(doc, item):
    if "$ref" in item:
        *_, kind, name = item["$ref"].split("/")
        return doc["components"][kind][name]
    return item


def _responses(doc, operation):
    return {status: _resolve(doc, r) for status, r in operation["responses"].items()}


def _examples(media):
    if "example" in media:
        yield "example", media["example"]
    for name, example in media.get("examples", {}).items():
        yield name, example["value"]


def _validator(doc, schema):
    return OAS31Validator({**schema, "components": doc["components"]})


def test_the_document_is_written_once_and_served_as_the_json_provider_writes_it(app):
    client = app.test_client()
    first = client.get("/openapi.json")
    built = app.extensions["openapi"]
    second = client.get("/openapi.json")
    assert app.extensions["openapi"] is built  # not written again
    with app.app_context():
        written = app.json.response(openapi.document()).get_data()
    assert first.get_data() == second.get_data() == written
    assert second.mimetype == "application/json"


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def _routed(app):
    """The app's route map: OpenAPI path -> the methods its routes declare."""
    routes = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_the_document_is_the_route_map(app, doc):
    routes = _routed(app)
    documented = {}
    for path, method, _ in _operations(doc):
        documented.setdefault(path, set()).add(method)
    api = {path: methods for path, methods in routes.items() if path.startswith(API_PREFIXES)}
    assert api.keys() - documented.keys() == set(), "routes missing from the document"
    assert documented.keys() - routes.keys() == set(), "documented paths the app does not route"
    for path, methods in documented.items():
        assert methods == routes[path], f"{path}: documented methods differ from the routed ones"


def test_a_new_route_is_documented_from_its_view_or_fails_the_document(engine):
    described = make_app(engine)
    spec = {
        "tags": ["operations"],
        "operationId": "extra",
        "responses": {"204": {"description": "-"}},
    }
    described.add_url_rule("/v1/extra", "extra", apidoc.operation(spec)(lambda: ("", 204)))
    doc = build_document(described, engine, described.extensions["advisor_drafts"])
    # Declaring no key, it takes none: the document's optional key is not for it.
    assert doc["paths"]["/v1/extra"] == {"get": spec | {"security": []}}

    undescribed = make_app(engine)
    undescribed.add_url_rule("/v1/extra", "extra", lambda: ("", 204), methods=["POST"])
    with pytest.raises(LookupError, match="/v1/extra"):
        build_document(undescribed, engine, undescribed.extensions["advisor_drafts"])


def test_operation_ids_are_unique(doc):
    ids = [operation["operationId"] for *_, operation in _operations(doc)]
    assert len(ids) == len(set(ids))


def test_every_error_is_a_problem(doc):
    for path, method, operation in _operations(doc):
        for status, response in _responses(doc, operation).items():
            if int(status) >= 400:
                assert set(response["content"]) == {PROBLEM}, (path, method, status)
                schema = response["content"][PROBLEM]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize(
    "error",
    [
        errors.InvalidHeader("CONTENT-LENGTH"),
        errors.InvalidChunkSize(b"zz"),
        errors.LimitRequestLine(9000, 8190),
        errors.UnsupportedTransferCoding("gzip"),
        errors.InvalidHTTPVersion((2, 0)),
        RuntimeError("inside gunicorn"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_the_problems_gunicorn_answers_itself_match_the_problem_schema(doc, error):
    # A client generated from the document reads these too: every field the schema
    # requires must be in them.
    body = json.loads(problem_of(error).body())
    _validator(doc, doc["components"]["schemas"]["Problem"]).validate(body)


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        (
            "/v1/advice",
            "post",
            {"200", "400", "401", "406", "408", "411", "412", "413", "415", "422", "429", "500"},
        ),
        (
            "/v1/moderate",
            "post",
            {"200", "400", "401", "408", "411", "412", "413", "415", "422", "429", "500"},
        ),
        (
            "/v1/drafts",
            "post",
            {"200", "400", "401", "408", "411", "412", "413", "415", "422", "429", "500"},
        ),
        ("/v1/guidance", "get", {"200", "304", "401", "412", "429", "500"}),
        ("/v1/guidance/{item_id}", "get", {"200", "304", "401", "404", "412", "429", "500"}),
        ("/v1/rejected", "get", {"200", "304", "401", "412", "429", "500"}),
        ("/v1/rejected/{item_id}", "get", {"200", "304", "401", "404", "412", "429", "500"}),
        ("/v1/sources", "get", {"200", "304", "401", "412", "429", "500"}),
        ("/v1/sources/{item_id}", "get", {"200", "304", "401", "404", "412", "429", "500"}),
        ("/health/ready", "get", {"200", "503"}),
        ("/openapi.json", "get", {"200", "304", "412"}),
        ("/docs", "get", {"200", "304", "412"}),
    ],
)
def test_operations_document_each_status_they_give(doc, path, method, statuses):
    assert set(doc["paths"][path][method]["responses"]) == statuses


#: The table of errors a caller reads in docs/api.md: a row starts with its status.
ERROR_ROW = re.compile(r"^\| (\d{3}) \|", re.MULTILINE)


def test_every_error_status_of_the_document_is_in_the_docs_table_of_errors(doc):
    """A caller learns the errors from docs/api.md: each status an operation of the
    document answers with a problem has its row there, saying when it comes."""
    documented = {
        status
        for _, _, operation in _operations(doc)
        for status, response in _responses(doc, operation).items()
        if PROBLEM in response.get("content", {})
    }
    errors = (ROOT / "docs" / "api.md").read_text(encoding="utf-8").split("\n## Errors\n")[1]
    listed = set(ERROR_ROW.findall(errors.split("\n## ")[0]))
    assert documented - listed == set()


def test_every_answer_with_an_etag_documents_its_conditions(doc):
    """A request may send If-None-Match or If-Match wherever an ETag comes back: each is
    a parameter of the operation, and its 304 and 412 are documented answers."""
    for path, _, operation in _operations(doc):
        if "304" in operation["responses"]:
            names = [
                parameter["$ref"].rpartition("/")[2]
                for parameter in operation["parameters"]
                if "$ref" in parameter
            ]
            assert {"IfNoneMatch", "IfMatch"} <= set(names), path
            assert operation["responses"]["412"] == {
                "$ref": "#/components/responses/PreconditionFailed"
            }, path


def test_cached_answers_document_their_headers(doc):
    for path, _, operation in _operations(doc):
        responses = _responses(doc, operation)
        if "304" in responses:
            headers = {k: _resolve(doc, h) for k, h in responses["200"]["headers"].items()}
            assert headers["ETag"]["required"] is True, path
            assert headers["Cache-Control"]["required"] is True, path
            assert "ETag" in responses["304"]["headers"]
            names = [_resolve(doc, p)["name"] for p in operation["parameters"]]
            assert "If-None-Match" in names


def test_the_request_bodies_are_closed_and_say_the_real_limits(doc):
    schemas = doc["components"]["schemas"]
    state = schemas["InterviewState"]
    assert state["additionalProperties"] is False
    assert state["required"] == ["stage"]
    assert state["dependentRequired"] == {"now": ["interview_ended_at"]}
    assert state["not"]["required"] == ["hours_since", "interview_ended_at"]
    properties = state["properties"]
    assert properties["plans"]["maxItems"] == MAX_PLANS
    assert _resolve(doc, properties["plans"]["items"]) | {"description": "…"} == {
        "type": "string",
        "maxLength": MAX_PLAN_CHARS,
        "description": "…",
    }
    assert properties["hours_since"] == properties["hours_since"] | {
        "minimum": 0,
        "maximum": MAX_HOURS,
    }
    stages = _resolve(doc, properties["stage"])["enum"]
    assert stages == ["closing", "after", "offer", "rejected", "next_round"]
    assert properties["decision_expected_in_days"]["type"] == ["integer", "null"]
    assert properties["interview_ended_at"]["format"] == "date-time"
    assert all(p.get("description") for p in properties.values())
    moderation = schemas["ModerationRequest"]
    assert moderation["additionalProperties"] is False
    assert moderation["required"] == ["text"]
    assert moderation["properties"]["text"]["maxLength"] == MAX_TEXT_CHARS


def test_answers_stay_open_for_new_fields(doc):
    for name, schema in doc["components"]["schemas"].items():
        if name not in {"InterviewState", "ModerationRequest", "DraftRequest", "DraftDetails"}:
            assert "additionalProperties" not in schema, name


def test_explain_and_the_calendar_are_documented(doc):
    advice = doc["paths"]["/v1/advice"]["post"]
    (explain,) = advice["parameters"]
    assert explain["name"] == "explain"
    assert explain["in"] == "query"
    assert explain["schema"]["type"] == "boolean"
    content = advice["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/calendar"}
    assert content["text/calendar"]["example"].startswith("BEGIN:VCALENDAR")
    assert "explain" in doc["components"]["schemas"]["Advice"]["properties"]
    assert "explain_upcoming" in doc["components"]["schemas"]["Advice"]["properties"]


def test_upcoming_is_documented_and_shown_in_the_examples(doc):
    schemas = doc["components"]["schemas"]
    advice = schemas["Advice"]
    assert "upcoming" in advice["required"]
    ref = advice["properties"]["upcoming"]["items"]["$ref"].rsplit("/", 1)[1]
    upcoming = schemas[ref]
    assert {"starts", "starts_in_hours"} <= set(upcoming["properties"])
    assert "starts_in_hours" in upcoming["required"]
    assert "starts" not in upcoming["required"]
    assert set(schemas["AdviceAction"]["properties"]) < set(upcoming["properties"])
    answers = doc["paths"]["/v1/advice"]["post"]["responses"]["200"]["content"]
    examples = answers["application/json"]["examples"]
    assert any(e["value"]["upcoming"] for e in examples.values())
    assert examples["explain"]["value"]["explain_upcoming"]
    assert "BEGIN:VEVENT" in answers["text/calendar"]["example"]


def test_every_example_matches_its_schema(doc):
    checked = 0
    for path, method, operation in _operations(doc):
        media = list(operation.get("requestBody", {}).get("content", {}).items())
        for response in _responses(doc, operation).values():
            media += list(response.get("content", {}).items())
        for media_type, item in media:
            if "json" not in media_type:
                continue
            validator = _validator(doc, item["schema"])
            for name, value in _examples(item):
                errors = [e.message for e in validator.iter_errors(value)]
                assert errors == [], (path, method, media_type, name)
                checked += 1
    assert checked >= 20


def test_advice_examples_are_real_answers(client, doc):
    advice = doc["paths"]["/v1/advice"]["post"]
    requests = advice["requestBody"]["content"]["application/json"]["examples"]
    answers = advice["responses"]["200"]["content"]["application/json"]["examples"]
    for name, example in requests.items():
        response = client.post("/v1/advice", json=example["value"])
        assert response.get_json() == answers[name]["value"], name
    explained = client.post("/v1/advice?explain=true", json=requests["agency"]["value"])
    explain = answers["explain"]["value"]["explain"]
    assert explained.get_json()["explain"][: len(explain)] == explain
    assert (
        explained.get_json()["explain_upcoming"]
        == (answers["explain"]["value"]["explain_upcoming"])
    )
    calendar = client.post(
        "/v1/advice", json=requests["clock"]["value"], headers={"Accept": "text/calendar"}
    )
    assert (
        calendar.get_data(as_text=True)
        == advice["responses"]["200"]["content"]["text/calendar"]["example"]
    )


def test_the_moderation_and_422_examples_are_real_answers(client, doc):
    moderate = doc["paths"]["/v1/moderate"]["post"]
    sent = moderate["requestBody"]["content"]["application/json"]["example"]
    documented = moderate["responses"]["200"]["content"]["application/json"]["example"]
    assert client.post("/v1/moderate", json=sent).get_json() == documented
    unprocessable = doc["components"]["responses"]["UnprocessableContent"]
    response = client.post("/v1/advice", json=INVALID_STATE)
    assert response.status_code == 422
    assert response.get_json() == unprocessable["content"][PROBLEM]["example"]


#: An empty body, as a client declares it (the test client leaves out a length of 0).
EMPTY = {"CONTENT_LENGTH": "0"}


@pytest.mark.parametrize(
    ("name", "method", "path", "kwargs"),
    [
        (
            "BadRequest",
            "post",
            "/v1/advice",
            {"data": "", "content_type": "application/json", "environ_overrides": EMPTY},
        ),
        ("LengthRequired", "post", "/v1/advice", {"content_type": "application/json"}),
        ("NotFound", "get", "/v1/guidance/nope", {}),
        ("PreconditionFailed", "get", "/v1/guidance", {"headers": {"If-Match": '"other"'}}),
        ("NotAcceptable", "post", "/v1/advice", {"json": {}, "headers": {"Accept": "image/png"}}),
        (
            "ContentTooLarge",
            "post",
            "/v1/advice",
            {"data": "x" * 300_000, "content_type": "application/json"},
        ),
        (
            "UnsupportedMediaType",
            "post",
            "/v1/advice",
            {"data": "stage=after", "content_type": "text/plain"},
        ),
    ],
)
def test_problem_examples_are_real_answers(client, doc, name, method, path, kwargs):
    documented = doc["components"]["responses"][name]["content"][PROBLEM]["example"]
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == documented["status"]
    assert response.get_json() == documented


def test_the_rate_limit_answer_is_as_documented(engine, doc):
    client = make_app(engine, rate_limits="1 per day").test_client()
    documented = doc["components"]["responses"]["TooManyRequests"]
    client.get("/v1/guidance")
    response = client.get("/v1/guidance")
    assert response.status_code == 429
    assert response.mimetype == PROBLEM
    assert "Retry-After" in response.headers
    assert set(documented["headers"]) == {"Retry-After"}
    example = documented["content"][PROBLEM]["example"]
    assert set(response.get_json()) == set(example)


@pytest.mark.parametrize("kind", ["guidance", "rejected", "sources"])
def test_catalogue_examples_are_real_answers(client, doc, kind):
    listed = doc["paths"][f"/v1/{kind}"]["get"]["responses"]["200"]["content"]
    example = listed["application/json"]["example"][kind]
    assert client.get(f"/v1/{kind}").get_json()[kind][: len(example)] == example
    item = doc["paths"][f"/v1/{kind}/{{item_id}}"]["get"]
    (item_id,) = [p["example"] for p in item["parameters"] if p.get("name") == "item_id"]
    documented = item["responses"]["200"]["content"]["application/json"]["example"]
    real = client.get(f"/v1/{kind}/{item_id}").get_json()
    if "text" in real:
        assert real["text"].startswith(documented.pop("text").removesuffix("…"))
        real.pop("text")
    assert real == documented


# --- What client generators make of it -------------------------------------------

#: The values a client names as a type of its own, and the name every generator gives
#: it: the one openapi-python-client gave them when they were written out inline (the
#: names a generated client is imported by, as in docs/api.md).
NAMED_VALUES = [
    ("InterviewState", "stage", "InterviewStateStage"),
    ("InterviewState", "still_interested", "InterviewStateStillInterested"),
    ("InterviewState", "plans", "InterviewStatePlansItem"),
    ("DraftRequest", "action", "DraftRequestAction"),
    ("Draft", "channel", "DraftChannel"),
    ("Plan", "verdict", "PlanVerdict"),
    ("Citation", "nature", "CitationNature"),
    ("Source", "nature", "SourceNature"),
    ("SourceDetail", "nature", "SourceDetailNature"),
]


@pytest.mark.parametrize(("parent", "field", "name"), NAMED_VALUES)
def test_enums_and_list_items_are_named_schemas(doc, parent, field, name):
    schemas = doc["components"]["schemas"]
    prop = schemas[parent]["properties"][field]
    if prop.get("type") == "array":
        assert prop["items"] == {"$ref": f"#/components/schemas/{name}"}
    else:
        # The property keeps its own description and default beside the reference.
        assert prop["$ref"] == f"#/components/schemas/{name}"
        assert set(prop) <= {"$ref", "description", "default"}
    assert schemas[name]["type"] == "string"
    assert schemas[name]["description"]


def test_no_schema_holds_an_unnamed_enum_or_constrained_item(doc):
    """A generator names an inline enum after its property alone (`Verdict` of
    `Plan.verdict`), which can collide with a schema of that name."""
    for name, schema in doc["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            assert "enum" not in prop, f"{name}.{field}"
            items = prop.get("items", {})
            assert not {"enum", "maxLength"} & set(items), f"{name}.{field}[]"


def test_the_optional_key_is_said_once_for_the_whole_document(doc):
    """openapi-python-client reads an operation's own `security` as a key required."""
    assert doc["security"] == [{}, {"apiKey": []}]
    for path, method, operation in _operations(doc):
        if path.startswith("/v1/"):
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [], (method, path)


MODERATED = [
    "Send a short thank-you note tonight.",
    "Three pints, then drive home. Never drive after drinking.",
    "Pay your referees so they speak well of you.",
    "",
]


@pytest.mark.parametrize("text", MODERATED)
def test_what_a_verdict_always_holds_is_required(client, doc, text):
    """Generated clients type a field the document does not require as maybe absent:
    what every answer holds is required."""
    schemas = doc["components"]["schemas"]
    verdict = client.post("/v1/moderate", json={"text": text}).get_json()
    assert set(schemas["Verdict"]["required"]) == set(verdict)
    for sentence in verdict["sentences"]:
        assert set(schemas["Sentence"]["required"]) <= set(sentence)
        for evidence in sentence["evidence"]:
            assert set(schemas["Evidence"]["required"]) == set(evidence)


def test_what_readiness_always_holds_is_required(client, doc):
    ready = client.get("/health/ready").get_json()
    assert set(doc["components"]["schemas"]["Ready"]["required"]) == set(ready)


# --- The page -------------------------------------------------------------------


class _Page(HTMLParser):
    """Every tag with its attributes, and the text."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _page(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return response, page


def test_the_page_shows_every_operation_schema_and_error(client, doc):
    _, page = _page(client)
    text = " ".join(page.text)
    for path, method, operation in _operations(doc):
        assert path in text
        assert operation["summary"].split("`")[0] in text, (path, method)
    anchors = {attrs.get("id") for _, attrs in page.tags}
    for name in doc["components"]["schemas"]:
        assert f"schema-{name}" in anchors
    for status in ("400", "404", "406", "413", "415", "422", "429", "500", "503"):
        assert status in text
    assert "interview_ended_at" in text
    assert "explain" in text
    # A named enum reads as its values, in its own section and in the fields using it.
    assert text.count('one of "closing", "after", "offer", "rejected", "next_round"') == 2


def test_the_page_runs_no_script_and_loads_nothing_from_elsewhere(client):
    response, page = _page(client)
    assert response.headers["Content-Security-Policy"] == CSP
    assert "script-src" not in CSP
    assert "unsafe" not in CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script" not in {tag for tag, _ in page.tags}
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), tag
        for name in ("href", "src"):
            if name in attrs:
                assert attrs[name].startswith(("/", "#")), attrs[name]
    (stylesheet,) = [
        a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "stylesheet"
    ]
    with client.get(stylesheet) as css:
        assert css.status_code == 200
        assert css.mimetype == "text/css"


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        (
            {"type": "string", "enum": ["yes", "no"]},
            "string",
        ),
        ({"$ref": "#/components/schemas/Citation"}, '<a href="#schema-Citation">Citation</a>'),
        ({"type": "array", "items": {"type": "string"}}, "array of string"),
        ({"type": ["integer", "null"]}, "integer | null"),
        ({"type": "string", "format": "date-time"}, "string (date-time)"),
        (
            {"type": "object", "additionalProperties": {"type": "array", "items": {}}},
            "object of array of any",
        ),
    ],
)
def test_type_of(schema, words):
    assert str(type_of(schema)) == words


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"minimum": 0, "maximum": 43920.0}, ["0 to 43920"]),
        ({"minimum": 1}, ["at least 1"]),
        ({"maxLength": 500, "minLength": 1}, ["at least 1 characters", "at most 500 characters"]),
        (
            {"maxItems": 20, "items": {"maxLength": 500}, "default": []},
            ["at most 20 items", "each at most 500 characters", "default []"],
        ),
        ({"enum": ["yes", "no"], "default": "yes"}, ['one of "yes", "no"', 'default "yes"']),
    ],
)
def test_constraints(schema, words):
    assert constraints(schema) == words


def test_prose_escapes_and_marks_code():
    text = "One <b>\n\nTwo `code` and ``more``"
    assert str(prose(text)) == (
        "<p>One &lt;b&gt;</p><p>Two <code>code</code> and <code>more</code></p>"
    )


def test_the_page_is_cached_by_the_ruleset_and_tells_no_referrer(client):
    response, _ = _page(client)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "public" in response.headers["Cache-Control"]
    again = client.get("/docs", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/docs").get_data() == response.get_data()


def test_every_schema_property_is_described(doc):
    """A generated client turns these into its docstrings."""
    undescribed = [
        f"{name}.{prop}"
        for name, schema in doc["components"]["schemas"].items()
        for prop, spec in schema.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undescribed == []
