"""'Draft it' in <interview-advice>, in a real browser under the careers site's strict CSP.

An action that is a message (or a call) offers a toggle opening a small form
of optional details; sent, it shows the API's draft in a text area to edit, a
button that copies it (the clipboard API, or the browser's copy command where
that is missing) and, for an email, a mailto: link that follows the edits.
Details are shown as typed, never as markup; a flagged one is named, and the
other failures are said in the widget's own words.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from advisor.drafts import DETAIL_FIELDS, DRAFT_ACTIONS

from ..live import gunicorn
from .test_widget import FIXED_STATE, XSS, advise, fill_form, overflow, results, tab_to
from .test_widget_failures import PROXY_PAGE, UNREACHABLE, UNREADABLE

pytestmark = [pytest.mark.server, pytest.mark.browser]

# The form's situation on the careers site: two hours after an interview an agency arranged.
STATE = {"stage": "after", "hours_since": 2, "via_agency": True, "plans": []}
DETAILS = {
    "candidate_name": "Alex Morgan",
    "recipient_name": "Sam Patel",
    "role": "Data Analyst",
    "company": XSS,
    "highlight": "my experience of building reports for a small team",
}
# The label of each detail's field in the widget's form.
LABELS = {
    "candidate_name": "Your name",
    "recipient_name": "Their name",
    "role": "Role",
    "company": "Company",
    "highlight": "Something to remind them of",
}

# Counts the browser's copy command in each frame, to tell which way a text was copied.
COUNT_COPY_COMMANDS = """
window.__copyCommands = 0;
const execCommand = Document.prototype.execCommand;
Document.prototype.execCommand = function (command, ...rest) {
  if (command === "copy") window.__copyCommands += 1;
  return execCommand.call(this, command, ...rest);
};
"""


def post(api: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{api}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def draft_of(api: str, state: dict, action: str, details: dict) -> dict:
    """The API's own draft."""
    return post(api, "/v1/drafts", {"state": state, "action": action, "details": details})


def action_of(api: str, action: str) -> dict:
    """The action `action` as the API recommends it for the form's situation (`STATE`)."""
    return next(a for a in advise(api, STATE)["actions"] if a["id"] == action)


def asked(page, state: dict = STATE):
    """Fill the careers site's form for `state` (hours and agency only) and get the advice."""
    fill_form(page, str(state["hours_since"]), state["plans"])
    page.get_by_role("button", name="Get advice").click()
    return results(page)


def card(section, title: str):
    """The step titled `title` (its card's text starts with its title)."""
    return section.locator("ol.steps > li").filter(has_text=re.compile(f"^{re.escape(title)}"))


def open_draft(section, title: str):
    """Open 'Draft it' on the step titled `title`; its panel."""
    step = card(section, title)
    panel = step.locator("details.draft")
    panel.locator("summary").click()
    expect(panel.locator("form")).to_be_visible()
    return panel


def fill_details(panel, details: dict) -> None:
    for name, value in details.items():
        panel.get_by_label(LABELS[name], exact=True).fill(value)


def mailto_parts(href: str) -> tuple[str, str]:
    """The subject and body a mailto: link carries, its line breaks as \\n."""
    url = urlsplit(href)
    assert url.scheme == "mailto"
    assert url.path == ""  # the candidate adds the address in their email app
    query = parse_qs(url.query, keep_blank_values=True)
    subject, body = query["subject"][0], query["body"][0]
    assert "\n" not in body.replace("\r\n", "")  # line breaks as CRLF (RFC 6068)
    return subject, body.replace("\r\n", "\n")


def test_draft_it_is_offered_on_the_actions_that_have_a_draft(api, site, open_page):
    tab = open_page(f"{site}/careers.html")
    section = asked(tab.page)
    expected = advise(api, STATE)["actions"]
    offered = [action["id"] in DRAFT_ACTIONS for action in expected]
    assert any(offered)
    assert not all(offered)
    steps = section.locator("ol.steps > li")
    expect(steps).to_have_count(len(expected))
    for index, has_draft in enumerate(offered):
        expect(steps.nth(index).locator("details.draft")).to_have_count(int(has_draft))
    panel = section.locator("details.draft").first
    expect(panel.locator("form")).to_have_count(0)  # built when first opened
    assert tab.problems() == []


