"""Forward gradients (08-beyond, section 3).

Baydin, Pearlmutter, Syme, Wood and Torr, "Gradients without
Backpropagation" (2022, arXiv:2202.08587): draw a direction v ~ N(0, I) in
parameter space, compute the directional derivative d = grad E . v with one
forward-mode Jacobian-vector product (no reverse sweep and no per-weight
tangents), and step along

    g^ = d v = (grad E . v) v.

Because E[v v^T] = I for a standard Gaussian, E[g^] = grad E: the estimate is
unbiased, but its variance grows with the number of parameters P (each
component has variance |grad E|^2 + (grad E)_i^2), so training with it is
much noisier than with the exact gradient.

The JVP is taken by ``torch.func.jvp`` on ``functional_loss``, a pure
function of the flat parameter vector written with the same layout, options
and dropout masks as ``FrontNet``.  ``ForwardGradientNet`` is a ``FrontNet``
whose ``step`` follows g^ instead of the exact gradient (SGD or Adam, as
configured), so ``nnetlib.train`` drives it unchanged; its ``gradients``
stay exact (frontprop), which the tests and the notebook compare against.
"""

import numpy as np

from .._checks import check_batch, check_choice, check_layers, check_seed
from ..activations import ACTIVATIONS
from ..params import split_layers
from ._torch import TORCH_DTYPES as _TORCH_DTYPES
from ._torch import torch  # first: a clear error when torch is missing
from .front import FrontNet
from .general import LOSSES

jvp = torch.func.jvp


def functional_loss(layers, activation="sigmoid", loss="mse"):
    """``f(params, x, t, masks=None) -> E`` as a torch function of the flat
    parameter tensor (nnetlib's layout: bias as the last row of each W^k).

    ``masks`` multiply the hidden activations, as in ``FrontNet.gradients``.
    """
    layers = check_layers(layers)
    check_choice(activation, "activation", ACTIVATIONS)
    check_choice(loss, "loss", LOSSES)
    g = getattr(torch, ACTIVATIONS[activation].torch)
    L = len(layers) - 1

    def f(params, x, t, masks=None):
        a, h = x, None
        for l, w in enumerate(split_layers(params, layers), start=1):
            h = a @ w[:-1] + w[-1]
            if l < L:
                a = g(h)
                if masks is not None:
                    a = a * masks[l - 1]
        if loss == "mse":
            return torch.mean((torch.sigmoid(h) - t) ** 2)
        return -(t * torch.log_softmax(h, dim=1)).sum() / t.shape[0]

    return f


def directional_derivative(f, params, x, t, v, masks=None):
    """``(E, grad E . v)`` from one ``torch.func.jvp`` of ``f`` at ``params``."""
    value, tangent = jvp(lambda p: f(p, x, t, masks), (params,), (v,))
    return value, tangent


class ForwardGradientNet(FrontNet):
    """A FrontNet trained with forward gradients (module docstring).

    Extra option ``direction_seed`` (default: ``seed``, else fresh entropy):
    the direction of step n is drawn from ``default_rng([direction_seed, n])``,
    so runs and resumed runs are reproducible.
    """

    def __init__(self, layers, *, direction_seed=None, **kwargs):
        super().__init__(layers, **kwargs)
        self.direction_seed = check_seed(direction_seed, "direction_seed", self.seed)
        self._f = functional_loss(self.layers, self.activation, self.function["loss"])
        self._tdtype = _TORCH_DTYPES[self.dtype.name]

    @property
    def config(self):
        cfg = super().config
        cfg["direction_seed"] = self.direction_seed
        return cfg

    def direction(self, step=None):
        """The Gaussian direction v of step number ``step`` (default: next)."""
        step = self.n_steps if step is None else step
        rng = np.random.default_rng([self.direction_seed, step])
        return rng.standard_normal(self.n_params).astype(self.dtype)

    def _torch(self, arr):
        return torch.tensor(np.asarray(arr), dtype=self._tdtype)

    def _estimate(self, x, t, v, masks):
        ms = None if masks is None else [self._torch(m) for m in masks]
        value, d = directional_derivative(
            self._f,
            torch.from_numpy(self._flat),
            self._torch(x),
            self._torch(t),
            self._torch(v),
            ms,
        )
        d = float(d)
        return float(value), d, d * np.asarray(v, dtype=self.dtype)

    def estimate(self, x, t, v=None, masks=None):
        """``(E, grad E . v, g^ = (grad E . v) v)`` for direction ``v``
        (default: the next step's); g^ is flat, in the layout of ``params``."""
        x, t = check_batch(x, t, self.layers, self.dtype)
        masks = self._check_masks(masks, x.shape[0])
        if v is None:
            v = self.direction()
        v = np.asarray(v, dtype=self.dtype)
        if v.shape != (self.n_params,) or not np.all(np.isfinite(v)):
            raise ValueError(
                f"v must be a finite vector of length {self.n_params}, got shape {v.shape}"
            )
        return self._estimate(x, t, v, masks)

    def _step_gradient(self, x, t):
        loss, _, g = self._estimate(x, t, self.direction(), self._step_masks(x.shape[0]))
        return loss, g
