"""TorchNet: the PyTorch backprop reference (02-gradient-checks, 04, 05, 06).

``nn.Linear`` + ``nn.Sigmoid`` layers, ``nn.MSELoss`` and
``torch.optim.SGD(momentum=...)``, built from the same flat ``params`` as the
frontprop nets so that runs from identical weights can be compared.
nn.Linear stores W^T: ``linear.weight == weights[k][:-1].T`` and
``linear.bias == weights[k][-1]``.

torch's SGD keeps a buffer b <- momentum b + g and steps w <- w - lr b; with
v = -lr b this is the update of the frontprop nets' ``step``.  Checkpoints
store b (optimizer kind "torch-sgd", ``nnetlib.optim.TorchSGD``), so they load
back into a TorchNet only; ``TorchNet.load(path, weights_only=True)`` starts
from another net's checkpoint with fresh momentum.
"""

import warnings

import numpy as np

from .._checks import check_params
from ..optim import TorchSGD
from ..params import split_layers
from ._torch import TORCH_DTYPES as _TORCH_DTYPES
from ._torch import torch  # first: a clear error when torch is missing
from .base import Network

nn = torch.nn


class _TorchOptimizer(TorchSGD):
    """TorchSGD whose state lives in a ``torch.optim.SGD`` over ``net.model``."""

    def __init__(self, net):
        super().__init__(0, net.dtype)
        self.net = net
        self.torch = None

    def bind(self):
        """A fresh ``torch.optim.SGD`` for the (new) model; no momentum yet."""
        self.torch = None

    def ensure(self, lr, momentum):
        if self.torch is None:
            self.torch = torch.optim.SGD(self.net.model.parameters(), lr=lr, momentum=momentum)
        for group in self.torch.param_groups:
            group["lr"], group["momentum"] = lr, momentum
        return self.torch

    def state(self):
        """torch's momentum buffers b, flattened in nnetlib's layout."""
        pairs = []
        for lin in self.net._linears:
            bufs = []
            for p in (lin.weight, lin.bias):
                buf = (self.torch.state.get(p, {}) if self.torch else {}).get("momentum_buffer")
                bufs.append(
                    np.zeros(tuple(p.shape), self.dtype)
                    if buf is None
                    else buf.detach().cpu().numpy()
                )
            pairs.append(bufs)
        return {"b": np.concatenate([w.ravel() for w in _to_weights(pairs)])}

    def load(self, arrays, hyper=None):
        buffers = arrays["b"]
        self.torch = None
        if not np.any(buffers):
            return
        opt = self.ensure(1.0, 0.5)
        tdtype = _TORCH_DTYPES[self.dtype.name]
        for lin, (w, b) in zip(self.net._linears, _split_pairs(buffers, self.net.layers)):
            for p, part in ((lin.weight, w.T), (lin.bias, b)):
                opt.state[p]["momentum_buffer"] = torch.tensor(
                    np.ascontiguousarray(part), dtype=tdtype, device=self.net.device
                )

    def reset(self):
        self.torch = None


def _to_weights(pairs):
    return [np.vstack([w.T, b[None, :]]) for w, b in pairs]


def _split_pairs(flat, layers):
    """(W^T rows, bias) pairs of a flat vector in nnetlib's layout."""
    return [(w[:-1], w[-1]) for w in split_layers(np.asarray(flat), layers)]


class TorchNet(Network):
    """PyTorch autograd with the shared interface."""

    def __init__(
        self, layers, *, params=None, init="torch", seed=None, dtype="float32", device="cpu"
    ):
        self.device = torch.device(device)
        super().__init__(layers, params=params, init=init, seed=seed, dtype=dtype)

    def _make_optimizer(self, n):
        return _TorchOptimizer(self)

    def _install(self, flat):
        """Build the model from ``flat``; momentum starts afresh (new parameters)."""
        tdtype = _TORCH_DTYPES[self.dtype.name]
        mods = []
        self._linears = []
        with torch.no_grad():
            for w, b in _split_pairs(flat, self.layers):
                lin = nn.Linear(w.shape[0], w.shape[1], dtype=tdtype, device=self.device)
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
                lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(b)))
                mods += [lin, nn.Sigmoid()]
                self._linears.append(lin)
        self.model = nn.Sequential(*mods)
        self._criterion = nn.MSELoss()
        self.optimizer.bind()

    @property
    def weights(self):
        """Copies of the weights in nnetlib's layout (bias as last row)."""
        return _to_weights(
            [
                (l.weight.detach().cpu().numpy(), l.bias.detach().cpu().numpy())
                for l in self._linears
            ]
        )

    @property
    def params(self):
        return np.concatenate([w.ravel() for w in self.weights])

    @params.setter
    def params(self, value):
        self._install(check_params(value, self.n_params, self.dtype).copy())

    def _tensor(self, arr):
        """A tensor sharing ``arr``'s memory; torch only reads it.

        The MNIST arrays are read-only, which torch warns about although it
        never writes to an input here, so that one warning is silenced."""
        if arr.flags.writeable:
            return torch.from_numpy(arr).to(self.device)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.from_numpy(arr).to(self.device)

    def _forward(self, x):
        with torch.no_grad():
            return [self.model(self._tensor(x)).cpu().numpy()]

    def _backward(self, x, t):
        """Loss tensor of checked ``x``, ``t``, after ``backward`` (grads set)."""
        self.model.zero_grad(set_to_none=True)
        loss = self._criterion(self.model(self._tensor(x)), self._tensor(t))
        loss.backward()
        return loss

    def _loss_and_gradients(self, x, t):
        loss = self._backward(x, t)
        grads = _to_weights(
            [(l.weight.grad.cpu().numpy(), l.bias.grad.cpu().numpy()) for l in self._linears]
        )
        return float(loss.detach()), grads

    def step(self, x, t, lr=None, momentum=0.5):
        """One ``torch.optim.SGD`` step (lr 10 by default); returns the loss before it."""
        lr, momentum = self.check_step(lr, momentum)
        x, t = self._check_batch(x, t)
        opt = self.optimizer.ensure(lr, momentum)
        value = float(self._backward(x, t).detach())
        if not np.isfinite(value) or any(
            not torch.isfinite(p.grad).all() for p in self.model.parameters()
        ):
            raise FloatingPointError("gradient is not finite; weights left unchanged")
        opt.step()
        return value
