"""Schemathesis against the app in process: no 5xx, and every response as documented.

The schema is loaded when this module is imported (the app is built then):
``schemathesis.pytest.from_fixture`` does not work with pytest 9.2. Each
operation gets at most `MAX_EXAMPLES` generated cases besides its explicit
examples and the coverage phase's boundary values, so the run stays short.

``positive_data_acceptance`` is not among the checks: a request the schema
allows may still be refused with 422 for rules JSON Schema cannot state
(``interview_ended_at`` must lie before ``now`` or the server clock).
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from advisor import default_engine

from .apps import make_app

pytestmark = pytest.mark.schemathesis

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/openapi.json", make_app(default_engine()))
schema.config.generation.update(max_examples=MAX_EXAMPLES)


@schema.parametrize()
# How fast cases are generated depends on the machine and says nothing about the API.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_conforms_to_its_document(case):
    case.call_and_validate(checks=CHECKS)
