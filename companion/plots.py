"""The book's shared figure style, the alt text of its figures, the plots several chapters draw."""

from __future__ import annotations

import re
from html import escape as html_escape
from typing import Any, Callable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import Animation
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from companion.checks import (
    check_bool,
    check_callable,
    check_choice,
    check_float,
    check_instance,
    check_int,
)

# The Okabe-Ito palette, which stays distinguishable with every common colour-vision deficiency:
# M. Okabe and K. Ito (2008), "Color Universal Design (CUD): how to make figures and presentations
# that are friendly to colorblind people", https://jfly.uni-koeln.de/color/ ; also B. Wong (2011),
# "Points of view: Color blindness", Nature Methods 8, 441, https://doi.org/10.1038/nmeth.1618.
# Its black is left out, as the chapters draw markers and reference points in black (and reference
# lines in grey); its yellow comes last, as thin yellow lines are faint on white. In order: blue,
# orange, bluish green, vermillion, reddish purple, sky blue, yellow.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")

STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "savefig.dpi": 120,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
    # viridis reads in order of lightness, also in grey and with a colour-vision deficiency.
    "image.cmap": "viridis",
}

Curve = (
    Sequence[float] | np.ndarray | tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]
)


def use_style() -> None:
    """Apply the shared style to every figure drawn from now on (`companion.setup` calls this)."""
    mpl.rcParams.update(STYLE)


# A figure with more panels than this is described as a list of them, without their numbers.
MAX_NUMBERED_PANELS = 6


def _spoken(text: str) -> str:
    """A label as a screen reader should read it: mathtext's $, braces, font commands and
    backslashes dropped (``$\\theta_{\\mathrm{area}}$`` is read "theta_area"), whitespace
    collapsed."""
    text = re.sub(r"\\(math[a-z]+|text[a-z]*|operatorname|boldsymbol)\b", "", text)
    return " ".join(re.sub(r"[$\\{}]", "", text).split())


def _legend_entries(legend: Legend) -> str:
    return "legend: " + ", ".join(_spoken(text.get_text()) for text in legend.get_texts())


def _describe_axes(ax: Axes) -> str:
    """One panel in words: its title, y label against x label, and its legend's entries."""
    titles = [ax.get_title(loc) for loc in ("center", "left", "right")]
    title = _spoken(next((text for text in titles if text), ""))
    xlabel, ylabel = _spoken(ax.get_xlabel()), _spoken(ax.get_ylabel())
    details = []
    if xlabel and ylabel:
        details.append(f"{ylabel} against {xlabel}")
    elif xlabel or ylabel:
        details.append(xlabel or ylabel)
    elif ax.images and not title:
        details.append("an image")
    if ax.get_legend() is not None:
        details.append(_legend_entries(ax.get_legend()))
    return ": ".join(part for part in (title, "; ".join(details)) if part)


def figure_alt_text(figure: Figure) -> str:
    """What `figure` shows, in words, for the alt text of its image: built from the figure itself.

    The suptitle, then for each panel (each visible Axes) its title, its y label against its x
    label and its legend's entries (``"Loss: loss against step; legend: lr 0.1, lr 0.01"``), then
    a legend of the whole figure. The title and labelled axes that the style guide asks of every
    figure are what make this say something; a figure with none reads "A figure without title
    or axis labels".
    """
    check_instance("figure", figure, Figure, "a matplotlib Figure")
    panels = [
        text for text in (_describe_axes(ax) for ax in figure.axes if ax.get_visible()) if text
    ]
    if len(panels) > MAX_NUMBERED_PANELS:
        # A grid of small multiples (digits, samples): "Panel 17: 8 (89%)" forty times is noise.
        panels = [f"{len(panels)} panels: " + "; ".join(panels)]
    elif len(panels) > 1:
        panels = [f"Panel {number}: {text}" for number, text in enumerate(panels, start=1)]
    suptitle = _spoken(figure.get_suptitle())
    legends = [_legend_entries(legend) for legend in figure.legends]
    sentences = [text for text in (suptitle, *panels, *legends) if text]
    if not sentences:
        return "A figure without title or axis labels"
    return ". ".join(sentences)


def _png_with_alt_text(figure: Figure) -> tuple[str, dict[str, str]] | None:
    """The figure's PNG as the inline backend makes it, and its alt text as metadata.

    None for an empty figure, which IPython shows as nothing rather than a blank area.
    """
    from IPython.core.pylabtools import print_figure

    # The inline backend's call; base64 needs IPython >= 7.29 (Colab has 7.34).
    png = print_figure(figure, "png", bbox_inches="tight", base64=True)
    if png is None:
        return None
    return png, {"alt": figure_alt_text(figure)}


