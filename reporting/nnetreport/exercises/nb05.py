"""Checkers of notebook 05-mnist-autoencoder's exercises (the parameter count,
the constant yardstick).

The true answers come from the library (``nnetlib.n_params``) or are
computed on the data the checker draws; none is typed in.
"""

import numpy as np

from . import not_a_function, say
from .nb04 import whole_number

# -- 5.1 · how many parameters -----------------------------------------------------

EX51_LAYERS = (784, 64, 784)


def check_51(answer):
    from nnetlib import n_params

    count = whole_number(answer)
    if count is None:
        return False, say(
            f"{answer!r} is not a whole number. Hint: count weights and biases.",
            f"{answer!r} no es un número entero. Pista: contá los pesos y los bias.",
        )
    true = n_params(EX51_LAYERS)
    pairs = list(zip(EX51_LAYERS[:-1], EX51_LAYERS[1:]))
    if count == true:
        return True, say(
            f"(784 + 1) × 64 + (64 + 1) × 784 = {true:,}: each weight matrix has one row more "
            "than its layer has neurons, the bias row.",
            f"(784 + 1) × 64 + (64 + 1) × 784 = {true:,}: cada matriz de pesos tiene una fila más "
            "que la cantidad de neuronas de su capa, la fila de los bias.",
        )
    no_bias = sum(n * m for n, m in pairs)
    if count == no_bias:
        return False, say(
            f"{count:,} counts the weights only. Hint: every neuron of layers 1 and 2 has a bias "
            "too, the last row of each weight matrix: shape (n_k + 1, n_{k+1}).",
            f"{count:,} cuenta solo los pesos. Pista: cada neurona de las capas 1 y 2 tiene también "
            "un bias, la última fila de cada matriz de pesos: forma (n_k + 1, n_{k+1}).",
        )
    if count in {(n + 1) * m for n, m in pairs} | {n * m for n, m in pairs}:
        return False, say(
            f"{count:,} is one layer's matrix. Hint: the net has two weight matrices.",
            f"{count:,} es la matriz de una sola capa. Pista: la red tiene dos matrices de pesos.",
        )
    return False, say(
        f"{count:,} is not it. Hint: weights[k] has shape (n_k + 1, n_{{k+1}}), the last row "
        "being the biases; add the sizes of the two matrices.",
        f"{count:,} no es. Pista: weights[k] tiene forma (n_k + 1, n_{{k+1}}), con los bias en la "
        "última fila; sumá los tamaños de las dos matrices.",
    )


# -- 5.2 · the best constant prediction ------------------------------------------------


def _ex52_data():
    """Three sets of images with pixels of different means, in [0, 1]."""
    rng = np.random.default_rng(52)
    for n, p in ((50, 12), (7, 5), (200, 784)):
        yield rng.random((n, p)) ** rng.uniform(0.5, 4, p)


def check_52(answer):
    if not callable(answer):
        return not_a_function(
            answer,
            "def best_constant(x): ... return one image (one value per pixel).",
            "def best_constant(x): ... return una imagen (un valor por píxel).",
        )
    for x in _ex52_data():
        out = np.asarray(answer(x.copy()), dtype=float)
        true = x.mean(axis=0)
        shown = out.reshape(-1) if out.size == true.size else out
        if shown.shape == true.shape and np.allclose(shown, true, rtol=1e-6, atol=1e-9):
            continue
        if out.size == 1:
            return False, say(
                "one number for every pixel: the best single value for all of them, not the "
                "best image. Hint: each pixel gets its own value, its mean over the images "
                "(axis=0).",
                "un mismo número para todos los píxeles: el mejor valor único para todos, no la "
                "mejor imagen. Pista: cada píxel lleva su propio valor, su media sobre las "
                "imágenes (axis=0).",
            )
        if out.shape == (x.shape[0],):
            return False, say(
                "one value per image (the mean of its pixels), not one per pixel. "
                "Hint: average over the images, axis=0.",
                "un valor por imagen (la media de sus píxeles), no uno por píxel. "
                "Pista: promediá sobre las imágenes, axis=0.",
            )
        if shown.shape == true.shape and np.allclose(shown, np.median(x, axis=0)):
            return False, say(
                "the median image minimises the mean absolute error, not the squared one. "
                "Hint: set the derivative of sum_b (x_bp − c_p)² with respect to c_p to 0.",
                "la imagen mediana minimiza el error absoluto medio, no el cuadrático. "
                "Pista: igualá a 0 la derivada de sum_b (x_bp − c_p)² respecto de c_p.",
            )
        return False, say(
            f"for {x.shape[0]} images of {x.shape[1]} pixels this is not the image that "
            "minimises the squared error. Hint: per pixel, sum_b (x_bp − c_p)² is smallest "
            "where its derivative −2 sum_b (x_bp − c_p) is 0.",
            f"para {x.shape[0]} imágenes de {x.shape[1]} píxeles esta no es la imagen que "
            "minimiza el error cuadrático. Pista: en cada píxel, sum_b (x_bp − c_p)² es mínima "
            "donde su derivada −2 sum_b (x_bp − c_p) vale 0.",
        )
    return True, say(
        "the mean image: per pixel, the mean minimises the squared error (its derivative "
        "−2 Σ_b (x_bp − c_p) vanishes at c_p = mean_b x_bp). No constant prediction does "
        "better on the data it was computed on.",
        "la imagen media: en cada píxel, la media minimiza el error cuadrático (su derivada "
        "−2 Σ_b (x_bp − c_p) se anula en c_p = mean_b x_bp). Ninguna predicción constante "
        "lo hace mejor sobre los datos con los que se calculó.",
    )


CHECKS = {"5.1": check_51, "5.2": check_52}
