"""The rendered book: build it, open every page in headless Chromium, check what a reader sees.

The build runs exactly like `make book` (`jupyter-book build . -W -n --keep-going` with
BOOK_OFFLINE=1; execution is cached, so an unchanged rebuild takes seconds). Then every page in
_toc.yml is opened from file:// and checked: math typeset by the vendored MathJax, figures loaded,
no error output (the articles' broken code runs inside `expect_error`), no stderr output, every
glued number present as myst-nb formats it, widgets rendered, nothing requested from the
network, one search box, alt text on every figure, and no serious or critical accessibility
violation found by axe-core (vendored in tests/_vendor/axe-core).

Needs Debian's `chromium` and `chromium-driver`; without them these tests are skipped, except
when CI=true, where they fail. Deselect the whole module with `-m "not book"`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from browser import headless_chromium

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
# axe-core, the accessibility checker, vendored (tests/_vendor/axe-core/README.md): no network.
AXE_JS = ROOT / "tests" / "_vendor" / "axe-core" / "axe.min.js"
GLUE_DIR = BUILD_DIR / "jupyter_execute"
SCREENSHOT_DIR = BUILD_DIR / "screenshots"  # ignored by git, like all of _build
PAGE_TIMEOUT_S = 60


# ---------------------------------------------------------------- the pages, from _toc.yml


def _toc_files(entries: list[dict[str, Any]]) -> Iterator[str]:
    for entry in entries:
        if "file" in entry:
            yield str(entry["file"])
        for key in ("parts", "chapters", "sections"):
            yield from _toc_files(entry.get(key, []))


def toc_docnames() -> list[str]:
    """The root and every `file:` entry of _toc.yml, in reading order, without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [str(toc["root"]), *_toc_files([toc])]
    return list(dict.fromkeys(str(PurePosixPath(name).with_suffix("")) for name in names))


def source_path(docname: str) -> Path:
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{docname}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(
        f"_toc.yml lists {docname!r}, but neither {docname}.ipynb nor {docname}.md exists"
    )


DOCNAMES = toc_docnames()


# ---------------------------------------------------------------- glue: what each page must show

GLUE_ROLE = re.compile(r"\{(?P<role>glue(?::|:any|:text)?)\}`(?P<content>[^`]+)`")


@dataclass(frozen=True)
class GlueRef:
    role: str  # glue, glue:, glue:any or glue:text
    content: str  # what stands between the backticks
    docname: str  # the document whose glue.json holds the value
    key: str
    fmt: str | None  # format spec of glue:text (myst-nb's default is "s"); None for glue / glue:any


def markdown_sources(docname: str) -> list[str]:
    path = source_path(docname)
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [
        "".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
    ]


def _resolve_docname(from_docname: str, path: str) -> str:
    """A `path::key` reference is relative to the citing document, like myst-nb resolves it."""
    target = PurePosixPath(from_docname).parent / path
    parts: list[str] = []
    for part in target.with_suffix("").parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def glue_refs(docname: str) -> list[GlueRef]:
    """Every inline glue role in the page's markdown, parsed the way myst-nb's roles parse it."""
    refs = []
    for text in markdown_sources(docname):
        for match in GLUE_ROLE.finditer(text):
            role, content = match["role"], match["content"].strip()
            key, fmt = content, None
            if role == "glue:text":  # as myst-nb: split off the format spec first, then `path::`
                parts = content.rsplit(":", 1)
                key, fmt = (parts[0], parts[1]) if len(parts) == 2 else (content, "s")
            target = docname
            if "::" in key:
                path, key = key.split("::", 1)
                target = _resolve_docname(docname, path)
            refs.append(GlueRef(role, content, target, key, fmt))
    return refs


