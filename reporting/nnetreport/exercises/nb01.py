"""Checkers of notebook 01-derivation's exercises (eq. (2) by hand, its cases, DADW).

Every true answer is computed here from the library (``PyNet.dadw``,
``diagram.dadw_case``, ``NpNet.DADW``), never typed in.
"""

import numpy as np

from .. import diagram
from ..widgets import forward_activations
from . import say

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
        return True, say(
            f"∂a²₀/∂w⁰₁₀ = {true:.10f}, the shortcut case k = l − 2 of eq. (2): "
            "g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁ (PyNet.dadw agrees).",
            f"∂a²₀/∂w⁰₁₀ = {true:.10f}, el caso atajo k = l − 2 de la ec. (2): "
            "g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁ (PyNet.dadw coincide).",
        )
    # the usual slips, each recognised by its value
    slips = (  # (what is missing, in English and in Spanish; the value without it)
        ("the outer factor g'(h²₀)", "el factor externo g'(h²₀)", p["w1_jq"] * p["g1"] * p["a0_i"]),
        ("the inner factor g'(h¹₀)", "el factor interno g'(h¹₀)", p["g2"] * p["w1_jq"] * p["a0_i"]),
        ("the weight w¹₀₀ on the path", "el peso w¹₀₀ del camino", p["g2"] * p["g1"] * p["a0_i"]),
    )
    for missing, missing_es, v in slips:
        if abs(value - v) <= 1e-6 * abs(v):
            return False, say(
                f"{value:.6g} leaves out {missing}. Hint: the case k = l − 2 of eq. (2) has four "
                "factors, g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁, one g' per layer the path crosses.",
                f"{value:.6g} deja afuera {missing_es}. Pista: el caso k = l − 2 de la ec. (2) tiene "
                "cuatro factores, g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁, una g' por cada capa que cruza el camino.",
            )
    if abs(value - p["g1"] * p["a0_i"]) <= 1e-6 * p["g1"] * p["a0_i"]:
        return False, say(
            f"{value:.6g} is ∂a¹₀/∂w⁰₁₀, the direct case one layer short of the output. "
            "Hint: go on to layer 2, which multiplies by w¹₀₀ and g'(h²₀).",
            f"{value:.6g} es ∂a¹₀/∂w⁰₁₀, el caso directo, que se queda a una capa de la salida. "
            "Pista: seguí hasta la capa 2, que multiplica por w¹₀₀ y g'(h²₀).",
        )
    with_a = p["a2_q"] * p["w1_jq"] * p["a1_j"] * p["a0_i"]
    if abs(value - with_a) <= 1e-6 * abs(with_a):
        return False, say(
            f"{value:.6g} uses the activations g(h) where eq. (2) has the slopes g'(h). "
            "Hint: for the sigmoid g'(h) = a (1 − a), with a = g(h).",
            f"{value:.6g} usa las activaciones g(h) donde la ec. (2) tiene las pendientes g'(h). "
            "Pista: para la sigmoide, g'(h) = a (1 − a), con a = g(h).",
        )
    if abs(value - true) <= 1e-4 * abs(true):
        return False, say(
            f"{value:.6g} is close (within {abs(value / true - 1):.0e} relative) but not to 1e-9. "
            "Hint: keep full precision: compute with NumPy instead of rounded hand values.",
            f"{value:.6g} está cerca (a {abs(value / true - 1):.0e} en términos relativos), pero no a 1e-9. "
            "Pista: conservá toda la precisión: calculá con NumPy en lugar de usar valores redondeados a mano.",
        )
    return False, say(
        f"{value:.6g} is not ∂a²₀/∂w⁰₁₀. Hint: the weight lies two layers before the output "
        "(k = l − 2): g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁, with h¹ = a⁰ W⁰ (bias row included), "
        "a = g(h) and g'(h) = a (1 − a).",
        f"{value:.6g} no es ∂a²₀/∂w⁰₁₀. Pista: el peso está dos capas antes de la salida "
        "(k = l − 2): g'(h²₀) · w¹₀₀ · g'(h¹₀) · a⁰₁, con h¹ = a⁰ W⁰ (fila de bias incluida), "
        "a = g(h) y g'(h) = a (1 − a).",
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

#: HINTS_12 in Spanish
HINTS_12_ES = {
    "l0": "l = 0: las entradas no dependen de ningún peso",
    "bias": "q = n_l es la neurona de bias de la capa l, fija en 1",
    "k_ge_l": "k ≥ l: el peso está en la capa de a^l_q o después",
    "j_ne_q": "k = l − 1 pero j ≠ q: el peso alimenta a otra neurona de la capa l",
    "direct": "k = l − 1 y j = q: el peso alimenta a la misma a^l_q "
    "(i = n_k, el bias, es un origen como cualquier otro)",
    "shortcut": "k = l − 2: la suma de la ec. (2) con un solo término (r = j); también se acepta 'recursive'",
    "recursive": "k < l − 2: la suma sobre la capa anterior (i = n_k, el bias de la capa k, es solo el origen de w)",
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
            say(
                f"give {n} answers, one per tuple, in order; got {len(answer)}. Hint: a list of {n} strings.",
                f"escribí {n} respuestas, una por tupla, en orden; hay {len(answer)}. "
                f"Pista: una lista de {n} strings.",
            ),
        )
    wrong = []  # (tuple, what is wrong, in English, in Spanish)
    for t, given in zip(EX12_TUPLES, answer):
        case = diagram.dadw_case(EX12_LAYERS, *t)
        word = _word(given)
        if word not in SYNONYMS:
            wrong.append(
                (
                    t,
                    f"{given!r} is not a case name (use zero, direct or recursive)",
                    f"{given!r} no es el nombre de un caso (usá zero, direct o recursive)",
                )
            )
        elif case not in SYNONYMS[word]:
            wrong.append((t, f"not {given!r}", f"no es {given!r}"))
    if not wrong:
        cases = [diagram.dadw_case(EX12_LAYERS, *t) for t in EX12_TUPLES]
        return True, say(
            "the cases are " + ", ".join(cases) + " (nnetreport.diagram.dadw_case).",
            "los casos son " + ", ".join(cases) + " (nnetreport.diagram.dadw_case).",
        )
    first = wrong[0][0]
    case = diagram.dadw_case(EX12_LAYERS, *first)
    hint, hint_es = HINTS_12[case], HINTS_12_ES[case]
    said = "; ".join(f"{t}: {what}" for t, what, _ in wrong)
    said_es = "; ".join(f"{t}: {what}" for t, _, what in wrong)
    return False, say(
        f"{len(wrong)} of {n} wrong: {said}. Hint for (l, q, k, i, j) = {first}: {hint}.",
        f"{len(wrong)} de {n} incorrectas: {said_es}. Pista: para (l, q, k, i, j) = {first}, {hint_es}.",
    )


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
        return False, say(
            "give the shape as a tuple of ints, e.g. (2, 3, 4). Hint: one int per axis.",
            "escribí la forma como una tupla de ints, p. ej. (2, 3, 4). Pista: un int por eje.",
        )
    true = ex13_shape()
    B, rows, cols = true
    if shape == true:
        return True, say(
            f"DADW(3, 4, 0) has shape {true}: one ({rows}, {cols}) matrix per sample, laid out "
            "as weights[0] (its last row is the bias); the shape does not depend on l and q.",
            f"DADW(3, 4, 0) tiene forma {true}: una matriz de ({rows}, {cols}) por muestra, dispuesta "
            "como weights[0] (su última fila es el bias); la forma no depende de l ni de q.",
        )
    if shape == (B, rows - 1, cols):
        return (
            False,
            say(
                f"{shape} leaves out a row. Hint: the bias row: weights[k] has n_k + 1 rows, i = n_k being the bias.",
                f"{shape} deja afuera una fila. Pista: la fila de bias: weights[k] tiene n_k + 1 filas, "
                "y la i = n_k es el bias.",
            ),
        )
    if shape == (B, cols, rows) or shape == (B, cols, rows - 1):
        return False, say(
            f"{shape} has the weight axes swapped. Hint: DADW[b, i, j] is laid out as weights[k], "
            "rows i from layer k (bias row included), columns j in layer k + 1.",
            f"{shape} tiene intercambiados los ejes de los pesos. Pista: DADW[b, i, j] está dispuesto "
            "como weights[k]: filas i de la capa k (fila de bias incluida), columnas j de la capa k + 1.",
        )
    if shape in ((rows, cols), (rows - 1, cols)):
        return (
            False,
            say(
                f"{shape} has no batch axis. Hint: DADW holds one matrix per sample b, first axis, "
                "and mind the bias row.",
                f"{shape} no tiene eje de batch. Pista: DADW guarda una matriz por muestra b, en el primer "
                "eje; y fijate en la fila de bias.",
            ),
        )
    return False, say(
        f"{shape} is not the shape. Hint: DADW(l, q, k)[b, i, j] = ∂a^l_q/∂w^k_ij for sample b: "
        "the batch, then the rows of weights[k] (bias row included), then its columns.",
        f"{shape} no es la forma. Pista: DADW(l, q, k)[b, i, j] = ∂a^l_q/∂w^k_ij para la muestra b: "
        "primero el batch, después las filas de weights[k] (fila de bias incluida), después sus columnas.",
    )


CHECKS = {"1.1": check_11, "1.2": check_12, "1.3": check_13}
