"""The flat parameter vector: its layout by layer and its initial draw.

Every net keeps W^0, ..., W^{L-1} in one flat vector, row-major, layer by
layer; ``weights[k]`` has shape ``(n_k + 1, n_{k+1})`` (the last row holds the
biases, see ``nnetlib.nets.base``).  ``split_layers`` is the one place that
cuts such a vector into the weight matrices, for NumPy arrays and torch
tensors alike.
"""

import numpy as np

from ._checks import check_dtype, check_layers

#: the initial draws ``init_params`` offers (see its docstring)
INITS = ("torch", "article_uniform", "article_normal")
#: names of earlier versions, and what they are called now
_RENAMED = {"kaiming": "torch"}


def layer_shapes(layers):
    """Shapes ``(n_k + 1, n_{k+1})`` of the weight matrices of ``layers``."""
    return [(n + 1, m) for n, m in zip(layers[:-1], layers[1:])]


def n_params(layers):
    """Length of the flat parameter vector for ``layers``."""
    return sum(a * b for a, b in layer_shapes(layers))


def split(flat, shapes):
    """Views of consecutive pieces of the 1-D ``flat`` (a NumPy array or a
    torch tensor), shaped as ``shapes``; nothing is copied."""
    views, start = [], 0
    for rows, cols in shapes:
        views.append(flat[start : start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return views


def split_layers(flat, layers):
    """Views of a flat parameter vector shaped like the weight matrices W^k."""
    return split(flat, layer_shapes(layers))


def check_options(layers, init, dtype):
    """``(layers, dtype)`` checked, and ``init`` one of ``INITS``."""
    if init not in INITS:
        hint = f" ({init!r} is now called {_RENAMED[init]!r})" if init in _RENAMED else ""
        raise ValueError(f"init must be one of {INITS}, got {init!r}{hint}")
    return check_layers(layers), check_dtype(dtype)


def init_params(layers, init="torch", seed=None, dtype="float32"):
    """Draw a flat parameter vector; n is a layer's fan-in without the bias.

    ``"torch"``: every weight and bias from U(-1/sqrt(n), 1/sqrt(n)), the
    bounds of torch.nn.Linear's default.  ``"article_uniform"``: every weight
    and bias from U(-0.866/sqrt(n+1), 0.866/sqrt(n+1)), the article's Nnet
    (its code draws (U(0, 1) - 0.5) * sqrt(3/(n+1))).  ``"article_normal"``:
    N(0, 1)/sqrt(n+1), the article's Nnet*.  The draw is made in float64 and
    then cast, so a float32 and a float64 net with one seed start from the
    same weights.
    """
    layers, dtype = check_options(layers, init, dtype)
    rng = np.random.default_rng(seed)
    parts = []
    for rows, cols in layer_shapes(layers):
        fan_in = rows - 1
        if init == "torch":
            bound = 1 / np.sqrt(fan_in)
            w = rng.uniform(-bound, bound, size=(rows, cols))
        elif init == "article_uniform":
            bound = 0.5 * np.sqrt(3 / rows)
            w = rng.uniform(-bound, bound, size=(rows, cols))
        else:
            w = rng.standard_normal((rows, cols)) / np.sqrt(rows)
        parts.append(w.ravel())
    return np.concatenate(parts).astype(dtype)
