"""Unit tests of `companion.plots`: the shared style, figures' alt text, curves, loss curves and
loss contours."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import base64  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

from companion.plots import (  # noqa: E402
    OKABE_ITO,
    STYLE,
    describe_figures_in_outputs,
    figure_alt_text,
    plot_curves,
    plot_loss_contour,
    plot_loss_curves,
    use_style,
)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


# ---------------------------------------------------------------- style


def test_use_style_applies_every_style_entry() -> None:
    mpl.rcdefaults()
    assert mpl.rcParams["axes.grid"] is False  # the premise: the defaults differ from the style
    use_style()
    for key, value in STYLE.items():
        actual = mpl.rcParams[key]
        if isinstance(value, tuple):
            assert list(actual) == list(value), key
        else:
            assert actual == value, key


def test_style_reaches_new_figures() -> None:
    use_style()
    fig, ax = plt.subplots()
    assert tuple(fig.get_size_inches()) == STYLE["figure.figsize"]
    assert not ax.spines["top"].get_visible()


def test_lines_cycle_through_the_okabe_ito_colours() -> None:
    """The colour-blind-safe palette, without black and grey, which reference lines use."""
    use_style()
    _, ax = plt.subplots()
    colours = [ax.plot([0, 1])[0].get_color() for _ in OKABE_ITO]
    assert [colour.lower() for colour in colours] == [colour.lower() for colour in OKABE_ITO]
    assert not {"#000000", "#808080"} & {colour.lower() for colour in OKABE_ITO}


# ---------------------------------------------------------------- alt text


def test_alt_text_says_title_axes_and_legend() -> None:
    _, ax = plt.subplots()
    ax.plot([1.0, 0.5], label="lr 0.1")
    ax.plot([1.0, 0.9], label="lr 0.01")
    ax.set(title="Training loss", xlabel="step", ylabel="loss")
    ax.legend()
    assert figure_alt_text(ax.figure) == (
        "Training loss: loss against step; legend: lr 0.1, lr 0.01"
    )


def test_alt_text_numbers_the_panels_after_the_suptitle() -> None:
    fig, (left, right) = plt.subplots(1, 2)
    fig.suptitle("Two learning rates")
    left.set(title="lr 0.1", xlabel="step", ylabel="loss")
    right.set(xlabel="step")
    assert figure_alt_text(fig) == (
        "Two learning rates. Panel 1: lr 0.1: loss against step. Panel 2: step"
    )


def test_alt_text_reads_math_labels_without_markup() -> None:
    _, ax = plt.subplots()
    ax.set(xlabel=r"$\theta_{\mathrm{area}}$", ylabel=r"$p_{data}$ (density)")
    assert figure_alt_text(ax.figure) == "p_data (density) against theta_area"


def test_alt_text_lists_a_grid_of_many_panels_without_numbering_them() -> None:
    fig, axes = plt.subplots(2, 5)
    fig.suptitle("One image per class")
    for digit, ax in enumerate(axes.flat):
        ax.imshow(np.eye(3))
        ax.set_title(str(digit))
    assert figure_alt_text(fig) == "One image per class. 10 panels: 0; 1; 2; 3; 4; 5; 6; 7; 8; 9"


def test_alt_text_of_images_hidden_panels_and_figure_legends() -> None:
    fig, (image_ax, hidden_ax) = plt.subplots(1, 2)
    image_ax.imshow(np.eye(3))
    image_ax.axis("off")
    hidden_ax.set(title="not shown")
    hidden_ax.set_visible(False)
    assert figure_alt_text(fig) == "an image"
    image_ax.set_title("A digit")
    image_ax.plot([0, 1], label="diagonal")
    fig.legend()
    assert figure_alt_text(fig) == "A digit. legend: diagonal"


def test_alt_text_of_a_figure_without_any_text_says_so() -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert figure_alt_text(fig) == "A figure without title or axis labels"


def test_figures_shown_in_ipython_carry_their_alt_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PNG output of a figure gets {"alt": ...} metadata, the key nbconvert reads."""
    import IPython
    from IPython.core.formatters import DisplayFormatter

    shell = SimpleNamespace(display_formatter=DisplayFormatter())
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    describe_figures_in_outputs()
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    ax.set(title="A line", xlabel="x", ylabel="y")
    data, metadata = shell.display_formatter.format(fig)
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert metadata["image/png"] == {"alt": "A line: y against x"}


def test_outside_ipython_figure_outputs_are_left_alone() -> None:
    import IPython

    assert IPython.get_ipython() is None
    describe_figures_in_outputs()


# ---------------------------------------------------------------- curves


def test_one_labelled_line_per_curve_with_a_legend() -> None:
    ax = plot_curves({"lr 0.1": [1.0, 0.5, 0.25], "lr 0.01": [1.0, 0.9, 0.8]}, title="Reward")
    assert [line.get_label() for line in ax.lines] == ["lr 0.1", "lr 0.01"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.5, 0.25])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lr 0.1", "lr 0.01"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("step", "value", "Reward")


