"""Checkers of notebook 04-mnist-classifier's exercises (the momentum update,
the learning rate, the number of steps).

The true answers come from the library (``nnetlib.optim.SGD.update``, the
article's recipe in ``nnetlib.optim``) or from the runs the exercise
describes; none is typed in as a bare number.
"""

import numpy as np

from . import not_a_function, say

# -- 4.1 · one step of SGD with momentum -----------------------------------------

#: the (lr, momentum) pairs a student's update is tried on: the article's, and two others
EX41_SETTINGS = ((10.0, 0.5), (0.3, 0.9), (2.0, 0.0))


def _sgd_reference(w, v, g, lr, momentum):
    """(new w, new v) by ``nnetlib.optim.SGD.update``, on copies."""
    from nnetlib.optim import SGD

    opt = SGD(w.size, w.dtype)
    opt.v[...] = v.ravel()
    flat = w.ravel().copy()
    opt.update(flat, g.ravel(), lr, momentum)
    return flat.reshape(w.shape), opt.v.reshape(w.shape).copy()


def _ex41_cases():
    """Three (w, v, g, lr, momentum) float32 cases; v is not zero, so momentum shows."""
    rng = np.random.default_rng(41)
    for lr, momentum in EX41_SETTINGS:
        w, v, g = (rng.normal(size=(5, 3)).astype(np.float32) for _ in range(3))
        yield w, 0.1 * v, 0.01 * g, lr, momentum


def _close(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-7)


def _ex41_slip(w, v, g, lr, momentum, new_w, new_v):
    """What a wrong (new w, new v) did, recognised by its values, as ``say(en, es)``;
    None if unknown."""
    slips = (
        (
            momentum * v + g,
            say(
                "the new v is momentum·v + g: that is torch.optim.SGD's buffer b, not the "
                "article's velocity. Hint: the article puts the learning rate inside the velocity, "
                "v ← momentum·v − lr·g, and then w ← w + v.",
                "la nueva v es momentum·v + g: ese es el buffer b de torch.optim.SGD, no la "
                "velocidad del artículo. Pista: el artículo pone la tasa de aprendizaje dentro de la "
                "velocidad, v ← momentum·v − lr·g, y después w ← w + v.",
            ),
        ),
        (
            momentum * v + lr * g,
            say(
                "the velocity points uphill (+lr·g): the weights would climb the loss. "
                "Hint: v ← momentum·v − lr·g.",
                "la velocidad apunta cuesta arriba (+lr·g): los pesos harían subir el error. "
                "Pista: v ← momentum·v − lr·g.",
            ),
        ),
        (
            -lr * g,
            say(
                "the new v forgets the old one (no momentum·v term): that is plain SGD. "
                "Hint: v ← momentum·v − lr·g keeps a share of the last step.",
                "la nueva v se olvida de la anterior (falta el término momentum·v): eso es SGD a secas. "
                "Pista: v ← momentum·v − lr·g conserva una parte del último paso.",
            ),
        ),
        (
            v - lr * g,
            say(
                "the old velocity is kept whole instead of scaled by momentum. "
                "Hint: v ← momentum·v − lr·g.",
                "la velocidad anterior se conserva entera en lugar de escalarse por momentum. "
                "Pista: v ← momentum·v − lr·g.",
            ),
        ),
    )
    for wrong_v, why in slips:
        if _close(new_v, wrong_v.astype(np.float32)):
            return why
    right_w, right_v = _sgd_reference(w, v, g, lr, momentum)
    if _close(new_v, right_v) and _close(new_w, w + v):
        return say(
            "v is right, but w moved by the old velocity. Hint: first the new "
            "v ← momentum·v − lr·g, then w ← w + (the new) v.",
            "v está bien, pero w se movió con la velocidad anterior. Pista: primero la nueva "
            "v ← momentum·v − lr·g, después w ← w + (la nueva) v.",
        )
    if _close(new_w, right_v) and _close(new_v, right_w):
        return say(
            "the two are swapped. Hint: return (new w, new v), in that order.",
            "los dos están intercambiados. Pista: devolvé (new w, new v), en ese orden.",
        )
    return None


