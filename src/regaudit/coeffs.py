"""Coefficient display: Keras stores float32 values widened to double (0.009999999776482582)."""

from __future__ import annotations

import math
import struct


def _as_float32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def shortest(x: float | int | None) -> str:
    """The shortest decimal that rounds to the same float32 (or the same double if it is not one).

    `0.009999999776482582` -> `0.01`; `0.021` (exact double, Keras 3) -> `0.021`.
    """
    if x is None:
        return "-"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return repr(x)
    x = float(x)
    if not math.isfinite(x):
        return repr(x)
    if x == 0:
        return "0"
    try:
        is_float32 = _as_float32(x) == x
    except OverflowError:
        is_float32 = False
    for digits in range(1, 18):
        text = f"{x:.{digits}g}"
        value = float(text)
        if value == x or (is_float32 and _as_float32(value) == x):
            return _tidy(text)
    return repr(x)


def _tidy(text: str) -> str:
    """'1e-04' -> '1e-4', '5e+00' -> '5'; keeps plain decimals as they are."""
    if "e" not in text:
        return text
    mantissa, exp = text.split("e")
    n = int(exp)
    if -5 <= n < 0 or 0 <= n < 16:
        if n >= 0:
            return repr(float(text))
        return f"{float(text):.{abs(n) + len(mantissa)}f}".rstrip("0")
    return f"{mantissa}e{n}"
