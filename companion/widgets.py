"""Two ipywidgets explorers: a live panel that re-runs a function, and one of precomputed frames.

``explore(fn, alpha=FloatControl(...), ...)`` shows the controls, runs ``fn`` once
with the defaults and shows its figure as an ordinary output. In a live kernel
(JupyterLab, Colab) each change re-runs ``fn`` and replaces that figure; the
rendered book has no kernel, so there its controls would do nothing.

``explore_frames({value: frame(fig, caption, alt), ...}, label="ε")`` shows figures
computed while the chapter ran, one per value of a slider (or per cell of a grid of
two sliders). The slider is linked to the figure in the browser (``jslink``), so it
works in the rendered book from the page's saved widget state, with no kernel and
no network, as well as in JupyterLab. Under ipywidgets 7 (Colab), which has no
``Stack``, a kernel-side callback swaps the figure instead.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import PIL.Image
from IPython.display import DisplayHandle, display
from matplotlib.figure import Figure

from companion.checks import (
    check_bool,
    check_callable,
    check_choice,
    check_float,
    check_instance,
    check_int,
)
from companion.plots import figure_alt_text

__all__ = [
    "ChoiceControl",
    "Explorer",
    "FloatControl",
    "Frame",
    "FrameExplorer",
    "IntControl",
    "explore",
    "explore_frames",
    "frame",
]


def _check_range(
    default: Any, low: Any, high: Any, description: Any, check: Callable[..., Any]
) -> None:
    """A control's declaration: `check` (check_float or check_int) each number, then low < high
    and low <= default <= high; the description is a string."""
    low, high = check("low", low), check("high", high)
    if not low < high:
        raise ValueError(f"a control needs low < high, got low={low!r}, high={high!r}")
    check("default", default, low, high)
    check_instance("description", description, str, "a string")


def _label(description: str, name: Any) -> str:
    """A widget's label: its description, else the name of the argument it sets."""
    check_instance("name", name, str, "the name of the argument the control sets (a string)")
    return description or name


@dataclass(frozen=True)
class FloatControl:
    """A real number in [low, high]; `log` gives a slider with log spacing (then low > 0)."""

    default: float
    low: float
    high: float
    log: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        _check_range(self.default, self.low, self.high, self.description, check_float)
        check_bool("log", self.log)
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scale control needs low > 0, got low={self.low!r}")

    def coerce(self, name: str, value: Any) -> float:
        """`value` clamped to [low, high]; TypeError for a non-number, ValueError for NaN/inf."""
        return min(max(check_float(name, value), float(self.low)), float(self.high))

    def widget(self, name: str) -> widgets.Widget:
        style = {"description_width": "initial"}
        label = _label(self.description, name)
        if self.log:
            lo, hi = math.log10(self.low), math.log10(self.high)
            return widgets.FloatLogSlider(
                value=self.default,
                base=10,
                min=lo,
                max=hi,
                step=(hi - lo) / 200,
                description=label,
                continuous_update=False,
                style=style,
                readout_format=".3g",
            )
        return widgets.FloatSlider(
            value=self.default,
            min=self.low,
            max=self.high,
            step=(self.high - self.low) / 200,
            description=label,
            continuous_update=False,
            style=style,
            readout_format=".3g",
        )


@dataclass(frozen=True)
class IntControl:
    """An integer in [low, high], moved in steps of `step` (at most high - low)."""

    default: int
    low: int
    high: int
    step: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        _check_range(self.default, self.low, self.high, self.description, check_int)
        check_int("step", self.step, 1, self.high - self.low)

    def coerce(self, name: str, value: Any) -> int:
        """`value` as an int clamped to [low, high]; anything but an integer raises TypeError."""
        return min(max(check_int(name, value), int(self.low)), int(self.high))

    def widget(self, name: str) -> widgets.Widget:
        return widgets.IntSlider(
            value=self.default,
            min=self.low,
            max=self.high,
            step=self.step,
            description=_label(self.description, name),
            continuous_update=False,
            style={"description_width": "initial"},
        )


@dataclass(frozen=True)
class ChoiceControl:
    """One of a fixed set of options (strings), shown as a dropdown."""

    options: tuple[str, ...]
    default: str | None = None  # None: the first option
    description: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.options, str):
            raise TypeError(
                f"options must be a sequence of strings, not a single string ({self.options!r})"
            )
        check_instance("options", self.options, tuple | list, "a tuple of strings")
        if not all(isinstance(option, str) for option in self.options):
            raise TypeError(f"options must be strings, got {self.options!r}")
        if len(self.options) == 0:
            raise ValueError("a choice control needs at least one option")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"options must differ from each other, got {self.options!r}")
        check_instance("description", self.description, str, "a string")
        if self.default is not None:
            check_choice("default", self.default, self.options)
        if self.default is None:
            object.__setattr__(self, "default", self.options[0])

    def coerce(self, name: str, value: Any) -> str:
        """`value` if it is one of the options, else a TypeError or ValueError naming `name`."""
        return check_choice(name, value, self.options)

    def widget(self, name: str) -> widgets.Widget:
        return widgets.Dropdown(
            options=list(self.options),
            value=self.default,
            description=_label(self.description, name),
            style={"description_width": "initial"},
        )


