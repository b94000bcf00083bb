"""Shared helpers for the test-suite: the network classes, random problems, a relative error."""

import numpy as np
import pytest

# the article's five implementations, then 08-beyond's generalized nets
ARTICLE_NETS = ("PyNet", "NpNet", "CyNet", "GpuNet", "TorchNet")
NET_NAMES = ARTICLE_NETS + ("FrontNet", "BackpropNet")
_NEEDS_TORCH = {"GpuNet", "TorchNet", "ForwardGradientNet"}


def net_class_named(name):
    """The class ``nnetlib.<name>``, or a skip that says why it cannot run here
    (inside a test, or at the top of a test module)."""
    if name in _NEEDS_TORCH:
        pytest.importorskip("torch", reason=f"{name} needs torch")
    if name == "CyNet":
        cynet = pytest.importorskip("nnetlib.nets.cynet")
        if not cynet.available():
            pytest.skip(
                "CyNet: the Cython kernel nnetlib._ext._frontprop is not built "
                "(pip install -e . or python setup.py build_ext --inplace)",
                allow_module_level=True,
            )
    import nnetlib

    return getattr(nnetlib, name)


def nets(*names):
    """Run a test that takes the ``net_class`` fixture (conftest.py) on these classes only."""
    return pytest.mark.parametrize("net_class", names, indirect=True)


def rel_err(a, b):
    """max |a - b| / max |b| over lists of arrays (0 when both are 0)."""
    num = max(
        float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))
        for x, y in zip(a, b)
    )
    den = max(float(np.max(np.abs(np.asarray(y, np.float64)))) for y in b)
    return num / den if den else num


def problem(layers, batch, seed=0, dtype="float64"):
    """Inputs in [0, 1) and targets in [0, 1) for ``layers``."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, layers[0])).astype(dtype)
    t = rng.random((batch, layers[-1])).astype(dtype)
    return x, t
