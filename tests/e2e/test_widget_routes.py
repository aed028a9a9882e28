"""The widget's routes through the Flask test client: types, headers, escaping."""

from __future__ import annotations

import json

import pytest

from advisor.web.widget import AVOID_MODES, CSS_MARKER, DEMO_CSP, EMBED_CSP, STATIC


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


def test_demo_snippets_name_this_server(client):
    html = client.get("/demo", base_url="https://advice.example.org").get_data(as_text=True)
    assert "&lt;script src=&#34;https://advice.example.org/widget.js&#34; defer&gt;" in html
    assert "https://advice.example.org/embed-resize.js" in html


def test_embed_takes_the_avoid_setting(client):
    html = client.get("/embed", query_string={"avoid": "hidden"}).get_data(as_text=True)
    assert '<interview-advice avoid="hidden">' in html


def test_the_avoid_settings_are_the_ones_the_widget_knows():
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    assert f"const AVOID_MODES = {json.dumps(list(AVOID_MODES))};" in source


def test_demo_shows_each_avoid_setting(client):
    html = client.get("/demo").get_data(as_text=True)
    for mode in AVOID_MODES:
        assert f'<interview-advice avoid="{mode}"' in html
