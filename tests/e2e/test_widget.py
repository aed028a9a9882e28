"""<interview-advice> in a real browser, on a careers site of another origin."""

from __future__ import annotations

import base64
import json
import math
import re
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.server, pytest.mark.browser]

XSS = "<img src=x onerror=alert(1)>"
LONG_LINK = "https://careers.example.com/jobs/2026/senior-analyst/interview-preparation-notes"
LONDON = ZoneInfo("Europe/London")  # the browser contexts' time zone

# The state fixed.html gives as attributes.
FIXED_STATE = {
    "stage": "after",
    "interview_ended_at": "2026-11-20T16:30:00+00:00",
    "now": "2026-11-27T10:00:00+00:00",
    "decision_expected_in_days": 5,
    "via_agency": True,
    "thank_you_sent": True,
    "notes_written": True,
    "plans": [
        "Ring the company every morning until they answer",
        "Ask my consultant whether there is any news",
    ],
}

# What the widget's shadow DOM looks like, property by property, element by element.
COMPUTED_STYLES = """
(host) => {
  const names = ["color", "font-size", "font-family", "font-weight", "font-style",
    "line-height", "letter-spacing", "word-spacing", "text-transform", "text-align",
    "text-decoration-line", "text-shadow", "-webkit-text-fill-color", "white-space",
    "direction", "background-color", "border-top-width", "border-top-style",
    "border-top-color", "box-shadow", "padding-top", "padding-left", "margin-top",
    "display", "width", "height", "outline-style", "opacity", "transform", "filter"];
  const style = (el) => names.map((n) => getComputedStyle(el).getPropertyValue(n)).join("|");
  const box = host.getBoundingClientRect();
  const hostStyle = getComputedStyle(host);
  const before = getComputedStyle(host, "::before").content;
  return {
    host: [box.width, box.height, hostStyle.display, hostStyle.opacity, hostStyle.transform,
           hostStyle.filter, hostStyle.zoom, hostStyle.writingMode, hostStyle.clipPath, before],
    inside: [...host.shadowRoot.querySelectorAll("*")].map((el) => `${el.tagName} ${style(el)}`),
  };
}
"""


