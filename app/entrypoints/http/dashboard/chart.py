"""The overview's chart, drawn on the server as SVG (no script needed to see it): one bar
per UTC hour of today, its height the attempts, the lower part in green the successes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT, PAD, AXIS = 720, 220, 8, 28


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    total_y: float
    total_h: float
    ok_y: float
    ok_h: float
    label: str  # "13:00 UTC: 12 attempts, 10 succeeded"
    hour: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    peak: int
    ticks: list[tuple[float, int]]  # (y, value)


def hourly_chart(hours: list[dict[str, Any]]) -> Chart:
    """Bars for `hours` (each with hour, attempts, succeeded), scaled to the busiest hour."""
    peak = max((h["attempts"] for h in hours), default=0) or 1
    plot_h = HEIGHT - PAD - AXIS
    slot = (WIDTH - 2 * PAD) / 24
    bars = []
    for h in hours:
        hour = h["hour"].hour
        total_h = plot_h * h["attempts"] / peak
        ok_h = plot_h * h["succeeded"] / peak
        bars.append(Bar(round(PAD + hour * slot + 2, 1), round(slot - 4, 1), round(PAD + plot_h - total_h, 1),
                        round(total_h, 1), round(PAD + plot_h - ok_h, 1), round(ok_h, 1),
                        f"{hour:02d}:00 UTC: {h['attempts']} attempts, {h['succeeded']} succeeded", hour))
    ticks = [(round(PAD + plot_h - plot_h * f, 1), round(peak * f)) for f in (0.0, 0.5, 1.0)]
    return Chart(WIDTH, HEIGHT, PAD + plot_h, bars, peak, ticks)
