"""The article this report reproduces, its figures as printed, with their source.

Mateo de Mayo, *Implementación Red Feedforward*, FaMAF, Universidad Nacional
de Córdoba, 2021; public code github.com/mateosss/nnet. Every figure below is
quoted, not computed; ``SOURCE`` says where each group comes from.
``notebooks/00-overview`` sets them beside ours.

``MemoWithoutSamplePyNet`` rebuilds, with our own PyNet, the one bug of the
article's pure-Python network: its ``dadw`` memo key leaves out the sample
index b (notebook 03, section "The article's PyNet memo").
"""

from nnetlib.nets.pynet import PyNet

CITATION = (
    "Mateo de Mayo, Implementación Red Feedforward, FaMAF, Universidad Nacional "
    "de Córdoba, 2021; public code github.com/mateosss/nnet"
)
#: the citation as one markdown paragraph (the first cell of every notebook)
CITATION_MD = (
    "This report reproduces **Mateo de Mayo, *Implementación Red Feedforward*, "
    'FaMAF, Universidad Nacional de Córdoba, 2021** ("the article"), and its public '
    "code, [github.com/mateosss/nnet](https://github.com/mateosss/nnet)."
)
CODE_URL = "https://github.com/mateosss/nnet"
CODE_COMMIT = "da143d473cf0dd11384e0aa86b9fd1a8d61241c6"

SOURCE = {
    "timing": "de Mayo (2021), timing table, 'training time of one epoch in seconds', "
    "classifier 784-16-16-10",
    "results": "de Mayo (2021), results after 16 epochs, test set",
    "claims": "de Mayo (2021), discussion of the results, and its note (Nota) on the derivation",
    "ga": "de Mayo (2021), genetic-algorithm section; settings read from its public code",
    "future": "de Mayo (2021), closing list of future work",
    "measured": "a quoted measurement, made outside this repository's runs: the article's public "
    "code at " + CODE_COMMIT[:7] + ", run on this project's 2-core machine on 2026-11-29 (one SGD "
    "step on a batch of 1000, float32, 1 thread, median of 7 interleaved rounds)",
    "memo": "the article's public code at " + CODE_COMMIT[:7] + ": dadw memo key (l, q, k, i, j)",
}

#: seconds "per epoch" as printed; columns are CPU x threads
TIMING_COLUMNS = ("i7-7700HQ x1", "E5-2680 x1", "i7-7700HQ x4", "E5-2680 x24")
TIMING_TABLE = {
    "py": {"i7-7700HQ x1": 405.0, "E5-2680 x1": 467.0},
    "np": {"i7-7700HQ x1": 6.31, "E5-2680 x1": 7.14},
    "cy": {"i7-7700HQ x1": 3.97, "E5-2680 x1": 4.23, "i7-7700HQ x4": 1.71, "E5-2680 x24": 0.63},
    "tr": {"i7-7700HQ x1": 0.08, "E5-2680 x1": 0.10},
}

#: test-set figures after 16 epochs
CLASSIFIER_ACCURACY = {"Nnet": 0.91, "Nnet*": 0.92, "PyTorch": 0.90}
AUTOENCODER_MSE = {"Nnet": 0.0547, "Nnet*": 0.0473, "PyTorch": 0.0532}

#: claims in words, as the article makes them
CLAIMS = {
    "same_weights": "from the same weights, Nnet and PyTorch show no significant difference",
    "train_identical": "train-set results are virtually identical to the test-set ones",
    "bias_init": "PyTorch initializes biases slightly differently, which explains the "
    "Nnet / PyTorch gap",
    "ga": "the genetic algorithm does not exceed 25 % test accuracy on the classifier",
}
GA_MAX_ACCURACY = 0.25
GA_SETTINGS = {
    "population": 8,
    "mutation_rate": 5 / 1000,
    "crossover_rate": 0.7,
    "selection": "roulette",
    "fitness_batch": 10,
}

#: the article's future-work items (notebook 08 takes each one up)
FUTURE_WORK = (
    "backpropagation",
    "cross-entropy",
    "Adam",
    "dropout",
    "GPUs",
    "automatic differentiation",
)

#: quoted, not computed here: the article's code timed outside this repository's runs
#: (SOURCE["measured"]), seconds per batch of 1000
MEASURED_HERE_BATCH_S = {"cy": 3.90, "np": 9.09, "torch_1thread": 0.00272}
MEASURED_HERE_PY_SAMPLE_S = 4.30
BATCHES_PER_EPOCH = 60

#: max |gradient error| of the article's PyNet against autograd, float64 (SOURCE["memo"])
MEMO_BUG_ERRORS = {
    "3-2-2": {1: 1.1e-8, 2: 1.8e-2, 4: 8.8e-4},
    "4-3-3-2": {1: 9.5e-9, 2: 3.6e-4, 4: 2.1e-3},
}


class MemoWithoutSamplePyNet(PyNet):
    """Our PyNet with the article's memo key (l, q, k, i, j): no sample index b.

    The memo is cleared by every feedforward, so within a batch the first
    sample fills it and every later sample reads sample 0's da/dw, weighted
    by its own error in eq. (1). Exact only for batches of one sample; for
    demonstration only (notebook 03).
    """

    def _dadw(self, l, q, k, i, j, b=0):
        key = (l, q, k, i, j)  # the bug: b is not part of the key
        if key not in self._memo:
            self._memo[key] = super()._dadw(l, q, k, i, j, b)
        return self._memo[key]


VERDICTS = ("reproduced", "exceeded", "corrected", "not reproduced")


def judge(ours, theirs, tol, lower_is_better=False):
    """Verdict of a figure against the article's (notebook 00's rule).

    'reproduced' when |ours - theirs| <= tol; otherwise 'exceeded' when ours
    is better (higher, or lower with ``lower_is_better``) and 'not
    reproduced' when it is worse. 'corrected' is never a rule's outcome: it
    is stated by hand where the article's figure is shown to be wrong.
    """
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    if abs(ours - theirs) <= tol:
        return "reproduced"
    better = ours < theirs if lower_is_better else ours > theirs
    return "exceeded" if better else "not reproduced"
