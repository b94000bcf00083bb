"""Shared helpers for the test-suite: random problems and a relative error."""
import numpy as np


def rel_err(a, b):
    """max |a - b| / max |b| over lists of arrays (0 when both are 0)."""
    num = max(float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)))) for x, y in zip(a, b))
    den = max(float(np.max(np.abs(np.asarray(y, np.float64)))) for y in b)
    return num / den if den else num


def problem(layers, batch, seed=0, dtype="float64"):
    """Inputs in [0, 1) and targets in [0, 1) for ``layers``."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, layers[0])).astype(dtype)
    t = rng.random((batch, layers[-1])).astype(dtype)
    return x, t