def test_a_draft_is_written_edited_copied_and_mailed(api, site, open_page, shot):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    section = asked(page)
    action = action_of(api, "send-thank-you")
    panel = open_draft(section, action["title"])
    inputs = panel.locator("form input")
    expect(inputs).to_have_count(len(DETAIL_FIELDS))
    assert [inputs.nth(i).get_attribute("name") for i in range(len(DETAIL_FIELDS))] == list(
        DETAIL_FIELDS
    )
    for i in range(len(DETAIL_FIELDS)):
        expect(inputs.nth(i)).to_have_attribute("maxlength", "200")
    fill_details(panel, DETAILS)
    panel.get_by_role("button", name="Write the draft").click()

    expected = draft_of(api, STATE, "send-thank-you", DETAILS)
    assert expected["channel"] == "email"
    text = panel.get_by_label("Message", exact=True)
    subject = panel.get_by_label("Subject", exact=True)
    expect(text).to_have_value(expected["body"])
    expect(subject).to_have_value(expected["subject"])
    assert XSS in expected["body"]  # the company, as typed
    expect(panel.locator(".draft-kind")).to_have_text(f"An email to the {expected['recipient']}")
    expect(panel.locator("[role=status]")).to_contain_text("Draft ready")
    expect(text).to_be_focused()
    guidance = panel.locator(".draft-output details.sources")
    expect(guidance.locator("summary")).to_have_text(
        f"What this draft follows ({len(expected['guidance'])})"
    )
    expect(guidance.locator("blockquote")).to_have_text([g["quote"] for g in expected["guidance"]])
    injected = page.locator("interview-advice").evaluate(
        "h => h.shadowRoot.querySelectorAll('img, script').length"
    )
    assert injected == 0

    # The candidate edits the draft; the copy and the mailto: link carry the edits.
    edited = expected["body"].replace("Kind regards", "Best wishes") + "\n\nP.S. Café & co: 100%"
    text.fill(edited)
    subject.fill("Thank you & see you soon?")
    panel.get_by_role("button", name="Copy message").click()
    expect(panel.locator("[role=status]")).to_have_text("Message copied.")
    assert page.evaluate("navigator.clipboard.readText()") == edited
    link = panel.get_by_role("link", name="Open in your email app")
    assert mailto_parts(link.get_attribute("href")) == ("Thank you & see you soon?", edited)
    shot(page, "20-draft-it-email")

    # Another draft's form offers the name, role and company again; not whom, nor what to stress.
    other = action_of(api, "call-recruiter")
    second = open_draft(section, other["title"])
    for name in DETAIL_FIELDS:
        offered = DETAILS[name] if name in ("candidate_name", "role", "company") else ""
        expect(second.get_by_label(LABELS[name], exact=True)).to_have_value(offered)
    assert tab.problems() == []


def test_without_the_clipboard_api_the_copy_command_copies(api, site, open_page):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    # As on a page served without TLS, where browsers offer no navigator.clipboard.
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get() {}})")
    page.add_init_script(COUNT_COPY_COMMANDS)
    page.reload()
    assert page.evaluate("navigator.clipboard === undefined")
    section = asked(page)
    action = action_of(api, "call-recruiter")
    panel = open_draft(section, action["title"])
    panel.get_by_role("button", name="Write the draft").click()
    points = panel.get_by_label("Talking points", exact=True)
    expected = draft_of(api, STATE, "call-recruiter", {})
    assert expected["channel"] == "phone"
    expect(points).to_have_value(expected["body"])
    expect(panel.get_by_role("link", name="Open in your email app")).to_have_count(0)
    panel.get_by_role("button", name="Copy talking points").click()
    expect(panel.locator("[role=status]")).to_have_text("Talking points copied.")
    assert page.evaluate("window.__copyCommands") == 1
    reader = page.context.new_page()
    reader.goto(f"{site}/careers.html")
    assert reader.evaluate("navigator.clipboard.readText()") == expected["body"]
    assert tab.problems() == []


def test_in_an_iframe_allowed_the_clipboard_the_clipboard_api_copies(api, site, open_page):
    tab = open_page(f"{site}/framed.html")
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.add_init_script(COUNT_COPY_COMMANDS)
    page.reload()
    frame = page.frame_locator("iframe[data-interview-advice]")
    frame.locator("#ia-hours_since").fill("2")
    frame.locator("#ia-via_agency").check()
    frame.get_by_role("button", name="Get advice").click()
    section = frame.locator("interview-advice section.results")
    expect(section).to_be_visible()
    action = action_of(api, "send-thank-you")
    panel = open_draft(section, action["title"])
    panel.get_by_role("button", name="Write the draft").click()
    expected = draft_of(api, STATE, "send-thank-you", {})
    expect(panel.get_by_label("Message", exact=True)).to_have_value(expected["body"])
    panel.get_by_role("button", name="Copy message").click()
    expect(panel.locator("[role=status]")).to_have_text("Message copied.")
    assert page.evaluate("navigator.clipboard.readText()") == expected["body"]
    embedded = next(f for f in page.frames if f.url.startswith(f"{api}/embed"))
    assert embedded.evaluate("window.__copyCommands") == 0  # the clipboard API did it
    assert tab.problems() == []