Control = FloatControl | IntControl | ChoiceControl


class Explorer:
    """The panel `explore` shows: its controls, the latest figure and a status line.

    `fn` is called with one keyword argument per control; `controls` maps those names to
    FloatControl, IntControl or ChoiceControl; `run_button` (a bool) waits for a click.
    """

    def __init__(
        self, fn: Callable[..., Figure], controls: dict[str, Control], run_button: bool
    ) -> None:
        check_callable("fn", fn)
        check_instance("controls", controls, dict, "a dict of name -> control")
        if not controls:
            raise ValueError(
                "explore needs at least one control, e.g. alpha=FloatControl(0.5, 0.0, 1.0)"
            )
        for name, control in controls.items():
            if not isinstance(control, (FloatControl, IntControl, ChoiceControl)):
                raise TypeError(
                    f"control {name!r} must be a FloatControl, IntControl or ChoiceControl, "
                    f"got {type(control).__name__}"
                )
        run_button = check_bool("run_button", run_button)
        self.fn = fn
        self.controls = controls
        self.values: dict[str, Any] = {name: c.default for name, c in controls.items()}
        self.widgets: dict[str, widgets.Widget] = {
            name: c.widget(name) for name, c in controls.items()
        }
        self.status = widgets.Label(value="")
        self.button = (
            widgets.Button(description="Run", button_style="primary") if run_button else None
        )
        self.num_runs = 0
        self._figure_handle: DisplayHandle | None = None
        self._syncing = False  # True while run() moves the widgets to clamped override values
        if self.button is not None:
            self.button.on_click(lambda _: self._run_from_widgets())
        else:
            for w in self.widgets.values():
                w.observe(lambda _: self._run_from_widgets(), names="value")
        children = (
            list(self.widgets.values()) + ([self.button] if self.button else []) + [self.status]
        )
        self.box = widgets.VBox(children)

    def run(self, **overrides: Any) -> Figure:
        """Re-run the function with the current values, changed by `overrides`.

        Each override is clamped to its control's range.
        """
        unknown = set(overrides) - set(self.controls)
        if unknown:
            raise TypeError(
                f"unknown control(s) {sorted(unknown)}; this panel has {sorted(self.controls)}"
            )
        for name, value in overrides.items():
            self.values[name] = self.controls[name].coerce(name, value)
        self._syncing = True
        try:  # show the values actually used, without re-running through the observers
            for name, value in self.values.items():
                self.widgets[name].value = value
        finally:
            self._syncing = False
        figure = self.fn(**self.values)
        if not isinstance(figure, Figure):
            raise TypeError(
                "the explored function must return a matplotlib Figure, "
                f"got {type(figure).__name__}"
            )
        self.num_runs += 1
        if self._figure_handle is None:
            self._figure_handle = display(figure, display_id=True)
        else:
            self._figure_handle.update(figure)
        # Shown through the display handle: don't let the inline backend show it twice.
        plt.close(figure)
        return figure

    def _run_from_widgets(self) -> None:
        if self._syncing:
            return
        values = {name: w.value for name, w in self.widgets.items()}
        self.status.value = "running…"
        try:
            self.run(**values)
        # Shown in the panel: a widget callback has nowhere else to report.
        except Exception as error:
            self.status.value = f"error: {error}"
        else:
            self.status.value = ""


def explore(
    fn: Callable[..., Figure], *, run_button: bool = False, **controls: Control
) -> Explorer:
    """Show a panel of `controls` that re-runs ``fn(**values)`` and redraws the Figure it returns.

    `fn` runs once at once with the defaults. Use ``run_button=True`` for functions
    that take more than a second: changes then wait for a click on Run. `Explorer` checks
    the arguments.
    """
    explorer = Explorer(fn, dict(controls), run_button)
    display(explorer.box)
    explorer.run()
    return explorer


# ---------------------------------------------------------------- precomputed frames