def glue_data(docname: str) -> dict[str, Any]:
    """The glued outputs of one executed notebook: {name: display_data output}.

    myst-nb writes _build/jupyter_execute/<docname>.glue.json on every build, also on a cache
    hit; each value is the notebook output, e.g. {"data": {"text/plain": "0.123"}, "metadata":
    {"scrapbook": {"name": ...}}, "output_type": "display_data"}.
    """
    path = GLUE_DIR / f"{docname}.glue.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def expected_glue_text(ref: GlueRef) -> str | None:
    """The text myst-nb puts on the page for this role, or None when it renders no plain text."""
    from myst_nb.core.render import get_mime_priority
    from myst_nb.core.variables import format_plain_text

    data = glue_data(ref.docname)
    assert ref.key in data, (
        f"{{{ref.role}}}`{ref.content}`: no glued value {ref.key!r} in "
        f"{(GLUE_DIR / (ref.docname + '.glue.json')).relative_to(ROOT)} (glued: {sorted(data)})"
    )
    output = data[ref.key]
    bundle = output.get("data", {})
    if ref.fmt is not None:  # glue:text formats text/plain with the spec
        return format_plain_text(bundle["text/plain"], ref.fmt)
    mime_type = next((m for m in get_mime_priority("html", []) if m in bundle), None)
    if mime_type != "text/plain":
        return None  # an image, HTML or LaTeX: not plain text on the page
    text = bundle["text/plain"]
    if output.get("metadata", {}).get("strip_text_quotes") and re.match(r"^([\"']).*\1$", text):
        text = text[1:-1]
    return text


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def browser(built_book: Path) -> Iterator[Any]:
    with headless_chromium("book-chromium-", PAGE_TIMEOUT_S, log_requests=True) as driver:
        yield driver


@dataclass(repr=False)
class Page:
    docname: str
    source: Path
    driver: Any
    url: str
    requests: dict[str, str] = field(default_factory=dict)  # request id -> URL
    failed: list[tuple[str, str]] = field(default_factory=list)  # (URL, error) of failed loads

    def __repr__(self) -> str:
        return f"Page({self.docname!r})"

    @property
    def is_notebook(self) -> bool:
        return self.source.suffix == ".ipynb"

    def js(self, script: str, *args: Any) -> Any:
        if self.driver.current_url.split("#")[0] != self.url:  # another test navigated away
            load(self.driver, self.url)
        return self.driver.execute_script(script, *args)

    def prose(self) -> str:
        """The page's text without code, scripts and MathJax's hidden copies.

        Whitespace is collapsed.
        """
        raw = self.js(
            "const root = (document.querySelector('article') || document.body).cloneNode(true);"
            "root.querySelectorAll('script, style, .cell_input, mjx-assistive-mml')"
            ".forEach(e => e.remove());"
            "return root.textContent;"
        )
        return " ".join(raw.split())


WAIT_FOR_PAGE = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + arguments[0] * 1000;
const mathjax = window.MathJax && window.MathJax.startup
  ? window.MathJax.startup.promise : Promise.resolve();
const views = document.querySelectorAll(
  'script[type="application/vnd.jupyter.widget-view+json"]');
