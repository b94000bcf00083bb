"""FrontNet: frontpropagation for the general network of 08-beyond (other
activations, cross-entropy, Adam and dropout: ``nets/general.py``).

The article derives eq. (1) and eq. (2) for a sigmoid net trained on the mean
squared error with SGD.  Nothing in the recursion depends on those choices
except two factors, and this module swaps them out while keeping the NpNet
arrangement (a forward sweep of hidden Jacobians, then one contraction at the
output).

Notation as in ``nets/base.py``: h^l = a~^{l-1} W^{l-1} (with the bias neuron),
a^l = g(h^l) for the hidden layers l = 1 .. L-1 and O = a^L = g_out(h^L).

**Eq. (1), generalized.**  By the chain rule

    grad E^k_ij = sum_b sum_q dE/dO_bq  dO_bq/dw^k_ij,

so the vector dE/dO takes the place of 2 (O - t) / (B n_L), the derivative of
the mean squared error.  The factor ``dO/dw`` is what frontprop computes.

**Eq. (2), generalized.**  Eq. (2), as stated in ``nnetlib.frontprop``, is
unchanged except that the slope g'(h^l) is that of the chosen activation
(``Activation.g_prime`` of ``nnetlib.activations``): the diagonal scaling of
layer l in its fast arrangement is s^l = g'(h^l), times the dropout mask.
"""

import numpy as np

from .._checks import check_array
from ..frontprop import JACOBIAN_BUDGET, chunked_deltas, forward_jacobian
from .general import GeneralNetwork


# -- frontprop ---------------------------------------------------------------------
class FrontNet(GeneralNetwork):
    """Generalized frontprop (see the module docstring): NpNet's forward
    sweep of hidden Jacobians with the chosen activation's slopes and masks,
    contracted at the output with dE/dh^L."""

    def jacobian(self, x, l, k, masks=None):
        """J^{l,k} = da^l/dh^{k+1} for each sample of ``x`` as a dense
        ``(B, n_l, n_{k+1})`` array, for hidden l with k + 1 <= l."""
        x = check_array(x, "x", self.layers[0], self.dtype)
        L = len(self.layers) - 1
        if not (0 <= k and k + 1 <= l <= L - 1):
            raise ValueError(f"need 0 <= k and k + 1 <= l <= {L - 1}, got l={l}, k={k}")
        _, slopes, _ = self._forward_train(x, self._check_masks(masks, x.shape[0]))
        J = forward_jacobian(slopes, self._weights, k, l)
        if J.ndim == 2:
            J = J[:, :, None] * np.eye(J.shape[1], dtype=self.dtype)
        return J

    #: Jacobian entries held at once by ``gradients`` (``nnetlib.frontprop``)
    jacobian_budget = JACOBIAN_BUDGET

    def _hidden_deltas(self, acts, slopes, d_out):
        """delta^k = dE/dh^L W^{L-1}^T J^{L-1,k}, in chunks of samples."""
        return chunked_deltas(
            slopes,
            self._weights,
            d_out,
            self.layers,
            lambda shape: np.empty(shape, self.dtype),
            self.jacobian_budget,
        )