def check_41(answer):
    if not callable(answer):
        hint = "def update(w, v, g, lr, momentum): ... return new_w, new_v"
        return not_a_function(answer, hint, hint)
    bitwise = True
    for w, v, g, lr, momentum in _ex41_cases():
        out = answer(w.copy(), v.copy(), g.copy(), lr, momentum)
        if not isinstance(out, tuple | list) or len(out) != 2:
            return False, say(
                f"update returned {type(out).__name__}, not a pair. Hint: end it with "
                "`return new_w, new_v` (a function that only changes w and v in place returns None).",
                f"update devolvió {type(out).__name__}, no un par. Pista: terminala con "
                "`return new_w, new_v` (una función que solo modifica w y v en el lugar devuelve None).",
            )
        new_w, new_v = (np.asarray(a) for a in out)
        right_w, right_v = _sgd_reference(w, v, g, lr, momentum)
        if new_w.shape != w.shape or new_v.shape != v.shape:
            return False, say(
                f"shapes {new_w.shape} and {new_v.shape}, expected {w.shape} for both. "
                "Hint: the update is elementwise; w, v and g keep their shape.",
                f"formas {new_w.shape} y {new_v.shape}, se esperaba {w.shape} para las dos. "
                "Pista: la actualización es elemento a elemento; w, v y g conservan su forma.",
            )
        if not (_close(new_w, right_w) and _close(new_v, right_v)):
            why = _ex41_slip(w, v, g, lr, momentum, new_w, new_v)
            return False, why or say(
                f"with lr {lr:g} and momentum {momentum:g} the result differs from "
                "nnetlib's SGD. Hint: v ← momentum·v − lr·g, then w ← w + v.",
                f"con lr {lr:g} y momentum {momentum:g} el resultado difiere del SGD "
                "de nnetlib. Pista: v ← momentum·v − lr·g, después w ← w + v.",
            )
        bitwise &= np.array_equal(new_w, right_w) and np.array_equal(new_v, right_v)
    how = (
        "bit for bit what nnetlib's SGD.update computes"
        if bitwise
        else "nnetlib's SGD.update within float32 rounding (not bit for bit: another order of "
        "operations or another dtype)"
    )
    how_es = (
        "bit a bit lo que calcula SGD.update de nnetlib"
        if bitwise
        else "lo que calcula SGD.update de nnetlib, salvo el redondeo de float32 (no bit a bit: "
        "otro orden de operaciones u otro dtype)"
    )
    return True, say(
        f"v ← momentum·v − lr·g, w ← w + v: on {len(EX41_SETTINGS)} cases, {how}.",
        f"v ← momentum·v − lr·g, w ← w + v: en {len(EX41_SETTINGS)} casos da {how_es}.",
    )


# -- 4.2 · how many steps -------------------------------------------------------------

#: the article's recipe (04's CONFIG at full size) and MNIST's training set
EX42_RECIPE = dict(n_train=60_000, batch_size=1000, epochs=16)


def ex42_steps():
    """SGD steps of the article's recipe: batches per epoch (the last one may be
    smaller) times epochs."""
    r = EX42_RECIPE
    return -(-r["n_train"] // r["batch_size"]) * r["epochs"]


def check_42(answer):
    steps = whole_number(answer)
    if steps is None:
        return False, say(
            f"{answer!r} is not a whole number. Hint: count the calls of step.",
            f"{answer!r} no es un número entero. Pista: contá las llamadas a step.",
        )
    true, r = ex42_steps(), EX42_RECIPE
    if steps == true:
        return True, say(
            f"{r['n_train']:,} / {r['batch_size']} = {true // r['epochs']} steps per epoch, "
            f"times {r['epochs']} epochs: {true} updates of the weights.",
            f"{r['n_train']:,} / {r['batch_size']} = {true // r['epochs']} pasos por época, "
            f"por {r['epochs']} épocas: {true} actualizaciones de los pesos.",
        )
    wrong = {
        r["epochs"]: say(
            "that is the number of epochs; each epoch makes many steps. Hint: one step per batch.",
            "esa es la cantidad de épocas; cada época hace muchos pasos. Pista: un paso por batch.",
        ),
        true // r["epochs"]: say(
            "that is one epoch's steps. Hint: times the number of epochs.",
            "esos son los pasos de una época. Pista: multiplicá por la cantidad de épocas.",
        ),
        r["n_train"] * r["epochs"]: say(
            "that counts digits seen, one per sample. Hint: a step takes a whole batch of 1000.",
            "eso cuenta los dígitos vistos, uno por muestra. Pista: un paso toma un batch entero de 1000.",
        ),
    }
    return False, wrong.get(
        steps,
        say(
            f"{steps} is not it. Hint: one step per batch of {r['batch_size']}, over "
            f"{r['n_train']:,} digits, in each of {r['epochs']} epochs.",
            f"{steps} no es la respuesta. Pista: un paso por batch de {r['batch_size']}, sobre "
            f"{r['n_train']:,} dígitos, en cada una de las {r['epochs']} épocas.",
        ),
    )


