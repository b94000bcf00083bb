"""The activation g of the report (sigmoid) and its derivative g'.

Both are numerically stable for any float input: ``scipy.special.expit``
never overflows, and g'(h) is computed from a = g(h) as a (1 - a), which
is what eq. (2) of 01-derivation uses (g'(h^l_q) = a^l_q (1 - a^l_q)).
"""

import numpy as np
from scipy.special import expit


def sigmoid(h):
    """g(h) = 1 / (1 + exp(-h)), elementwise, dtype preserved."""
    h = np.asarray(h)
    return expit(h).astype(h.dtype, copy=False)


def sigmoid_prime(h):
    """g'(h) = g(h) (1 - g(h)), finite for every finite or infinite h."""
    a = sigmoid(h)
    return a * (1 - a)


def sigmoid_prime_from_a(a):
    """g'(h) written in terms of the activation a = g(h)."""
    return a * (1 - a)
