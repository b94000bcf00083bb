"""Checkers of notebook 02-gradient-checks' exercises (a new activation checked
by central differences; the step size of a central difference)."""

import numpy as np

from . import say

# -- 2.1 · a gradient check of softplus --------------------------------------------

#: the points h where exercise 2.1 checks g and g'
EX21_GRID = np.linspace(-6.0, 6.0, 49)
#: the central difference's step and the largest relative error accepted (as in notebook 02)
EX21_EPS = 1e-5
EX21_TOL = 1e-6


def softplus(h):
    """g(h) = log(1 + e^h), stable for every float h."""
    return np.logaddexp(0.0, h)


def _values(f, h):
    """``f`` at every point of ``h``: called on the array, or point by point if that fails."""
    try:
        out = np.asarray(f(h), dtype=np.float64)
        if out.shape == h.shape:
            return out
    except Exception:
        pass
    return np.array([float(f(float(v))) for v in h])


def _pair(answer):
    if isinstance(answer, dict):
        answer = (answer.get("g"), answer.get("g_prime", answer.get("gp")))
    g, gp = answer
    if not (callable(g) and callable(gp)):
        raise TypeError("the answer is two functions, (g, g_prime)")
    return g, gp


def _relative_errors(a, b):
    """|a - b| / max(|a|, |b|), 0 where both are exactly 0 (notebook 02's measure)."""
    scale = np.maximum(np.abs(a), np.abs(b))
    return np.divide(np.abs(a - b), scale, out=np.zeros_like(a), where=scale > 0)


def check_21(answer):
    g, gp = _pair(answer)
    h = EX21_GRID
    gv, true = _values(g, h), softplus(h)
    bad = ~np.isclose(gv, true, rtol=1e-9, atol=1e-12)
    if bad.any():
        n = int(np.argmax(np.abs(gv - true)))
        return False, say(
            f"your g is not softplus: at h = {h[n]:g} it gives {gv[n]:.6g}, log(1 + e^h) = {true[n]:.6g} "
            f"({int(bad.sum())} of {h.size} points differ). Hint: g(h) = log(1 + e^h), e.g. "
            "np.log1p(np.exp(h)) or np.logaddexp(0, h).",
            f"tu g no es softplus: en h = {h[n]:g} da {gv[n]:.6g}, y log(1 + e^h) = {true[n]:.6g} "
            f"(difieren {int(bad.sum())} de {h.size} puntos). Pista: g(h) = log(1 + e^h), p. ej. "
            "np.log1p(np.exp(h)) o np.logaddexp(0, h).",
        )
    fd = (_values(g, h + EX21_EPS) - _values(g, h - EX21_EPS)) / (2 * EX21_EPS)
    gpv = _values(gp, h)
    err = _relative_errors(gpv, fd)
    if np.all(err <= EX21_TOL):
        return True, say(
            f"g' agrees with the central difference of your g at all {h.size} points of [-6, 6] "
            f"(largest relative error {err.max():.0e}). softplus' = the sigmoid: softplus is its antiderivative.",
            f"g' coincide con la diferencia central de tu g en los {h.size} puntos de [-6, 6] "
            f"(mayor error relativo {err.max():.0e}). softplus' = la sigmoide: softplus es su primitiva.",
        )
    fails = err > EX21_TOL
    n = int(np.argmax(err))
    where = (
        f"g' fails the check at {int(fails.sum())} of {h.size} points of [-6, 6], h from "
        f"{h[fails].min():g} to {h[fails].max():g}; worst at h = {h[n]:g}: g'(h) = {gpv[n]:.6g}, "
        f"the central difference gives {fd[n]:.6g} (relative error {err[n]:.1e})."
    )
    where_es = (
        f"g' no pasa el control en {int(fails.sum())} de {h.size} puntos de [-6, 6], con h de "
        f"{h[fails].min():g} a {h[fails].max():g}; el peor es h = {h[n]:g}: g'(h) = {gpv[n]:.6g}, "
        f"y la diferencia central da {fd[n]:.6g} (error relativo {err[n]:.1e})."
    )
    sig = 1 / (1 + np.exp(-h))
    if np.allclose(gpv, 1 - sig, rtol=1e-6):
        hint = "the sign of h: d/dh log(1 + e^h) = e^h / (1 + e^h) = 1 / (1 + e^-h)."
        hint_es = "el signo de h: d/dh log(1 + e^h) = e^h / (1 + e^h) = 1 / (1 + e^-h)."
    elif np.allclose(gpv, sig * (1 - sig), rtol=1e-6):
        hint = "that is the sigmoid's slope σ(h)(1 − σ(h)), softplus' second derivative; differentiate once."
        hint_es = (
            "esa es la pendiente de la sigmoide, σ(h)(1 − σ(h)), la derivada segunda de softplus; "
            "derivá una sola vez."
        )
    elif np.allclose(gpv, np.exp(h), rtol=1e-6):
        hint = "the chain rule: log(u)' = u'/u with u = 1 + e^h, so divide e^h by 1 + e^h."
        hint_es = (
            "la regla de la cadena: log(u)' = u'/u con u = 1 + e^h, así que dividí e^h por 1 + e^h."
        )
    else:
        hint = "d/dh log(1 + e^h) = e^h / (1 + e^h) by the chain rule."
        hint_es = "d/dh log(1 + e^h) = e^h / (1 + e^h) por la regla de la cadena."
    return False, say(f"{where} Hint: {hint}", f"{where_es} Pista: {hint_es}")


