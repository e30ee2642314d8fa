"""Unit tests of `companion.widgets`: control declarations, `coerce`, and the `explore` panel."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from companion.widgets import (  # noqa: E402
    ChoiceControl,
    Explorer,
    FloatControl,
    Frame,
    IntControl,
    explore,
    explore_frames,
    frame,
)


@pytest.fixture(autouse=True)
def _quiet_and_closed(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Outside IPython, `display` prints reprs: capture them; close any figure a test left open."""
    yield
    plt.close("all")


class Recorder:
    """An explored function that records every call and draws a small figure."""

    def __init__(self, fail_above: float | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_above = fail_above

    def __call__(self, **values: Any) -> Figure:
        self.calls.append(values)
        if self.fail_above is not None and values["alpha"] > self.fail_above:
            raise ValueError(f"alpha={values['alpha']} diverges")
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, values["alpha"]])
        return fig


def _panel(recorder: Recorder, **options: Any) -> Explorer:
    return explore(
        recorder,
        alpha=FloatControl(0.1, 0.0, 1.0),
        num_steps=IntControl(20, 1, 100),
        optimizer=ChoiceControl(("sgd", "momentum", "adam")),
        **options,
    )


# ---------------------------------------------------------------- declarations


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FloatControl(0.5, 1.0, 1.0), r"low < high"),
        (lambda: FloatControl(0.5, 1.0, 0.0), r"low < high"),
        (
            lambda: FloatControl(2.0, 0.0, 1.0),
            r"^default must be a finite number in \[0, 1\], got 2.0",
        ),
        (lambda: FloatControl(-0.1, 0.0, 1.0), r"^default must be a finite number in \[0, 1\]"),
        (lambda: FloatControl(float("nan"), 0.0, 1.0), r"^default must be a .*, got nan"),
        (lambda: FloatControl(0.5, 0.0, float("inf")), r"^high must be a finite number, got inf"),
        (
            lambda: FloatControl(0.5, 0.0, 1.0, log=True),
            r"log-scale control needs low > 0, got low=0.0",
        ),
        (lambda: FloatControl(0.5, -1.0, 1.0, log=True), r"log-scale control needs low > 0"),
        (lambda: IntControl(5, 10, 10), r"low < high"),
        (lambda: IntControl(11, 0, 10), r"^default must be an integer in \[0, 10\], got 11"),
        (lambda: IntControl(5, 0, 10, step=0), r"^step must be an integer in \[1, 10\], got 0"),
        (lambda: IntControl(5, 0, 10, step=11), r"^step must be an integer in \[1, 10\], got 11"),
        (lambda: ChoiceControl(()), r"at least one option"),
        (
            lambda: ChoiceControl(("sgd", "adam"), default="rmsprop"),
            r"^default must be one of 'sgd', 'adam', got 'rmsprop'",
        ),
    ],
)
def test_bad_declarations_are_value_errors(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FloatControl("0.5", 0.0, 1.0), r"^default must be a finite number .*'0.5'"),
        (lambda: FloatControl(0.5, None, 1.0), r"^low must be a finite number, got NoneType"),
        (lambda: FloatControl(True, 0, 1), r"^default must be a finite number .*True"),
        (lambda: IntControl(1.5, 0, 3), r"^default must be an integer .*1.5"),
        (lambda: IntControl(1, 0, 3.0), r"^high must be an integer, got float 3.0"),
        (lambda: IntControl(1, 0, 3, step=1.0), r"^step must be an integer in \[1, 3\], got float"),
        (lambda: ChoiceControl(("sgd", "adam"), default=1), r"^default must be one of"),
        (
            lambda: ChoiceControl("adam"),
            r"options must be a sequence of strings, not a single string",
        ),
    ],
)
def test_declarations_of_the_wrong_type_are_type_errors(make: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        make()


def test_choice_default_is_the_first_option() -> None:
    assert ChoiceControl(("sgd", "adam")).default == "sgd"
    assert ChoiceControl(("sgd", "adam"), default="adam").default == "adam"


def test_range_ends_are_valid_defaults() -> None:
    assert FloatControl(0.0, 0.0, 1.0).default == 0.0
    assert IntControl(10, 0, 10).default == 10
    assert FloatControl(1e-3, 1e-3, 1.0, log=True).low == 1e-3


# ---------------------------------------------------------------- coerce


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, 0.5), (-3.0, 0.0), (7, 1.0), (1e300, 1.0), (np.float32(0.25), 0.25), (1, 1.0)],
)
def test_float_coerce_clamps_to_the_range(value: Any, expected: float) -> None:
    result = FloatControl(0.5, 0.0, 1.0).coerce("alpha", value)
    assert result == expected and type(result) is float


