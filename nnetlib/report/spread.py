"""Timings with their spread, for the notebooks (issue 11: print median and min-max).

A notebook times a call several times with ``repeat_seconds`` and prints
``describe(seconds)``: the median and the range, never a single best value.
"""

import time

import numpy as np


def repeat_seconds(fn, repeat):
    """Wall seconds of each of ``repeat`` calls of ``fn()``, as a float array."""
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise ValueError(f"repeat must be a positive int, got {repeat!r}")
    out = np.empty(repeat)
    for n in range(repeat):
        t0 = time.perf_counter()
        fn()
        out[n] = time.perf_counter() - t0
    return out


def summary(seconds, per=1):
    """``{"median", "min", "max", "n"}`` of ``seconds / per`` (per: samples in one call)."""
    s = np.asarray(seconds, dtype=float).ravel() / per
    if s.size == 0:
        raise ValueError("seconds is empty: time at least one call")
    return {
        "median": float(np.median(s)),
        "min": float(s.min()),
        "max": float(s.max()),
        "n": int(s.size),
    }


def describe(seconds, per=1, scale=1.0, unit="s", fmt="{:.3g}"):
    """'median (min–max, n runs) unit' of ``seconds / per * scale``."""
    d = summary(seconds, per)
    m, lo, hi = (fmt.format(d[k] * scale) for k in ("median", "min", "max"))
    if d["n"] == 1:
        return f"{m} {unit} (1 run)"
    return f"{m} {unit} ({lo}–{hi}, {d['n']} runs)"
