"""PyNet: frontpropagation in pure Python, eq. (2), as stated in
``nnetlib.frontprop``, evaluated exactly as written (01-derivation).

Indices follow the derivation: ``dadw(l, q, k, i, j)`` is da^l_q/dw^k_ij,
with ``i == layers[k]`` the bias neuron of layer k (a^k_i = 1) and
``q == layers[l]`` the bias neuron of layer l (derivative 0).  Values are
memoized per sample and the memo is cleared by every feedforward.
NumPy only converts at the boundary; the arithmetic is Python floats.
"""

import numpy as np

from ..activations import sigmoid_float, sigmoid_slope
from .base import NumpyNetwork


class PyNet(NumpyNetwork):
    """Pure-Python frontprop; slow by design, faithful to eq. (2)."""

    def _forward_python(self, x):
        """Per-sample activations ``a[b][l][q]`` as lists, bias appended."""
        w = [wk.tolist() for wk in self._weights]
        self._w = w
        samples = []
        for row in x.tolist():
            a = [row + [1.0]]
            for k, wk in enumerate(w):
                prev = a[-1]
                n_out = self.layers[k + 1]
                nxt = []
                for j in range(n_out):
                    h = 0.0
                    for i, ai in enumerate(prev):
                        h += ai * wk[i][j]
                    nxt.append(sigmoid_float(h))
                nxt.append(1.0)
                a.append(nxt)
            samples.append(a)
        self._a = samples
        self._memo = {}
        return samples

    def _forward(self, x):
        samples = self._forward_python(x)
        L = len(self.layers) - 1
        return [np.array([s[l][:-1] for s in samples], dtype=self.dtype) for l in range(L + 1)]

    def dadw(self, l, q, k, i, j, b=0):
        """da^l_q/dw^k_ij for sample ``b`` of the last feedforward, eq. (2).

        Ranges (L = len(layers) - 1, n_l = layers[l]):

        * ``l`` in 0 .. L, the layer of the activation a^l_q;
        * ``q`` in 0 .. n_l (q == n_l is the bias neuron, derivative 0);
        * ``k`` in 0 .. L - 1, the weight matrix W^k;
        * ``i`` in 0 .. n_k (i == n_k is the bias neuron, a^k_i = 1);
        * ``j`` in 0 .. n_{k+1} - 1;
        * ``b`` in 0 .. B - 1, a sample of the last ``feedforward(x)``.

        Call ``feedforward(x)`` (or ``gradients``) first.
        """
        if getattr(self, "_memo", None) is None:
            raise RuntimeError(
                "dadw reads the activations of the last feedforward: call feedforward(x) first"
            )
        self._check_dadw_indices(l, q, k, i, j, b)
        return self._dadw(l, q, k, i, j, b)

    def _dadw(self, l, q, k, i, j, b):
        """``dadw`` without the checks (eq. (2), memoized per sample)."""
        key = (l, q, k, i, j, b)
        memo = self._memo
        if key in memo:
            return memo[key]
        a = self._a[b]
        if l == 0 or q == self.layers[l] or k >= l:
            value = 0.0  # case 0
        else:
            alq = a[l][q]
            gprime = sigmoid_slope(alq)  # g'(h^l_q)
            if k == l - 1:
                value = gprime * a[k][i] if j == q else 0.0
            elif k == l - 2:  # shortcut: only r = j survives
                alj = a[l - 1][j]  # g'(h^{l-1}_j) = alj (1 - alj), inside the product
                value = gprime * self._w[l - 1][j][q] * alj * (1.0 - alj) * a[k][i]
            else:
                wl = self._w[l - 1]
                total = 0.0
                for r in range(self.layers[l - 1]):  # the bias r contributes 0
                    total += wl[r][q] * self._dadw(l - 1, r, k, i, j, b)
                value = gprime * total
        memo[key] = value
        return value

    def _check_dadw_indices(self, l, q, k, i, j, b):
        L = len(self.layers) - 1
        checks = (
            ("l", l, 0, L),
            ("k", k, 0, L - 1),
            ("q", q, 0, self.layers[min(max(l, 0), L)]),
            ("i", i, 0, self.layers[min(max(k, 0), L - 1)]),
            ("j", j, 0, self.layers[min(max(k, 0), L - 1) + 1] - 1),
            ("b", b, 0, len(self._a) - 1),
        )
        for name, value, low, high in checks:
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer))
                or not low <= value <= high
            ):
                where = {
                    "q": f" (layer l={l})",
                    "i": f" (weights k={k})",
                    "j": f" (weights k={k})",
                    "b": " (samples of the last feedforward)",
                }.get(name, "")
                raise IndexError(f"dadw: {name}={value!r} is out of range {low}..{high}{where}")

    def _loss_and_gradients(self, x, t):
        samples = self._forward_python(x)
        L = len(self.layers) - 1
        tl = t.tolist()
        errors = [
            [samples[b][L][q] - tl[b][q] for q in range(self.layers[L])] for b in range(len(tl))
        ]
        n = len(tl) * self.layers[L]
        loss = sum(e * e for row in errors for e in row) / n
        c = 2.0 / n
        grads = []
        for k in range(L):
            g = np.empty((self.layers[k] + 1, self.layers[k + 1]), dtype=np.float64)
            for i in range(self.layers[k] + 1):
                for j in range(self.layers[k + 1]):
                    total = 0.0
                    for b, row in enumerate(errors):
                        for q, e in enumerate(row):
                            total += e * self._dadw(L, q, k, i, j, b)
                    g[i, j] = c * total
            grads.append(g.astype(self.dtype))
        return loss, grads
