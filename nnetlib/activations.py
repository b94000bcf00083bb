"""The activations g of the nets and their slopes g': the one table.

``ACTIVATIONS`` maps a name to an ``Activation``: g, its slope g'(h) and the
name of the torch function that computes g.  A slope is written from the
activation a = g(h) where that is exact, as eq. (2) of 01-derivation uses it
(g'(h^l_q) = a^l_q (1 - a^l_q) for the sigmoid), and from h otherwise (relu).
The slopes use operators only, so they take NumPy arrays, torch tensors and
Python floats alike.  ``sigmoid`` is stable for any float input:
``scipy.special.expit`` never overflows.
"""

import math

import numpy as np
from scipy.special import expit


def sigmoid(h):
    """g(h) = 1 / (1 + exp(-h)), elementwise, dtype preserved."""
    h = np.asarray(h)
    return expit(h).astype(h.dtype, copy=False)


def sigmoid_float(h):
    """g(h) of one Python float, in pure Python (PyNet's arithmetic), stable."""
    if h >= 0:
        return 1.0 / (1.0 + math.exp(-h))
    z = math.exp(h)
    return z / (1.0 + z)


def sigmoid_slope(a):
    """The sigmoid's g'(h) = a (1 - a), from its activation a = g(h)."""
    return a * (1 - a)


def sigmoid_prime(h):
    """g'(h) = g(h) (1 - g(h)), finite for every finite or infinite h."""
    return sigmoid_slope(sigmoid(h))


def tanh_slope(a):
    """tanh's g'(h) = 1 - a^2, from its activation a = tanh(h)."""
    return 1 - a * a


def relu(h):
    """g(h) = max(h, 0)."""
    return np.maximum(h, 0)


def relu_slope(h):
    """relu's g'(h): 1 for h > 0, else 0 (at h == 0 too, as torch.relu's backward)."""
    return (h > 0).astype(h.dtype)


class Activation:
    """A hidden-layer activation: ``g(h)``, its slope ``g_prime(h, a)`` (from
    h or from a = g(h), whichever is exact) and ``torch``, the name of the
    torch function that computes g."""

    def __init__(self, name, g, g_prime, torch):
        self.name = name
        self.g = g
        self.g_prime = g_prime
        self.torch = torch

    def __repr__(self):
        return f"Activation({self.name!r})"


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, lambda h, a: sigmoid_slope(a), "sigmoid"),
    "tanh": Activation("tanh", np.tanh, lambda h, a: tanh_slope(a), "tanh"),
    "relu": Activation("relu", relu, lambda h, a: relu_slope(h), "relu"),
}
