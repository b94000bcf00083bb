"""Checkers of notebook 08-beyond's exercises.

8.1  the output delta dE/dh^L of a softmax with cross-entropy, on a small batch
     with label-smoothed targets (``LOGITS`` and ``TARGETS`` below);
8.2  the multiply-adds per sample of one frontprop and one backprop gradient of
     784-32-32-32-10, as ``nnetlib.costmodel`` counts them.
"""

import itertools

import numpy as np

from nnetlib.costmodel import backprop_breakdown, frontprop_breakdown

from . import not_two_numbers, notes_then_hint, say

#: exercise 8.1: output pre-activations h^L of a batch of 3 samples, 4 classes
LOGITS = np.array([[2.0, 1.0, 0.1, -1.0], [0.5, 0.5, 3.0, 0.0], [-1.0, 0.0, 1.0, 2.0]])
#: exercise 8.1: the classes of the 3 samples
CLASSES = np.array([0, 3, 3])
#: exercise 8.1: their targets, label-smoothed: 0.925 on the class, 0.025 elsewhere (rows sum to 1)
TARGETS = 0.9 * np.eye(4)[CLASSES] + 0.1 / 4

#: exercise 8.2: the net whose gradient is counted (three hidden layers of 32)
COST_LAYERS = (784, 32, 32, 32, 10)


def _softmax(h):
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def output_delta(h, t):
    """dE/dh^L for a softmax output and E = -(1/B) sum_b sum_q t_bq log O_bq, each row of
    ``t`` summing to 1 (one-hot or not): (O - t) / B."""
    return (_softmax(h) - t) / h.shape[0]


def _check_delta(answer):
    h, t = LOGITS, TARGETS
    B, n = h.shape
    a = np.asarray(answer, dtype=float)
    if a.shape != h.shape:
        if a.shape == h.T.shape:
            return False, say(
                f"shape {a.shape} is transposed. Hint: one row per sample, one column per class, "
                f"like h^L: shape {h.shape}.",
                f"la forma {a.shape} está transpuesta. Pista: una fila por muestra y una columna "
                f"por clase, como h^L: forma {h.shape}.",
            )
        return False, say(
            f"shape {a.shape}, expected {h.shape}. Hint: one entry per sample and class.",
            f"forma {a.shape}, se esperaba {h.shape}. Pista: una entrada por muestra y por clase.",
        )
    right = output_delta(h, t)
    if np.allclose(a, right, rtol=1e-4, atol=1e-6):
        return True, say(
            "dE/dh^L = (O - t) / B: the softmax's Jacobian and the log cancel for any targets "
            "whose rows sum to 1, smoothed or one-hot.",
            "dE/dh^L = (O - t) / B: el jacobiano de la softmax y el logaritmo se cancelan para "
            "cualquier objetivo cuyas filas sumen 1, suavizado o one-hot.",
        )
    O = _softmax(h)
    sig = 1 / (1 + np.exp(-h))
    mistakes = [
        (
            (O - np.eye(n)[CLASSES]) / B,
            say(
                "these are the one-hot labels, not the smoothed targets. Hint: the cancellation "
                "needs only that each row of t sums to 1, so dE/dh^L = (O - t)/B with these t.",
                "estas son las etiquetas one-hot, no los objetivos suavizados. Pista: la "
                "cancelación solo necesita que cada fila de t sume 1, así que dE/dh^L = (O - t)/B "
                "con estos t.",
            ),
        ),
        (
            -right,
            say(
                "the sign is flipped. Hint: E decreases as O moves toward t, so dE/dh = (O - t)/B.",
                "el signo está invertido. Pista: E decrece a medida que O se acerca a t, así que "
                "dE/dh = (O - t)/B.",
            ),
        ),
        (
            B * right,
            say(
                "this is B times too large. Hint: E is a mean over the batch, so every sample's "
                "delta carries a factor 1/B.",
                "esto es B veces más grande de lo que corresponde. Pista: E es una media sobre el "
                "batch, así que el delta de cada muestra lleva un factor 1/B.",
            ),
        ),
        (
            right * O * (1 - O),
            say(
                "an extra factor O(1 - O) is in it. Hint: that is the sigmoid's slope; the "
                "softmax's Jacobian diag(O) - O O^T times dE/dO = -t/(B O) leaves just (O - t)/B.",
                "tiene un factor O(1 - O) de más. Pista: esa es la pendiente de la sigmoide; el "
                "jacobiano de la softmax diag(O) - O O^T por dE/dO = -t/(B O) deja solo (O - t)/B.",
            ),
        ),
        (
            -t / (B * O),
            say(
                "this is dE/dO, the derivative with respect to the outputs. Hint: carry it through "
                "the softmax's Jacobian diag(O) - O O^T to reach dE/dh^L.",
                "esto es dE/dO, la derivada respecto de las salidas. Pista: pasala por el "
                "jacobiano de la softmax diag(O) - O O^T para llegar a dE/dh^L.",
            ),
        ),
        (
            2 * (O - t) / (B * n),
            say(
                "this is the mean squared error's 2(O - t)/(B n_L). Hint: the loss here is "
                "cross-entropy, E = -(1/B) sum t log O.",
                "esto es el 2(O - t)/(B n_L) del error cuadrático medio. Pista: acá el error es la "
                "entropía cruzada, E = -(1/B) sum t log O.",
            ),
        ),
        (
            (sig - t) / B,
            say(
                "these outputs are sigmoids of h. Hint: the output layer is a softmax, "
                "O = exp(h) / sum exp(h) along each row.",
                "estas salidas son sigmoides de h. Pista: la capa de salida es una softmax, "
                "O = exp(h) / sum exp(h) a lo largo de cada fila.",
            ),
        ),
    ]
    for value, message in mistakes:
        if np.allclose(a, value, rtol=1e-4, atol=1e-6):
            return False, message
    return False, say(
        f"largest difference from dE/dh^L {np.max(np.abs(a - right)):.3g}. Hint: compute "
        "O = softmax(h) row by row (exp(h) / its row sum); (O - t) / B with B = 3 holds whenever "
        "each row of t sums to 1.",
        f"la mayor diferencia con dE/dh^L es {np.max(np.abs(a - right)):.3g}. Pista: calculá "
        "O = softmax(h) fila por fila (exp(h) / la suma de su fila); (O - t) / B con B = 3 vale "
        "siempre que cada fila de t sume 1.",
    )


