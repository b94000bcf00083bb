"""NpNet: frontpropagation matricized in NumPy (03-python-numpy-cython).

Two arrangements of the same arithmetic live here.

``DADW(l, q, k)`` is eq. (2) matricized: the ``(B, n_k + 1, n_{k+1})``
array whose ``[b, i, j]`` entry is da^l_q/dw^k_ij for sample b.  It is
computed by dynamic programming (each matrix once per batch, memoized) and
``gradients_dadw`` assembles eq. (1) from it.  It is faithful and slow.

``gradients`` (the fast path, used for training) factors a^k_i out of eq. (2):
for k < l, da^l_q/dw^k_ij = a^k_i J^{l,k}_qj with J^{l,k} = da^l/dh^{k+1}, and

    J^{k+1,k} = diag(g'(h^{k+1}))
    J^{l,k}   = diag(g'(h^l)) W^{l-1}^T J^{l-1,k}        (l > k+1)

is the same recursion as eq. (2), swept forward in l, on matrices that no
longer carry the i index.  Eq. (1) then reads

    grad E^k = 2/(B n_L) sum_b a~^k_b (delta^k_b)^T,  delta^k_b = e_b^T J^{L,k}_b,

with e = O - t and a~ the activations with the bias neuron.  The last step of
the recursion (l = L) is contracted with e at once,
e^T diag(g'(h^L)) W^{L-1}^T J^{L-1,k} = u^T J^{L-1,k}, so no
``(B, n_L, n_{k+1})`` tensor is formed.  Only hidden-layer Jacobians are
propagated, in chunks of samples so memory stays bounded.
"""

import numpy as np

from ..frontprop import (
    JACOBIAN_BUDGET,
    forward_jacobian,
    mse_gradients,
    sigmoid_slopes,
)
from .base import ArrayNetwork


class NpNet(ArrayNetwork):
    """Frontprop in NumPy, batched; see the module docstring for the math."""

    #: Jacobian entries held at once by ``gradients`` (``nnetlib.frontprop``)
    jacobian_budget = JACOBIAN_BUDGET

    def _forward(self, x):
        acts = super()._forward(x)
        self._acts = acts  # the last feedforward, for DADW
        self._dadw_memo = {}
        return acts

    # -- eq. (2) matricized, kept for the report ------------------------------
    def DADW(self, l, q, k):
        """da^l_q/dw^k_ij for all (b, i, j) of the last feedforward, eq. (2).

        ``q == layers[l]`` is the bias neuron (derivative 0).  Memoized: each
        (l, q, k) is computed once per batch (dynamic programming).
        """
        acts = getattr(self, "_acts", None)
        if acts is None:
            raise RuntimeError("call feedforward(x) before DADW")
        L = len(self.layers) - 1
        if not (0 <= l <= L and 0 <= k < L and 0 <= q <= self.layers[l]):
            raise ValueError(f"no neuron q={q} in layer l={l} or no weight layer k={k}")
        key = (l, q, k)
        memo = self._dadw_memo
        if key in memo:
            return memo[key]
        B = acts[0].shape[0]
        shape = (B, self.layers[k] + 1, self.layers[k + 1])
        if l == 0 or q == self.layers[l] or k >= l:  # case 0
            out = np.zeros(shape, self.dtype)
        else:
            a = acts[l][:, q]
            gprime = a * (1 - a)  # g'(h^l_q)
            if k == l - 1:  # case a^k_i, j = q
                out = np.zeros(shape, self.dtype)
                out[:, :-1, q] = acts[k] * gprime[:, None]
                out[:, -1, q] = gprime
            else:  # case sum over r
                w = self._weights[l - 1]
                out = sum(w[r, q] * self.DADW(l - 1, r, k) for r in range(self.layers[l - 1]))
                out = out * gprime[:, None, None]
        memo[key] = out
        return out

    def gradients_dadw(self, x, t):
        """Eq. (1) assembled from ``DADW``: the article's arrangement (slow)."""
        from .._checks import check_batch

        x, t = check_batch(x, t, self.layers, self.dtype)
        out = self._forward(x)[-1]
        e = out - t
        L = len(self.layers) - 1
        c = 2 / e.size
        grads = []
        for k in range(L):
            g = sum(
                np.einsum("b,bij->ij", e[:, q], self.DADW(L, q, k)) for q in range(self.layers[L])
            )
            grads.append((c * g).astype(self.dtype))
        return grads

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