def test_plot_curves_is_linear_by_default_and_keeps_every_value() -> None:
    """Returns and rewards are often negative: the general plot must show them all."""
    ax = plot_curves({"return": [-200.0, -50.0, 0.0, 10.0]})
    assert ax.get_yscale() == "linear"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [-200.0, -50.0, 0.0, 10.0])


def test_a_single_curve_has_no_legend() -> None:
    ax = plot_curves({"train": np.array([3.0, 2.0, 1.0])})
    assert len(ax.lines) == 1
    assert ax.get_legend() is None


def test_x_y_pairs_and_curves_of_different_lengths() -> None:
    curves = {
        "every 10 steps": (np.array([0, 10, 20, 30]), np.array([4.0, 2.0, 1.0, 0.5])),
        "diverged early": [4.0, 8.0],
    }
    ax = plot_curves(curves)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 10, 20, 30])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [4.0, 2.0, 1.0, 0.5])
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [0, 1])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [4.0, 8.0])


def test_a_tuple_of_y_values_is_not_taken_for_an_x_y_pair() -> None:
    ax = plot_curves({"two": (1.0, 0.5), "three": (1.0, 0.5, 0.25)})
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.5])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [1.0, 0.5, 0.25])


def test_log_scale_follows_log_y() -> None:
    assert plot_curves({"a": [1.0, 0.1]}, log_y=True).get_yscale() == "log"
    assert plot_curves({"a": [1.0, 0.1]}).get_yscale() == "linear"


@pytest.mark.parametrize("bad", [0.0, -2.0])
def test_non_positive_values_on_a_log_scale_are_an_error_naming_the_curve(bad: float) -> None:
    with pytest.raises(ValueError, match=r"curve 'b' has values <= 0 .*log_y=False"):
        plot_curves({"a": [1.0, 0.5], "b": [1.0, bad, 0.01]}, log_y=True)


def test_a_nan_on_a_log_scale_is_a_gap_not_an_error() -> None:
    ax = plot_curves({"a": [1.0, np.nan, 0.01]}, log_y=True)
    np.testing.assert_array_equal(np.isnan(ax.lines[0].get_ydata()), [False, True, False])


def test_a_rejected_curve_draws_nothing() -> None:
    fig, ax = plt.subplots()
    with pytest.raises(ValueError):
        plot_curves({"ok": [1.0, 0.5], "bad": [1.0, -1.0]}, ax=ax, log_y=True)
    assert len(ax.lines) == 0


def test_draws_on_a_given_axes() -> None:
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_curves({"a": [1.0, 0.5]}, ax=right, xlabel="epoch", ylabel="accuracy") is right
    assert len(right.lines) == 1 and len(left.lines) == 0
    assert (right.get_xlabel(), right.get_ylabel()) == ("epoch", "accuracy")


def test_empty_curves_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"curves must contain at least one"):
        plot_curves({})


def test_mismatched_x_and_y_are_rejected_naming_the_curve() -> None:
    with pytest.raises(
        ValueError, match=r"curve 'run 1': x has shape \(3,\) but y has shape \(4,\)"
    ):
        plot_curves({"run 1": ([0, 1, 2], [1.0, 0.5, 0.2, 0.1])})


def test_two_dimensional_y_is_rejected_naming_the_curve() -> None:
    with pytest.raises(ValueError, match=r"curve 'grid' must be 1-D y values"):
        plot_curves({"grid": np.ones((3, 2))})


# ---------------------------------------------------------------- loss curves


def test_loss_curves_default_to_a_log_axis_labelled_loss() -> None:
    ax = plot_loss_curves({"train": [2.0, 0.2, 0.02]})
    assert ax.get_yscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("step", "loss")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [2.0, 0.2, 0.02])


def test_loss_curves_pass_their_arguments_on() -> None:
    fig, ax = plt.subplots()
    result = plot_loss_curves(
        {"a": [1.0, -1.0], "b": [0.5, 0.5]},
        ax=ax,
        log_y=False,
        xlabel="epoch",
        ylabel="MSE",
        title="T",
    )
    assert result is ax and ax.get_yscale() == "linear"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "MSE", "T")
    assert len(ax.lines) == 2 and ax.get_legend() is not None


def test_a_non_positive_loss_on_the_log_axis_is_an_error() -> None:
    """It used to vanish from the figure silently; a loss that reaches 0 must be seen."""
    with pytest.raises(ValueError, match=r"curve 'mse' has values <= 0"):
        plot_loss_curves({"mse": [1.0, 0.0]})


# ---------------------------------------------------------------- loss contours


def _bowl(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a - 1.0) ** 2 + 4.0 * (b + 0.5) ** 2