#: the phases of each method, named in English and in Spanish
_FRONT_NAMES = {
    "forward": say("the forward pass", "la pasada hacia adelante"),
    "output": say("dE/dh^L (n_L)", "dE/dh^L (n_L)"),
    "jacobians": say(
        "the Jacobian sweep J^(l,k) (the cubic term)",
        "el barrido de jacobianos J^(l,k) (el término cúbico)",
    ),
    "contraction": say("the output contraction", "la contracción de salida"),
    "weights": say("the weight gradients", "los gradientes de los pesos"),
}
_BACK_NAMES = {
    "forward": say("the forward pass", "la pasada hacia adelante"),
    "output": say("dE/dh^L (n_L)", "dE/dh^L (n_L)"),
    "backward": say("the reverse sweep", "el barrido hacia atrás"),
    "weights": say("the weight gradients", "los gradientes de los pesos"),
}


def _no_bias(n):
    """MACs the bias rows add to one pass of layer maps: sum_k n_{k+1}."""
    return sum(n[1:])


def _diagnose(method, got, parts, names, n):
    """What a count ``got`` of ``method`` left out or added, if one or two known terms explain it
    (a ``Said``: in English and in Spanish)."""
    true = sum(parts.values())
    terms = {}
    for k, v in parts.items():  # terms of equal size (forward, weights) are named together
        if v in terms:
            terms[v] = say(
                f"{terms[v].en} (or {names[k].en}: the same count)",
                f"{terms[v].es} (o {names[k].es}: el mismo conteo)",
            )
        else:
            terms[v] = names[k]
    extra = [
        (
            say(
                "the bias rows of one pass of layer maps, sum n_(k+1)",
                "las filas de bias de una pasada de mapas de capa, sum n_(k+1)",
            ),
            _no_bias(n),
        ),
        (
            say(
                "the bias rows of both passes of layer maps",
                "las filas de bias de las dos pasadas de mapas de capa",
            ),
            2 * _no_bias(n),
        ),
    ]
    if method == "backprop":
        extra.append(
            (
                say(
                    "the diagonal scalings by s^(k+1), sum n_(k+1) over the hidden layers",
                    "los escalamientos diagonales por s^(k+1), sum n_(k+1) sobre las capas ocultas",
                ),
                sum(n[1:-1]),
            )
        )
    else:
        extra.append(
            (
                say(
                    "the scaling delta^(L-1) = u * s^(L-1) of the contraction, n_(L-1)",
                    "el escalamiento delta^(L-1) = u * s^(L-1) de la contracción, n_(L-1)",
                ),
                n[-2],
            )
        )
    for name, v in extra:
        terms.setdefault(v, name)
    gap = true - got
    for r in (1, 2):
        for combo in itertools.combinations(terms.items(), r):
            if sum(v for v, _ in combo) == abs(gap):
                what = " and ".join(k.en for _, k in combo)
                what_es = " y ".join(k.es for _, k in combo)
                verb = "missing" if gap > 0 else "counted once too often"
                verb_es = "lo que falta" if gap > 0 else "lo que se contó una vez de más"
                return say(
                    f"{method} is off by {abs(gap):,}: exactly {what}, {verb}",
                    f"{method} difiere en {abs(gap):,}, {verb_es}: exactamente {what_es}",
                )
    for batch in (64, 1000):
        if got == batch * true:
            return say(
                f"{method} is {batch} times the count per sample: a whole batch",
                f"{method} es {batch} veces el conteo por muestra: un batch entero",
            )
    return say(
        f"{method} is {abs(gap):,} {'short' if gap > 0 else 'too many'} ({got:,} given)",
        f"a {method} le {'faltan' if gap > 0 else 'sobran'} {abs(gap):,} (se dieron {got:,})",
    )


