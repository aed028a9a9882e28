"""The widget's routes through the Flask test client: types, headers, escaping."""

from __future__ import annotations

import json

import pytest

from advisor.web.widget import CSS_MARKER, DEMO_CSP, EMBED_CSP, STATIC

from ..apps import make_app


def test_widget_js_carries_the_stylesheet(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    body = response.get_data(as_text=True)
    assert CSS_MARKER not in body
    assert json.dumps((STATIC / "widget.css").read_text(encoding="utf-8")) in body


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/widget.js", "text/javascript"),
        ("/widget.css", "text/css"),
        ("/embed-resize.js", "text/javascript"),
    ],
)
def test_assets_are_public_cacheable_and_revalidated(client, path, mimetype):
    response = client.get(path)
    assert response.mimetype == mimetype
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "public" in response.headers["Cache-Control"]
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(("path", "policy"), [("/embed", EMBED_CSP), ("/demo", DEMO_CSP)])
def test_pages_send_a_strict_policy(client, path, policy):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == policy
    assert "unsafe" not in policy
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    html = response.get_data(as_text=True)
    assert "<title>" in html
    assert "style=" not in html
    assert "<style" not in html
    assert "<script>" not in html  # every script has a src


def test_embed_may_be_framed_by_any_site_and_demo_by_none(client):
    assert "frame-ancestors *" in client.get("/embed").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in client.get("/demo").headers["Content-Security-Policy"]


def test_embed_takes_known_attributes_from_the_query_escaped(client):
    html = client.get(
        "/embed",
        query_string={"stage": "after", "plans": '"><script>alert(1)</script>', "onload": "x"},
    ).get_data(as_text=True)
    assert 'stage="after"' in html
    assert 'plans="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "onload" not in html


def test_demo_snippets_name_the_public_url_whatever_the_host_header(engine):
    app = make_app(engine, public_url="https://advice.example.org/")
    response = app.test_client().get("/demo", headers={"Host": "evil.example"})
    html = response.get_data(as_text=True)
    assert "&lt;script src=&#34;https://advice.example.org/widget.js&#34; defer&gt;" in html
    assert "https://advice.example.org/embed-resize.js" in html
    assert "evil.example" not in html


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("localhost:8000", "http://localhost:8000"),
        ("[::1]:8000", "http://[::1]:8000"),
        ("evil.example", ""),
        ("localhost.evil.example", ""),
    ],
)
def test_without_a_public_url_demo_trusts_only_a_loopback_host(client, host, base):
    html = client.get("/demo", headers={"Host": host}).get_data(as_text=True)
    assert f"&lt;script src=&#34;{base}/widget.js&#34; defer&gt;" in html
    assert "evil" not in html
