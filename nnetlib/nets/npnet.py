"""NpNet: frontpropagation matricized in NumPy (03-python-numpy-cython).

Two arrangements of eq. (2), as stated in ``nnetlib.frontprop``, live here.

``DADW(l, q, k)`` is eq. (2) matricized: the ``(B, n_k + 1, n_{k+1})``
array whose ``[b, i, j]`` entry is da^l_q/dw^k_ij for sample b.  It is
computed by dynamic programming (each matrix once per batch, memoized) and
``gradients_dadw`` assembles eq. (1) from it.  It is faithful and slow.

``gradients`` (the fast path, used for training) sweeps the Jacobians
J^{l,k} = da^l/dh^{k+1} of ``nnetlib.frontprop`` forward in l, on matrices
that no longer carry the i index.  The last step of the recursion (l = L) is
contracted with the error e = O - t at once,
e^T diag(g'(h^L)) W^{L-1}^T J^{L-1,k} = u^T J^{L-1,k}, so no
``(B, n_L, n_{k+1})`` tensor is formed.  Only hidden-layer Jacobians are
propagated, in chunks of samples so memory stays bounded.
"""

import numpy as np

from .._checks import check_batch
from ..activations import sigmoid_slope
from ..frontprop import (
    JACOBIAN_BUDGET,
    forward_jacobian,
    mse_gradients,
    sigmoid_slopes,
)
from .base import NumpyNetwork


# -- eq. (2) matricized, kept for the report (NpNet's and CyNet's DADW) -----------
def remember_activations(net, acts):
    """``acts``, kept as ``net``'s last feedforward for ``DADW``, with a fresh memo."""
    net._acts = acts
    net._dadw_memo = {}
    return acts


def dadw_matrix(net, l, q, k):
    """da^l_q/dw^k_ij for all (b, i, j) of ``net``'s last feedforward, eq. (2).

    ``q == layers[l]`` is the bias neuron (derivative 0).  Memoized: each
    (l, q, k) is computed once per batch (dynamic programming); the recursion
    goes through ``net.DADW``, which NpNet and CyNet bind to this function.
    """
    acts = getattr(net, "_acts", None)
    if acts is None:
        raise RuntimeError("call feedforward(x) before DADW")
    L = len(net.layers) - 1
    if not (0 <= l <= L and 0 <= k < L and 0 <= q <= net.layers[l]):
        raise ValueError(f"no neuron q={q} in layer l={l} or no weight layer k={k}")
    key = (l, q, k)
    memo = net._dadw_memo
    if key in memo:
        return memo[key]
    B = acts[0].shape[0]
    shape = (B, net.layers[k] + 1, net.layers[k + 1])
    if l == 0 or q == net.layers[l] or k >= l:  # case 0
        out = np.zeros(shape, net.dtype)
    else:
        a = acts[l][:, q]
        gprime = sigmoid_slope(a)  # g'(h^l_q)
        if k == l - 1:  # case a^k_i, j = q
            out = np.zeros(shape, net.dtype)
            out[:, :-1, q] = acts[k] * gprime[:, None]
            out[:, -1, q] = gprime
        else:  # case sum over r
            w = net._weights[l - 1]
            out = sum(w[r, q] * net.DADW(l - 1, r, k) for r in range(net.layers[l - 1]))
            out = out * gprime[:, None, None]
    memo[key] = out
    return out


def dadw_gradients(net, x, t):
    """Eq. (1) assembled from ``net.DADW``: the article's arrangement (slow)."""
    x, t = check_batch(x, t, net.layers, net.dtype)
    out = net._forward(x)[-1]
    e = out - t
    L = len(net.layers) - 1
    c = 2 / e.size
    grads = []
    for k in range(L):
        g = sum(np.einsum("b,bij->ij", e[:, q], net.DADW(L, q, k)) for q in range(net.layers[L]))
        grads.append((c * g).astype(net.dtype))
    return grads


class NpNet(NumpyNetwork):
    """Frontprop in NumPy, batched; see the module docstring for the math."""

    #: Jacobian entries held at once by ``gradients`` (``nnetlib.frontprop``)
    jacobian_budget = JACOBIAN_BUDGET
    #: eq. (2) matricized and eq. (1) assembled from it, shared with CyNet
    DADW = dadw_matrix
    gradients_dadw = dadw_gradients

    def _forward(self, x):
        return remember_activations(self, super()._forward(x))

    # -- the fast path ---------------------------------------------------------
    def jacobians(self, acts, k, stop):
        """J^{stop,k} = da^stop/dh^{k+1} for every sample, swept forward.

        Returns a vector ``(B, n_{k+1})`` when the Jacobian is diagonal
        (stop == k + 1) and a ``(B, n_stop, n_{k+1})`` array otherwise.
        """
        return forward_jacobian(sigmoid_slopes(acts), self._weights, k, stop)

    def _loss_and_gradients(self, x, t):
        """Eq. (1) from the forward sweep of ``nnetlib.frontprop``, in chunks
        of at most ``jacobian_budget`` Jacobian entries."""
        acts = self._forward(x)
        grads = [np.empty(w.shape, self.dtype) for w in self._weights]
        e = mse_gradients(
            acts,
            t,
            self._weights,
            self.layers,
            grads,
            lambda shape: np.empty(shape, self.dtype),
            self.jacobian_budget,
            self.dtype.type,
        )
        return float(np.mean(e * e)), grads
