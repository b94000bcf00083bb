"""Checkers of notebook 01-derivation's exercises (eq. (2) by hand, its cases, DADW).

Every true answer is computed here from the library (``PyNet.dadw``,
``diagram.dadw_case``, ``NpNet.DADW``), never typed in.
"""

import numpy as np

from .. import diagram
from ..widgets import forward_activations

# -- 1.1 · ∂a/∂w by hand -------------------------------------------------------

#: the 2-2-1 sigmoid net of exercise 1.1: W^0 (rows i = 0, 1 and the bias row
#: i = 2; columns j = 0, 1), W^1 (rows 0, 1 and the bias row 2; column 0) and the input
EX11_W0 = ((0.5, -0.3), (0.8, 0.2), (0.1, -0.4))
EX11_W1 = ((1.2,), (-0.7,), (0.3,))
EX11_X = (1.0, 0.5)
#: the derivative asked for: da^2_0 / dw^0_10, as (l, q, k, i, j)
EX11_INDEX = (2, 0, 0, 1, 0)


def ex11_net():
    """The PyNet of exercise 1.1, fed its input (float64)."""
    from nnetlib import PyNet

    params = np.concatenate([np.ravel(EX11_W0), np.ravel(EX11_W1)])
    net = PyNet((2, 2, 1), params=params, dtype="float64")
    net.feedforward(np.array([EX11_X]))
    return net


def ex11_parts():
    """The quantities of exercise 1.1: the activations and slopes it uses, and the answer."""
    net = ex11_net()
    l, q, k, i, j = EX11_INDEX
    w1 = np.array(EX11_W1)
    a0, a1, a2 = forward_activations([np.array(EX11_W0), w1], EX11_X)  # each with its bias 1
    return {
        "a0_i": a0[i],
        "a1_j": a1[j],
        "a2_q": a2[q],
        "g1": a1[j] * (1 - a1[j]),  # g'(h^1_j)
        "g2": a2[q] * (1 - a2[q]),  # g'(h^2_q)
        "w1_jq": w1[j, q],
        "true": net.dadw(l, q, k, i, j),
    }


def check_11(answer):
    p = ex11_parts()
    value = float(answer)
    true = p["true"]
    if abs(value - true) <= 1e-9:
        return True, (
            f"∂a²₀/∂w⁰₁₀ = {true:.10f}, the shortcut case k = l − 2 of eq. (2): "
            "g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁ (PyNet.dadw agrees)."
        )
    # the usual slips, each recognised by its value
    slips = {
        "the outer factor g'(h²₀)": p["w1_jq"] * p["g1"] * p["a0_i"],
        "the inner factor g'(h¹₀)": p["g2"] * p["w1_jq"] * p["a0_i"],
        "the weight w¹₀₀ on the path": p["g2"] * p["g1"] * p["a0_i"],
    }
    for missing, v in slips.items():
        if abs(value - v) <= 1e-6 * abs(v):
            return False, (
                f"{value:.6g} leaves out {missing}. Hint: the case k = l − 2 of eq. (2) has four "
                "factors, g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁, one g' per layer the path crosses."
            )
    if abs(value - p["g1"] * p["a0_i"]) <= 1e-6 * p["g1"] * p["a0_i"]:
        return False, (
            f"{value:.6g} is ∂a¹₀/∂w⁰₁₀, the direct case one layer short of the output. "
            "Hint: go on to layer 2, which multiplies by w¹₀₀ and g'(h²₀)."
        )
    with_a = p["a2_q"] * p["w1_jq"] * p["a1_j"] * p["a0_i"]
    if abs(value - with_a) <= 1e-6 * abs(with_a):
        return False, (
            f"{value:.6g} uses the activations g(h) where eq. (2) has the slopes g'(h). "
            "Hint: for the sigmoid g'(h) = a (1 − a), with a = g(h)."
        )
    if abs(value - true) <= 1e-4 * abs(true):
        return False, (
            f"{value:.6g} is close (within {abs(value / true - 1):.0e} relative) but not to 1e-9. "
            "Hint: keep full precision: compute with NumPy instead of rounded hand values."
        )
    return False, (
        f"{value:.6g} is not ∂a²₀/∂w⁰₁₀. Hint: the weight lies two layers before the output "
        "(k = l − 2): g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁, with h¹ = a⁰ W⁰ (bias row included), "
        "a = g(h) and g'(h) = a (1 − a)."
    )


# -- 1.2 · which case of eq. (2) ---------------------------------------------------

#: the running net of notebook 01 and the (l, q, k, i, j) of exercise 1.2
EX12_LAYERS = (3, 4, 4, 3, 2)
EX12_TUPLES = (
    (2, 1, 1, 0, 1),
    (3, 3, 1, 2, 0),
    (4, 1, 0, 3, 2),
    (2, 0, 1, 4, 3),
    (1, 2, 1, 0, 0),
)

