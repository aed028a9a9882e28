"""The /docs page in a real browser, as narrow as a phone (390 px) and wide."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.server, pytest.mark.browser]

# Whatever runs past the right edge of the page, and every name in code that is broken
# across lines (a name is code of one word: item_id, decision_expected_in_days).
LAYOUT = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${el.textContent.slice(0, 40)}`);
  const broken = [...document.querySelectorAll("code")]
    .filter((el) => /^[\\w.$-]{1,40}$/.test(el.textContent) && el.getClientRects().length > 1)
    .map((el) => el.textContent);
  return {scroll: document.documentElement.scrollWidth - width, wide, broken};
}"""


@pytest.mark.parametrize(("name", "width"), [("390px", 390), ("320px", 320), ("1280px", 1280)])
def test_the_docs_fit_the_width_and_names_stay_whole(api, open_page, shot, name, width):
    tab = open_page(f"{api}/docs", width=width, height=800)
    page = tab.page
    for details in page.locator("details").all():
        details.evaluate("d => d.open = true")
    layout = page.evaluate(LAYOUT)
    assert layout == {"scroll": 0, "wide": [], "broken": []}
    names = page.locator("td code", has_text="item_id")
    assert names.count() >= 1
    for index in range(names.count()):
        assert names.nth(index).evaluate("c => c.getClientRects().length") == 1
    shot(page, f"18-docs-{name}")
    assert tab.problems() == []
