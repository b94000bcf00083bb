"""Solutions to notebook 01's exercises, and a plausible wrong answer to each."""

import numpy as np

from ..nb01 import EX11_W0, EX11_W1, EX11_X


def _by_hand():
    """Exercise 1.1 as a student computes it: the forward pass, then eq. (2) for k = l − 2.

    Returns (the answer, the answer without the inner factor g'(h^1_0)).
    """
    W0, W1 = np.array(EX11_W0), np.array(EX11_W1)
    a0 = np.append(EX11_X, 1.0)  # the input and its bias neuron
    a1 = 1 / (1 + np.exp(-(a0 @ W0)))
    a2 = 1 / (1 + np.exp(-(np.append(a1, 1.0) @ W1)))
    g2, g1 = a2[0] * (1 - a2[0]), a1[0] * (1 - a1[0])  # g'(h^2_0), g'(h^1_0)
    return g2 * W1[0, 0] * g1 * a0[1], g2 * W1[0, 0] * a0[1]


SOLUTIONS = {
    "1.1": _by_hand()[0],
    "1.2": ["direct", "zero", "recursive", "zero", "zero"],
    "1.3": (32, 785, 16),
}

WRONG = {
    "1.1": _by_hand()[1],  # the inner slope g'(h^1_0) forgotten
    "1.2": ["direct", "zero", "zero", "zero", "zero"],  # i = n_k (a bias) taken for a zero
    "1.3": (32, 784, 16),  # the bias row forgotten
}