def test_a_preset_widget_drafts_for_the_situation_its_attributes_describe(api, site, open_page):
    tab = open_page(f"{site}/fixed.html")
    section = results(tab.page)
    action = advise(api, FIXED_STATE)["actions"][0]
    assert action["id"] == "follow-up-via-recruiter"
    panel = open_draft(section, action["title"])
    fill_details(panel, {"role": "Data Analyst"})
    panel.get_by_role("button", name="Write the draft").click()
    situation = {k: v for k, v in FIXED_STATE.items() if k != "plans"}
    expected = draft_of(api, situation, action["id"], {"role": "Data Analyst"})
    expect(panel.get_by_label("Message", exact=True)).to_have_value(expected["body"])
    assert "[" in expected["body"]  # placeholders left for the details not given
    expect(panel.locator(".draft-output .hint")).to_have_text(
        "Fill in the words in [square brackets], then copy it."
    )
    assert tab.problems() == []


def test_a_flagged_detail_is_named_and_the_draft_follows_once_it_is_changed(
    api, site, open_page, shot
):
    with urllib.request.urlopen(f"{api}/v1/rejected", timeout=10) as response:
        flagged = json.load(response)["rejected"][0]
    # The API's own refusal, which the widget shows.
    with pytest.raises(urllib.error.HTTPError) as refused:
        draft_of(api, STATE, "send-thank-you", {"highlight": flagged["advice"][:200]})
    assert refused.value.code == 422
    messages = json.load(refused.value)["errors"]
    assert list(messages) == ["details.highlight"]

    tab = open_page(f"{site}/careers.html")
    page = tab.page
    section = asked(page)
    action = action_of(api, "send-thank-you")
    panel = open_draft(section, action["title"])
    fill_details(panel, {"role": "Data Analyst", "highlight": flagged["advice"][:200]})
    panel.get_by_role("button", name="Write the draft").click()
    alert = panel.locator("[role=alert]")
    expect(alert.locator("p")).to_have_text("Please check these details:")
    expect(alert.locator("li")).to_have_text(
        [f"{LABELS['highlight']} – {' '.join(messages['details.highlight'])}"]
    )
    assert flagged["advice"][:40] not in alert.text_content()
    highlight = panel.get_by_label(LABELS["highlight"], exact=True)
    expect(highlight).to_have_attribute("aria-invalid", "true")
    expect(highlight).to_be_focused()
    expect(panel.get_by_label("Role", exact=True)).not_to_have_attribute("aria-invalid", "true")
    expect(highlight).to_have_value(flagged["advice"][:200])  # kept to change
    expect(panel.locator(".draft-output")).to_be_hidden()
    shot(page, "21-draft-it-flagged-detail")

    highlight.fill("my experience of building reports for a small team")
    panel.get_by_role("button", name="Write the draft").click()
    expect(panel.get_by_label("Message", exact=True)).to_have_value(re.compile("building reports"))
    expect(alert).to_be_empty()
    expect(highlight).not_to_have_attribute("aria-invalid", "true")
    assert tab.errors == []  # the browser itself logs the 422
    assert tab.csp_violations() == []


# What the API adds to an answer to the careers site, another origin.
CROSS_ORIGIN = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}


def problem(status: int) -> str:
    return json.dumps({"type": "about:blank", "title": "x", "status": status, "detail": "x"})


@pytest.mark.parametrize(
    ("name", "answer", "message"),
    [
        ("network-down", None, UNREACHABLE),
        (
            "too-many",
            {"status": 429, "headers": {**CROSS_ORIGIN, "Retry-After": "7"}, "body": problem(429)},
            "Too many requests for drafts have come from here just now. "
            "Please try again in 7 seconds.",
        ),
        (
            "proxy-page",
            {"status": 502, "content_type": "text/html", "body": PROXY_PAGE},
            "The advice service is having trouble (error 502). Please try again in a moment.",
        ),
        (
            "not-a-draft",
            {"status": 200, "content_type": "application/json", "body": "{}"},
            UNREADABLE,
        ),
    ],
)
def test_a_failed_draft_is_said_in_the_widgets_words_and_can_be_sent_again(
    api, site, open_page, shot, name, answer, message
):
    tab = open_page(f"{site}/careers.html", width=390)
    page = tab.page
    section = asked(page)
    action = action_of(api, "send-thank-you")
    panel = open_draft(section, action["title"])
    fill_details(panel, {"role": "Data Analyst"})
    if answer is None:
        page.route("**/v1/drafts", lambda route: route.abort("internetdisconnected"))
    else:
        page.route("**/v1/drafts", lambda route: route.fulfill(**answer))
    panel.get_by_role("button", name="Write the draft").click()
    alert = panel.locator("[role=alert]")
    expect(alert).to_have_text(message)
    expect(alert).to_have_attribute("aria-live", "assertive")
    expect(panel.locator("[role=status]")).to_have_text("")
    expect(panel.get_by_label("Role", exact=True)).to_have_value("Data Analyst")
    expect(panel.get_by_role("button", name="Write the draft")).to_be_focused()
    # The advice itself stays as it was.
    expect(section).to_be_visible()
    expect(page.locator("interview-advice .ia > [role=alert]")).to_be_empty()
    shot(page, f"22-draft-it-failure-{name}")
    page.unroute("**/v1/drafts")
    panel.get_by_role("button", name="Write the draft").click()
    expect(panel.get_by_label("Message", exact=True)).to_have_value(re.compile("Data Analyst"))
    expect(alert).to_be_empty()
    assert tab.errors == []


