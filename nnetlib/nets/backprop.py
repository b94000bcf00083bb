"""BackpropNet: the classic reverse sweep in NumPy (08-beyond, section 4).

Same options and interface as ``front.FrontNet`` (activations, losses,
Adam, dropout, masks, checkpoints); only the way delta^k = dE/dh^{k+1} is
obtained differs.  Frontprop carries da^l/dh^{k+1} forward from every layer k;
backprop starts from the output and sweeps once backwards:

    delta^{L-1} = dE/dh^L,
    delta^{k}   = (delta^{k+1} W^{k+1}^T) * s^{k+1},     k = L-2, ..., 0,

with s^l = m^l g'(h^l) the diagonal scaling of layer l (m^l the dropout mask,
1 without dropout).  This is the usual delta^l = (delta^{l+1} W^T) o g' of
the textbooks, shifted by one in the index to keep ``delta^k`` paired with
W^k.  Unrolling it gives dE/dh^L W^{L-1}^T diag(s^{L-1}) ... diag(s^{k+1}),
the product frontprop evaluates from the other end, so the two agree up to
rounding while backprop needs only matrix-vector work per sample
(``costmodel.backprop_macs``).
"""

from .general import GeneralNetwork


class BackpropNet(GeneralNetwork):
    """Reverse-mode gradients with ``FrontNet``'s options and interface."""

    def _hidden_deltas(self, acts, slopes, d_out):
        L = len(self.layers) - 1
        deltas = [None] * L
        deltas[L - 1] = d_out
        for k in range(L - 2, -1, -1):
            deltas[k] = (deltas[k + 1] @ self._weights[k + 1][:-1].T) * slopes[k + 1]
        return deltas
