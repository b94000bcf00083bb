"""Solutions of notebook 08-beyond's exercises, and a plausible wrong answer to each."""

import numpy as np

from nnetreport.exercises.nb08 import LOGITS, TARGETS

_O = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)  # the softmax, row by row

SOLUTIONS = {
    # dE/dh^L = (O - t) / B: the softmax's Jacobian and the log cancel (rows of t sum to 1)
    "8.1": (_O - TARGETS) / LOGITS.shape[0],
    # 784-32-32-32-10, per sample: forward 27,562 + output 10 + Jacobian sweep 37,888
    # + contraction 2,400 + weight gradients 27,562; backprop's reverse sweep is 2,464
    "8.2": (95_422, 57_598),
}

WRONG = {
    "8.1": _O - TARGETS,  # the 1/B of the mean over the batch forgotten
    "8.2": (95_210, 57_386),  # layer maps counted as n_k n_(k+1): the bias rows forgotten
}