@dataclass(frozen=True)
class Frame:
    """One precomputed figure of `explore_frames`: a PNG, its caption and its alt text.

    `caption` is shown under the image (the value and the run's metric); `alt` says what
    the image shows, for readers who cannot see it.
    """

    png: bytes
    caption: str
    alt: str

    def __post_init__(self) -> None:
        check_instance("png", self.png, bytes, "PNG bytes (use companion.widgets.frame)")
        if not self.png.startswith(b"\x89PNG"):
            raise ValueError("png must be the bytes of a PNG image (use companion.widgets.frame)")
        for name in ("caption", "alt"):
            text = check_instance(name, getattr(self, name), str, "a string")
            if not text.strip():
                raise ValueError(f"a frame needs a non-empty {name}")

    def html(self, value_label: str) -> str:
        """The frame as an HTML figure; `data-value` names the slider value it belongs to."""
        check_instance("value_label", value_label, str, "a string")
        data = base64.b64encode(self.png).decode("ascii")
        return (
            f'<figure class="book-frame" data-value="{html.escape(value_label)}" '
            'style="margin: 0">'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}" '
            'style="max-width: 100%; height: auto">'
            f"<figcaption>{html.escape(self.caption)}</figcaption></figure>"
        )


def frame(figure: Figure, caption: str, alt: str = "", dpi: int = 72, colors: int = 128) -> Frame:
    """`figure` rendered to a PNG at `dpi` and closed, with its caption and alt text.

    The figure is closed so that the notebook does not also show it as an output: it is
    seen only in the explorer. `alt` defaults to what `companion.plots.figure_alt_text` reads
    off the figure (titles, axis labels, legend), then the caption. The PNG keeps `colors`
    colours (a palette image): a plot has few, and the page stays light (measured on
    chapter 1's frames: 128 colours, a quarter of the bytes, no visible change).
    """
    check_instance("figure", figure, Figure, "a matplotlib Figure")
    check_instance("caption", caption, str, "a string")
    check_instance("alt", alt, str, "a string")
    dpi = check_int("dpi", dpi, 20, 300)
    colors = check_int("colors", colors, 2, 256)
    alt = alt or f"{figure_alt_text(figure)}. {caption}"
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    image = PIL.Image.open(buffer).convert("RGB")
    palette = image.quantize(
        colors, method=PIL.Image.Quantize.MEDIANCUT, dither=PIL.Image.Dither.NONE
    )
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return Frame(buffer.getvalue(), caption, alt)


def _slider_values(keys: list[Hashable], num_sliders: int) -> list[list[Hashable]]:
    """Each slider's values, in the order in which the keys first name them."""
    values: list[list[Hashable]] = [[] for _ in range(num_sliders)]
    for key in keys:
        parts = (key,) if num_sliders == 1 else key
        for axis, part in enumerate(parts):
            if part not in values[axis]:
                values[axis].append(part)
    return values


