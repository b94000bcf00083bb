"""TorchNet: the PyTorch backprop reference (02-gradient-checks, 04, 05, 06).

``nn.Linear`` + ``nn.Sigmoid`` layers, ``nn.MSELoss`` and
``torch.optim.SGD(momentum=...)``, built from the same flat ``params`` as the
frontprop nets so that runs from identical weights can be compared.
nn.Linear stores W^T: ``linear.weight == weights[k][:-1].T`` and
``linear.bias == weights[k][-1]``.

torch's SGD keeps a buffer b <- momentum b + g and steps w <- w - lr b; with
v = -lr b this is the update of ``Network.step``.  Checkpoints store b, so
they only load back into a TorchNet.
"""
import warnings

import numpy as np
import torch
from torch import nn

from .._checks import check_array, check_batch, check_params
from .base import Network, layer_shapes

_TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TorchNet(Network):
    """PyTorch autograd with the shared interface."""

    velocity_convention = "torch-sgd-buffer"

    def __init__(self, layers, *, params=None, init="kaiming", seed=None, dtype="float32",
                 device="cpu"):
        self.device = torch.device(device)
        super().__init__(layers, params=params, init=init, seed=seed, dtype=dtype)

    def _set_state(self, flat, velocity):
        tdtype = _TORCH_DTYPES[self.dtype.name]
        mods = []
        start = 0
        self._linears = []
        with torch.no_grad():
            for rows, cols in layer_shapes(self.layers):
                w = np.asarray(flat[start:start + rows * cols]).reshape(rows, cols)
                lin = nn.Linear(rows - 1, cols, dtype=tdtype, device=self.device)
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w[:-1].T)))
                lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(w[-1])))
                mods += [lin, nn.Sigmoid()]
                self._linears.append(lin)
                start += rows * cols
        self.model = nn.Sequential(*mods)
        self._criterion = nn.MSELoss()
        self._optimizer = None
        if np.any(velocity):
            self._make_optimizer(1.0, 0.5)
            start = 0
            for lin in self._linears:
                for p, part in self._split_like_torch(velocity, lin, start):
                    self._optimizer.state[p]["momentum_buffer"] = part
                start += (lin.in_features + 1) * lin.out_features

    def _split_like_torch(self, flat, lin, start):
        rows, cols = lin.in_features + 1, lin.out_features
        w = np.asarray(flat[start:start + rows * cols]).reshape(rows, cols)
        tdtype = _TORCH_DTYPES[self.dtype.name]
        return [(lin.weight, torch.tensor(np.ascontiguousarray(w[:-1].T), dtype=tdtype, device=self.device)),
                (lin.bias, torch.tensor(np.ascontiguousarray(w[-1]), dtype=tdtype, device=self.device))]

    def _make_optimizer(self, lr, momentum):
        self._optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)

    @staticmethod
    def _to_weights(pairs):
        return [np.vstack([w.T, b[None, :]]) for w, b in pairs]

    @property
    def weights(self):
        """Copies of the weights in nnetlib's layout (bias as last row)."""
        return self._to_weights([(l.weight.detach().cpu().numpy(), l.bias.detach().cpu().numpy())
                                 for l in self._linears])

    @property
    def params(self):
        return np.concatenate([w.ravel() for w in self.weights])

    @params.setter
    def params(self, value):
        flat = check_params(value, self.n_params, self.dtype)
        self._set_state(flat.copy(), np.zeros_like(flat))

    @property
    def n_params(self):
        return sum(r * c for r, c in layer_shapes(self.layers))

    @property
    def velocity(self):
        """torch's momentum buffers b, flattened in nnetlib's layout."""
        pairs = []
        for lin in self._linears:
            bufs = []
            for p in (lin.weight, lin.bias):
                st = self._optimizer.state.get(p, {}) if self._optimizer else {}
                buf = st.get("momentum_buffer")
                bufs.append(np.zeros(tuple(p.shape), self.dtype) if buf is None else buf.detach().cpu().numpy())
            pairs.append(bufs)
        return np.concatenate([w.ravel() for w in self._to_weights(pairs)])

    def _state_for_save(self):
        return self.params, self.velocity

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

    def _loss_and_gradients(self, x, t):
        self.model.zero_grad(set_to_none=True)
        out = self.model(self._tensor(x))
        loss = self._criterion(out, self._tensor(t))
        loss.backward()
        grads = self._to_weights([(l.weight.grad.cpu().numpy(), l.bias.grad.cpu().numpy())
                                  for l in self._linears])
        return float(loss.detach()), grads

    def step(self, x, t, lr=10.0, momentum=0.5):
        """One ``torch.optim.SGD`` step; returns the loss before it."""
        lr, momentum = self._check_step_args(lr, momentum)
        x, t = check_batch(x, t, self.layers, self.dtype)
        if self._optimizer is None:
            self._make_optimizer(lr, momentum)
        for group in self._optimizer.param_groups:
            group["lr"], group["momentum"] = lr, momentum
        self._optimizer.zero_grad(set_to_none=True)
        out = self.model(self._tensor(x))
        loss = self._criterion(out, self._tensor(t))
        loss.backward()
        value = float(loss.detach())
        if not np.isfinite(value) or any(not torch.isfinite(p.grad).all() for p in self.model.parameters()):
            raise FloatingPointError("gradient is not finite; weights left unchanged")
        self._optimizer.step()
        return value

    def feedforward(self, x):
        x = check_array(x, "x", self.layers[0], self.dtype)
        return self._forward(x)[-1]
