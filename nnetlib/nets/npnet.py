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

from .base import Network

#: largest number of Jacobian entries held at once (per chunk of samples)
JACOBIAN_BUDGET = 1 << 22


def sigmoid_slopes(acts):
    """[None, g'(h^1), ..., g'(h^L)] from the activations, g' = a (1 - a)."""
    return [None] + [a * (1 - a) for a in acts[1:]]


def forward_jacobian(slopes, weights, k, stop):
    """J^{stop,k} = da^stop/dh^{k+1} for every sample, eq. (2) swept forward in l.

    ``slopes[l]`` is g'(h^l) (B, n_l), masks included where dropout applies;
    ``weights[l]`` is W^l, (n_l + 1, n_{l+1}).  Returns the diagonal as a
    ``(B, n_{k+1})`` vector when stop == k + 1, else ``(B, n_stop, n_{k+1})``.
    Written with operators only, so NumPy arrays and torch tensors both work
    (NpNet, FrontNet and GpuNet share it).
    """
    J = slopes[k + 1]
    for l in range(k + 2, stop + 1):
        wt = weights[l - 1][:-1].T                            # (n_l, n_{l-1})
        if J.ndim == 2:                                       # diag(g') W^T diag(s)
            J = slopes[l][:, :, None] * wt[None, :, :] * J[:, None, :]
        else:
            J = slopes[l][:, :, None] * (wt @ J)
    return J


def frontprop_deltas(slopes, weights, d_out):
    """delta^k = dE/dh^L W^{L-1}^T J^{L-1,k}, k = 0 .. L-1, each (B, n_{k+1}).

    ``d_out`` is dE/dh^L up to a constant (e diag(g'(h^L)) for the squared
    error).  The last step of the recursion is contracted with it at once,
    u = d_out W^{L-1}[:-1]^T, so no (B, n_L, n_{k+1}) array is formed.
    """
    L = len(weights)
    deltas = [None] * L
    deltas[L - 1] = d_out
    if L == 1:
        return deltas
    u = d_out @ weights[L - 1][:-1].T                         # (B, n_{L-1})
    for k in range(L - 1):
        J = forward_jacobian(slopes, weights, k, L - 1)
        deltas[k] = u * J if J.ndim == 2 else (u[:, None, :] @ J)[:, 0, :]
    return deltas


def jacobian_chunk(layers, budget):
    """Samples per chunk so that no hidden Jacobian exceeds ``budget`` entries."""
    L = len(layers) - 1
    widest = max((layers[l] * layers[k + 1] for k in range(L) for l in range(k + 1, L)), default=1)
    return max(1, budget // widest)


class NpNet(Network):
    """Frontprop in NumPy, batched; see the module docstring for the math."""

    def _forward(self, x):
        acts = super()._forward(x)
        self._acts = acts          # the last feedforward, for DADW
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
        if l == 0 or q == self.layers[l] or k >= l:          # case 0
            out = np.zeros(shape, self.dtype)
        else:
            a = acts[l][:, q]
            gprime = a * (1 - a)                               # g'(h^l_q)
            if k == l - 1:                                     # case a^k_i, j = q
                out = np.zeros(shape, self.dtype)
                out[:, :-1, q] = acts[k] * gprime[:, None]
                out[:, -1, q] = gprime
            else:                                              # case sum over r
                w = self._weights[l - 1]
                out = sum(w[r, q] * self.DADW(l - 1, r, k) for r in range(self.layers[l - 1]))
                out = out * gprime[:, None, None]
        memo[key] = out
        return out

    def gradients_dadw(self, x, t):
        """Eq. (1) assembled from ``DADW``: the seed's arrangement (slow)."""
        from .._checks import check_batch
        x, t = check_batch(x, t, self.layers, self.dtype)
        out = self._forward(x)[-1]
        e = out - t
        L = len(self.layers) - 1
        c = 2 / e.size
        grads = []
        for k in range(L):
            g = sum(np.einsum("b,bij->ij", e[:, q], self.DADW(L, q, k)) for q in range(self.layers[L]))
            grads.append((c * g).astype(self.dtype))
        return grads

    # -- the fast path ---------------------------------------------------------
    def jacobians(self, acts, k, stop):
        """J^{stop,k} = da^stop/dh^{k+1} for every sample, swept forward.

        Returns a vector ``(B, n_{k+1})`` when the Jacobian is diagonal
        (stop == k + 1) and a ``(B, n_stop, n_{k+1})`` array otherwise.
        """
        return forward_jacobian(sigmoid_slopes(acts), self._weights, k, stop)

    def _deltas(self, acts, e):
        """delta^k = e^T J^{L,k}, for k = 0 .. L-1, shape (B, n_{k+1})."""
        slopes = sigmoid_slopes(acts)
        return frontprop_deltas(slopes, self._weights, e * slopes[-1])

    def _loss_and_gradients(self, x, t):
        acts = self._forward(x)
        e = acts[-1] - t
        loss = float(np.mean(e * e))
        L = len(self.layers) - 1
        B = x.shape[0]
        c = self.dtype.type(2 / e.size)
        chunk = jacobian_chunk(self.layers, JACOBIAN_BUDGET)
        deltas = [np.empty((B, self.layers[k + 1]), self.dtype) for k in range(L)]
        for start in range(0, B, chunk):
            part = slice(start, start + chunk)
            for k, d in enumerate(self._deltas([a[part] for a in acts], e[part])):
                deltas[k][part] = d
        grads = []
        for k in range(L):
            d = deltas[k] * c
            g = np.empty((self.layers[k] + 1, self.layers[k + 1]), self.dtype)
            np.matmul(acts[k].T, d, out=g[:-1])
            g[-1] = d.sum(axis=0)
            grads.append(g)
        return loss, grads
