"""Pydantic models generated from /openapi.json by datamodel-code-generator.

The document is saved from the app, the generator runs on it offline (as
docs/api.md shows it), and the models it writes are imported: each schema is a
class of its own name (none renumbered because another took it), every example
the document shows validates, and a request example survives a round trip
through its model. docs/api.md's example runs the same models against a real
server (tests/test_docs_examples.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.process

GENERATOR = Path(sys.executable).parent / "datamodel-codegen"
REQUESTS = {"/v1/advice": "InterviewState", "/v1/moderate": "ModerationRequest"}


@pytest.fixture(scope="module")
def doc(app):
    return app.test_client().get("/openapi.json").get_json()


@pytest.fixture(scope="module")
def models(doc, tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    (folder / "openapi.json").write_text(json.dumps(doc))
    # The command docs/api.md shows, on the saved document.
    done = subprocess.run(
        [
            str(GENERATOR),
            "--input",
            "openapi.json",
            "--input-file-type",
            "openapi",
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--formatters",
            "builtin",
            "--set-default-enum-member",
            "--output",
            "advisor_models.py",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr.lower(), done.stderr
    spec = importlib.util.spec_from_file_location("advisor_models", folder / "advisor_models.py")
    module = importlib.util.module_from_spec(spec)
    # Pydantic resolves a generic model's names in its module, found by name.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_every_schema_is_a_class_of_its_own_name(doc, models):
    source = Path(models.__file__).read_text()
    classes = set(re.findall(r"^class (\w+)\(", source, re.MULTILINE))
    assert set(doc["components"]["schemas"]) <= classes
    # A name taken twice comes out as Plan1, Verdict1.
    assert not [name for name in classes if name[-1].isdigit()]


def _examples(doc):
    """(schema name, example) for every JSON answer and request the document shows."""
    for path, item in doc["paths"].items():
        for operation in item.values():
            bodies = [operation.get("requestBody", {})]
            bodies += [r for r in operation["responses"].values() if "$ref" not in r]
            for body in bodies:
                media = body.get("content", {}).get("application/json", {})
                reference = media.get("schema", {}).get("$ref")
                if reference is None:
                    continue
                name = reference.rsplit("/", 1)[-1]
                if "example" in media:
                    yield path, name, media["example"]
                for example in media.get("examples", {}).values():
                    yield path, name, example["value"]


def test_every_example_of_the_document_validates(doc, models):
    shown = list(_examples(doc))
    assert {name for _, name, _ in shown} >= {"Advice", "Verdict", "GuidanceList", "Draft"}
    for _, name, example in shown:
        getattr(models, name).model_validate(example)
    for name, response in doc["components"]["responses"].items():
        example = response["content"]["application/problem+json"]["example"]
        assert models.Problem.model_validate(example).status, name


def test_a_request_survives_a_round_trip_through_its_model(doc, models):
    requests = [(path, name, e) for path, name, e in _examples(doc) if REQUESTS.get(path) == name]
    assert {name for _, name, _ in requests} == set(REQUESTS.values())
    for path, name, example in requests:
        model = getattr(models, name).model_validate(example)
        assert json.loads(model.model_dump_json(exclude_unset=True)) == example, path


@pytest.mark.parametrize(
    "state",
    [
        {"stage": "after", "hours_since": 2, "via_agency": True, "plans": ["Three pints"]},
        {"stage": "offer", "still_interested": "unsure", "competing_offers": 1},
        {
            "stage": "after",
            "interview_ended_at": "2026-11-20T16:30:00+01:00",
            "now": "2026-11-20T18:00:00+01:00",
            "decision_expected_in_days": None,
        },
    ],
)
def test_a_state_sent_from_its_model_gets_the_same_advice(client, models, state):
    sent = json.loads(
        models.InterviewState.model_validate(state).model_dump_json(exclude_unset=True)
    )
    response = client.post("/v1/advice", json=sent)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == client.post("/v1/advice", json=state).get_json()
    models.Advice.model_validate(response.get_json())


def test_a_model_of_defaults_dumps_its_enums_as_members(models, recwarn):
    """With --set-default-enum-member, a default that names an enum's member is that
    member: dumping a model that keeps it warns of nothing (pydantic warns when a field
    typed as an enum holds the text)."""
    state = models.InterviewState.model_validate({"stage": "after"})
    assert json.loads(state.model_dump_json())["still_interested"] == "yes"
    assert [str(w.message) for w in recwarn] == []


def test_the_none_a_model_holds_for_a_field_left_out_is_refused(client, models):
    """Why docs/api.md sends models with exclude_unset: `null` is not "left out"."""
    state = models.InterviewState.model_validate({"stage": "after"})
    sent = json.loads(state.model_dump_json())
    response = client.post("/v1/advice", json=sent)
    assert response.status_code == 422
    assert "interview_ended_at" in response.get_json()["errors"]
