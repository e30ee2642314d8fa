"""The rendered book's explorers, used as a reader uses them: keyboard, no kernel, no network.

Each chapter's Explore section has an explorer of precomputed frames
(`companion.widgets.explore_frames`): sliders linked in the browser to a stack of figures, saved
in the page's widget state. For each chapter page of `_build/html` (built by the `built_book`
fixture), headless Chromium focuses each slider, presses an arrow key, and checks that the
figure on show changed to the one for the slider's new value; that the page made no request to
the network; that the explorer's frames add at most 1.5 MB to the page; and that the live panel,
which needs a kernel, shows no controls on the page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_rendered_book import DOCNAMES, HTML_DIR, Page, browser, load, open_page

# The fixture, imported so that pytest finds it here too.
__all__ = ["browser"]

CHAPTERS = [name for name in DOCNAMES if re.fullmatch(r"book/\d\d_\w+", name)]
MAX_EXPLORER_BYTES = 1_500_000

# The explorer's sliders (readout, handle) and the one frame on show: its data-value and image.
EXPLORER_STATE = """
const explorers = document.querySelectorAll('.book-frame-explorer');
if (explorers.length !== 1) { return {error: `${explorers.length} explorers on the page`}; }
const explorer = explorers[0];
const sliders = Array.from(explorer.querySelectorAll('.widget-slider')).map(s => ({
  label: s.querySelector('.widget-label').textContent.trim(),
  readout: s.querySelector('.widget-readout').textContent.trim(),
}));
const shown = Array.from(explorer.querySelectorAll('figure.book-frame'))
  .filter(f => f.getClientRects().length > 0);
return {
  error: null,
  sliders: sliders,
  shown: shown.map(f => ({
    value: f.dataset.value,
    src: f.querySelector('img').src,
    alt: f.querySelector('img').alt,
    caption: f.querySelector('figcaption').textContent,
  })),
};
"""


@pytest.fixture(scope="module", params=CHAPTERS)
def chapter(request: pytest.FixtureRequest, browser: Any) -> Page:
    """One chapter page, loaded and settled."""
    return open_page(browser, request.param)


def explorer_state(page: Page) -> dict[str, Any]:
    state = page.js(EXPLORER_STATE)
    assert state["error"] is None, f"{page.docname}: {state['error']}"
    assert len(state["shown"]) == 1, f"{page.docname}: {len(state['shown'])} frames on show"
    return state


def test_every_chapter_has_an_explorer() -> None:
    assert len(CHAPTERS) == 6, CHAPTERS


def test_explorer_follows_the_keyboard(chapter: Page) -> None:
    """Each slider, moved with an arrow key, shows the frame computed for its new value."""
    from selenium.webdriver.common.keys import Keys

    before = explorer_state(chapter)
    assert before["sliders"], f"{chapter.docname}: the explorer has no slider"
    shown = before["shown"][0]
    readouts = ", ".join(s["readout"] for s in before["sliders"])
    assert shown["value"] == readouts, (chapter.docname, shown["value"], readouts)
    handles = chapter.driver.find_elements(
        "css selector", ".book-frame-explorer .widget-slider .noUi-handle"
    )
    assert len(handles) == len(before["sliders"])
    for index, handle in enumerate(handles):
        for key in (Keys.ARROW_RIGHT, Keys.ARROW_LEFT):
            handle.send_keys(key)
            after = explorer_state(chapter)
            if after["sliders"][index]["readout"] != before["sliders"][index]["readout"]:
                break
        else:
            pytest.fail(f"{chapter.docname}: slider {index} did not move with the arrow keys")
        frame = after["shown"][0]
        readouts = ", ".join(s["readout"] for s in after["sliders"])
        assert frame["value"] == readouts, (chapter.docname, frame["value"], readouts)
        assert frame["src"] != before["shown"][0]["src"], f"{chapter.docname}: same image"
        assert frame["alt"] and frame["caption"], frame
        before = after


def test_explorer_loads_nothing_from_the_network(chapter: Page) -> None:
    """The explorer's frames are in the page: moving it requested no http(s) URL."""
    requests, _ = load(chapter.driver, chapter.url)
    from selenium.webdriver.common.keys import Keys

    for handle in chapter.driver.find_elements(
        "css selector", ".book-frame-explorer .widget-slider .noUi-handle"
    ):
        handle.send_keys(Keys.ARROW_LEFT)
        handle.send_keys(Keys.ARROW_RIGHT)
    for entry in chapter.driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests[message["params"]["requestId"]] = message["params"]["request"]["url"]
    fetched = sorted({url for url in requests.values() if re.match(r"https?:", url, re.I)})
    assert not fetched, f"{chapter.docname}: the page requested {fetched}"


def widget_state(html_path: Path) -> dict[str, Any]:
    """The widget models saved in a page (the script myst-nb writes for the widget manager)."""
    text = html_path.read_text(encoding="utf-8")
    match = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', text, re.S
    )
    assert match, f"{html_path.name} has no saved widget state"
    return json.loads(match.group(1))["state"]


def test_explorer_adds_at_most_1_5_mb(built_book: Path) -> None:
    """The frames (their HTML models and the stacks and sliders around them) weigh <= 1.5 MB."""
    for docname in CHAPTERS:
        state = widget_state(HTML_DIR / f"{docname}.html")
        explorer_bytes = sum(
            len(json.dumps(model))
            for model in state.values()
            if 'class="book-frame"' in str(model["state"].get("value", ""))
            or model["model_name"] in ("StackModel", "SelectionSliderModel", "LinkModel")
        )
        assert 0 < explorer_bytes <= MAX_EXPLORER_BYTES, (docname, explorer_bytes)


def test_live_panel_shows_no_controls(chapter: Page) -> None:
    """The live panel needs a kernel: on the page, its code and no control outside the explorer."""
    stray = chapter.js(
        "return Array.from(document.querySelectorAll('.widget-slider, .widget-button, "
        ".widget-dropdown')).filter(e => !e.closest('.book-frame-explorer')).length"
    )
    assert stray == 0, f"{chapter.docname}: {stray} live-panel controls on the static page"
    assert "explore(" in chapter.js("return document.body.textContent"), chapter.docname