function widgetsRendered() {
  return Array.from(views).every(
    v => v.parentElement.querySelector('.widget-subarea .jupyter-widgets'));
}
function imagesLoaded() {
  return Array.from(document.images).every(img => img.complete);
}
mathjax.then(() => document.fonts.ready).then(function poll() {
  if ((widgetsRendered() && imagesLoaded()) || Date.now() > deadline) { done('ok'); }
  else { setTimeout(poll, 100); }
}, err => done('MathJax failed: ' + err));
"""


def load(driver: Any, url: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Open `url` and wait until math, fonts, images and widgets have settled.

    Return the page's requests.
    """
    driver.get_log("performance")  # drop what earlier pages logged
    driver.get(url)
    for img in driver.find_elements("css selector", "img[loading='lazy']"):
        driver.execute_script("arguments[0].loading = 'eager'", img)
    status = driver.execute_async_script(WAIT_FOR_PAGE, PAGE_TIMEOUT_S - 5)
    assert status == "ok", f"{url}: {status}"
    requests: dict[str, str] = {}
    failed: list[tuple[str, str]] = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            requests[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and params["requestId"] in requests:
            failed.append((requests[params["requestId"]], params.get("errorText", "")))
    return requests, failed


def open_page(browser: Any, docname: str) -> Page:
    """The built page of `docname`, loaded and settled in `browser`."""
    html = HTML_DIR / f"{docname}.html"
    assert html.exists(), f"{html.relative_to(ROOT)} was not built (is {docname} in _toc.yml?)"
    requests, failed = load(browser, html.as_uri())
    return Page(docname, source_path(docname), browser, html.as_uri(), requests, failed)


@pytest.fixture(scope="module", params=DOCNAMES)
def page(request: pytest.FixtureRequest, browser: Any) -> Page:
    """One page of the book, loaded and settled: pytest runs all checks of a page in a row."""
    return open_page(browser, request.param)


# ---------------------------------------------------------------- the build


def test_book_builds_without_warnings(built_book: Path) -> None:
    """`jupyter-book build -W -n` succeeded (the fixture fails otherwise) and wrote every page."""
    missing = [name for name in DOCNAMES if not (built_book / f"{name}.html").exists()]
    assert not missing, f"pages in _toc.yml that were not built: {missing}"
    assert (built_book / "index.html").exists()


# ---------------------------------------------------------------- each page


def test_math_is_typeset(page: Page) -> None:
    """Every math element was typeset by MathJax, without TeX errors."""
    if not page.js("return document.querySelectorAll('.math').length"):  # Sphinx's math nodes
        pytest.skip(f"{page.docname} has no math")
    assert page.js("return document.querySelectorAll('mjx-container').length") > 0, (
        f"{page.docname}: MathJax rendered nothing "
        "(is book/_vendor/mathjax served? mathjax_path in _config.yml?)"
    )
    raw = page.js(
        "return Array.from(document.querySelectorAll('.math'))"
        ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))"
    )
    assert not raw, f"{page.docname}: {len(raw)} math element(s) left as raw TeX, e.g. {raw[:3]}"
    errors = page.js(
        "return Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent)"
    )
    assert not errors, f"{page.docname}: MathJax TeX errors: {errors[:5]}"