def _contours(ax: plt.Axes) -> list[ContourSet]:
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def test_contour_draws_the_loss_the_paths_and_the_optimum() -> None:
    path_a = np.array([[-2.0, 2.0], [-1.0, 1.0], [0.0, 0.0], [1.0, -0.5]])  # (num_steps + 1, 2)
    path_b = np.array([[2.5, 2.5], [1.5, 0.5]])
    ax = plot_loss_contour(
        _bowl,
        (-3.0, 3.0),
        (-2.0, 3.0),
        paths={"GD": path_a, "momentum": path_b},
        optimum=(1.0, -0.5),
    )
    (contour,) = _contours(ax)
    levels = np.asarray(contour.levels)
    assert len(levels) > 5
    assert np.all(np.diff(levels) > 0)
    # Denser near the minimum, where paths end: about half the levels in the lowest quarter
    # of the loss.
    a, b = np.meshgrid(np.linspace(-3.0, 3.0, 150), np.linspace(-2.0, 3.0, 150))
    assert np.mean(levels <= np.quantile(_bowl(a, b), 0.25)) >= 0.4
    # Each path is a line plus a marker at its start; the optimum is one more marker.
    assert len(ax.lines) == 2 * 2 + 1
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), path_a)
    np.testing.assert_array_equal(ax.lines[2].get_xydata(), path_b)
    np.testing.assert_array_equal(ax.lines[1].get_xydata(), path_a[:1])
    assert ax.lines[1].get_color() == ax.lines[0].get_color()
    np.testing.assert_array_equal(ax.lines[-1].get_xydata(), [[1.0, -0.5]])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GD", "momentum", "minimum"]
    assert ax.get_xlim() == (-3.0, 3.0) and ax.get_ylim() == (-2.0, 3.0)


def test_contour_evaluates_the_loss_on_a_meshgrid() -> None:
    seen = []

    def loss(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        seen.append((a.copy(), b.copy()))
        return _bowl(a, b)

    ax = plot_loss_contour(loss, (0.0, 2.0), (-1.0, 1.0), grid_size=30)
    ((a, b),) = seen
    assert a.shape == b.shape == (30, 30)
    assert (a.min(), a.max(), b.min(), b.max()) == (0.0, 2.0, -1.0, 1.0)
    np.testing.assert_array_equal(a[0], a[-1])  # a varies along columns, b along rows
    np.testing.assert_array_equal(b[:, 0], b[:, -1])
    assert len(_contours(ax)) == 1 and len(ax.lines) == 0 and ax.get_legend() is None


@pytest.mark.parametrize(
    ("xlim", "ylim"),
    [((1.0, -1.0), (0.0, 1.0)), ((0.0, 1.0), (1.0, 1.0)), ((2.0, 2.0), (0.0, 1.0))],
)
def test_contour_rejects_limits_that_are_not_increasing(xlim: tuple, ylim: tuple) -> None:
    with pytest.raises(ValueError, match=r"xlim and ylim must be increasing"):
        plot_loss_contour(_bowl, xlim, ylim)


@pytest.mark.parametrize("path", [np.zeros((5, 3)), np.zeros(4), np.zeros((2, 5, 2))])
def test_contour_rejects_a_wrongly_shaped_path_naming_it(path: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"path 'bad' must have shape \(num_steps \+ 1, 2\)"):
        plot_loss_contour(_bowl, (-1.0, 1.0), (-1.0, 1.0), paths={"bad": path}, grid_size=20)


@pytest.mark.parametrize("loss", [lambda a, b: 1.0, lambda a, b: a[0], lambda a, b: (a + b).T[:-1]])
def test_contour_rejects_a_loss_of_the_wrong_shape(loss) -> None:
    with pytest.raises(ValueError, match=r"loss_on_grid must return an array of shape \(20, 20\)"):
        plot_loss_contour(loss, (-1.0, 1.0), (-1.0, 1.0), grid_size=20)


def test_animation_html_is_self_contained() -> None:
    from matplotlib.animation import FuncAnimation

    from companion.plots import animation_html

    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 0])
    movie = FuncAnimation(fig, lambda i: line.set_ydata([i, i]) or (line,), frames=3)
    html = animation_html(movie)
    plt.close(fig)
    assert "http://" not in html and "https://" not in html
    assert html.count("<img") == 1 and "▶" in html and "❚❚" in html
    assert 'class="fa' not in html


def test_animation_html_names_its_frame_and_its_slider() -> None:
    from matplotlib.animation import FuncAnimation

    from companion.plots import animation_html

    fig, ax = plt.subplots()
    ax.set_title("A <moving> line")
    (line,) = ax.plot([0, 1], [0, 0])
    movie = FuncAnimation(fig, lambda i: line.set_ydata([i, i]) or (line,), frames=3)
    html = animation_html(movie)
    plt.close(fig)
    assert '<img alt="Animation. A &lt;moving&gt; line" id="_anim_img' in html
    assert '<input aria-label="Frame" id="_anim_slider' in html
