"""Small SVG line charts drawn on the server: no JavaScript, allowed by our CSP.

Each chart is paired in the templates with a table holding the same numbers, so it is
readable without sight of the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 260
# Room for tick labels drawn up to 24 units tall: on a phone the 640-unit chart is about 330 px
# wide, so labels are set in larger units there to render at 12 CSS px or more (ripple.css).
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 72, 32, 16, 44  # the last hour label is centred on the right edge
# Each series differs by pattern and marker as well as colour (WCAG 1.4.1): line i is drawn
# with dash pattern `dash-{i}` (ripple.css; dash-0 is solid) and marker MARKERS[i].
MARKERS = ("circle", "square", "triangle", "diamond", "triangle-down", "cross")
MARKER_EVERY = 8  # about this many markers per line


def marker_path(shape: str, x: float, y: float, r: float = 5.0) -> str:
    """SVG path data of one marker of `shape` centred on (x, y)."""
    if shape == "circle":
        return f"M{x - r:.1f},{y:.1f}a{r},{r} 0 1,0 {2 * r},0a{r},{r} 0 1,0 {-2 * r},0Z"
    if shape == "square":
        return f"M{x - r:.1f},{y - r:.1f}h{2 * r}v{2 * r}h{-2 * r}Z"
    if shape == "triangle":
        return f"M{x:.1f},{y - r * 1.2:.1f}L{x + r * 1.1:.1f},{y + r * 0.8:.1f}L{x - r * 1.1:.1f},{y + r * 0.8:.1f}Z"
    if shape == "triangle-down":
        return f"M{x:.1f},{y + r * 1.2:.1f}L{x + r * 1.1:.1f},{y - r * 0.8:.1f}L{x - r * 1.1:.1f},{y - r * 0.8:.1f}Z"
    if shape == "diamond":
        return (
            f"M{x:.1f},{y - r * 1.3:.1f}L{x + r:.1f},{y:.1f}L{x:.1f},{y + r * 1.3:.1f}L{x - r:.1f},{y:.1f}Z"
        )
    return f"M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x + r:.1f},{y - r:.1f}L{x - r:.1f},{y + r:.1f}"


@dataclass
class Line:
    label: str
    values: list[float]
    css_class: str
    band: tuple[list[float], list[float]] | None = None  # (low, high), drawn shaded
    points: str = ""
    band_points: str = ""
    dash: str = ""  # the css class of its dash pattern
    marker: str = ""  # the shape of its markers (MARKERS)
    marker_points: str = ""  # path data of its markers along the line
    key_marker: str = ""  # path data of its marker in the legend key


@dataclass
class Chart:
    title: str
    description: str
    times: list[float]
    y_label: str
    y_max: float
    lines: list[Line]
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    pad_left: int = PAD_LEFT
    pad_right: int = PAD_RIGHT
    pad_bottom: int = PAD_BOTTOM


def _x(t: float, t_max: float) -> float:
    return PAD_LEFT + (WIDTH - PAD_LEFT - PAD_RIGHT) * (t / t_max if t_max else 0)


def _y(v: float, y_max: float) -> float:
    return HEIGHT - PAD_BOTTOM - (HEIGHT - PAD_TOP - PAD_BOTTOM) * (min(v, y_max) / y_max if y_max else 0)


def line_chart(
    title: str,
    description: str,
    times: list[float],
    lines: list[Line],
    *,
    y_label: str,
    y_max: float | None = None,
    percent: bool = False,
) -> Chart:
    """Lay out a chart of `lines` over `times` (hours)."""
    t_max = times[-1] if times else 1.0
    top = y_max or max(
        [max(line.values, default=0) for line in lines]
        + [max(line.band[1], default=0) for line in lines if line.band]
        + [1e-9]
    )
    every = max(1, len(times) // MARKER_EVERY)
    for i, line in enumerate(lines):
        xy = [(_x(t, t_max), _y(v, top)) for t, v in zip(times, line.values, strict=False)]
        line.points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        line.dash, line.marker = f"dash-{i % len(MARKERS)}", MARKERS[i % len(MARKERS)]
        # markers start at a different sample per line so lines on top of each other still show theirs
        line.marker_points = "".join(marker_path(line.marker, x, y) for x, y in xy[i % every :: every])
        line.key_marker = marker_path(line.marker, 18, 8)
        if line.band:
            low, high = line.band
            upper = [f"{_x(t, t_max):.1f},{_y(v, top):.1f}" for t, v in zip(times, high, strict=False)]
            lower = [f"{_x(t, t_max):.1f},{_y(v, top):.1f}" for t, v in zip(times, low, strict=False)]
            line.band_points = " ".join(upper + lower[::-1])
    step = 12 if t_max > 36 else 6 if t_max > 12 else 2
    x_ticks = [(_x(h, t_max), f"{h:g} h") for h in range(0, int(t_max) + 1, step)]
    y_ticks = [
        (_y(top * f, top), f"{top * f * 100:.0f}%" if percent else f"{top * f:.2g}") for f in (0, 0.5, 1)
    ]
    return Chart(title, description, times, y_label, top, lines, x_ticks, y_ticks)


def downsample(times: list[float], series: dict[str, list[float]], max_points: int = 73):
    """Every k-th sample so a chart and its table stay readable (the last sample is kept)."""
    if len(times) <= max_points:
        return times, series
    k = -(-len(times) // (max_points - 1))
    picks = list(range(0, len(times), k))
    if picks[-1] != len(times) - 1:
        picks.append(len(times) - 1)
    return [times[i] for i in picks], {name: [values[i] for i in picks] for name, values in series.items()}


@dataclass
class Bar:
    label: str
    value: float
    text: str  # the value as shown
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0


@dataclass
class BarChart:
    title: str
    description: str
    bars: list[Bar]
    width: int
    height: int
    horizontal: bool
    top: float = 1.0  # the value a full-length bar stands for


def bar_chart(
    title: str,
    description: str,
    items: list[tuple[str, float, str]],
    *,
    horizontal: bool,
    top: float | None = None,
) -> BarChart:
    """Bars for (label, value, text) items: horizontal bars with labels on the left, or columns."""
    top = top or max([value for _, value, _ in items] + [1e-9])
    bars = [Bar(label, value, text) for label, value, text in items]
    if horizontal:
        row, label_w, width = 26, 180, 640
        for i, bar in enumerate(bars):
            bar.x, bar.y = label_w, 6 + i * row
            bar.width, bar.height = (width - label_w - 70) * min(bar.value, top) / top, row - 8
        return BarChart(title, description, bars, width, 12 + row * len(bars), True, top)
    width, height, bottom = 640, 200, 40
    slot = (width - 20) / max(1, len(bars))
    for i, bar in enumerate(bars):
        bar.height = (height - bottom - 20) * min(bar.value, top) / top
        bar.x, bar.width = 10 + i * slot + slot * 0.15, slot * 0.7
        bar.y = height - bottom - bar.height
    return BarChart(title, description, bars, width, height, False, top)