def test_figures_render(page: Page) -> None:
    """No broken image anywhere; a chapter notebook shows at least one rendered figure."""
    broken = page.js(
        "return Array.from(document.images)"
        ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert not broken, f"{page.docname}: broken images: {broken}"
    if page.is_notebook:
        widths = page.js(
            "return Array.from(document.querySelectorAll('.cell_output img'))"
            ".map(i => i.naturalWidth)"
        )
        assert widths, f"{page.docname}: a chapter with no figure in any cell output"
        assert all(width > 0 for width in widths), f"{page.docname}: figure widths {widths}"


def test_no_error_output(page: Page) -> None:
    """No cell raises: the articles' broken code runs inside `companion.expect_error`.

    A cell tag cannot excuse an error instead: Colab ignores tags.
    """
    stray = page.js(
        "return Array.from(document.querySelectorAll('.output.traceback, .output.error'))"
        ".map(e => (e.querySelector('pre') || e).textContent.slice(-400))"
    )
    assert not stray, f"{page.docname}: error output:\n" + "\n---\n".join(stray)


def test_expected_errors_are_shown(page: Page) -> None:
    """A cell that runs code inside `expect_error` shows the traceback.

    The prose around it says it fails.
    """
    cells = page.js(
        "return Array.from(document.querySelectorAll('.cell'))"
        ".filter(c => /expect_error\\(/.test("
        "(c.querySelector('.cell_input') || {textContent: ''}).textContent))"
        ".map(c => [(c.querySelector('.cell_input pre') || c).textContent.trim().slice(0, 120),"
        " (c.querySelector('.cell_output') || {textContent: ''}).textContent])"
    )
    if not cells:
        pytest.skip(f"{page.docname} shows no expected error")
    silent = [
        source for source, output in cells if "Traceback (most recent call last)" not in output
    ]
    assert not silent, f"{page.docname}: expect_error cells that show no traceback: {silent}"


def test_no_stderr_output(page: Page) -> None:
    """No stderr block on the page (library warnings and TensorFlow start-up noise included)."""
    stderr = page.js(
        "return Array.from(document.querySelectorAll('.output.stderr'))"
        ".map(e => (e.querySelector('pre') || e).textContent.slice(0, 300))"
    )
    assert not stderr, f"{page.docname}: {len(stderr)} stderr output(s):\n" + "\n---\n".join(stderr)


def test_glued_numbers_appear(page: Page) -> None:
    """Every {glue:text} / {glue} role shows its value, formatted as myst-nb formats it."""
    refs = glue_refs(page.docname)
    if not refs:
        pytest.skip(f"{page.docname} glues nothing")
    text = page.prose()
    missing = []
    for ref in refs:
        expected = expected_glue_text(ref)
        if expected is not None and " ".join(expected.split()) not in text:
            missing.append(f"{{{ref.role}}}`{ref.content}` -> {expected!r}")
    assert not missing, f"{page.docname}: glued values not on the page:\n" + "\n".join(missing)


def test_widgets_render(page: Page) -> None:
    """Each stored widget view is drawn by the vendored widget manager (frozen, but visible)."""
    views = page.js(
        "return document.querySelectorAll("
        "'script[type=\"application/vnd.jupyter.widget-view+json\"]').length"
    )
    if not views:
        pytest.skip(f"{page.docname} has no widgets")
    rendered = page.js(
        "return Array.from(document.querySelectorAll("
        "'script[type=\"application/vnd.jupyter.widget-view+json\"]'))"
        ".filter(v => v.parentElement.querySelector('.widget-subarea .jupyter-widgets')).length"
    )
    assert rendered == views, f"{page.docname}: {rendered} of {views} widget views rendered"


def test_one_search_box(page: Page) -> None:
    """One search box, the sidebar's, and no header strip above the page holding another.

    pydata-sphinx-theme 0.17 adds a header with its own search field unless `navbar_persistent`
    is set (_config.yml sets it to nothing).
    """
    visible_search_boxes = page.js(
        "return Array.from(document.querySelectorAll("
        "'.search-button-field, .bd-search, input[type=search]'))"
        ".filter(e => e.getClientRects().length > 0)"
        ".map(e => e.closest('[id]') ? e.closest('[id]').id : e.tagName)"
    )
    assert visible_search_boxes == ["pst-primary-sidebar"], (
        f"{page.docname}: visible search boxes inside {visible_search_boxes}; expected one, "
        "in the primary sidebar"
    )
    header_height = page.js(
        "const header = document.querySelector('#pst-header');"
        "return header ? header.getBoundingClientRect().height : 0"
    )
    assert header_height == 0, f"{page.docname}: a header strip {header_height} px high"


def test_sidebar_button_hides_the_sidebar(page: Page) -> None:
    """The article header's menu button hides the sidebar and shows it again.

    With pydata-sphinx-theme's header strip drawn (see `test_one_search_box`), the theme's script
    bound the button hidden in that strip, and this one did nothing.
    """
    sidebar_shown = (
        "return getComputedStyle(document.querySelector('#pst-primary-sidebar')).visibility"
        " === 'visible'"
    )
    click = "document.querySelector('.bd-header-article .primary-toggle').click()"
    assert page.js(sidebar_shown), f"{page.docname}: the sidebar is hidden on a wide window"
    page.js(click)
    time.sleep(0.5)
    hidden = not page.js(sidebar_shown)
    page.js(click)
    time.sleep(0.5)
    shown_again = page.js(sidebar_shown)
    # The theme marks scrollable code blocks focusable for the width it last measured, which the
    # toggling may have changed: the next tests get the page as a reader opens it.
    load(page.driver, page.url)
    assert hidden and shown_again, (
        f"{page.docname}: the menu button does not hide and show the sidebar"
    )


def test_figures_have_alt_text(page: Page) -> None:
    """Every image in the page's content has alt text that says what it shows, not a file name.

    A chapter's figures take theirs from the figure itself (companion.plots.figure_alt_text, put
    on the page by book/_ext/figure_alt_text.py).
    """
    alts = page.js(
        "return Array.from(document.querySelectorAll('.bd-article img'))"
        ".map(i => [i.getAttribute('src').slice(0, 80), i.getAttribute('alt')])"
    )
    file_name = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)
    bad = [(src, alt) for src, alt in alts if not alt or not alt.strip() or file_name.search(alt)]
    assert not bad, f"{page.docname}: images without alt text saying what they show: {bad[:5]}"


