"""Solutions to notebook 03's exercises, and a plausible wrong answer to each."""

import numpy as np

from nnetreport import article
from nnetreport.exercises import nb03


def _memo_gradient():
    """Exercise 3.1 run on the article's memo itself (MemoWithoutSamplePyNet)."""
    net = article.MemoWithoutSamplePyNet((1, 1), params=nb03.EX31_PARAMS, dtype="float64")
    return net.gradients(np.array(nb03.EX31_X), np.array(nb03.EX31_T))[0].ravel()


def _correct_gradient():
    """Exercise 3.1's batch with each sample's own derivative (the bug forgotten)."""
    from nnetlib import PyNet

    net = PyNet((1, 1), params=nb03.EX31_PARAMS, dtype="float64")
    return net.gradients(np.array(nb03.EX31_X), np.array(nb03.EX31_T))[0].ravel()


def madds(layers):
    """One multiply-add per weight that is not a bias, per sample."""
    return sum(n * m for n, m in zip(layers[:-1], layers[1:]))


def madds_with_bias(layers):
    """The bias row counted as if it were multiplied (wrong)."""
    return sum((n + 1) * m for n, m in zip(layers[:-1], layers[1:]))


SOLUTIONS = {
    "3.1": _memo_gradient(),
    "3.2": (5, 16, 32),
    "3.3": madds,
}

WRONG = {
    "3.1": _correct_gradient(),  # the correct gradient: the bug forgotten
    "3.2": (5, 32, 16),  # transposed
    "3.3": madds_with_bias,  # the bias row counted
}
