"""The widget's routes through the Flask test client: types, headers, escaping."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape

from advisor.state import STATE_FIELDS
from advisor.web import widget
from advisor.web.widget import (
    AVOID_MODES,
    CSS_FILE_MARKER,
    CSS_MARKER,
    DEMO_CSP,
    EMBED_CSP,
    PRESET_ATTRIBUTES,
    RELEASE,
    STATIC,
    WIDGET_ATTRIBUTES,
    integrity,
    release_files,
)

from ..apps import make_app
from ..live import ROOT


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


def test_the_root_leads_a_person_to_the_demo(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/demo"
    demo = client.get(response.headers["Location"])
    assert demo.status_code == 200
    # From there, the API's reference and document are a click away.
    assert 'href="/docs"' in demo.get_data(as_text=True)
    assert 'href="/openapi.json"' in demo.get_data(as_text=True)


def test_embed_sends_its_address_as_no_referer(client):
    """/embed's address holds its presets, `plans` a candidate's text: the requests the
    page makes sent it as `Referer`."""
    assert client.get("/embed?plans=mine").headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/demo").headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


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


@pytest.mark.parametrize("attribute", PRESET_ATTRIBUTES)
def test_embed_presets_each_state_field_and_widget_attribute(client, attribute):
    html = client.get("/embed", query_string={attribute: "x"}).get_data(as_text=True)
    assert f' {attribute}="x"' in html


def _widget_source() -> str:
    return (STATIC / "widget.js").read_text(encoding="utf-8")


def test_the_widget_reads_exactly_the_declared_state_fields_each_as_its_kind():
    # widget.js is a released file (pinned by its integrity hash): it keeps its own
    # list of the state's fields, and this holds that list to the declaration.
    block = re.search(r"const FIELDS = \{(.*?)\};", _widget_source(), re.S)
    assert block, "widget.js declares its FIELDS"
    read = dict(re.findall(r"^\s*(\w+): \"(\w+)\",$", block[1], re.M))
    assert read == {f.name: f.kind.widget for f in STATE_FIELDS}


def test_the_widget_names_its_attributes_as_the_declaration_does():
    source = _widget_source()
    assert 'const attributeName = (field) => field.replaceAll("_", "-");' in source
    assert all(f.attribute == f.name.replace("_", "-") for f in STATE_FIELDS)
    # Each field in kebab-case and as the API spells it.
    assert (
        "const names = Object.keys(FIELDS).flatMap((field) => [attributeName(field), field]);"
        in source
    )
    observed = re.search(r"return \[((?:\"[\w-]+\", )*)\.\.\.new Set\(names\)\]", source)
    assert observed, "widget.js observes its own attributes and the fields' names"
    own = re.findall(r"\"([\w-]+)\"", observed[1])
    assert set(own) == {"api", *WIDGET_ATTRIBUTES}


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


def _published_integrity() -> dict[str, str]:
    """The table of released files and their integrity hashes in docs/widget.md."""
    page = (ROOT / "docs" / "widget.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `/([\w.-]+)` \| `(sha384-[A-Za-z0-9+/=]+)` \|$", page, re.MULTILINE)
    return dict(rows)


def _snippets(page: str) -> list[tuple[str, str]]:
    """Each pinned script tag of `page`: the file it loads and the integrity it names."""
    text = (ROOT / page).read_text(encoding="utf-8")
    tags = re.findall(r'<script src="https://ADVISOR/([\w.-]+)"\s+integrity="([^"]+)"', text)
    return tags


def test_versioned_urls_are_immutable_public_and_revalidated(client):
    assert set(release_files()) == {
        f"widget-{RELEASE}.js",
        f"widget-{RELEASE}.css",
        f"embed-resize-{RELEASE}.js",
    }
    for name, body in release_files().items():
        response = client.get(f"/{name}")
        assert response.status_code == 200
        assert response.data == body
        assert response.mimetype == ("text/css" if name.endswith(".css") else "text/javascript")
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        again = client.get(f"/{name}", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304


def test_the_versioned_script_is_the_latest_linking_its_own_stylesheet(client):
    latest = client.get("/widget.js").get_data(as_text=True)
    pinned = client.get(f"/widget-{RELEASE}.js").get_data(as_text=True)
    assert CSS_FILE_MARKER not in latest
    assert 'const CSS_FILE = "widget.css";' in latest
    assert pinned == latest.replace(
        'const CSS_FILE = "widget.css";', f'const CSS_FILE = "widget-{RELEASE}.css";'
    )
    assert client.get(f"/widget-{RELEASE}.css").data == client.get("/widget.css").data
    assert client.get(f"/embed-resize-{RELEASE}.js").data == client.get("/embed-resize.js").data


@pytest.mark.parametrize(
    "path", ["/widget-0.0.1.js", "/widget-..js", "/widget-%2e%2e.css", "/embed-resize-x.js"]
)
def test_an_unknown_release_is_a_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_kept_releases_are_served_as_they_were(client, monkeypatch, tmp_path):
    kept = tmp_path / "0.9.0"
    kept.mkdir()
    (kept / "widget-0.9.0.js").write_text("/* 0.9.0 */")
    monkeypatch.setattr(widget, "RELEASES", tmp_path)
    response = client.get("/widget-0.9.0.js")
    assert response.status_code == 200
    assert response.data == b"/* 0.9.0 */"
    assert "immutable" in response.headers["Cache-Control"]
    assert client.get("/widget-0.9.0.css").status_code == 404


def test_every_release_served_is_the_one_published(client):
    """A versioned URL never changes: a changed widget needs a new version and new hashes."""
    published = _published_integrity()
    served = {name: integrity(body) for name, body in release_files().items()}
    for folder in sorted(widget.RELEASES.glob("*")):
        served |= {f.name: integrity(f.read_bytes()) for f in folder.iterdir()}
    assert set(published) == set(served), "docs/widget.md lists other files than are served"
    for name, value in served.items():
        assert published.get(name) == value, (
            f"/{name} is not what docs/widget.md publishes. A released file must never change: "
            "bump the version in pyproject.toml, keep the previous release's files in "
            "advisor/web/static/widget/releases/<version>/ and list the new hashes in docs/widget.md."
        )


@pytest.mark.parametrize("page", ["README.md", "docs/widget.md"])
def test_the_pinned_snippets_name_the_published_hashes(page):
    published = _published_integrity()
    snippets = _snippets(page)
    assert snippets, f"{page} shows no pinned snippet"
    for name, value in snippets:
        assert published.get(name) == value, f"{page}: the snippet for /{name} names {value}"


def test_integrity_is_sha384_in_base64():
    assert integrity(b"alert('Hello, world.');") == (
        "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
    )


def test_demo_publishes_the_pinned_release(engine):
    app = make_app(engine, public_url="https://advice.example.org")
    html = app.test_client().get("/demo").get_data(as_text=True)
    for name, body in release_files().items():
        assert f"<code>https://advice.example.org/{name}</code>" in html
        assert f'<code class="hash">{integrity(body)}</code>' in html
    script = f"/widget-{RELEASE}.js"
    assert (
        f"&lt;script src=&#34;https://advice.example.org{script}&#34;\n"
        f"  integrity=&#34;{integrity(release_files()[script[1:]])}&#34;\n"
        "  crossorigin=&#34;anonymous&#34; defer&gt;"
    ) in html


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("plans", "a\x00b"),
        ("heading", "Next\x1b[31m"),
        ("stage", "after\x7f"),
        ("now", "\x85"),
    ],
)
def test_embed_refuses_a_control_character_in_an_attribute(client, name, value):
    response = client.get("/embed", query_string={name: value})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert repr(name) in response.get_json()["detail"]


#: A query string of /embed giving a preset more than once, the preset and how many times.
REPEATED_PRESETS = {
    "a stage twice": ("stage=after&stage=offer", "stage", 2),
    "hours apart": ("stage=after&hours-since=5&via-agency&hours-since=50", "hours-since", 2),
    "the same value again": ("stage=after&stage=after", "stage", 2),
    "an empty one too": ("plans=a&plans=", "plans", 2),
    "a widget attribute thrice": ("avoid=open&avoid=hidden&avoid=open", "avoid", 3),
    "one percent-encoded": ("stage=after&st%61ge=offer", "stage", 2),
}


@pytest.mark.parametrize(
    ("query", "name", "times"), REPEATED_PRESETS.values(), ids=REPEATED_PRESETS.keys()
)
def test_embed_refuses_a_preset_given_more_than_once(client, query, name, times):
    response = client.get(f"/embed?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == (
        f"The query parameter {name!r} is given {times} times: give each preset once, as "
        "the widget's attribute takes one value."
    )


def test_embed_takes_a_parameter_like_no_preset_more_than_once(client):
    assert client.get("/embed?stage=after&v=1&v=2").status_code == 200


#: A query parameter of /embed close to a preset, and the preset its 400 names.
MISSPELT_PRESETS = {
    "the API's snake_case": ("hours_since", "hours-since"),
    "a dash missing": ("hourssince", "hours-since"),
    "another case": ("Stage", "stage"),
    "a flag in snake_case": ("via_agency", "via-agency"),
    "in fullwidth letters": ("ｓｔａｇｅ", "stage"),
}


@pytest.mark.parametrize(("name", "meant"), MISSPELT_PRESETS.values(), ids=MISSPELT_PRESETS.keys())
def test_embed_refuses_a_misspelt_preset_naming_the_one_meant(client, name, meant):
    response = client.get("/embed", query_string={"stage": "after", name: "3"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == (
        f"The query parameter {name!r} is no preset of /embed (did you mean {meant!r}?): "
        "presets are named as the widget's attributes, in kebab-case."
    )


#: What a browser asks for when it loads a frame's page (Chromium's Accept).
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


@pytest.mark.parametrize(
    "query",
    ["stage=after&hours_since=3", "stage=after&stage=offer", "plans=a%01b"],
    ids=["misspelt", "twice", "a control character"],
)
def test_embed_refuses_a_browser_with_a_page_in_the_frame(client, query):
    """In the site's frame, a problem's JSON would be shown to the candidate as it is."""
    problem = client.get(f"/embed?{query}").get_json()["detail"]
    response = client.get(f"/embed?{query}", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == EMBED_CSP
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert "This advice cannot be shown: the page's link to it has a mistake." in page
    assert str(escape(problem)) in page


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/problem+json", "text/html;q=0.5, */*"]
)
def test_embed_refuses_any_other_client_with_a_problem(client, accept):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/embed?stage=after&hours_since=3", headers=headers)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_embed_escapes_what_its_error_page_quotes(client):
    name = "hours_since<b>"
    response = client.get("/embed", query_string={name: "3"}, headers={"Accept": "text/html"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<b>" not in page
    assert "hours_since&lt;b&gt;" in page


@pytest.mark.parametrize("name", ["v", "utm_source", "onload", "lang", "theme", "ref", "x" * 5000])
def test_embed_ignores_a_parameter_like_no_preset(client, name):
    assert client.get("/embed", query_string={"stage": "after", name: "1"}).status_code == 200


def test_embed_keeps_line_breaks_and_tabs_in_an_attribute(client):
    assert client.get("/embed", query_string={"plans": "one\ttwo\nthree"}).status_code == 200