# Impacts that fail the audit; axe-core's others are "moderate" and "minor".
FAILING_IMPACTS = ("serious", "critical")
THEME_SETTLE_S = 0.5

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(results => done(results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' '))}))))
  .catch(err => done([{id: 'axe-error', impact: 'critical', help: String(err), targets: []}]));
"""


def test_no_serious_accessibility_violations(page: Page) -> None:
    """axe-core finds no serious or critical accessibility violation on the page.

    axe-core (vendored, tests/_vendor/axe-core) runs its default rules (WCAG 2 A and AA and its
    best practices) in the page as a reader's browser shows it, widgets and math rendered.
    """
    page.js(AXE_JS.read_text(encoding="utf-8"))
    # The theme makes scrollable code blocks and outputs focusable 300 ms after the page last
    # changed (pydata-sphinx-theme's debounce); widgets may have drawn just before.
    time.sleep(THEME_SETTLE_S)
    violations = page.driver.execute_async_script(RUN_AXE)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    report = "\n".join(
        f"  {v['id']} ({v['impact']}, {len(v['targets'])} element(s)): {v['help']}; "
        f"e.g. {v['targets'][:3]}"
        for v in failing
    )
    assert not failing, f"{page.docname}: accessibility violations:\n{report}"


def test_nothing_loaded_from_the_network(page: Page) -> None:
    """Nothing comes from the network, and no local file is missing.

    All scripts and styles are local files, and the page requested no http(s) URL.
    """
    remote = page.js(
        "return Array.from(document.querySelectorAll('script[src], link[rel=stylesheet][href]'))"
        ".map(e => e.src || e.href).filter(u => /^https?:/i.test(u))"
    )
    assert not remote, f"{page.docname}: scripts/styles from the network: {remote}"
    fetched = sorted({url for url in page.requests.values() if re.match(r"https?:", url, re.I)})
    assert not fetched, f"{page.docname}: the page requested: {fetched}"
    missing = [f"{url} ({error})" for url, error in page.failed if url.startswith("file:")]
    assert not missing, f"{page.docname}: local files that failed to load: {missing}"


def test_internal_links_resolve(page: Page) -> None:
    """Every link to a local file points to a file that exists.

    Local links go to other pages, figures, downloads and the sources.
    """
    hrefs = page.js("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    # http(s) links (launch buttons, the repository) aside
    local = [h for h in hrefs if h.startswith("file:")]
    assert len(local) >= len(DOCNAMES), (
        f"{page.docname}: only {len(local)} local links; is the navigation there?"
    )
    broken = [h for h in local if not Path(unquote(urlsplit(h).path)).exists()]
    assert not broken, (
        f"{page.docname}: links to local files that do not exist: {sorted(set(broken))}"
    )


def test_launch_buttons(page: Page) -> None:
    """A chapter page offers Colab and Binder, each opening this chapter's reader's copy.

    Both open the copy from the repository. The copy (notebooks/NN_name.ipynb) has the chapter's
    code with its MyST prose made plain, which is what Colab and JupyterLab can show;
    book/_ext/launch_readers_copies.py points the buttons there.
    """
    if not page.is_notebook:
        pytest.skip(f"{page.docname} is not a notebook (launch buttons are on notebook pages only)")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repository = urlsplit(config["repository"]["url"]).path.strip("/")  # org/repo
    branch, source = config["repository"]["branch"], f"notebooks/{page.source.name}"
    hrefs = page.js("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    colab = f"{config['launch_buttons']['colab_url']}/github/{repository}/blob/{branch}/{source}"
    assert colab in hrefs, f"{page.docname}: no Colab button for {colab}"
    binder = [h for h in hrefs if h.startswith(config["launch_buttons"]["binderhub_url"])]
    assert binder and all(source in unquote(h) for h in binder), (
        f"{page.docname}: Binder buttons {binder}"
    )
    assert (ROOT / source).exists(), (
        f"{page.docname}: the buttons open {source}, which does not exist"
    )


def test_checks_cell_is_collapsed(page: Page) -> None:
    """A chapter's assert cell (tagged hide-input) shows its source only on request.

    The source is in a closed <details>.
    """
    if not page.is_notebook:
        pytest.skip(f"{page.docname} is not a notebook")
    states = page.js(
        "return Array.from(document.querySelectorAll('.cell.tag_hide-input'))"
        ".map(c => { const d = c.querySelector('details'); "
        "return d ? (d.open ? 'open' : 'closed') : 'none'; })"
    )
    assert states and all(state == "closed" for state in states), (
        f"{page.docname}: hide-input cells {states}"
    )


def test_exercise_hints_are_collapsed(page: Page) -> None:
    """Each exercise's hint or answer (a MyST dropdown) is a closed <details> with a title, opened
    by a click, and no ':::' of the directive is left in the text."""
    if not page.is_notebook:
        pytest.skip(f"{page.docname} is not a notebook")
    hints = page.js(
        "const section = document.querySelector('section#exercises');"
        "if (!section) { return null; }"
        "return Array.from(section.querySelectorAll('details.sd-dropdown')).map(d => "
        "[d.open, d.querySelector('summary').textContent.trim()]);"
    )
    assert hints, f"{page.docname}: no collapsed hints in the Exercises section"
    assert all(not is_open and title for is_open, title in hints), f"{page.docname}: {hints}"
    assert ":::" not in page.prose(), f"{page.docname}: a ':::' directive fence is shown as text"
    opened = page.js(
        "const d = document.querySelector('section#exercises details.sd-dropdown');"
        "d.querySelector('summary').click(); return d.open;"
    )
    assert opened, f"{page.docname}: clicking a hint's title does not open it"


def test_screenshot_of_each_chapter(page: Page) -> None:
    """A screenshot of the top of every chapter page, for a person to look at.

    The screenshots go under _build/screenshots/.
    """
    if not page.is_notebook:
        pytest.skip(f"{page.docname}: screenshots are taken of chapter pages")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{PurePosixPath(page.docname).name}.png"
    page.js("window.scrollTo(0, 0)")
    assert page.driver.save_screenshot(str(path)), (
        f"{page.docname}: the screenshot could not be written"
    )
    assert path.stat().st_size > 10_000, f"{path}: {path.stat().st_size} bytes, an empty page?"


def test_index_opens_the_intro(browser: Any) -> None:
    """_build/html/index.html, the file a reader opens, leads to the root page of _toc.yml."""
    browser.get((HTML_DIR / "index.html").as_uri())
    root = HTML_DIR / f"{DOCNAMES[0]}.html"
    deadline = time.monotonic() + 10
    while browser.current_url.split("#")[0] != root.as_uri() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert browser.current_url.split("#")[0] == root.as_uri()