def test_a_real_429_on_drafts_says_when_to_try_again(tmp_path, open_page):
    # The advice is the first request of the minute, the first draft the second.
    env = {"ADVISOR_RATE_LIMITS": "2 per minute"}
    with gunicorn(workers=1, env=env, log=tmp_path / "gunicorn.log") as server:
        query = "stage=after&hours-since=2"
        tab = open_page(f"{server.base}/embed?{query}", width=390)
        page = tab.page
        section = results(page)
        panel = section.locator("details.draft").first
        panel.locator("summary").click()
        write = panel.get_by_role("button", name="Write the draft")
        write.click()
        expect(panel.locator(".draft-output textarea")).to_be_visible()
        # Whether drafts count apart from advice or with it, the limit is soon reached.
        for _ in range(2):
            expect(write).to_be_enabled()
            with page.expect_response(lambda r: r.url.endswith("/v1/drafts")) as answer:
                write.click()
            if answer.value.status == 429:
                break
        assert answer.value.status == 429
        seconds = int(answer.value.headers["retry-after"])
        words = f"in {seconds} second{'' if seconds == 1 else 's'}"
        if seconds >= 60:
            words = "in 1 minute"
        expect(panel.locator("[role=alert]")).to_have_text(
            f"Too many requests for drafts have come from here just now. Please try again {words}."
        )
        # The draft already written stays, with the candidate's edits.
        expect(panel.locator(".draft-output textarea")).to_be_visible()
    assert tab.errors == []


def test_draft_it_from_the_keyboard_alone(api, site, open_page, shot):
    tab = open_page(f"{site}/careers.html")
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    widget = page.locator("interview-advice")
    section = asked(page)
    action = action_of(api, "send-thank-you")

    # Each toggle names its action for a screen reader, and every control is labelled.
    summary = card(section, action["title"]).locator("details.draft > summary")
    expect(summary).to_have_accessible_name(f"Draft it: {action['title']}")
    tab_to(page, f"Draft it: {action['title']}")
    page.keyboard.press("Enter")
    tab_to(page, "ia-draft-send-thank-you-candidate_name")
    page.keyboard.type("Alex Morgan")
    tab_to(page, "ia-draft-send-thank-you-role")
    page.keyboard.type("Data Analyst")
    page.keyboard.press("Enter")  # sends the form
    text = card(section, action["title"]).locator("textarea")
    expect(text).to_be_focused()
    expected = draft_of(
        api, STATE, "send-thank-you", {"candidate_name": "Alex Morgan", "role": "Data Analyst"}
    )
    expect(text).to_have_value(expected["body"])
    page.keyboard.press("Control+End")
    page.keyboard.type("\nSent from the keyboard")
    tab_to(page, "Copy message")
    page.keyboard.press("Enter")
    expect(card(section, action["title"]).locator("[role=status]")).to_have_text("Message copied.")
    assert (
        page.evaluate("navigator.clipboard.readText()")
        == expected["body"] + "\nSent from the keyboard"
    )
    unlabelled = widget.evaluate(
        """h => [...h.shadowRoot.querySelectorAll("input, select, textarea, button")]
                .filter((c) => !c.labels?.length && !c.getAttribute("aria-label")
                               && !c.textContent.trim())
                .map((c) => c.id || c.name)"""
    )
    assert unlabelled == []
    shot(page, "23-draft-it-keyboard")
    assert tab.problems() == []


@pytest.mark.parametrize("width", [390, 320])
def test_an_open_draft_fits_a_phone(api, site, open_page, shot, width):
    tab = open_page(f"{site}/careers.html", width=width, height=800)
    page = tab.page
    section = asked(page)
    action = action_of(api, "send-thank-you")
    panel = open_draft(section, action["title"])
    fill_details(panel, DETAILS)
    panel.get_by_role("button", name="Write the draft").click()
    expect(panel.get_by_label("Message", exact=True)).to_be_visible()
    panel.locator(".draft-output details.sources > summary").click()
    assert overflow(page) == {"page": 0, "wide": []}
    panel.scroll_into_view_if_needed()
    shot(page, f"24-draft-it-{width}px")
    assert tab.problems() == []
