"""Solutions to notebook 02's exercises, and a plausible wrong answer to each."""

import numpy as np


def softplus(h):
    """g(h) = log(1 + e^h)."""
    return np.log1p(np.exp(h))


def softplus_prime(h):
    """g'(h) = e^h / (1 + e^h) = 1 / (1 + e^-h), the sigmoid."""
    return 1 / (1 + np.exp(-h))


SOLUTIONS = {
    "2.1": (softplus, softplus_prime),
    "2.2": float(np.finfo(np.float64).eps) ** (1 / 3),
}

WRONG = {
    "2.1": (softplus, lambda h: 1 / (1 + np.exp(h))),  # the sign of h slipped
    "2.2": float(np.sqrt(np.finfo(np.float64).eps)),  # the one-sided difference's step
}