# -- 2.2 · the step of a central difference --------------------------------------

#: float64's machine epsilon, the u of notebook 02's rounding estimate
U = float(np.finfo(np.float64).eps)
#: the step where truncation (~ eps^2) and rounding (~ u / eps) balance: eps^3 = u
BEST_EPS = U ** (1 / 3)


def measured_best_step(h=0.5):
    """The power of ten, 1e-1 .. 1e-12, whose central difference of the sigmoid
    at ``h`` is closest to its exact slope; and that error."""
    g = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    exact = g(h) * (1 - g(h))
    steps = 10.0 ** -np.arange(1, 13)
    errors = np.abs((g(h + steps) - g(h - steps)) / (2 * steps) - exact)
    n = int(np.argmin(errors))
    return float(steps[n]), float(errors[n])


def check_22(answer):
    eps = float(answer)
    if not eps > 0:
        return False, say(
            f"{eps:g} is no step. Hint: a step ε > 0, where ε² and u/ε are about equal.",
            f"{eps:g} no es un paso. Pista: un paso ε > 0, donde ε² y u/ε sean más o menos iguales.",
        )
    if BEST_EPS / 10 <= eps <= BEST_EPS * 10:
        step, error = measured_best_step()
        return True, say(
            f"ε ≈ u^(1/3) = {BEST_EPS:.1e} balances ε² against u/ε; measured on the sigmoid at "
            f"h = 0.5, the best power of ten is ε = {step:.0e} (error {error:.0e}).",
            f"ε ≈ u^(1/3) = {BEST_EPS:.1e} equilibra ε² con u/ε; medida sobre la sigmoide en "
            f"h = 0.5, la mejor potencia de diez es ε = {step:.0e} (error {error:.0e}).",
        )
    if np.sqrt(U) / 10 <= eps <= np.sqrt(U) * 10:
        return False, say(
            f"ε = {eps:.1e} ≈ √u balances a one-sided difference, whose truncation error is ~ ε. "
            "Hint: the central difference's truncation is ~ ε², so solve ε² = u/ε.",
            f"ε = {eps:.1e} ≈ √u es el equilibrio de una diferencia de un solo lado, cuyo error de "
            "truncamiento es ~ ε. Pista: el truncamiento de la diferencia central es ~ ε², así que "
            "resolvé ε² = u/ε.",
        )
    side = "rounding, u/ε, dominates" if eps < BEST_EPS else "truncation, ε², dominates"
    side_es = "domina el redondeo, u/ε" if eps < BEST_EPS else "domina el truncamiento, ε²"
    return (
        False,
        say(
            f"ε = {eps:.1e} is too {'small' if eps < BEST_EPS else 'large'}: {side}. Hint: solve ε² = u/ε.",
            f"ε = {eps:.1e} es demasiado {'chico' if eps < BEST_EPS else 'grande'}: {side_es}. "
            "Pista: resolvé ε² = u/ε.",
        ),
    )


CHECKS = {"2.1": check_21, "2.2": check_22}