class FrameExplorer:
    """The widget `explore_frames` shows: one or two sliders over a grid of precomputed frames.

    `frames` maps a slider value (or, for two sliders, a pair of values) to a `Frame`; the
    sliders list the values in the order the mapping first names them. `labels` are the
    sliders' descriptions, `default` the key shown first, `format_value` turns a value into
    the slider's readout (readouts of one slider must differ).
    """

    def __init__(
        self,
        frames: Mapping[Hashable, Frame],
        labels: tuple[str, ...],
        default: Hashable | None = None,
        format_value: Callable[[Any], str] = str,
    ) -> None:
        check_instance("frames", frames, Mapping, "a mapping of slider value -> Frame")
        check_instance("labels", labels, tuple, "a tuple of one or two slider labels")
        if len(labels) not in (1, 2) or not all(isinstance(label, str) for label in labels):
            raise ValueError(f"labels must be one or two strings, got {labels!r}")
        check_callable("format_value", format_value)
        keys = list(frames)
        if not keys:
            raise ValueError("explore_frames needs frames: the sweep is empty")
        for key, value in frames.items():
            if not isinstance(value, Frame):
                raise TypeError(
                    f"frames[{key!r}] must be a Frame (companion.widgets.frame(figure, caption)), "
                    f"got {type(value).__name__}"
                )
        num_sliders = len(labels)
        if num_sliders == 2 and not all(isinstance(k, tuple) and len(k) == 2 for k in keys):
            bad = next(k for k in keys if not (isinstance(k, tuple) and len(k) == 2))
            raise ValueError(
                f"with two slider labels every key must be a pair of values, got {bad!r}"
            )
        self.values = _slider_values(keys, num_sliders)
        grid_size = math.prod(len(v) for v in self.values)
        if grid_size != len(keys):
            shape = " x ".join(str(len(v)) for v in self.values)
            missing = [
                (a, b) for a in self.values[0] for b in self.values[-1] if (a, b) not in frames
            ]
            raise ValueError(
                f"frames must fill the grid of the sliders' values ({shape} = {grid_size} "
                f"frames), got {len(keys)}; missing {missing[:5]}"
            )
        for label, values in zip(labels, self.values, strict=True):
            if len(values) < 2:
                raise ValueError(f"slider {label!r} needs at least 2 values, got {values!r}")
        self.readouts = [[format_value(v) for v in values] for values in self.values]
        for label, readouts in zip(labels, self.readouts, strict=True):
            if not all(isinstance(r, str) for r in readouts) or len(set(readouts)) != len(readouts):
                raise ValueError(
                    f"format_value must give each value of slider {label!r} its own string, "
                    f"got {readouts!r}"
                )
        if default is None:
            default = keys[0]
        if default not in frames:
            raise ValueError(f"default must be one of the frames' keys, got {default!r}")
        self.frames = dict(frames)
        self.labels = labels
        parts = (default,) if num_sliders == 1 else default
        start = [values.index(part) for values, part in zip(self.values, parts, strict=True)]
        self.sliders = [
            widgets.SelectionSlider(
                options=[(readout, i) for i, readout in enumerate(readouts)],
                value=index,
                description=label,
                continuous_update=True,
                style={"description_width": "initial"},
                layout=widgets.Layout(width="min(100%, 32em)"),
            )
            for label, readouts, index in zip(labels, self.readouts, start, strict=True)
        ]
        self.links: list[Any] = []
        if hasattr(widgets, "Stack"):
            view = self._linked_stacks()
        else:
            # ipywidgets 7 (Colab) has no Stack: the kernel swaps the figure instead.
            view = widgets.HTML(value=self._html(start))
            for slider in self.sliders:
                slider.observe(
                    lambda _: setattr(view, "value", self._html([s.index for s in self.sliders])),
                    names="index",
                )
        self.box = widgets.VBox([*self.sliders, view])
        self.box.add_class("book-frame-explorer")

    def _key(self, indices: list[int]) -> Hashable:
        """The frames' key at the sliders' `indices`."""
        parts = tuple(values[i] for values, i in zip(self.values, indices, strict=True))
        return parts[0] if len(parts) == 1 else parts

    def _html(self, indices: list[int]) -> str:
        readout = ", ".join(r[i] for r, i in zip(self.readouts, indices, strict=True))
        return self.frames[self._key(indices)].html(readout)

    def _linked_stacks(self) -> widgets.Widget:
        """Stacks of the frames' HTML whose selected child follows the sliders in the browser.

        With two sliders an outer Stack follows the first slider and each of its children,
        a Stack over the second slider's values, follows the second.
        """
        first = self.sliders[0]
        if len(self.sliders) == 1:
            children = [widgets.HTML(value=self._html([i])) for i in range(len(self.values[0]))]
            stack = widgets.Stack(children=children, selected_index=first.index)
            self.links.append(widgets.jslink((first, "index"), (stack, "selected_index")))
            return stack
        second = self.sliders[1]
        rows = []
        for i in range(len(self.values[0])):
            cells = [widgets.HTML(value=self._html([i, j])) for j in range(len(self.values[1]))]
            row = widgets.Stack(children=cells, selected_index=second.index)
            self.links.append(widgets.jslink((second, "index"), (row, "selected_index")))
            rows.append(row)
        stack = widgets.Stack(children=rows, selected_index=first.index)
        self.links.append(widgets.jslink((first, "index"), (stack, "selected_index")))
        return stack

    def select(self, key: Hashable) -> None:
        """Move the sliders to `key` (as a reader would)."""
        if key not in self.frames:
            raise ValueError(f"key must be one of the frames' keys, got {key!r}")
        parts = (key,) if len(self.sliders) == 1 else key
        for slider, values, part in zip(self.sliders, self.values, parts, strict=True):
            slider.index = values.index(part)


def explore_frames(
    frames: Mapping[Hashable, Frame],
    *,
    label: str | tuple[str, str],
    default: Hashable | None = None,
    format_value: Callable[[Any], str] = str,
) -> FrameExplorer:
    """Show precomputed frames behind one slider (`label` a string) or two (a pair of labels).

    `frames` maps each slider value, or each pair of values for two sliders, to a `frame`;
    every pair of the two sliders' values needs one. The slider shows the frame computed for
    its value, in the browser, without a kernel (see the module's docstring).
    """
    if isinstance(label, str):
        labels: tuple[str, ...] = (label,)
    elif isinstance(label, tuple) and len(label) == 2 and all(isinstance(x, str) for x in label):
        labels = label
    else:
        raise TypeError(f"label must be a string or a pair of strings, got {label!r}")
    explorer = FrameExplorer(frames, labels, default, format_value)
    display(explorer.box)
    return explorer