def _check_costs(answer):
    if isinstance(answer, dict):
        answer = (answer["frontprop"], answer["backprop"])
    a = np.asarray(answer, dtype=float).ravel()
    if a.size != 2:
        return not_two_numbers(
            a,
            "(frontprop, backprop), multiply-adds per sample",
            "(frontprop, backprop), multiplicaciones-suma por muestra",
        )
    n = COST_LAYERS
    fp, bp = frontprop_breakdown(n), backprop_breakdown(n)
    right = (sum(fp.values()), sum(bp.values()))
    got = tuple(int(round(v)) for v in a)
    if not np.allclose(a, right, rtol=0, atol=0.5):
        if got == right[::-1]:
            return False, say(
                "the two are swapped. Hint: frontprop is the larger: it carries n_(k+1) tangents.",
                "los dos están intercambiados. Pista: frontprop es el mayor: arrastra n_(k+1) "
                "tangentes.",
            )
        notes = []
        if got[0] != right[0]:
            notes.append(_diagnose("frontprop", got[0], fp, _FRONT_NAMES, n))
        if got[1] != right[1]:
            notes.append(_diagnose("backprop", got[1], bp, _BACK_NAMES, n))
        return False, notes_then_hint(
            notes,
            say(
                ". Hint: add up every phase of section 4's list, for k = 0, 1, 2, with the bias "
                "row counted: a layer map costs (n_k + 1) n_(k+1).",
                ". Pista: sumá cada fase de la lista de la sección 4, para k = 0, 1, 2, contando "
                "la fila de bias: un mapa de capa cuesta (n_k + 1) n_(k+1).",
            ),
        )
    return True, say(
        f"frontprop {right[0]:,}, backprop {right[1]:,} per sample: frontprop costs "
        f"{right[0] / right[1]:.2f} times as much, {fp['jacobians']:,} of it in the Jacobian sweep.",
        f"frontprop {right[0]:,}, backprop {right[1]:,} por muestra: frontprop cuesta "
        f"{right[0] / right[1]:.2f} veces más, {fp['jacobians']:,} de eso en el barrido de "
        "jacobianos.",
    )


CHECKS = {"8.1": _check_delta, "8.2": _check_costs}