#: the accepted words: each maps to the ``diagram`` cases it may name
SYNONYMS = {
    "zero": {"l0", "bias", "k_ge_l", "j_ne_q"},
    "0": {"l0", "bias", "k_ge_l", "j_ne_q"},
    "none": {"l0", "bias", "k_ge_l", "j_ne_q"},
    "l0": {"l0"},
    "input": {"l0"},
    "bias": {"bias"},
    "kgel": {"k_ge_l"},
    "kl": {"k_ge_l"},  # "k >= l", "k ≥ l"
    "jneq": {"j_ne_q"},
    "jq": {"j_ne_q"},  # "j != q", "j ≠ q"
    "direct": {"direct"},
    "aki": {"direct"},
    "shortcut": {"shortcut"},
    "recursive": {"shortcut", "recursive"},  # the shortcut is the recursion with one term left
    "recursion": {"shortcut", "recursive"},
    "sum": {"shortcut", "recursive"},
}

HINTS_12 = {
    "l0": "l = 0: the inputs depend on no weight",
    "bias": "q = n_l is the bias neuron of layer l, fixed at 1",
    "k_ge_l": "k ≥ l: the weight lies at or after the layer of a^l_q",
    "j_ne_q": "k = l − 1 but j ≠ q: the weight feeds another neuron of layer l",
    "direct": "k = l − 1 and j = q: the weight feeds a^l_q itself (i = n_k, the bias, is an origin like any other)",
    "shortcut": "k = l − 2: the sum of eq. (2) with one term left (r = j); 'recursive' is accepted too",
    "recursive": "k < l − 2: the sum over the previous layer (i = n_k, the bias of layer k, is only where w starts)",
}


def _word(answer):
    return "".join(ch for ch in str(answer).lower() if ch.isalnum())


def check_12(answer):
    if isinstance(answer, str):
        answer = [answer]
    answer = list(answer)
    n = len(EX12_TUPLES)
    if len(answer) != n:
        return (
            False,
            f"give {n} answers, one per tuple, in order; got {len(answer)}. Hint: a list of {n} strings.",
        )
    wrong = []  # (tuple, what is wrong)
    for t, given in zip(EX12_TUPLES, answer):
        case = diagram.dadw_case(EX12_LAYERS, *t)
        word = _word(given)
        if word not in SYNONYMS:
            wrong.append((t, f"{given!r} is not a case name (use zero, direct or recursive)"))
        elif case not in SYNONYMS[word]:
            wrong.append((t, f"not {given!r}"))
    if not wrong:
        cases = [diagram.dadw_case(EX12_LAYERS, *t) for t in EX12_TUPLES]
        return True, "the cases are " + ", ".join(cases) + " (nnetreport.diagram.dadw_case)."
    first = wrong[0][0]
    hint = HINTS_12[diagram.dadw_case(EX12_LAYERS, *first)]
    said = "; ".join(f"{t}: {what}" for t, what in wrong)
    return False, f"{len(wrong)} of {n} wrong: {said}. Hint for (l, q, k, i, j) = {first}: {hint}."


# -- 1.3 · the shape of a DADW matrix --------------------------------------------

#: the net, batch and (l, q, k) of exercise 1.3
EX13_LAYERS = (784, 16, 16, 10)
EX13_BATCH = 32
EX13_INDEX = (3, 4, 0)


def ex13_shape():
    """The shape of ``NpNet.DADW(3, 4, 0)`` for exercise 1.3, from a real call.

    The shape of ``DADW(l, q, k)`` depends on k only, so the call asks for the
    cheap direct case l = k + 1 of the same k.
    """
    from nnetlib import NpNet

    net = NpNet(EX13_LAYERS, seed=0, dtype="float64")
    net.feedforward(np.zeros((EX13_BATCH, EX13_LAYERS[0])))
    k = EX13_INDEX[2]
    return tuple(net.DADW(k + 1, 0, k).shape)


def check_13(answer):
    try:
        shape = tuple(int(v) for v in answer)
    except TypeError:
        return False, "give the shape as a tuple of ints, e.g. (2, 3, 4). Hint: one int per axis."
    true = ex13_shape()
    B, rows, cols = true
    if shape == true:
        return True, (
            f"DADW(3, 4, 0) has shape {true}: one ({rows}, {cols}) matrix per sample, laid out "
            "as weights[0] (its last row is the bias); the shape does not depend on l and q."
        )
    if shape == (B, rows - 1, cols):
        return (
            False,
            f"{shape} leaves out a row. Hint: the bias row: weights[k] has n_k + 1 rows, i = n_k being the bias.",
        )
    if shape == (B, cols, rows) or shape == (B, cols, rows - 1):
        return False, (
            f"{shape} has the weight axes swapped. Hint: DADW[b, i, j] is laid out as weights[k], "
            "rows i from layer k (bias row included), columns j in layer k + 1."
        )
    if shape in ((rows, cols), (rows - 1, cols)):
        return (
            False,
            f"{shape} has no batch axis. Hint: DADW holds one matrix per sample b, first axis, and mind the bias row.",
        )
    return False, (
        f"{shape} is not the shape. Hint: DADW(l, q, k)[b, i, j] = ∂a^l_q/∂w^k_ij for sample b: "
        "the batch, then the rows of weights[k] (bias row included), then its columns."
    )


CHECKS = {"1.1": check_11, "1.2": check_12, "1.3": check_13}
