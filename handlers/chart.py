"""The BHYT coverage chart sent with the digest: a PNG drawn by matplotlib without a display.

DejaVu Sans, which matplotlib ships, has every Vietnamese glyph. Up to ``MAX_BARS`` communes
get one bar each (under the target in a warning colour); beyond that a histogram is clearer.
Figures are built with the object API, not ``pyplot``: no global state, no GUI backend, safe to
draw in a worker thread. matplotlib is imported on first use: answering questions never needs it.
"""

from __future__ import annotations

import io
from typing import Any

from knowledge.collation import vi_key

MAX_BARS = 80
LABEL_SIZE = 8
TARGET_COLOUR = "#c0392b"
BELOW = "#e67e22"
ABOVE = "#27ae60"


def coverage_chart(
    rates: list[tuple[str, float]],
    target: float,
    *,
    title: str,
    target_label: str,
    highlight: str | None = None,
    missing: list[str] | None = None,
    missing_label: str = "",
    changes: dict[str, float] | None = None,
) -> bytes:
    """PNG bytes: ``rates`` are (commune, % coverage); ``missing`` communes (no report) are
    labelled gaps, so the picture is the whole district; ``changes`` are percentage points
    since last week, written after the value."""
    from matplotlib import rc_context

    missing = missing or []
    with rc_context({"font.family": "DejaVu Sans"}):
        bars = len(rates) + len(missing) <= MAX_BARS
        if bars:
            figure, axes = _bars(
                rates, target, target_label, highlight, missing, missing_label, changes or {}
            )
        else:
            figure, axes = _histogram([r for _, r in rates], target, target_label)
        axes.set_title(title, fontsize=11)
        # the widest left label: a commune name, or the histogram's largest count
        _fit_margins(
            figure,
            [name for name, _ in rates] + missing if bars else [str(len(rates))],
        )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _fit_margins(figure: Any, labels: list[str]) -> None:
    """Room for the commune names, measured, instead of ``bbox_inches="tight"``.

    "tight" draws the whole figure twice; measuring the longest name costs almost nothing and
    halves the time to make the chart.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.font_manager import FontProperties

    renderer = FigureCanvasAgg(figure).get_renderer()  # type: ignore[no-untyped-call]
    prop = FontProperties(family="DejaVu Sans", size=LABEL_SIZE)
    widest = max(
        (renderer.get_text_width_height_descent(label, prop, ismath=False)[0] for label in labels),
        default=0.0,
    )
    width, height = figure.get_size_inches() * figure.dpi
    points = figure.dpi / 72
    figure.subplots_adjust(
        left=(widest + 12 * points) / width + 0.02,
        right=1 - 30 * points / width,  # the value printed after the longest bar
        top=1 - 26 * points / height,
        bottom=52 * points / height,  # the x axis, and the legend under it
    )


def _bars(
    rates: list[tuple[str, float]],
    target: float,
    label: str,
    highlight: str | None,
    missing: list[str],
    missing_label: str,
    changes: dict[str, float],
) -> tuple[Any, Any]:
    ordered = sorted(rates, key=lambda item: item[1])
    names = [name for name, _ in ordered]
    values = [value for _, value in ordered]
    from matplotlib.figure import Figure

    rows = len(ordered) + len(missing)
    figure = Figure(figsize=(7.5, max(2.8, 0.26 * rows + 1.6)))
    axes = figure.subplots()
    # communes without a report at the top, as gaps with a word, then lowest to highest
    all_names = names + sorted(missing, key=vi_key)
    axes.set_yticks(range(len(all_names)), all_names)
    for row, _name in enumerate(sorted(missing, key=vi_key), start=len(names)):
        axes.text(1, row, missing_label, va="center", fontsize=7, color="#7f8c8d", style="italic")
    colours = [BELOW if value <= target else ABOVE for value in values]
    bars = axes.barh(range(len(names)), values, color=colours)
    if highlight in names:
        bars[names.index(highlight)].set_edgecolor("black")
        bars[names.index(highlight)].set_linewidth(1.5)
    axes.axvline(target, color=TARGET_COLOUR, linestyle="--", linewidth=1.2, label=label)
    axes.set_xlim(0, 100)
    axes.set_xlabel("%")
    axes.tick_params(axis="y", labelsize=LABEL_SIZE)
    for bar, name, value in zip(bars, names, values, strict=True):
        text = f"{value:.1f}".replace(".", ",")
        if name in changes:
            text += f" ({changes[name]:+.1f})".replace(".", ",").replace("-", "−")
        axes.text(value + 0.5, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=7)
    axes.set_ylim(-0.6, max(len(all_names), 3) - 0.4)  # one commune: a bar, not a wall
    # under the axis, never over a bar or a name
    axes.legend(loc="upper right", bbox_to_anchor=(1.0, -0.08), fontsize=8, frameon=False)
    return figure, axes


def _histogram(values: list[float], target: float, label: str) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 4))
    axes = figure.subplots()
    _, edges, drawn = axes.hist(values, bins=40, range=(0, 100), color=ABOVE)
    patches: list[Any] = list(drawn)  # type: ignore[arg-type]  # one series: a patch per bin
    for left, patch in zip(edges, patches, strict=False):
        if left < target:
            patch.set_facecolor(BELOW)
    axes.axvline(target, color=TARGET_COLOUR, linestyle="--", linewidth=1.2, label=label)
    axes.set_xlabel("%")
    axes.tick_params(axis="y", labelsize=LABEL_SIZE)
    axes.legend(loc="upper left", fontsize=8)
    return figure, axes
