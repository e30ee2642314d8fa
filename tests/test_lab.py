"""The chapters in a live JupyterLab, driven by headless Chromium as a reader would use them.

A copy of the reader's notebooks (the folder `make lab` serves, `notebooks/` by default; set
LAB_NOTEBOOKS=book to try the sources) is served by a JupyterLab started from this venv on
127.0.0.1 with a random token, BOOK_OFFLINE=1, news and update checks off and every setting in a
temporary directory. For each chapter, in order: open it, "Run All", wait until every code cell
has run, check that no cell shows an error output and that no markdown cell shows raw MyST
markup (a role, a directive fence, a target), then move the first slider of the chapter's
Explore panel, press Run where the panel has one, and wait for the figure under the panel to
change. Screenshots go to _build/lab-screenshots/, timings and findings to
_build/lab-summary.json.

Slow (as long as executing the whole book): marked `lab` and run on its own with
`python -m pytest -m lab tests/test_lab.py`. Needs Debian's `chromium` and `chromium-driver`;
without them the tests are skipped, except when CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from browser import headless_chromium

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
# The folder of notebooks Lab serves, relative to the checkout (or absolute).
NOTEBOOK_DIR = ROOT / os.environ.get("LAB_NOTEBOOKS", "notebooks")
# The chapters come from book/, so a reader's copy that is missing fails by name.
CHAPTERS = sorted(path.name for path in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
SCREENSHOT_DIR = ROOT / "_build" / "lab-screenshots"
SUMMARY_PATH = ROOT / "_build" / "lab-summary.json"
SERVER_LOG_PATH = ROOT / "_build" / "lab-server.log"

SERVER_START_TIMEOUT_S = 90
LAB_LOAD_TIMEOUT_S = 120
# A chapter takes 20-150 s at home and up to twice that on a loaded machine (measured: chapter 2
# took 412 s in Lab on two cores shared with other jobs); raise it with LAB_CHAPTER_TIMEOUT_S.
RUN_ALL_TIMEOUT_S = float(os.environ.get("LAB_CHAPTER_TIMEOUT_S", "600"))
# Measured 1-3 s per panel on two cores (chapter 5's 4000-step DQN included); generous for a
# busy machine.
PANEL_TIMEOUT_S = 120
POLL_S = 0.25
SLIDER_KEY_PRESSES = 3
# Settings a reader could change in Lab, fixed here: every cell in the DOM, nothing fetched from
# the web.
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def wait_for(
    what: str, poll: Callable[[], Any], timeout_s: float, on_timeout: Callable[[], str] = str
) -> Any:
    """Call `poll` every POLL_S seconds until it returns something truthy.

    Fail after `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        result = poll()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out after {timeout_s:.0f} s waiting for {what}. {on_timeout()}",
                pytrace=False,
            )
        time.sleep(POLL_S)


# ---------------------------------------------------------------- the summary


@dataclass
class Summary:
    """What each chapter did in Lab; rewritten to SUMMARY_PATH after every change."""

    notebook_dir: str
    started: float = field(default_factory=time.monotonic)
    chapters: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, chapter: str, **values: Any) -> None:
        self.chapters.setdefault(chapter, {}).update(values)
        SUMMARY_PATH.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "notebook_dir": self.notebook_dir,
            "total_seconds": round(time.monotonic() - self.started, 1),
            "chapters": self.chapters,
        }
        SUMMARY_PATH.write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


@pytest.fixture(scope="session")
def summary() -> Summary:
    return Summary(notebook_dir=str(NOTEBOOK_DIR))


# ---------------------------------------------------------------- the JupyterLab server


@dataclass
class LabServer:
    url: str
    token: str
    root_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, num_lines: int = 40) -> str:
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-num_lines:])

    def api(self, path: str, method: str = "GET") -> Any:
        """Call the server's REST API with the token.

        Return the parsed JSON reply (None for an empty one).
        """
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None


def die_with_parent() -> None:
    """Run in the server's process before exec.

    On Linux the server then gets SIGTERM (and stops its kernels) if pytest is killed.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        # prctl(PR_SET_PDEATHSIG, SIGTERM)
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def reader_copies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary copy of the notebook folder.

    Lab's autosave must never write into the checkout.
    """
    notebooks = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")) if NOTEBOOK_DIR.is_dir() else []
    if not notebooks:
        pytest.fail(
            f"no chapter notebooks (NN_name.ipynb) in {NOTEBOOK_DIR}: "
            "generate the reader's copies first "
            "(or point LAB_NOTEBOOKS at another folder, e.g. LAB_NOTEBOOKS=book)",
            pytrace=False,
        )
    copy = tmp_path_factory.mktemp("lab") / "notebooks"
    shutil.copytree(
        NOTEBOOK_DIR,
        copy,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "_build"),
    )
    return copy


@pytest.fixture(scope="session")
def lab_server(
    reader_copies: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """JupyterLab from this venv on 127.0.0.1; stopped at the end.

    Every directory it writes in is a temporary one.
    """
    jupyter_lab = Path(sys.executable).parent / "jupyter-lab"
    if not jupyter_lab.exists():
        pytest.fail(
            f"jupyter-lab not found next to {sys.executable}; run `make setup`", pytrace=False
        )
    home = tmp_path_factory.mktemp("lab-home")
    settings_dir = home / "user-settings"
    for relative, values in USER_SETTINGS.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    env = {
        **os.environ,
        "BOOK_OFFLINE": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # No personal Jupyter or IPython configuration, and runtime files in the temporary home.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    # A reader's kernel uses the inline backend; an inherited MPLBACKEND=Agg would hide every
    # figure.
    env.pop("MPLBACKEND", None)
    port, token = free_port(), secrets.token_hex(24)
    command = [
        str(jupyter_lab),
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={reader_copies}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=reader_copies,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, reader_copies, process, log_path)

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(
                f"jupyter-lab exited {process.returncode} at start:\n{server.log_tail()}",
                pytrace=False,
            )
        try:
            server.api("/api/status")
        except (urllib.error.URLError, ConnectionError):
            return False
        return True

    try:
        wait_for("JupyterLab to answer /api/status", ready, SERVER_START_TIMEOUT_S, server.log_tail)
        yield server
    finally:
        stop_server(server)
        SERVER_LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, SERVER_LOG_PATH)


def stop_server(server: LabServer) -> None:
    """Ask the server to shut down (it stops its kernels).

    Then terminate its process group if it lingers.
    """
    try:
        server.api("/api/shutdown", method="POST")
    except (urllib.error.URLError, ConnectionError):
        pass
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium with the rendered-book test's flags and a fresh profile."""
    with headless_chromium("lab-chromium-", LAB_LOAD_TIMEOUT_S) as driver:
        yield driver


@pytest.fixture(scope="session")
def lab(browser: Any, lab_server: LabServer) -> Any:
    """The browser with JupyterLab loaded and restored (a fresh workspace: nothing open)."""
    # Keep every resource-timing entry, so the loopback test sees all requests of the session.
    browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "performance.setResourceTimingBufferSize(1000000);"},
    )
    browser.get(f"{lab_server.url}/lab?reset&token={lab_server.token}")
    status = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const deadline = Date.now() + arguments[0] * 1000;
        (function poll() {
          if (window.jupyterapp) {
            window.jupyterapp.restored.then(() => done('ok'), e => done('error: ' + e));
          } else if (Date.now() > deadline) {
            done('window.jupyterapp never appeared (expose_app_in_browser?)');
          } else { setTimeout(poll, 100); }
        })();
        """,
        LAB_LOAD_TIMEOUT_S - 5,
    )
    assert status == "ok", f"JupyterLab did not load: {status}\n{lab_server.log_tail()}"
    # More room for the notebook in the screenshots: the file browser folded away.
    browser.execute_script("window.jupyterapp.shell.collapseLeft()")
    return browser


# ---------------------------------------------------------------- one chapter, opened and run


@dataclass
class ChapterRun:
    """A chapter after "Run All": how long it took and what went wrong, if anything."""

    name: str
    seconds: float
    timed_out: bool
    code_cells: int
    unfinished: list[str]
    errors: list[str]
    kernel_status: str

    @property
    def ok(self) -> bool:
        return not self.timed_out and not self.unfinished and not self.errors


OPEN_NOTEBOOK = """
const [path, done] = [arguments[0], arguments[arguments.length - 1]];
const app = window.jupyterapp;
app.commands.execute('docmanager:open', {path: path, factory: 'Notebook'})
  .then(w => {
    window.__bookNotebook = w;
    return w.context.ready.then(() => w.sessionContext.ready).then(() => w);
  })
  .then(w => { app.shell.activateById(w.id); done(w.content.notebookConfig.windowingMode); })
  .catch(e => done('error: ' + e));
"""

# The state of the open notebook: the kernel, code cells not yet run, and error outputs (from the
# model: in the DOM an error and a stderr stream look alike, both application/vnd.jupyter.stderr).
NOTEBOOK_STATE = """
const w = window.__bookNotebook;
const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
const code = w.content.widgets.map((c, i) => [c, i]).filter(([c]) => c.model.type === 'code');
const errors = [];
for (const [cell, index] of code) {
  const outputs = cell.model.outputs;
  for (let k = 0; k < outputs.length; k++) {
    const output = outputs.get(k).toJSON();
    if (output.output_type === 'error') {
      const traceback = (output.traceback || []).join('\\n').replace(/\\x1b\\[[0-9;]*m/g, '');
      errors.push(`cell ${index}: ${output.ename}: ${output.evalue}\\n${traceback.slice(-1500)}`);
    }
  }
}
const unfinished = code.filter(([c]) => c.model.executionCount == null)
  .map(([c, i]) => `cell ${i}: ${c.model.sharedModel.getSource().split('\\n')[0].slice(0, 100)}`);
return {kernel: kernel ? kernel.status : 'none', codeCells: code.length,
        unfinished: unfinished, errors: errors};
"""

SHUT_DOWN_NOTEBOOK = """
const done = arguments[arguments.length - 1];
const w = window.__bookNotebook;
if (!w) { done('none'); return; }
w.sessionContext.shutdown().catch(() => null).then(() => {
  w.dispose(); window.__bookNotebook = null; done('ok');
});
"""


def notebook_state(driver: Any) -> dict[str, Any]:
    return driver.execute_script(NOTEBOOK_STATE)


def run_all(driver: Any, name: str) -> ChapterRun:
    """Clear the outputs, Run All, and wait until every code cell ran.

    Or until an error stopped the run.
    """
    driver.execute_script(
        "return window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')"
    )
    started = time.monotonic()
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    stopped_since: float | None = None

    def finished() -> dict[str, Any] | None:
        nonlocal stopped_since
        state = notebook_state(driver)
        # A kernel that died (out of memory, say) never finishes the run.
        if state["kernel"] in ("dead", "restarting", "autorestarting"):
            return state
        if state["kernel"] == "idle" and not state["unfinished"]:
            return state
        # An error aborts the rest of the run: the kernel goes idle with cells left unrun.
        if state["kernel"] == "idle" and state["errors"]:
            stopped_since = stopped_since or time.monotonic()
            return state if time.monotonic() - stopped_since > 3 else None
        stopped_since = None
        return None

    deadline = started + RUN_ALL_TIMEOUT_S
    while (state := finished()) is None and time.monotonic() < deadline:
        time.sleep(POLL_S)
    timed_out = state is None
    if state is None:
        state = notebook_state(driver)
    return ChapterRun(
        name=name,
        seconds=round(time.monotonic() - started, 1),
        timed_out=timed_out,
        code_cells=state["codeCells"],
        unfinished=state["unfinished"],
        errors=state["errors"],
        kernel_status=state["kernel"],
    )


@pytest.fixture(scope="module", params=CHAPTERS)
def chapter(
    request: pytest.FixtureRequest, summary: Summary, lab: Any, lab_server: LabServer
) -> Iterator[ChapterRun]:
    """One chapter opened in Lab and run from a clean state; its kernel is shut down afterwards."""
    name = request.param
    if not (lab_server.root_dir / name).exists():
        pytest.fail(
            f"{NOTEBOOK_DIR / name} is missing: the reader's copies lack this chapter",
            pytrace=False,
        )
    mode = lab.execute_async_script(OPEN_NOTEBOOK, name)
    assert mode == "none", (
        f"{name}: could not open it, or cells are virtualised (windowingMode {mode!r})"
    )
    try:
        wait_for(
            f"{name}'s kernel to start",
            lambda: notebook_state(lab)["kernel"] == "idle",
            LAB_LOAD_TIMEOUT_S,
        )
        run = run_all(lab, name)
        summary.record(
            name,
            run_all_seconds=run.seconds,
            run_all_timed_out=run.timed_out,
            code_cells=run.code_cells,
            errors=run.errors,
            unfinished=run.unfinished,
        )
        yield run
    finally:
        # Also after a failure or a timeout: a kernel left running would slow down the next
        # chapters.
        lab.set_script_timeout(60)
        lab.execute_async_script(SHUT_DOWN_NOTEBOOK)
        lab.set_script_timeout(LAB_LOAD_TIMEOUT_S)


# ---------------------------------------------------------------- each chapter


def test_run_all_without_error(chapter: ChapterRun) -> None:
    """Run All reaches the last cell with no error output.

    The articles' broken code prints its traceback rather than raising.
    """
    assert not chapter.timed_out, (
        f"{chapter.name}: Run All did not finish within {RUN_ALL_TIMEOUT_S:.0f} s "
        f"(LAB_CHAPTER_TIMEOUT_S); kernel {chapter.kernel_status}, "
        f"first cell not yet run: {(chapter.unfinished or ['none'])[0]}"
    )
    assert not chapter.errors, f"{chapter.name}: error output(s) in Lab:\n" + "\n---\n".join(
        chapter.errors
    )
    assert chapter.kernel_status == "idle", (
        f"{chapter.name}: the kernel ended {chapter.kernel_status!r}"
    )
    assert not chapter.unfinished, f"{chapter.name}: cells that never ran: {chapter.unfinished[:5]}"


# What plain JupyterLab shows where MyST markup was not resolved into Markdown. Math is dropped
# first (MathJax's braces are not markup).
RAW_MYST = r"""
const w = window.__bookNotebook;
const findings = [];
const markdown = w.content.widgets.map((c, i) => [c, i])
  .filter(([c]) => c.model.type === 'markdown');
const unrendered = markdown.filter(([c]) => !c.node.querySelector('.jp-RenderedMarkdown')).length;
if (unrendered) { return {pending: unrendered}; }
const literal = ['{glue', '{cite', '{doc}', '{ref}', '{numref}', '{eq}', '{term}', '{bibliography}',
                 '```{', ':::{', '<details', '</summary>'];
for (const [cell, index] of markdown) {
  const root = cell.node.querySelector('.jp-RenderedMarkdown').cloneNode(true);
  root.querySelectorAll('mjx-container, script, style').forEach(e => e.remove());
  const before = findings.length;
  const add = what => findings.push(
    `cell ${index}: ${what.replace(/\s+/g, ' ').trim().slice(0, 120)}`);
  // A role: {name} right before inline code, e.g. {glue:text}`x:.3f` renders as
  // "{glue:text}<code>x:.3f</code>".
  root.querySelectorAll('code').forEach(code => {
    const prev = code.previousSibling;
    if (prev && prev.nodeType === Node.TEXT_NODE
        && /\{[A-Za-z][\w:+.-]*\}$/.test(prev.textContent)) {
      add(prev.textContent.slice(-30) + '`' + code.textContent + '`');
    }
  });
  // A directive fence ```{name} becomes a code block whose language is {name}.
  root.querySelectorAll('pre > code[class*="language-{"]').forEach(code => {
    add('```' + code.className.replace(/^.*language-/, '') + ' ' + code.textContent);
    code.parentElement.remove();
  });
  const text = root.textContent;
  // A target "(label)=" and a directive option ":filter: ..." on a line of their own.
  for (const line of text.split('\n')) {
    if (/^\s*\([\w.:\/-]+\)=\s*$/.test(line) || /^\s*:[a-z][\w-]*:(\s|$)/.test(line)) { add(line); }
  }
  // Anything else that names MyST markup, unless a finding above already shows it.
  for (const needle of literal) {
    const at = text.indexOf(needle);
    if (at >= 0 && !findings.slice(before).some(f => f.includes(needle))) {
      add(text.slice(Math.max(0, at - 30), at + 60));
    }
  }
}
return {pending: 0, findings: [...new Set(findings)]};
"""


def test_no_raw_myst_markup(chapter: ChapterRun, lab: Any, summary: Summary) -> None:
    """Prose reads right in plain JupyterLab: numbers and citations, never MyST markup.

    No MyST role, directive or target is left showing.
    """
    result = wait_for(
        f"{chapter.name}'s markdown cells to render",
        lambda: (lambda r: r if not r["pending"] else None)(lab.execute_script(RAW_MYST)),
        60,
    )
    findings = result["findings"]
    summary.record(chapter.name, raw_myst=findings)
    if findings:
        listed = "\n".join(findings[:40])
        pytest.fail(
            f"{chapter.name}: {len(findings)} raw MyST markup finding(s) in Lab:\n{listed}",
            pytrace=False,
        )


HINTS = r"""
const w = window.__bookNotebook;
return w.content.widgets.filter(c => c.model.type === 'markdown')
  .flatMap(c => Array.from(c.node.querySelectorAll('.jp-RenderedMarkdown details')))
  .map(d => [d.open, (d.querySelector('summary') || {textContent: ''}).textContent.trim()]);
"""


def test_exercise_hints_are_collapsed(chapter: ChapterRun, lab: Any) -> None:
    """The exercises' hints (<details> in the readers' copies) survive JupyterLab's HTML sanitiser
    and render closed, each with its title."""
    hints = lab.execute_script(HINTS)
    assert hints, f"{chapter.name}: no <details> hint rendered in Lab"
    assert all(not is_open and title for is_open, title in hints), f"{chapter.name}: {hints}"


# ---------------------------------------------------------------- the Explore panel

# The cell whose source calls explore( and shows a widget box: its panel, first slider, Run
# button, status label (the box's own Label) and the figure output below the box.
FIND_PANEL = """
const w = window.__bookNotebook;
const cells = w.content.widgets.filter(c => c.model.type === 'code'
  && /\\bexplore\\(/.test(c.model.sharedModel.getSource())
  && c.node.querySelector('.jp-OutputArea .widget-vbox'));
if (cells.length !== 1) { return {error: `${cells.length} cells with an explore( panel`}; }
const cell = cells[0];
const box = cell.node.querySelector('.jp-OutputArea .widget-vbox');
const slider = box.querySelector('.widget-slider');
const images = Array.from(cell.node.querySelectorAll('.jp-OutputArea-output img'))
  .filter(i => !box.contains(i));
window.__bookPanel = {cell: cell, box: box};
return {
  error: null,
  handle: slider ? slider.querySelector('.noUi-handle') : null,
  name: slider ? slider.querySelector('.widget-label').textContent : null,
  runButton: Array.from(box.querySelectorAll('button'))
    .find(b => b.textContent.trim() === 'Run') || null,
  figures: images.length,
};
"""

# The panel's slider value, status line and figure (its src compared in the page: it is large).
PANEL_STATE = """
const panel = window.__bookPanel;
const readout = panel.box.querySelector('.widget-slider .widget-readout');
const status = Array.from(panel.box.children)
  .filter(e => e.classList.contains('widget-label')).pop();
const image = Array.from(panel.cell.node.querySelectorAll('.jp-OutputArea-output img'))
  .find(i => !panel.box.contains(i));
const src = image ? image.src : '';
if (arguments[0]) { panel.before = src; }
return {value: readout ? readout.textContent.trim() : null,
        status: status ? status.textContent : null,
        figureChanged: !!src && src !== panel.before};
"""


def panel_state(driver: Any, remember_figure: bool = False) -> dict[str, Any]:
    return driver.execute_script(PANEL_STATE, remember_figure)


def test_explore_panel_redraws(chapter: ChapterRun, lab: Any, summary: Summary) -> None:
    """Moving the Explore panel's first slider (and pressing Run) redraws its figure.

    The panel re-runs the chapter's function to draw it.
    """
    from selenium.webdriver.common.keys import Keys

    if not chapter.ok:
        pytest.fail(
            f"{chapter.name}: Run All did not finish cleanly, so the panel is not live "
            "(see the run-all test)"
        )
    panel = lab.execute_script(FIND_PANEL)
    assert panel["error"] is None, (
        f"{chapter.name}: expected one Explore panel, found {panel['error']}"
    )
    assert panel["handle"] is not None, f"{chapter.name}: the Explore panel has no slider"
    assert panel["figures"] == 1, (
        f"{chapter.name}: {panel['figures']} figures under the panel after Run All, expected 1"
    )
    before = panel_state(lab, remember_figure=True)
    assert before["status"] == "", (
        f"{chapter.name}: the panel's status after Run All is {before['status']!r}"
    )

    started = time.monotonic()
    lab.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", panel["handle"]
    )
    for _ in range(SLIDER_KEY_PRESSES):
        panel["handle"].send_keys(Keys.ARROW_RIGHT)
    moved = wait_for(
        f"{chapter.name}'s slider {panel['name']!r} to move",
        lambda: (lambda s: s if s["value"] != before["value"] else None)(panel_state(lab)),
        10,
    )
    if panel["runButton"] is not None:
        panel["runButton"].click()

    def redrawn() -> dict[str, Any] | None:
        state = panel_state(lab)
        if state["status"].startswith("error"):
            return state
        idle = notebook_state(lab)["kernel"] == "idle"
        return state if state["figureChanged"] and state["status"] != "running…" and idle else None

    def stuck() -> str:
        return f"Status {panel_state(lab)['status']!r}, kernel {notebook_state(lab)['kernel']}."

    after = wait_for(
        f"{chapter.name}'s panel to redraw its figure", redrawn, PANEL_TIMEOUT_S, stuck
    )
    seconds = round(time.monotonic() - started, 1)
    summary.record(
        chapter.name,
        slider={"name": panel["name"], "old": before["value"], "new": moved["value"]},
        figure_changed=after["figureChanged"],
        panel_seconds=seconds,
        panel_status=after["status"],
    )

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOT_DIR / f"{Path(chapter.name).stem}.png"
    lab.execute_script("window.__bookPanel.box.scrollIntoView({block: 'start'})")
    lab.save_screenshot(str(screenshot))
    summary.record(chapter.name, screenshot=str(screenshot.relative_to(ROOT)))

    assert not after["status"].startswith("error"), (
        f"{chapter.name}: the panel reports {after['status']!r}"
    )
    errors = notebook_state(lab)["errors"]
    assert not errors, f"{chapter.name}: error output after moving the slider:\n" + "\n---\n".join(
        errors
    )
    assert after["figureChanged"], f"{chapter.name}: the figure under the panel did not change"


def test_browser_stayed_on_loopback(chapter: ChapterRun, lab: Any, lab_server: LabServer) -> None:
    """Everything the page requested so far came from the local server (or data:/blob: URLs)."""
    urls = lab.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    foreign = sorted(
        {u for u in urls if not u.startswith((lab_server.url + "/", "data:", "blob:"))}
    )
    assert not foreign, f"{chapter.name}: the browser requested {foreign[:10]}"
