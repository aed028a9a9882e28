"""A careers site's own script calling the API from another origin, in Chromium.

What docs/api.md (Browsers: CORS) says a script may send and read holds in a
real browser, preflight and all: the site's CSP allows the API as a connect
source, and the answer is read, not reported as a network failure.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.server, pytest.mark.browser]

#: Fetch `path` of the API with `headers`; the status and the named answer headers,
#: or the error a refused preflight gives.
FETCH = """async ([api, path, headers, read]) => {
  try {
    const response = await fetch(api + path, { headers });
    return [response.status, read.map((name) => response.headers.get(name))];
  } catch (error) {
    return String(error);
  }
}"""
READABLE = ["ETag", "X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining"]
#: Requests with the conditional headers /openapi.json offers: each is answered.
CONDITIONAL = [
    ("/v1/guidance", {"If-None-Match": '"stale"'}, 200),
    ("/v1/guidance", {"If-Match": "*"}, 200),
    ("/v1/sources/heat", {"If-Match": '"stale"'}, 412),
]


@pytest.mark.parametrize(("path", "headers", "status"), CONDITIONAL)
def test_a_page_sends_the_documented_headers_and_reads_the_answers(
    api, site, open_page, path, headers, status
):
    tab = open_page(f"{site}/careers.html")
    answer = tab.page.evaluate(FETCH, [api, path, headers, READABLE])
    assert answer[0] == status, answer
    assert None not in answer[1][1:], dict(zip(READABLE, answer[1], strict=True))
    assert [text for kind, text in tab.console if "CORS" in text] == []
