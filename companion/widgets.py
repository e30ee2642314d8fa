"""A small ipywidgets panel: move a slider, the chapter's function re-runs, its figure is redrawn.

``explore(fn, alpha=FloatControl(...), ...)`` shows the controls, runs ``fn`` once
with the defaults and shows its figure as an ordinary output, so the executed
(headless) notebook and the rendered book contain the default figure. In a live
kernel (JupyterLab, Colab) each change re-runs ``fn`` and replaces that figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
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
