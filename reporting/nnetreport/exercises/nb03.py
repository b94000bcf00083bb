"""Checkers of notebook 03-python-numpy-cython's exercises (what the article's memo
returns for a batch of two; the shape of a Jacobian J^{l,k}; the multiply-adds
of the lesson kernel's forward sweep)."""

import numpy as np

# -- 3.1 · the memo without b, on a batch of two ------------------------------------

#: exercise 3.1's net 1 -> 1: its flat parameters (weight w, bias b), inputs and targets
EX31_PARAMS = (1.0, 0.0)
EX31_X = ((2.0,), (-1.0,))
EX31_T = ((0.0,), (1.0,))


def _sigmoid(h):
    return 1.0 / (1.0 + np.exp(-h))


def ex31_gradients():
    """``(buggy, correct, swapped)`` gradients (dE/dw, dE/db) of exercise 3.1's batch.

    ``buggy`` is what the article's memo returns (every sample handed sample 0's
    da/dw), ``correct`` eq. (1) with each sample's own derivative, ``swapped``
    every sample handed sample 1's (the memo filled by the wrong sample).
    """
    w, b = EX31_PARAMS
    x, t = np.array(EX31_X)[:, 0], np.array(EX31_T)[:, 0]
    a = _sigmoid(w * x + b)
    e, slope = a - t, a * (1 - a)
    dadw = np.stack([slope * x, slope], axis=1)  # per sample: (da/dw, da/db)
    c = 2 / x.size  # 2 / (B n_L), n_L = 1
    return c * e.sum() * dadw[0], c * (e[:, None] * dadw).sum(0), c * e.sum() * dadw[1]


def check_31(answer):
    got = np.asarray(answer, dtype=np.float64).ravel()
    if got.size != 2:
        return False, (
            f"the answer has {got.size} numbers; it is two, dE/dw and dE/db (in that order). "
            "Hint: W^0 of a 1 -> 1 net is 2 x 1, the weight and then the bias."
        )
    buggy, correct, swapped = ex31_gradients()

    def close(v):
        return np.allclose(got, v, rtol=2e-3, atol=1e-5)

    if close(buggy):
        flips = " (the bug even flips a sign)" if np.any(np.sign(buggy) != np.sign(correct)) else ""
        return True, (
            f"({buggy[0]:.5f}, {buggy[1]:.5f}): both samples' errors times sample 0's da/dw. "
            f"The correct gradient is ({correct[0]:.5f}, {correct[1]:.5f}){flips}."
        )
    if close(correct):
        hint = (
            "that is the correct gradient, each sample with its own da/dw. The memo key has no b: "
            "sample 1 finds sample 0's derivatives already there"
        )
    elif close(swapped):
        hint = "the memo is filled by the first sample, b = 0, and sample 1 reads what it left"
    elif close(buggy[::-1]) or close(correct[::-1]):
        hint = "the order: dE/dw first, then dE/db (the bias row is W^0's last)"
    elif close(buggy / 2) or close(buggy * 2):
        hint = "the factor 2/(B n_L) of eq. (1) is 2/2 = 1 here"
    else:
        hint = (
            "eq. (1) with B = 2, n_L = 1: dE/dw = sum_b e_b da/dw, e_b = a_b - t_b, where the memo "
            "hands both samples sample 0's da/dw = g'(h_0) x_0 (da/db = g'(h_0)), g' = a (1 - a)"
        )
    return False, f"({got[0]:.5g}, {got[1]:.5g}) is not what the memo returns. Hint: {hint}."


# -- 3.2 · the shape of J^{l,k} --------------------------------------------------------

#: exercise 3.2's net and batch: J^{2,0} of 784 -> 32 -> 16 -> 10 on B = 5 samples
EX32_LAYERS = (784, 32, 16, 10)
EX32_B = 5
EX32_L, EX32_K = 2, 0


def ex32_shape():
    """The shape of ``NpNet.jacobians(acts, k, l)`` for exercise 3.2: (B, n_l, n_{k+1})."""
    n = EX32_LAYERS
    return (EX32_B, n[EX32_L], n[EX32_K + 1])


def check_32(answer):
    got = tuple(int(v) for v in answer)
    want = ex32_shape()
    if got == want:
        return True, (
            f"{want}: one ({want[1]}, {want[2]}) matrix per sample, da^2/dh^1, "
            "rows the activations of layer 2, columns the h of layer 1"
        )
    B, nl, nk1 = want
    if got == (B, nk1, nl):
        hint = "J^{l,k}_qj = da^l_q / dh^{k+1}_j: rows (q) run over layer l, columns (j) over k+1"
    elif got == (nl, nk1):
        hint = "NpNet keeps one Jacobian per sample: the batch axis comes first"
    elif got in ((B, nl + 1, nk1), (B, nl, nk1 + 1), (B, nl, EX32_LAYERS[EX32_K] + 1)):
        hint = (
            "J carries no bias row or column: a^k_i (bias included) was factored out, and the "
            "bias neuron's activation is the constant 1"
        )
    elif got == (B, EX32_LAYERS[-1], nk1):
        hint = "that is J^{L,0}, at the output; the exercise asks for l = 2"
    else:
        hint = "J^{l,k} = da^l/dh^{k+1} has one row per neuron of layer l, one column per h^{k+1}"
    return False, f"{got} is not the shape of J^{{2,0}}. Hint: {hint}."


# -- 3.3 · the multiply-adds of the forward sweep ---------------------------------------

#: the nets on which exercise 3.3 calls the student's function
EX33_NETS = ((784, 16, 16, 10), (784, 64, 784), (3, 2), (5, 4, 3, 2), (10, 1, 10))


def forward_madds(layers):
    """Multiply-adds of one sample's forward pass in the lesson kernel: sum of n_l n_{l+1}."""
    return sum(a * b for a, b in zip(layers[:-1], layers[1:]))


def check_33(answer):
    if not callable(answer):
        return False, (
            "the answer is a function of the layer widths, e.g. def madds(layers): ... "
            "Hint: one multiply-add per weight that is not a bias."
        )
    got = {n: int(answer(n)) for n in EX33_NETS}
    want = {n: forward_madds(n) for n in EX33_NETS}
    if got == want:
        return True, (
            f"784-16-16-10: {want[EX33_NETS[0]]:,} multiply-adds per sample, 784-64-784: "
            f"{want[EX33_NETS[1]]:,}; the gradient's sum over b does about as many again "
            "(one per weight, bias included)"
        )
    net = next(n for n in EX33_NETS if got[n] != want[n])
    if all(got[n] == sum((a + 1) * b for a, b in zip(n[:-1], n[1:])) for n in EX33_NETS):
        hint = "the bias row is not multiplied: h starts from it (h[j] = W[n[l] * m + j])"
    elif all(got[n] == sum(n) for n in EX33_NETS) or all(got[n] == n[0] for n in EX33_NETS):
        hint = "for each output j of layer l + 1, every input i of layer l: a product of widths"
    else:
        hint = "count the runs of h[j] += v * W[i * m + j]: i over n_l, j over n_{l+1}, every l"
    return False, (
        f"for {'-'.join(map(str, net))} your function gives {got[net]:,}, the kernel does "
        f"{want[net]:,}. Hint: {hint}."
    )


CHECKS = {"3.1": check_31, "3.2": check_32, "3.3": check_33}
