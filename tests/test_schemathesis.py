"""Schemathesis against the app in process: no 5xx, every response as documented."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from advisor.config import Settings
from advisor.web import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _schema():
    app = create_app({"TESTING": True, "SETTINGS": Settings(rate_limits="")})
    loaded = schemathesis.openapi.from_wsgi("/openapi.json", app)
    loaded.config.generation.update(max_examples=25)
    return loaded


schema = _schema()


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case):
    case.call_and_validate(checks=CHECKS)