@pytest.mark.parametrize(("value", "expected"), [(5, 5), (-2, 1), (1000, 100), (np.int64(42), 42)])
def test_int_coerce_clamps_to_the_range(value: Any, expected: int) -> None:
    result = IntControl(20, 1, 100).coerce("num_steps", value)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value", ["0.5", None, True, [0.5], 1 + 2j])
def test_float_coerce_rejects_non_numbers_naming_the_control(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^alpha must be a finite number, got"):
        FloatControl(0.5, 0.0, 1.0).coerce("alpha", value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_float_coerce_rejects_nan_and_inf_naming_the_control(value: float) -> None:
    with pytest.raises(ValueError, match=r"^alpha must be a finite number, got"):
        FloatControl(0.5, 0.0, 1.0).coerce("alpha", value)


@pytest.mark.parametrize("value", [2.0, 2.5, "3", None, False, np.float64(3.0)])
def test_int_coerce_rejects_non_integers_naming_the_control(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^num_steps must be an integer, got"):
        IntControl(20, 1, 100).coerce("num_steps", value)


def test_choice_coerce_accepts_options_only() -> None:
    control = ChoiceControl(("sgd", "adam"))
    assert control.coerce("optimizer", "adam") == "adam"
    with pytest.raises(ValueError, match=r"^optimizer must be one of 'sgd', 'adam', got 'rmsprop'"):
        control.coerce("optimizer", "rmsprop")
    with pytest.raises(TypeError, match=r"^optimizer must be one of"):
        control.coerce("optimizer", 1)


def test_each_control_makes_its_widget() -> None:
    float_widget = FloatControl(0.3, 0.0, 1.0, description="step size").widget("alpha")
    assert isinstance(float_widget, widgets.FloatSlider)
    assert (float_widget.value, float_widget.min, float_widget.max) == (0.3, 0.0, 1.0)
    assert float_widget.description == "step size"
    log_widget = FloatControl(0.01, 1e-4, 1.0, log=True).widget("lr")
    assert isinstance(log_widget, widgets.FloatLogSlider)
    assert np.isclose(log_widget.value, 0.01) and (log_widget.min, log_widget.max) == (-4.0, 0.0)
    assert log_widget.description == "lr"
    int_widget = IntControl(20, 1, 100, step=5).widget("num_steps")
    assert isinstance(int_widget, widgets.IntSlider)
    assert (int_widget.value, int_widget.min, int_widget.max, int_widget.step) == (20, 1, 100, 5)
    choice_widget = ChoiceControl(("sgd", "adam"), default="adam").widget("optimizer")
    assert isinstance(choice_widget, widgets.Dropdown)
    assert choice_widget.value == "adam" and list(choice_widget.options) == ["sgd", "adam"]


# ---------------------------------------------------------------- explore


def test_explore_runs_fn_once_at_once_with_the_defaults() -> None:
    recorder = Recorder()
    explorer = _panel(recorder)
    assert recorder.calls == [{"alpha": 0.1, "num_steps": 20, "optimizer": "sgd"}]
    assert explorer.num_runs == 1
    assert explorer.status.value == ""
    assert plt.get_fignums() == []  # the figure is shown through the display handle, then closed


def test_explore_with_a_run_button_also_runs_once_at_once() -> None:
    recorder = Recorder()
    explorer = _panel(recorder, run_button=True)
    assert len(recorder.calls) == 1
    assert isinstance(explorer.button, widgets.Button)
    assert explorer.button in explorer.box.children


def test_explore_rejects_a_non_callable() -> None:
    with pytest.raises(TypeError, match=r"fn must be callable, got int"):
        explore(3, alpha=FloatControl(0.1, 0.0, 1.0))  # type: ignore[arg-type]


def test_explore_rejects_an_argument_that_is_not_a_control() -> None:
    recorder = Recorder()
    with pytest.raises(
        TypeError, match=r"'alpha' must be a FloatControl, IntControl or ChoiceControl, got float"
    ):
        explore(recorder, alpha=0.1)  # type: ignore[arg-type]
    assert recorder.calls == []


def test_explore_needs_at_least_one_control() -> None:
    with pytest.raises(ValueError, match=r"explore needs at least one control"):
        explore(Recorder())


@pytest.mark.parametrize("result", [None, "figure", 1.0])
def test_explore_rejects_a_function_that_returns_no_figure(result: Any) -> None:
    with pytest.raises(TypeError, match=r"must return a matplotlib Figure, got"):
        explore(lambda alpha: result, alpha=FloatControl(0.1, 0.0, 1.0))


def test_run_clamps_overrides_to_the_declared_range() -> None:
    recorder = Recorder()
    explorer = _panel(recorder)
    figure = explorer.run(alpha=5.0, num_steps=-3)
    assert isinstance(figure, Figure)
    assert recorder.calls[-1] == {"alpha": 1.0, "num_steps": 1, "optimizer": "sgd"}
    explorer.run(optimizer="adam")  # the other values stay where the last run left them
    assert recorder.calls[-1] == {"alpha": 1.0, "num_steps": 1, "optimizer": "adam"}
    assert explorer.num_runs == 3


def test_run_rejects_an_unknown_control_name() -> None:
    recorder = Recorder()
    explorer = _panel(recorder)
    with pytest.raises(TypeError, match=r"unknown control\(s\) \['beta'\]"):
        explorer.run(beta=0.5)
    assert len(recorder.calls) == 1


def test_run_rejects_a_value_of_the_wrong_type() -> None:
    explorer = _panel(Recorder())
    with pytest.raises(TypeError, match=r"^num_steps must be an integer"):
        explorer.run(num_steps=2.5)


def test_changing_a_widget_reruns_fn_with_the_new_value() -> None:
    recorder = Recorder()
    explorer = _panel(recorder)
    explorer.widgets["alpha"].value = 0.3
    assert recorder.calls[-1] == {"alpha": 0.3, "num_steps": 20, "optimizer": "sgd"}
    explorer.widgets["optimizer"].value = "adam"
    explorer.widgets["num_steps"].value = 50
    assert recorder.calls[-1] == {"alpha": 0.3, "num_steps": 50, "optimizer": "adam"}
    assert len(recorder.calls) == explorer.num_runs == 4


def test_with_a_run_button_changes_wait_for_the_click() -> None:
    recorder = Recorder()
    explorer = _panel(recorder, run_button=True)
    explorer.widgets["alpha"].value = 0.7
    explorer.widgets["num_steps"].value = 30
    assert len(recorder.calls) == 1
    explorer.button.click()
    assert recorder.calls[-1] == {"alpha": 0.7, "num_steps": 30, "optimizer": "sgd"}
    assert len(recorder.calls) == 2


def test_an_error_in_fn_during_a_widget_run_is_shown_in_the_status() -> None:
    recorder = Recorder(fail_above=0.5)
    explorer = _panel(recorder)
    explorer.widgets["alpha"].value = 0.9  # must not raise: a widget callback has nowhere to report
    assert explorer.status.value.startswith("error:")
    assert "alpha=0.9 diverges" in explorer.status.value
    assert explorer.num_runs == 1
    explorer.widgets["alpha"].value = 0.2  # a good value clears the error
    assert explorer.status.value == ""
    assert explorer.num_runs == 2


def test_an_error_in_fn_called_directly_propagates() -> None:
    explorer = _panel(Recorder(fail_above=0.5))
    with pytest.raises(ValueError, match=r"diverges"):
        explorer.run(alpha=0.9)


def test_run_moves_the_widgets_to_the_values_used_without_running_twice() -> None:
    recorder = Recorder()
    explorer = _panel(recorder)
    explorer.run(alpha=5.0, optimizer="adam")
    assert explorer.widgets["alpha"].value == 1.0  # clamped, and shown as such
    assert explorer.widgets["optimizer"].value == "adam"
    assert len(recorder.calls) == 2  # moving the widgets did not trigger another run
    explorer.widgets["num_steps"].value = 7  # a later slider move keeps the override
    assert recorder.calls[-1] == {"alpha": 1.0, "num_steps": 7, "optimizer": "adam"}


# ---------------------------------------------------------------- precomputed frames


def _figure(value: float) -> Figure:
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, value])
    ax.set(xlabel="step", ylabel="loss")
    return fig


def _frames(values: list[Any]) -> dict[Any, Frame]:
    return {
        v: frame(_figure(float(np.sum(v))), f"value {v}", f"a line rising to {v}") for v in values
    }


def test_frame_renders_a_png_and_closes_the_figure() -> None:
    fig = _figure(1.0)
    result = frame(fig, "α = 1: loss 0.5", "a rising line")
    assert result.png.startswith(b"\x89PNG")
    assert not plt.fignum_exists(fig.number)
    # Without an alt text, the figure's own description, then the caption.
    assert frame(_figure(1.0), "caption only").alt == "loss against step. caption only"
    html = result.html("1")
    assert 'alt="a rising line"' in html and "<figcaption>α = 1: loss 0.5</figcaption>" in html
    assert 'data-value="1"' in html and "data:image/png;base64," in html


def test_frame_html_escapes_text() -> None:
    html = frame(_figure(1.0), 'a < b & "c"', "x > y").html("<1>")
    assert "a &lt; b &amp; &quot;c&quot;" in html and 'alt="x &gt; y"' in html
    assert 'data-value="&lt;1&gt;"' in html


def test_one_slider_is_linked_to_a_stack_in_the_browser() -> None:
    values = [0.1, 0.2, 0.5, 1.0, 2.0]
    explorer = explore_frames(_frames(values), label="ε", default=0.5)
    (slider,) = explorer.sliders
    assert slider.description == "ε" and [label for label, _ in slider.options] == [
        str(v) for v in values
    ]
    assert slider.index == 2
    stack = explorer.box.children[-1]
    assert isinstance(stack, widgets.Stack) and stack.selected_index == 2
    # The front end keeps the two in step: a jslink from the slider's index to the stack's.
    (link,) = explorer.links
    assert link.source == (slider, "index") and link.target == (stack, "selected_index")
    for i, value in enumerate(values):
        assert f'data-value="{value}"' in stack.children[i].value
        assert f"value {value}" in stack.children[i].value


def test_two_sliders_select_a_cell_of_the_grid() -> None:
    keys = [(a, b) for a in (1, 2, 3, 4, 5) for b in ("raw", "scaled")]
    explorer = explore_frames(
        _frames_named(keys),
        label=("α", "features"),
        default=(3, "scaled"),
        format_value=str,
    )
    first, second = explorer.sliders
    assert (first.index, second.index) == (2, 1)
    outer = explorer.box.children[-1]
    assert [type(row) for row in outer.children] == [widgets.Stack] * 5
    links = {(link.source[0].description, id(link.target[0])) for link in explorer.links}
    assert ("α", id(outer)) in links
    assert all(("features", id(row)) in links for row in outer.children)
    explorer.select((5, "raw"))
    assert (first.index, second.index) == (4, 0)
    assert "value 5-raw" in outer.children[4].children[0].value


def _frames_named(keys: list[tuple[Any, Any]]) -> dict[Any, Frame]:
    return {k: frame(_figure(1.0), f"value {k[0]}-{k[1]}") for k in keys}


def test_without_stack_the_kernel_swaps_the_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    """ipywidgets 7 (Colab's) has no Stack: one HTML view, updated by a kernel callback."""
    monkeypatch.delattr(widgets, "Stack")
    explorer = explore_frames(_frames([1, 2, 3]), label="n")
    view = explorer.box.children[-1]
    assert isinstance(view, widgets.HTML) and not explorer.links
    assert "value 1" in view.value
    explorer.sliders[0].index = 2
    assert "value 3" in view.value and 'data-value="3"' in view.value


def test_without_stack_two_sliders_follow_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(widgets, "Stack")
    keys = [(a, b) for a in (1, 2) for b in ("x", "y")]
    explorer = explore_frames(_frames_named(keys), label=("a", "b"))
    explorer.select((2, "y"))
    assert "value 2-y" in explorer.box.children[-1].value


@pytest.mark.parametrize(
    ("frames", "options", "error", "match"),
    [
        ({}, {"label": "ε"}, ValueError, "empty"),
        ({1: "not a frame", 2: "x"}, {"label": "ε"}, TypeError, r"frames\[1\] must be a Frame"),
        ([1, 2], {"label": "ε"}, TypeError, "frames must be a mapping"),
        ("one", {"label": "ε"}, TypeError, "frames must be a mapping"),
    ],
)
def test_explore_frames_refuses_bad_frames(
    frames: Any, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        explore_frames(frames, **options)


def test_explore_frames_refuses_an_incomplete_grid() -> None:
    keys = [(1, "x"), (1, "y"), (2, "x")]
    with pytest.raises(ValueError, match=r"fill the grid .*2 x 2 = 4.*got 3.*\(2, 'y'\)"):
        explore_frames(_frames_named(keys), label=("a", "b"))


def test_explore_frames_refuses_keys_that_are_not_pairs() -> None:
    with pytest.raises(ValueError, match="every key must be a pair"):
        explore_frames(_frames([1, 2]), label=("a", "b"))


def test_explore_frames_refuses_bad_labels_default_and_readouts() -> None:
    frames = _frames([1, 2, 3])
    with pytest.raises(TypeError, match="label must be a string or a pair of strings"):
        explore_frames(frames, label=("a", "b", "c"))
    with pytest.raises(ValueError, match="default must be one of the frames' keys, got 7"):
        explore_frames(frames, label="n", default=7)
    with pytest.raises(ValueError, match="its own string"):
        explore_frames(frames, label="n", format_value=lambda v: "same")
    with pytest.raises(ValueError, match="at least 2 values"):
        explore_frames(_frames([1]), label="n")
    with pytest.raises(TypeError, match="format_value"):
        explore_frames(frames, label="n", format_value="not callable")


def test_frame_refuses_a_non_figure_and_bad_text() -> None:
    with pytest.raises(TypeError, match="figure must be a matplotlib Figure"):
        frame(np.zeros((3, 3)), "caption")
    with pytest.raises(TypeError, match="caption must be a string"):
        frame(_figure(1.0), 3)
    with pytest.raises(ValueError, match="non-empty caption"):
        frame(_figure(1.0), "  ")
    with pytest.raises(ValueError, match="dpi must be an integer in"):
        frame(_figure(1.0), "c", dpi=0)
    with pytest.raises(ValueError, match="PNG"):
        Frame(b"GIF89a", "c", "a")
