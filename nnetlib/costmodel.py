"""Multiply-add counts of frontprop and backprop, per sample (08-beyond,
section 4).

The counts follow the code, not an idealised algorithm: frontprop as
arranged in ``NpNet`` / ``nets.front.FrontNet`` (forward pass, forward sweep
of the hidden Jacobians J^{l,k} = da^l/dh^{k+1}, contraction with dE/dh^L,
weight gradients) and backprop as in ``nets.backprop.BackpropNet``.  Notation
of notebook 01: delta^{k+1} = dE/dh^{k+1}, the error at the pre-activations
that W^k feeds.  A multiply-add
(MAC) is one multiplication, with or without an addition; elementwise
products count one each.  The bias neuron is counted like any other input
(its weight is a row of W^k), so a layer map costs (n_k + 1) n_{k+1}.
Activations and their slopes g'(h) are not counted (both methods evaluate the
same ones), nor is the loss value.

With ``layers = [n_0, ..., n_L]``:

* forward, and again weight gradients (sum_b a~^k_b delta^{k+1}_b^T):
  sum_k (n_k + 1) n_{k+1} each;
* dE/dh^L: n_L;
* hidden Jacobians (frontprop only), for each k with k + 2 <= L - 1:
  the first step l = k + 2 scales W^T on both sides, diag(s^l) W^T diag(s^{k+1}),
  2 n_{k+2} n_{k+1}; every later step l = k + 3 .. L - 1 is a product
  W^{l-1}^T J^{l-1,k} and a row scaling, n_l n_{l-1} n_{k+1} + n_l n_{k+1};
* output contraction (frontprop): u = dE/dh^L W^{L-1}^T, n_L n_{L-1}; then
  delta^{L-1} = u * s^{L-1}, n_{L-1}, and delta^{k+1} = u J^{L-1,k}, n_{L-1} n_{k+1},
  for k < L - 2;
* reverse sweep (backprop): delta^{k+1} = (delta^{k+2} W^{k+1}^T) * s^{k+1},
  n_{k+2} n_{k+1} + n_{k+1} for k = L - 2 .. 0.

For L - 1 hidden layers of width w the Jacobian sweep is the only cubic term,
about (L - 2)(L - 3)/2 w^3 against backprop's (L - 1) w^2 per sample, which is
where forward accumulation loses.  With one hidden layer the two counts are
equal.
"""

from ._checks import check_layers


def _layer_maps(n):
    return sum((n[k] + 1) * n[k + 1] for k in range(len(n) - 1))


def frontprop_breakdown(layers):
    """Per-sample MACs of frontprop, by phase (a dict; see the module docstring)."""
    n = check_layers(layers)
    L = len(n) - 1
    jac = 0
    for k in range(L - 2):  # k + 2 <= L - 1
        jac += 2 * n[k + 2] * n[k + 1]
        for l in range(k + 3, L):
            jac += n[l] * n[l - 1] * n[k + 1] + n[l] * n[k + 1]
    contraction = 0
    if L >= 2:
        contraction = n[L] * n[L - 1] + n[L - 1]
        contraction += sum(n[L - 1] * n[k + 1] for k in range(L - 2))
    return {
        "forward": _layer_maps(n),
        "output": n[L],
        "jacobians": jac,
        "contraction": contraction,
        "weights": _layer_maps(n),
    }


def backprop_breakdown(layers):
    """Per-sample MACs of backprop, by phase (a dict; see the module docstring)."""
    n = check_layers(layers)
    L = len(n) - 1
    sweep = sum(n[k + 2] * n[k + 1] + n[k + 1] for k in range(L - 1))
    return {"forward": _layer_maps(n), "output": n[L], "backward": sweep, "weights": _layer_maps(n)}


def frontprop_macs(layers):
    """Multiply-adds per sample of one frontprop gradient (``FrontNet``)."""
    return sum(frontprop_breakdown(layers).values())


def backprop_macs(layers):
    """Multiply-adds per sample of one backprop gradient (``BackpropNet``)."""
    return sum(backprop_breakdown(layers).values())