# -- 4.3 · which learning rate -------------------------------------------------------

#: the learning rates of exercise 4.3 and the run it describes: the widget's
#: setting (5000 digits, batches of 100, momentum 0.5, seed 0, 10 epochs)
EX43_RATES = (0.1, 10.0, 1000.0)
EX43_RUN = dict(n_train=5000, n_test=2000, epochs=10, batch_size=100, momentum=0.5, seed=0)
#: what those runs show (tests/test_training_widget.py reruns them where MNIST is present)
EX43_BEST = 10.0


def ex43_accuracies(init="article_uniform", data=None):
    """{lr: final test accuracy} of the three runs of exercise 4.3 (needs MNIST unless
    ``data`` = ((x, y), (x_test, y_test)) is given)."""
    import nnetlib

    from ..experiments import frontprop_class

    if data is None:
        (x, y), (xt, yt) = nnetlib.data.mnist_task("classifier")
        data = (
            (x[: EX43_RUN["n_train"]], y[: EX43_RUN["n_train"]]),
            (
                xt[: EX43_RUN["n_test"]],
                yt[: EX43_RUN["n_test"]],
            ),
        )
    out = {}
    for lr in EX43_RATES:
        net = frontprop_class()([784, 16, 16, 10], init=init, seed=EX43_RUN["seed"])
        h = nnetlib.train(
            net,
            *data,
            epochs=EX43_RUN["epochs"],
            batch_size=EX43_RUN["batch_size"],
            lr=lr,
            momentum=EX43_RUN["momentum"],
            progress=False,
        )
        out[lr] = h.test_accuracy[-1]
    return out


def check_43(answer):
    try:
        lr = float(answer)
    except (TypeError, ValueError):
        return False, say(
            f"{answer!r} is not a number. Hint: answer with one of {', '.join(f'{r:g}' for r in EX43_RATES)}.",
            f"{answer!r} no es un número. Pista: respondé con una de {', '.join(f'{r:g}' for r in EX43_RATES)}.",
        )
    if lr == EX43_BEST:
        return True, say(
            "lr 10, the article's, learns; lr 0.1 barely leaves chance in 10 epochs, and lr 1000 "
            "drives every sigmoid to 0 or 1 on its first steps, where the slope g'(h) is about 0: "
            "the gradient vanishes and the loss sticks at 0.1.",
            "lr 10, la del artículo, aprende; lr 0.1 apenas se aleja del azar en 10 épocas, y lr 1000 "
            "lleva cada sigmoide a 0 o 1 en sus primeros pasos, donde la pendiente g'(h) es casi 0: "
            "el gradiente se anula y el error se queda clavado en 0.1.",
        )
    if lr == 1000:
        return False, say(
            "lr 1000 ends at chance (about 10 %): its first steps push the hidden and output "
            "sigmoids to 0 or 1, where their slope is nearly 0, so no gradient comes back. "
            "Hint: run the three and print history.test_accuracy; a bigger step is not a faster one.",
            "lr 1000 termina al nivel del azar (alrededor de 10 %): sus primeros pasos llevan las "
            "sigmoides ocultas y de salida a 0 o 1, donde su pendiente es casi 0, así que no vuelve "
            "ningún gradiente. Pista: corré las tres e imprimí history.test_accuracy; un paso más "
            "grande no es un paso más rápido.",
        )
    if lr == 0.1:
        return False, say(
            "lr 0.1 is safe but slow: after 10 epochs it is still near chance. "
            "Hint: run the three and compare history.test_accuracy[-1].",
            "lr 0.1 es segura pero lenta: después de 10 épocas sigue cerca del azar. "
            "Pista: corré las tres y compará history.test_accuracy[-1].",
        )
    return False, say(
        f"{lr:g} is not one of the three rates. Hint: answer with one of "
        f"{', '.join(f'{r:g}' for r in EX43_RATES)}.",
        f"{lr:g} no es una de las tres tasas. Pista: respondé con una de "
        f"{', '.join(f'{r:g}' for r in EX43_RATES)}.",
    )


def whole_number(answer):
    """``answer`` as an int when it is a whole number (2, 2.0, "2"), else None
    (also used by ``nb05``)."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return int(value) if value.is_integer() else None


CHECKS = {"4.1": check_41, "4.2": check_42, "4.3": check_43}
