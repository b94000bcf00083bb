"""Checkers of notebook 03-python-numpy-cython's exercises (what the article's memo
returns for a batch of two; the shape of a Jacobian J^{l,k}; the multiply-adds
of the lesson kernel's forward sweep)."""

import numpy as np

from . import say

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
        return False, say(
            f"the answer has {got.size} numbers; it is two, dE/dw and dE/db (in that order). "
            "Hint: W^0 of a 1 -> 1 net is 2 x 1, the weight and then the bias.",
            f"la respuesta tiene {got.size} números; son dos, dE/dw y dE/db (en ese orden). "
            "Pista: W^0 de una red 1 -> 1 es de 2 x 1, el peso y después el bias.",
        )
    buggy, correct, swapped = ex31_gradients()

    def close(v):
        return np.allclose(got, v, rtol=2e-3, atol=1e-5)

    if close(buggy):
        flipped = np.any(np.sign(buggy) != np.sign(correct))
        flips = " (the bug even flips a sign)" if flipped else ""
        flips_es = " (el bug hasta invierte un signo)" if flipped else ""
        return True, say(
            f"({buggy[0]:.5f}, {buggy[1]:.5f}): both samples' errors times sample 0's da/dw. "
            f"The correct gradient is ({correct[0]:.5f}, {correct[1]:.5f}){flips}.",
            f"({buggy[0]:.5f}, {buggy[1]:.5f}): los errores de las dos muestras por la da/dw de la "
            f"muestra 0. El gradiente correcto es ({correct[0]:.5f}, {correct[1]:.5f}){flips_es}.",
        )
    if close(correct):
        hint = (
            "that is the correct gradient, each sample with its own da/dw. The memo key has no b: "
            "sample 1 finds sample 0's derivatives already there"
        )
        hint_es = (
            "ese es el gradiente correcto, cada muestra con su propia da/dw. La clave del memo no tiene b: "
            "la muestra 1 encuentra ahí las derivadas de la muestra 0"
        )
    elif close(swapped):
        hint = "the memo is filled by the first sample, b = 0, and sample 1 reads what it left"
        hint_es = "el memo lo llena la primera muestra, b = 0, y la muestra 1 lee lo que esta dejó"
    elif close(buggy[::-1]) or close(correct[::-1]):
        hint = "the order: dE/dw first, then dE/db (the bias row is W^0's last)"
        hint_es = "el orden: primero dE/dw, después dE/db (la fila de bias es la última de W^0)"
    elif close(buggy / 2) or close(buggy * 2):
        hint = "the factor 2/(B n_L) of eq. (1) is 2/2 = 1 here"
        hint_es = "el factor 2/(B n_L) de la ec. (1) acá vale 2/2 = 1"
    else:
        hint = (
            "eq. (1) with B = 2, n_L = 1: dE/dw = sum_b e_b da/dw, e_b = a_b - t_b, where the memo "
            "hands both samples sample 0's da/dw = g'(h_0) x_0 (da/db = g'(h_0)), g' = a (1 - a)"
        )
        hint_es = (
            "la ec. (1) con B = 2, n_L = 1: dE/dw = sum_b e_b da/dw, e_b = a_b - t_b, donde el memo "
            "les pasa a las dos muestras la da/dw de la muestra 0, g'(h_0) x_0 (da/db = g'(h_0)), "
            "g' = a (1 - a)"
        )
    return False, say(
        f"({got[0]:.5g}, {got[1]:.5g}) is not what the memo returns. Hint: {hint}.",
        f"({got[0]:.5g}, {got[1]:.5g}) no es lo que devuelve el memo. Pista: {hint_es}.",
    )


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
        return True, say(
            f"{want}: one ({want[1]}, {want[2]}) matrix per sample, da^2/dh^1, "
            "rows the activations of layer 2, columns the h of layer 1",
            f"{want}: una matriz de ({want[1]}, {want[2]}) por muestra, da^2/dh^1, "
            "con filas las activaciones de la capa 2 y columnas las h de la capa 1",
        )
    B, nl, nk1 = want
    if got == (B, nk1, nl):
        hint = "J^{l,k}_qj = da^l_q / dh^{k+1}_j: rows (q) run over layer l, columns (j) over k+1"
        hint_es = "J^{l,k}_qj = da^l_q / dh^{k+1}_j: las filas (q) recorren la capa l, las columnas (j) la k+1"
    elif got == (nl, nk1):
        hint = "NpNet keeps one Jacobian per sample: the batch axis comes first"
        hint_es = "NpNet guarda un jacobiano por muestra: el eje del batch va primero"
    elif got in ((B, nl + 1, nk1), (B, nl, nk1 + 1), (B, nl, EX32_LAYERS[EX32_K] + 1)):
        hint = (
            "J carries no bias row or column: a^k_i (bias included) was factored out, and the "
            "bias neuron's activation is the constant 1"
        )
        hint_es = (
            "J no lleva fila ni columna de bias: a^k_i (bias incluido) quedó afuera como factor, y la "
            "activación de la neurona de bias es la constante 1"
        )
    elif got == (B, EX32_LAYERS[-1], nk1):
        hint = "that is J^{L,0}, at the output; the exercise asks for l = 2"
        hint_es = "ese es J^{L,0}, en la salida; el ejercicio pide l = 2"
    else:
        hint = "J^{l,k} = da^l/dh^{k+1} has one row per neuron of layer l, one column per h^{k+1}"
        hint_es = "J^{l,k} = da^l/dh^{k+1} tiene una fila por neurona de la capa l y una columna por cada h^{k+1}"
    return False, say(
        f"{got} is not the shape of J^{{2,0}}. Hint: {hint}.",
        f"{got} no es la forma de J^{{2,0}}. Pista: {hint_es}.",
    )