def describe_figures_in_outputs() -> None:
    """From now on, every figure IPython shows carries its alt text (`companion.setup` calls this).

    A figure's PNG output gets the metadata ``{"alt": figure_alt_text(figure)}``: the key that
    ``IPython.display.Image(alt=...)`` writes and nbconvert's HTML puts on the ``<img>``; the
    book's extension book/_ext/figure_alt_text.py does the same for the rendered book. Outside
    IPython (a script, the tests) this does nothing.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    # The inline backend registers its own PNG formatter for Figure when it is first imported (on
    # the first figure), which would replace ours: import it now, so that ours is registered last.
    if "matplotlib_inline" in mpl.get_backend():
        import matplotlib_inline.backend_inline  # noqa: F401
    shell.display_formatter.formatters["image/png"].for_type(Figure, _png_with_alt_text)


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots()
    return ax


def _check_labels(ax: Any, xlabel: Any, ylabel: Any, title: Any) -> None:
    """The arguments every plot takes: an Axes or None, two axis labels, a title or None."""
    if ax is not None:
        check_instance("ax", ax, Axes, "a matplotlib Axes or None")
    check_instance("xlabel", xlabel, str, "a string")
    check_instance("ylabel", ylabel, str, "a string")
    if title is not None:
        check_instance("title", title, str, "a string or None")


def _as_values(what: str, values: Any) -> np.ndarray:
    """`values` as a float array; None becomes NaN (a gap), as NumPy converts it. Complex
    numbers and non-numbers raise TypeError naming `what`."""
    try:
        if np.iscomplexobj(values):
            raise TypeError("got complex values")
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        # Ragged lists, strings, complex numbers (NumPy would drop their imaginary part).
        raise TypeError(f"{what} must be real numbers: {error}") from None


def plot_curves(
    curves: Mapping[str, Curve],
    *,
    ax: Axes | None = None,
    log_y: bool = False,
    xlabel: str = "step",
    ylabel: str = "value",
    title: str | None = None,
) -> Axes:
    """One line per entry of `curves`: label -> y values (x = 0, 1, ...) or label -> (x, y).

    Curves may differ in length (a run that diverged and stopped early is shorter).
    With `log_y`, every value must be > 0: a log axis would silently drop a value <= 0,
    so one raises ValueError naming its curve (NaN stays a gap). Returns and rewards,
    often negative, belong on the default linear axis. `log_y` must be a bool (``"no"`` is
    truthy), labels strings.
    """
    check_instance("curves", curves, Mapping, "a mapping (dict) of label -> values")
    log_y = check_bool("log_y", log_y)
    _check_labels(ax, xlabel, ylabel, title)
    if not curves:
        raise ValueError("curves must contain at least one label -> values entry")
    lines = []
    for label, curve in curves.items():
        is_pair = isinstance(curve, tuple) and len(curve) == 2
        if is_pair and all(np.ndim(c) == 1 for c in curve):
            x, y = (_as_values(f"curve {label!r}", c) for c in curve)
            if x.shape != y.shape:
                raise ValueError(
                    f"curve {label!r}: x has shape {x.shape} but y has shape {y.shape}"
                )
        else:
            # y values alone (possibly a tuple of numbers).
            y = _as_values(f"curve {label!r}", curve)
            if y.ndim != 1:
                raise ValueError(
                    f"curve {label!r} must be 1-D y values or an (x, y) pair, got shape {y.shape}"
                )
            x = np.arange(len(y))
        if log_y and np.any(y <= 0):
            raise ValueError(
                f"curve {label!r} has values <= 0 (smallest {np.nanmin(y):.3g}), which a log "
                "axis cannot show; plot it with log_y=False"
            )
        lines.append((label, x, y))
    ax = _new_axes(ax)
    for label, x, y in lines:
        ax.plot(x, y, label=label)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    return ax


def plot_loss_curves(
    curves: Mapping[str, Curve],
    *,
    ax: Axes | None = None,
    log_y: bool = True,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str | None = None,
) -> Axes:
    """`plot_curves` for losses: a log y axis by default, where a loss falling by orders of
    magnitude stays readable. A loss <= 0 on the log axis raises ValueError naming the curve.
    """
    return plot_curves(curves, ax=ax, log_y=log_y, xlabel=xlabel, ylabel=ylabel, title=title)


def plot_loss_contour(
    loss_on_grid: Callable[[np.ndarray, np.ndarray], np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    paths: Mapping[str, np.ndarray] | None = None,
    optimum: tuple[float, float] | None = None,
    ax: Axes | None = None,
    num_levels: int = 20,
    grid_size: int = 150,
    xlabel: str = r"$\theta_1$",
    ylabel: str = r"$\theta_2$",
    title: str | None = None,
) -> Axes:
    """Contours of a loss over two parameters, with optimisation paths drawn on top.

    `loss_on_grid(A, B)` takes two arrays of the same shape (a meshgrid) and returns
    the loss at each point, all finite; each path is an array of shape (num_steps + 1, 2).
    Levels are spaced more densely near the minimum, where paths end. `grid_size` is at most
    2000 (4 million evaluations).
    """
    check_callable("loss_on_grid", loss_on_grid)
    for name, pair in (("xlim", xlim), ("ylim", ylim)):
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise TypeError(f"{name} must be a (low, high) pair of numbers, got {pair!r}")
        for bound in pair:
            check_float(name, bound)
    if not (xlim[0] < xlim[1] and ylim[0] < ylim[1]):
        raise ValueError(
            f"xlim and ylim must be increasing (low, high) pairs, got {xlim} and {ylim}"
        )
    if paths is not None:
        check_instance("paths", paths, Mapping, "a mapping (dict) of label -> path, or None")
    if optimum is not None:
        if not (isinstance(optimum, tuple | list) and len(optimum) == 2):
            raise TypeError(f"optimum must be a pair of numbers or None, got {optimum!r}")
        for coordinate in optimum:
            check_float("optimum", coordinate)
    num_levels = check_int("num_levels", num_levels, 1, 1000)
    grid_size = check_int("grid_size", grid_size, 2, 2000)
    _check_labels(ax, xlabel, ylabel, title)
    ax = _new_axes(ax)
    a, b = np.meshgrid(np.linspace(*xlim, grid_size), np.linspace(*ylim, grid_size))  # (G, G) each
    z = _as_values("loss_on_grid's result", loss_on_grid(a, b))
    if z.shape != a.shape:
        raise ValueError(f"loss_on_grid must return an array of shape {a.shape}, got {z.shape}")
    if not np.isfinite(z).all():
        # The levels are quantiles of z: one NaN makes them all NaN.
        raise ValueError(
            f"loss_on_grid must return finite values, got {int((~np.isfinite(z)).sum())} NaN or "
            "infinite value(s); narrow xlim and ylim"
        )
    levels = np.unique(np.quantile(z, np.linspace(0.0, 1.0, num_levels + 1)[1:] ** 2))
    ax.contour(a, b, z, levels=levels, cmap="viridis", linewidths=0.8)
    for label, path in (paths or {}).items():
        path = _as_values(f"path {label!r}", path)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"path {label!r} must have shape (num_steps + 1, 2), got {path.shape}")
        (line,) = ax.plot(
            path[:, 0], path[:, 1], marker=".", markersize=3, linewidth=1.0, alpha=0.85, label=label
        )
        ax.plot(path[0, 0], path[0, 1], marker="o", color=line.get_color())
    if optimum is not None:
        ax.plot(
            *optimum, marker="*", markersize=12, color="black", linestyle="none", label="minimum"
        )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if paths or optimum is not None:
        ax.legend(loc="best", fontsize=9)
    return ax


# matplotlib's JavaScript player draws its buttons with Font Awesome 4 icons loaded from a CDN;
# the book renders offline, so the icons become Unicode symbols (the button titles stay).
_PLAYER_ICONS = {
    "fa fa-minus": "−",
    "fa fa-fast-backward": "⏮",
    "fa fa-step-backward": "◀|",
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-pause": "❚❚",
    "fa fa-play": "▶",
    "fa fa-step-forward": "|▶",
    "fa fa-fast-forward": "⏭",
    "fa fa-plus": "+",
}


def animation_html(animation: Animation, default_mode: str = "loop") -> str:
    """A matplotlib animation as self-contained HTML: a JavaScript player with the frames embedded.

    Needs no ffmpeg, unlike ``to_html5_video``. matplotlib's player links its icon font
    from a CDN, which an offline page cannot load: the link is dropped and each icon
    replaced by a Unicode symbol. Its frame and its frame slider get what a screen reader
    reads: the frame the animation's figure's alt text (`figure_alt_text`), the slider a
    name. Show the result with ``IPython.display.HTML``. `default_mode` is what the player
    does at the end: "loop", "once" or "reflect".
    """
    check_instance("animation", animation, Animation, "a matplotlib Animation")
    default_mode = check_choice("default_mode", default_mode, ("loop", "once", "reflect"))
    html = animation.to_jshtml(default_mode=default_mode)
    html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">', "", html)
    for icon, symbol in _PLAYER_ICONS.items():
        html = html.replace(f'<i class="{icon}"></i>', symbol)
    # Animation keeps its figure in `_fig`; there is no public accessor.
    alt = html_escape(f"Animation. {figure_alt_text(animation._fig)}", quote=True)
    html, num_images = re.subn(r'<img id="_anim_img', f'<img alt="{alt}" id="_anim_img', html)
    html, num_sliders = re.subn(
        r'<input id="_anim_slider', '<input aria-label="Frame" id="_anim_slider', html
    )
    if "font-awesome" in html or '<i class="fa' in html or (num_images, num_sliders) != (1, 1):
        raise RuntimeError(
            "matplotlib's animation player changed: update companion.plots.animation_html"
        )
    return html
