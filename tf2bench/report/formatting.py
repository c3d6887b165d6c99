"""Number formatting for report tables and headlines: times with units, ratios, rates, percents."""

from __future__ import annotations

import math

__all__ = [
    "NOISY_MARK",
    "fmt_bytes",
    "fmt_count",
    "fmt_percent",
    "fmt_rate",
    "fmt_ratio",
    "fmt_ratio_ci",
    "fmt_time",
    "fmt_value",
]

NOISY_MARK = "⚠"
_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _three_digits(value: float) -> str:
    """`value` with 3 significant digits and no exponent (999.7 -> "1000", 0.0123 -> "0.0123")."""
    if value == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def fmt_time(seconds: float | None, noisy: bool = False) -> str:
    """Seconds in the unit that reads best: 0.00635 -> "6.35 ms"; "-" when unknown."""
    if _is_missing(seconds):
        return "-"
    for scale, unit in _TIME_UNITS:
        if abs(seconds) >= scale or unit == "ns":
            text = f"{_three_digits(seconds / scale)} {unit}"
            break
    return f"{text} {NOISY_MARK}" if noisy else text


def fmt_ratio(value: float | None) -> str:
    """A dimensionless ratio: 7.091 -> "7.09×"."""
    return "-" if _is_missing(value) else f"{_three_digits(value)}×"


def fmt_ratio_ci(value: float | None, low: float | None, high: float | None) -> str:
    """A ratio with its confidence interval: "7.09× (6.99–7.19)"; no interval when unknown."""
    if _is_missing(low) or _is_missing(high):
        return fmt_ratio(value)
    return f"{fmt_ratio(value)} ({_three_digits(low)}–{_three_digits(high)})"


def fmt_rate(value: float | None) -> str:
    """A rate per second with a k/M/G prefix: 433951 -> "434k/s"."""
    if _is_missing(value):
        return "-"
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{_three_digits(value / scale)}{prefix}/s"
    return f"{_three_digits(value)}/s"


def fmt_percent(fraction: float | None) -> str:
    """0.553 -> "55%", 0.08 -> "8.0%", 0.0042 -> "0.42%"."""
    if _is_missing(fraction):
        return "-"
    percent = fraction * 100
    if abs(percent) >= 10:
        return f"{percent:.0f}%"
    return f"{percent:.1f}%" if abs(percent) >= 1 else f"{percent:.2g}%"


def fmt_bytes(count: float | None) -> str:
    """1.2e6 -> "1.2 MB" (decimal units)."""
    if _is_missing(count):
        return "-"
    for scale, unit in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if abs(count) >= scale:
            return f"{_three_digits(count / scale)} {unit}"
    return f"{count:.0f} B"


def fmt_count(value: float | None) -> str:
    """A count: 8.0 -> "8"; "-" when unknown."""
    return "-" if _is_missing(value) else f"{value:g}"


def fmt_value(value: object) -> str:
    """Any table cell that has no better format: None/NaN -> "-", 32.0 -> "32"."""
    if _is_missing(value):
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
