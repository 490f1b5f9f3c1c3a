"""Autologging's charts, drawn with Pillow: a feature-importance chart in milliseconds, and a
classifier's confusion matrix, ROC and precision-recall curves.

matplotlib took about 0.2 s per chart (text layout, ``tight_layout``, the Agg renderer), more
than the rest of autologging a 1,000-round LightGBM training together. A horizontal bar chart
needs none of that: bars, labels and a few ticks, drawn straight onto an image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

BAR = "#3b82f6"
INK = "#1f2937"
GRID = "#e5e7eb"
#: Bars shown at most (the largest by magnitude), as the matplotlib chart did.
MAX_BARS = 30
_ROW = 22
_WIDTH = 720


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low or abs(high) or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _label(value: float) -> str:
    return f"{value:.4g}"


def horizontal_bars(path: str, items: Sequence[tuple[str, float]], title: str) -> bool:
    """A PNG at ``path`` with one bar per ``(name, value)``, largest magnitude at the top; False
    when Pillow is missing (the chart is optional; the JSON beside it has the numbers)."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        return False
    ranked = sorted(items, key=lambda kv: abs(kv[1]))[-MAX_BARS:][::-1]
    font = ImageFont.load_default(size=12)
    title_font = ImageFont.load_default(size=14)
    label_width = min(260, max(int(font.getlength(name)) for name, _ in ranked) + 16)
    top, bottom, right = 36, 34, 24
    height = top + bottom + _ROW * len(ranked)
    image = Image.new("RGB", (_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((_WIDTH // 2, 10), title, fill=INK, font=title_font, anchor="mt")

    values = [v for _, v in ranked]
    low, high = min(0.0, *values), max(0.0, *values)
    plot_left, plot_right = label_width, _WIDTH - right
    scale = (plot_right - plot_left) / ((high - low) or 1.0)

    def x_of(value: float) -> float:
        return plot_left + (value - low) * scale

    axis_y = top + _ROW * len(ranked)
    for tick in _nice_ticks(low, high):
        x = x_of(tick)
        if plot_left - 0.5 <= x <= plot_right + 0.5:
            draw.line([(x, top), (x, axis_y)], fill=GRID)
            draw.text((x, axis_y + 4), _label(tick), fill=INK, font=font, anchor="mt")
    middle = (plot_left + plot_right) // 2
    draw.text((middle, height - 4), "importance", fill=INK, font=font, anchor="mb")
    zero = x_of(0.0)
    for row, (name, value) in enumerate(ranked):
        y = top + row * _ROW
        shown = name if font.getlength(name) <= label_width - 12 else name[:28] + "…"
        draw.text((label_width - 8, y + _ROW // 2), shown, fill=INK, font=font, anchor="rm")
        left, right_edge = sorted((zero, x_of(value)))
        draw.rectangle([(left, y + 4), (max(right_edge, left + 1), y + _ROW - 4)], fill=BAR)
    draw.line([(zero, top), (zero, axis_y)], fill=INK)
    image.save(path, format="PNG", compress_level=1)  # fast; a chart is small either way
    return True


def _fonts() -> tuple[Any, Any]:
    from PIL import ImageFont

    return ImageFont.load_default(size=12), ImageFont.load_default(size=14)


def _blend(share: float) -> tuple[int, int, int]:
    """White to the bar blue, by ``share`` in [0, 1] (a confusion matrix cell's shade)."""
    share = min(1.0, max(0.0, share))
    end = (0x1D, 0x4E, 0xD8)
    return tuple(round(255 + (e - 255) * share) for e in end)  # type: ignore[return-value]


def heatmap(
    path: str, matrix: Sequence[Sequence[float]], labels: Sequence[str], title: str
) -> bool:
    """A PNG of a square matrix of shares (a normalized confusion matrix: rows are the true
    label, columns the predicted one), each cell shaded and, when there is room, its value
    written in it; False when Pillow is missing."""
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        return False
    font, title_font = _fonts()
    count = len(labels)
    cell = max(8, min(64, 512 // max(count, 1)))
    names = [str(label)[:20] for label in labels]
    label_width = max(int(font.getlength(n)) for n in names) + 12 if names else 12
    left, top = label_width + 24, 40
    width = max(left + cell * count + 24, 360)
    left = max(left, (width - cell * count) // 2)  # centred under the title when narrow
    height = top + cell * count + label_width + 30
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((width // 2, 10), title, fill=INK, font=title_font, anchor="mt")

    def fits(text: str) -> bool:
        return cell >= 20 and font.getlength(text) <= cell - 6

    for row, values in enumerate(matrix):
        for col, value in enumerate(values):
            x, y = left + col * cell, top + row * cell
            draw.rectangle([(x, y), (x + cell - 1, y + cell - 1)], fill=_blend(value))
            text = next((t for t in (f"{value:.2g}", f"{value:.2f}") if fits(t)), None)
            if text is not None:
                ink = "white" if value > 0.5 else INK
                draw.text((x + cell // 2, y + cell // 2), text, fill=ink, font=font, anchor="mm")
    for index, name in enumerate(names):
        middle = left + index * cell + cell // 2
        draw.text(
            (left - 6, top + index * cell + cell // 2), name, fill=INK, font=font, anchor="rm"
        )
        column = Image.new("RGB", (label_width, 16), "white")
        ImageDraw.Draw(column).text((label_width, 8), name, fill=INK, font=font, anchor="rm")
        image.paste(column.rotate(90, expand=True), (middle - 8, top + cell * count + 4))
    draw.text(
        (left + cell * count // 2, height - 4), "Predicted label", fill=INK, font=font, anchor="mb"
    )
    side = Image.new("RGB", (cell * count, 16), "white")
    ImageDraw.Draw(side).text(
        (cell * count // 2, 8), "True label", fill=INK, font=font, anchor="mm"
    )
    image.paste(side.rotate(90, expand=True), (2, top))
    image.save(path, format="PNG", compress_level=1)
    return True


#: Points drawn of a curve at most: a polyline of more cannot be told apart at this size.
MAX_CURVE_POINTS = 2000


def curve(
    path: str,
    xs: Sequence[float],
    ys: Sequence[float],
    axes: tuple[str, str],
    title: str,
    legend: str,
    diagonal: bool = False,
) -> bool:
    """A PNG of one curve in the unit square (a ROC or precision-recall curve), with its
    ``legend`` (``AUC = 0.97``) and, with ``diagonal``, the chance line; False when Pillow is
    missing."""
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        return False
    font, title_font = _fonts()
    size, left, top, bottom = 400, 56, 40, 44
    width, height = left + size + 24, top + size + bottom
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((width // 2, 10), title, fill=INK, font=title_font, anchor="mt")

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * size, top + (1.0 - y) * size

    for i in range(6):
        tick = i / 5
        x, y = at(tick, tick)
        draw.line([(x, top), (x, top + size)], fill=GRID)
        draw.line([(left, y), (left + size, y)], fill=GRID)
        draw.text((x, top + size + 4), f"{tick:.1f}", fill=INK, font=font, anchor="mt")
        draw.text((left - 6, y), f"{tick:.1f}", fill=INK, font=font, anchor="rm")
    draw.rectangle([(left, top), (left + size, top + size)], outline=INK)
    if diagonal:
        for i in range(0, size, 8):  # dashed
            draw.line([at(i / size, i / size), at((i + 4) / size, (i + 4) / size)], fill=INK)
    stride = max(1, math.ceil(len(xs) / MAX_CURVE_POINTS))
    points = [at(x, y) for x, y in zip(xs[::stride], ys[::stride], strict=True)]
    if len(xs) and (len(xs) - 1) % stride:
        points.append(at(xs[-1], ys[-1]))
    if len(points) > 1:
        draw.line(points, fill=BAR, width=2)
    draw.text((left + size - 8, top + size - 8), legend, fill=INK, font=font, anchor="rb")
    draw.text((left + size // 2, height - 4), axes[0], fill=INK, font=font, anchor="mb")
    side = Image.new("RGB", (size, 16), "white")
    ImageDraw.Draw(side).text((size // 2, 8), axes[1], fill=INK, font=font, anchor="mm")
    image.paste(side.rotate(90, expand=True), (2, top))
    image.save(path, format="PNG", compress_level=1)
    return True