def advise(api: str, state: dict) -> dict:
    """The API's own answer for `state`."""
    request = urllib.request.Request(
        f"{api}/v1/advice",
        data=json.dumps(state).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def inside(page, inset: int = 8) -> bytes:
    """A PNG of the widget, less `inset` pixels all round."""
    box = page.locator("interview-advice").bounding_box()
    clip = {
        "x": box["x"] + inset,
        "y": box["y"] + inset,
        "width": box["width"] - 2 * inset,
        "height": box["height"] - 2 * inset,
    }
    return page.screenshot(clip=clip, full_page=True)


def differing_pixels(blank, first: bytes, second: bytes) -> float:
    """The share of pixels that differ between two PNGs of one size, worked out in `blank`."""
    return blank.evaluate(
        """async ([a, b]) => {
          const pixels = async (b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const image = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
            const canvas = new OffscreenCanvas(image.width, image.height);
            const context = canvas.getContext("2d");
            context.drawImage(image, 0, 0);
            return context.getImageData(0, 0, image.width, image.height).data;
          };
          const [x, y] = [await pixels(a), await pixels(b)];
          if (x.length !== y.length) return 1;
          let differ = 0;
          for (let i = 0; i < x.length; i += 4) {
            if (x[i] !== y[i] || x[i + 1] !== y[i + 1] || x[i + 2] !== y[i + 2]) differ += 1;
          }
          return differ / (x.length / 4);
        }""",
        [base64.b64encode(first).decode(), base64.b64encode(second).decode()],
    )


def overflow(page) -> dict:
    """How far the page scrolls sideways, and the widget's elements that stick out past it."""
    return page.evaluate(
        """() => {
          const root = document.querySelector("interview-advice").shadowRoot;
          const wide = [...root.querySelectorAll("*")].filter(
            (el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5);
          return {page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                  wide: wide.map((el) => el.className || el.tagName)};
        }"""
    )


def tab_to(page, target: str) -> None:
    """Press Tab until the widget's focused control's id, name, label or text starts with
    `target`."""
    widget = page.locator("interview-advice")
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = widget.evaluate(
            "h => { const a = h.shadowRoot.activeElement;"
            " return a ? (a.id || a.name || a.ariaLabel || a.textContent.trim()) : ''; }"
        )
        if focused.startswith(target):
            return
    raise AssertionError(f"Tab never reached {target!r}")


def results(page):
    """The widget's results, once shown."""
    section = page.locator("interview-advice section.results")
    expect(section).to_be_visible()
    return section


def fill_form(page, hours: str, plans: list[str]) -> None:
    page.select_option("#ia-stage", "after")
    page.fill("#ia-hours_since", hours)
    page.check("#ia-via_agency")
    page.fill("#ia-plans", "\n".join(plans))


def test_the_form_gives_actions_in_order_with_their_sources(api, site, open_page, shot):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    plans = ["Three pints, then drive home", "Send a short thank-you email tonight"]
    fill_form(page, "2", plans)
    page.get_by_role("button", name="Get advice").click()
    section = results(page)
    expected = advise(api, {"stage": "after", "hours_since": 2, "via_agency": True, "plans": plans})

    steps = section.locator("ol.steps > li")
    expect(steps.locator(".step-title")).to_have_text([a["title"] for a in expected["actions"]])
    for index, action in enumerate(expected["actions"]):
        sources = steps.nth(index).locator("details.sources")
        expect(sources.locator("summary")).to_have_text(f"Sources ({len(action['sources'])})")
        expect(sources.locator("blockquote")).to_have_text([s["quote"] for s in action["sources"]])
    expect(steps.first.locator(".when")).to_have_text("Within 22 hours")

    first = steps.first.locator("details.sources")
    expect(first.locator("blockquote").first).to_be_hidden()  # collapsed until asked for
    first.locator("summary").click()
    expect(first.locator("blockquote").first).to_be_visible()
    expect(first.locator(".publisher").first).to_have_text(
        expected["actions"][0]["sources"][0]["publisher"]
    )

    warnings = section.locator("section[aria-label='Not that'] li.warning")
    expect(warnings.locator(".rejected-advice")).to_have_text(
        [a["advice"] for a in expected["avoid"]]
    )
    verdicts = section.locator("section[aria-label='Your plans'] li")
    expect(verdicts.locator(".plan-text")).to_have_text(plans)
    assert [p["verdict"] for p in expected["plans"]] == ["reject", "ok"]
    expect(verdicts.locator(".badge")).to_have_text(["Not advised", "Fine"])

    status = page.locator("interview-advice [role=status]")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text(f"{len(expected['actions'])} steps to take")
    shot(page, "01-form-advice-with-sources")
    assert tab.problems() == []


@pytest.mark.parametrize(
    ("plans", "badges", "summary"),
    [
        (
            ["Sabi ni kuya, iinom muna ako ng tatlong bote bago ako mag-drive pauwi."],
            ["Not checked"],
            "your plan could not be checked",
        ),
        (
            [
                "Three pints, then drive home",
                "Send a short thank-you email tonight",
                "Nach dem Interview trinke ich drei Bier und fahre dann mit dem Auto nach Hause, das ist kein Problem.",
            ],
            ["Not advised", "Fine", "Not checked"],
            "1 of 3 plans not advised, 1 not checked",
        ),
        (
            [
                "Send a short thank-you email tonight",
                "Después de la entrevista vamos por unas cervezas y tú manejas de regreso porque estás bien.",
            ],
            ["Fine", "Not checked"],
            "1 of 2 plans not checked",
        ),
    ],
)
def test_a_plan_not_in_english_is_shown_as_not_checked(
    api, site, open_page, plans, badges, summary
):
    """The screen reads English only: its `ok` on another language is no verdict, so the
    widget does not call such a plan fine."""
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    fill_form(page, "2", plans)
    page.get_by_role("button", name="Get advice").click()
    section = results(page)
    expected = advise(api, {"stage": "after", "hours_since": 2, "via_agency": True, "plans": plans})
    assert [p["english"] for p in expected["plans"]] == [b != "Not checked" for b in badges]
    verdicts = section.locator("section[aria-label='Your plans'] li")
    expect(verdicts.locator(".badge")).to_have_text(badges)
    expect(section.locator(".plan-unread .reason")).to_have_count(badges.count("Not checked"))
    expect(page.locator("interview-advice [role=status]")).to_contain_text(summary)
    assert tab.problems() == []


def test_time_left_is_never_overstated_nor_a_start_brought_forward(api, site, open_page):
    # Half-hours in: each window's time left rounds down ("Within 22 hours" with
    # 22.5 left, never 23) and each later start rounds up.
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    fill_form(page, "1.5", [])
    page.get_by_role("button", name="Get advice").click()
    section = results(page)
    expected = advise(api, {"stage": "after", "hours_since": 1.5, "via_agency": True})

    def wait(h: float, rounded) -> str:
        # Hours under 48, then days, each rounded the one way (a hair of float error aside).
        nudge = -1e-9 if rounded is math.ceil else 1e-9
        n = rounded(h + nudge)
        if n < 48:
            return f"{n} hour{'' if n == 1 else 's'}"
        days = rounded(h / 24 + nudge)
        return f"{days} day{'' if days == 1 else 's'}"

    whens = []
    for action in expected["actions"]:
        start, end = action["window"]["start_hours"], action["window"]["end_hours"]
        if end is None:
            assert start <= 1.5  # an action due now has opened
            whens.append("Ongoing")
        else:
            whens.append(f"Within {wait(end - 1.5, math.floor)}")
    assert "Within 22 hours" in whens  # 22.5 left: the nearest hour would be 23
    expect(section.locator("ol.steps > li .when")).to_have_text(whens)

    later = [f"in {wait(a['starts_in_hours'], math.ceil)}" for a in expected["upcoming"]]
    assert later
    expect(section.locator("li.next .when")).to_have_text(later)


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("1,5", 1.5),
        ("1.5", 1.5),
        ("2,25", 2.25),
        ("36", 36),
        ("1,500", "1,500"),  # a thousands separator or a decimal comma: not guessed
        ("two", "two"),
    ],
)
def test_hours_with_a_decimal_comma_are_read_as_meant(api, site, open_page, typed, sent):
    # A number input drops the comma of "1,5" and sends 15 hours; what is not
    # plainly a number goes as written, and the API's answer names the field.
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    bodies = []
    page.on(
        "request",
        lambda r: (
            bodies.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/v1/advice")
            else None
        ),
    )
    widget = page.locator("interview-advice")
    page.select_option("#ia-stage", "after")
    widget.locator("#ia-hours_since").click()
    page.keyboard.type(typed)
    widget.get_by_role("button", name="Get advice").click()
    if isinstance(sent, str):
        expect(widget.locator("#ia-hours_since")).to_have_attribute("aria-invalid", "true")
        expect(widget.locator("[role=alert]")).not_to_be_empty()
        expect(widget.locator("section.results")).to_be_hidden()
    else:
        expected = advise(api, {"stage": "after", "hours_since": sent})
        steps = results(page).locator("ol.steps > li")
        expect(steps.locator(".step-title")).to_have_text([a["title"] for a in expected["actions"]])
        assert tab.problems() == []
    assert [body["hours_since"] for body in bodies] == [sent]