# -- 3.3 · the multiply-adds of the forward sweep ---------------------------------------

#: the nets on which exercise 3.3 calls the student's function
EX33_NETS = ((784, 16, 16, 10), (784, 64, 784), (3, 2), (5, 4, 3, 2), (10, 1, 10))


def forward_madds(layers):
    """Multiply-adds of one sample's forward pass in the lesson kernel: sum of n_l n_{l+1}."""
    return sum(a * b for a, b in zip(layers[:-1], layers[1:]))


def check_33(answer):
    if not callable(answer):
        return False, say(
            "the answer is a function of the layer widths, e.g. def madds(layers): ... "
            "Hint: one multiply-add per weight that is not a bias.",
            "la respuesta es una función de los anchos de las capas, p. ej. def madds(layers): ... "
            "Pista: una multiplicación-suma por cada peso que no sea de bias.",
        )
    got = {n: int(answer(n)) for n in EX33_NETS}
    want = {n: forward_madds(n) for n in EX33_NETS}
    if got == want:
        return True, say(
            f"784-16-16-10: {want[EX33_NETS[0]]:,} multiply-adds per sample, 784-64-784: "
            f"{want[EX33_NETS[1]]:,}; the gradient's sum over b does about as many again "
            "(one per weight, bias included)",
            f"784-16-16-10: {want[EX33_NETS[0]]:,} multiplicaciones-sumas por muestra, 784-64-784: "
            f"{want[EX33_NETS[1]]:,}; la suma del gradiente sobre b hace más o menos otras tantas "
            "(una por peso, bias incluido)",
        )
    net = next(n for n in EX33_NETS if got[n] != want[n])
    if all(got[n] == sum((a + 1) * b for a, b in zip(n[:-1], n[1:])) for n in EX33_NETS):
        hint = "the bias row is not multiplied: h starts from it (h[j] = W[n[l] * m + j])"
        hint_es = "la fila de bias no se multiplica: h arranca de ella (h[j] = W[n[l] * m + j])"
    elif all(got[n] == sum(n) for n in EX33_NETS) or all(got[n] == n[0] for n in EX33_NETS):
        hint = "for each output j of layer l + 1, every input i of layer l: a product of widths"
        hint_es = "para cada salida j de la capa l + 1, todas las entradas i de la capa l: un producto de anchos"
    else:
        hint = "count the runs of h[j] += v * W[i * m + j]: i over n_l, j over n_{l+1}, every l"
        hint_es = "contá cuántas veces corre h[j] += v * W[i * m + j]: i sobre n_l, j sobre n_{l+1}, para cada l"
    return False, say(
        f"for {'-'.join(map(str, net))} your function gives {got[net]:,}, the kernel does "
        f"{want[net]:,}. Hint: {hint}.",
        f"para {'-'.join(map(str, net))} tu función da {got[net]:,}, y el kernel hace "
        f"{want[net]:,}. Pista: {hint_es}.",
    )


CHECKS = {"3.1": check_31, "3.2": check_32, "3.3": check_33}