def test_the_end_can_be_given_as_a_date_and_time(api, site, open_page):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    ended = (datetime.now(LONDON) - timedelta(hours=3)).replace(second=0, microsecond=0)
    page.get_by_label("At a date and time").check()
    expect(page.locator("interview-advice #ia-hours_since")).to_be_hidden()
    page.fill("#ia-interview_ended_at", ended.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Get advice").click()
    section = results(page)
    expected = advise(api, {"stage": "after", "interview_ended_at": ended.isoformat()})
    titles = section.locator(".step-title")
    expect(titles).to_have_text([a["title"] for a in expected["actions"]])
    for index, action in enumerate(expected["actions"]):
        if action["window"]["end_hours"] is not None:
            due = datetime.fromisoformat(action["due"]).astimezone(LONDON)
            when = section.locator(".when").nth(index)
            expect(when).to_have_text(f"By {due:%a} {due.day} {due:%b}, {due.hour}:{due:%M}")
    assert tab.problems() == []


def test_attributes_preset_the_state_and_hide_the_form(api, site, open_page, shot):
    tab = open_page(f"{site}/fixed.html")
    page = tab.page
    section = results(page)
    expected = advise(api, FIXED_STATE)

    expect(page.locator("interview-advice form")).to_have_count(0)
    expect(page.locator("interview-advice h2")).to_have_text("A week on, still waiting")
    titles = section.locator("ol.steps .step-title")
    expect(titles).to_have_text([a["title"] for a in expected["actions"]])
    # Asking the consultant for news became due when the date given (Wednesday 25
    # November) ended, and stays advised until it is done; deciding for yourself is due
    # within two days, shown in the reader's time zone (the context is Europe/London).
    ids = [a["id"] for a in expected["actions"]]
    assert ids[0] == "follow-up-via-recruiter"
    whens = section.locator("ol.steps .when")
    expect(whens.nth(0)).to_have_text("Ongoing")
    expect(whens.nth(ids.index("decide-if-right"))).to_have_text("By Sun 29 Nov, 10:00")
    expect(section.locator(".rejected-advice")).to_have_text(
        [a["advice"] for a in expected["avoid"]]
    )
    expect(section.locator(".plan-text")).to_have_text(FIXED_STATE["plans"])
    verdicts = [p["verdict"] for p in expected["plans"]]
    expect(section.locator("section[aria-label='Your plans'] .badge")).to_have_text(
        ["Not advised" if v == "reject" else "Fine" for v in verdicts]
    )
    shot(page, "02-preset-state-themed")
    assert tab.problems() == []


ADD_WIDGET = """(attributes) => {
  const widget = document.createElement("interview-advice");
  widget.id = "added";
  for (const [name, value] of Object.entries(attributes)) widget.setAttribute(name, value);
  document.querySelector("main").append(widget);
}"""


@pytest.mark.parametrize(
    "attributes",
    [
        {"stage": "after", "hours_since": "30", "via_agency": "", "thank_you_sent": ""},
        {"stage": "after", "hours-since": "30", "via_agency": "", "thank-you-sent": ""},
    ],
    ids=["as-the-api-spells-them", "both-spellings-mixed"],
)
def test_attributes_may_be_spelt_as_the_api_spells_the_fields(api, site, open_page, attributes):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    page.evaluate(ADD_WIDGET, attributes)
    expected = advise(
        api, {"stage": "after", "hours_since": 30, "via_agency": True, "thank_you_sent": True}
    )
    # The attributes change the advice: read wrongly, they would give another.
    assert expected["actions"] != advise(api, {"stage": "after"})["actions"]
    titles = page.locator("#added section.results ol.steps .step-title")
    expect(titles).to_have_text([a["title"] for a in expected["actions"]])
    assert tab.problems() == []


def test_an_attribute_spelt_like_no_field_is_named_not_ignored(api, site, open_page):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    # hoursSince: HTML lowercases it to "hourssince", neither spelling of hours_since.
    page.evaluate(ADD_WIDGET, {"stage": "after", "hoursSince": "30"})
    alert = page.locator("#added [role=alert]")
    expect(alert).to_contain_text("could not take the details this page gave")
    expect(alert.locator("li")).to_have_text([re.compile(r"^hourssince – .*hours_since")])
    expect(page.locator("#added section.results")).to_be_hidden()


def test_a_field_given_in_both_spellings_is_read_once_and_said(api, site, open_page):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    page.evaluate(ADD_WIDGET, {"stage": "after", "hours-since": "30", "hours_since": "2"})
    expected = advise(api, {"stage": "after", "hours_since": 30})
    assert expected["actions"] != advise(api, {"stage": "after", "hours_since": 2})["actions"]
    titles = page.locator("#added section.results ol.steps .step-title")
    expect(titles).to_have_text([a["title"] for a in expected["actions"]])
    assert tab.problems() == [
        "console warning: <interview-advice>: hours_since is not read: hours-since is given too"
    ]


def test_hostile_host_css_changes_nothing_inside(site, open_page, shot):
    calm = open_page(f"{site}/fixed.html")
    hostile = open_page(f"{site}/fixed.html?hostile")
    looks = []
    for tab in (calm, hostile):
        results(tab.page)
        expect(tab.page.locator("interview-advice details.sources").first).to_be_attached()
        host = tab.page.locator("interview-advice")
        looks.append(host.evaluate(COMPUTED_STYLES))
    assert hostile.page.evaluate("getComputedStyle(document.body).color") == "rgb(255, 0, 0)"
    assert looks[0] == looks[1]
    # Inside the rounded corners (where the host page shows through), the same
    # picture but for anti-aliasing: the hostile page puts it half a pixel lower.
    images = [inside(tab.page) for tab in (calm, hostile)]
    assert differing_pixels(calm.page.context.new_page(), *images) < 0.001
    shot(calm.page.locator("interview-advice"), "03-hostile-css-widget-calm")
    shot(hostile.page, "03-hostile-css-page")
    assert calm.problems() == hostile.problems() == []


def test_the_widget_leaves_the_host_page_alone(api, site, open_page):
    tab = open_page(f"{site}/careers.html?hostile")
    page = tab.page
    # Measure the page as it is without the widget, then load the widget.
    page.route("**/widget.js", lambda route: route.abort())
    page.reload()
    snapshot = """() => ({
      styles: [...document.querySelectorAll("html, body, header, nav a, h1, article p, aside")]
        .map((el) => ["color", "background-color", "font", "line-height", "margin",
                      "padding", "border", "display", "text-align", "text-decoration"]
          .map((name) => getComputedStyle(el).getPropertyValue(name))),
      sheets: document.styleSheets.length,
      head: document.head.innerHTML,
      globals: Object.keys(window).sort(),
      cookie: document.cookie,
      storage: localStorage.length + sessionStorage.length,
    })"""
    before = page.evaluate(snapshot)
    page.unroute("**/widget.js")
    page.add_script_tag(url=f"{api}/widget.js")
    page.select_option("#ia-stage", "rejected")
    page.get_by_role("button", name="Get advice").click()
    results(page)
    after = page.evaluate(snapshot)
    head_tags = after.pop("head").count("<script")
    assert head_tags == before.pop("head").count("<script") + 1  # only the tag we added
    assert after == before


def test_strict_csp_demo_page_works_with_no_violation(api, open_page, shot):
    tab = open_page(f"{api}/demo")
    page = tab.page
    policy = page.evaluate(
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe" not in policy

    widget = page.locator("interview-advice").first
    widget.locator("#ia-stage").select_option("offer")
    widget.locator("#ia-competing_offers").evaluate("el => el.closest('details').open = true")
    widget.locator("#ia-competing_offers").fill("1")
    widget.get_by_role("button", name="Get advice").click()
    expect(widget.locator("section.results")).to_be_visible()
    expect(widget.locator(".step-title").first).not_to_be_empty()
    # The stylesheet applied: the button wears the theme's accent.
    button = widget.get_by_role("button", name="Get advice")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(36, 81, 199)"
    expect(page.locator("iframe[data-interview-advice]")).to_be_visible()
    shot(page, "04-strict-csp-demo-page")
    assert tab.problems() == []


def test_user_text_is_shown_as_text(site, open_page, shot):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    plans = [XSS, "<script>alert(2)</script>", "<b>bold</b> & <i>co</i>"]
    fill_form(page, "3", plans)
    page.get_by_role("button", name="Get advice").click()
    section = results(page)
    expect(section.locator(".plan-text")).to_have_text(plans)
    injected = page.locator("interview-advice").evaluate(
        """h => h.shadowRoot.querySelectorAll("img, script, svg, i").length
                + [...h.shadowRoot.querySelectorAll(".plan-text")]
                    .reduce((n, span) => n + span.childElementCount, 0)"""
    )
    assert injected == 0
    assert not [url for url in requests if url.endswith("/x")]
    shot(page, "05-xss-plans-inert")
    assert tab.problems() == []


def test_api_text_is_shown_as_text(api, open_page, shot):
    hostile = {
        "ruleset": {"version": XSS},
        "hours_since": 1,
        "actions": [
            {
                "id": XSS,
                "title": XSS,
                "detail": "<script>alert(2)</script>",
                "priority": 1,
                "window": {"start_hours": 0, "end_hours": 24},
                "due": None,
                "because": '"><svg onload=alert(3)>',
                "sources": [
                    {"id": XSS, "title": XSS, "publisher": XSS, "nature": XSS, "quote": XSS}
                ],
            }
        ],
        "avoid": [
            {
                "id": XSS,
                "advice": XSS,
                "category": XSS,
                "reason": XSS,
                "instead": [XSS],
                "sources": [],
            }
        ],
        "plans": [{"text": XSS, "verdict": "reject", "categories": [XSS], "reason": XSS}],
    }
    tab = open_page(f"{api}/embed")
    page = tab.page
    page.route(
        "**/v1/advice",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(hostile)
        ),
    )
    page.get_by_role("button", name="Get advice").click()
    section = results(page)
    section.locator("summary").first.click()
    expect(section.locator(".step-title")).to_have_text(XSS)
    expect(section.locator(".detail")).to_have_text("<script>alert(2)</script>")
    expect(section.locator("blockquote")).to_have_text(XSS)
    expect(section.locator(".rejected-advice")).to_have_text(XSS)
    injected = page.locator("interview-advice").evaluate(
        "h => h.shadowRoot.querySelectorAll('img, script, svg').length"
    )
    assert injected == 0
    shot(page, "06-xss-api-text-inert")
    assert tab.problems() == []


def test_keyboard_alone_gets_advice_and_opens_sources(api, site, open_page, shot):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    widget = page.locator("interview-advice")
    expect(widget.locator("form")).to_be_visible()

    unlabelled = widget.evaluate(
        """h => [...h.shadowRoot.querySelectorAll("input, select, textarea")]
                .filter((c) => !c.labels?.length && !c.getAttribute("aria-label"))
                .map((c) => c.name)"""
    )
    assert unlabelled == []

    tab_to(page, "ia-stage")
    page.keyboard.press("ArrowDown")  # after -> closing
    page.keyboard.press("ArrowDown")  # closing -> next_round
    assert widget.locator("#ia-stage").input_value() == "next_round"
    tab_to(page, "ia-via_agency")
    page.keyboard.press("Space")
    tab_to(page, "ia-hours_since")
    page.keyboard.type("5")
    tab_to(page, "ia-thank_you_sent")
    page.keyboard.press("Space")
    tab_to(page, "More about your situation")
    page.keyboard.press("Enter")
    tab_to(page, "ia-still_interested")
    tab_to(page, "ia-plans")
    page.keyboard.type("Ask what the next stage looks like")
    tab_to(page, "Get advice")
    outline = widget.get_by_role("button", name="Get advice").evaluate(
        "b => getComputedStyle(b).outlineStyle + ' ' + getComputedStyle(b).outlineWidth"
    )
    assert outline == "solid 3px"  # focus is visible
    page.keyboard.press("Enter")
    section = results(page)
    expected = advise(
        api,
        {
            "stage": "next_round",
            "hours_since": 5,
            "via_agency": True,
            "thank_you_sent": True,
            "plans": ["Ask what the next stage looks like"],
        },
    )
    expect(section.locator(".step-title")).to_have_text([a["title"] for a in expected["actions"]])

    tab_to(page, "Sources (")
    page.keyboard.press("Enter")
    expect(section.locator("details.sources").first).to_have_attribute("open", "")
    shot(page, "07-keyboard-only")
    assert tab.problems() == []


@pytest.mark.parametrize(
    ("name", "width", "height", "scale"),
    [("320px", 320, 640, 1), ("zoom-200", 640, 450, 2)],
)
def test_readable_when_narrow_or_zoomed(site, open_page, shot, name, width, height, scale):
    tab = open_page(f"{site}/careers.html", width=width, height=height, scale=scale)
    page = tab.page
    # A link pasted as a plan is one long word: it breaks rather than widening the cards.
    fill_form(page, "1", [XSS, f"Read {LONG_LINK} again"])
    page.get_by_role("button", name="Get advice").click()
    section = results(page)
    section.locator("summary").first.click()
    expect(section.locator(".plan-text").last).to_contain_text(LONG_LINK)
    assert overflow(page) == {"page": 0, "wide": []}
    size = section.locator(".detail").first.evaluate("p => getComputedStyle(p).fontSize")
    assert size == "16px"
    shot(page, f"08-{name}")
    assert tab.problems() == []
