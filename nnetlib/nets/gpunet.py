"""GpuNet: frontpropagation in torch tensor ops, on any device (06-timing).

The arithmetic is NpNet's fast path, eq. (2), as stated in ``nnetlib.frontprop``
(whose functions it calls), written with torch tensors and no autograd, so
that it runs on a GPU.

The weights live on ``device`` in ONE flat tensor (``params_tensor``); the
per-layer weight matrices are views into it, and so are the gradient buffer's
layers, so an SGD step is two element-wise passes over two flat tensors.
``weights``, ``params`` and ``velocity`` return NumPy copies in nnetlib's
layout, and its optimizer is SGD (``nnetlib.optim``, state v), so checkpoints load into
NpNet, PyNet and CyNet and back.

``train_epoch`` runs a whole epoch of SGD steps on device-resident tensors.
On CUDA it captures the epoch's step sequence into one ``torch.cuda.CUDAGraph``
(static input buffers, warm-up on a side stream) and replays it: one launch per
epoch instead of some thirty kernel launches per step, and no host sync until
the epoch's losses are read back.  A non-finite gradient cannot raise inside a
graph, so every step is guarded on the device: the update is applied only while
every step so far had a finite loss and gradient; after the epoch the first bad
batch (if any) raises ``FloatingPointError`` and the weights are those after
the last good batch, exactly as a loop of ``step`` calls would leave them.
"""

import numpy as np

from .._checks import (
    check_array,
    check_batch_shape,
    check_params,
    check_positive_int,
    check_same_samples,
    check_targets,
)
from ..frontprop import (
    JACOBIAN_BUDGET,
    mse_gradients,
)
from ..params import split_layers
from ._torch import TORCH_DTYPES as _TORCH_DTYPES
from ._torch import (  # noqa: F401 (public here too)
    DeviceSGD,
    default_device,
    resolve_device,
    torch,  # first: a clear error when torch is missing
)
from .base import Network

#: how many captured epoch graphs (one per (samples, batch size)) are kept
MAX_GRAPHS = 4

_INPUT_DTYPES = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


class _EpochGraph:
    """A captured epoch: the graph and the static buffers it reads and writes."""

    __slots__ = ("graph", "x", "t", "lr", "momentum", "losses", "oks")


class GpuNet(Network):
    """Frontprop in torch tensor ops on ``device``; see the module docstring.

    ``GpuNet(layers, *, params=None, init="torch", seed=None,
    dtype="float32", device=None)``; ``device=None`` picks "cuda" when it is
    available and "cpu" otherwise.  Inputs may be NumPy arrays (or anything
    ``np.asarray`` reads) or torch tensors on any device.
    """

    #: Jacobian entries held at once: four times ``frontprop.JACOBIAN_BUDGET``,
    #: since a device usually has more memory than a CPU cache cares about
    jacobian_budget = 4 * JACOBIAN_BUDGET

    def __init__(
        self, layers, *, params=None, init="torch", seed=None, dtype="float32", device=None
    ):
        self.device = resolve_device(device)
        self._graphs = {}
        if isinstance(params, torch.Tensor):
            params = params.detach().cpu().numpy()
        super().__init__(layers, params=params, init=init, seed=seed, dtype=dtype)

    # -- state --------------------------------------------------------------
    @property
    def tdtype(self):
        """The torch dtype of the parameters."""
        return _TORCH_DTYPES[self.dtype.name]

    def _make_optimizer(self, n):
        return DeviceSGD(self.dtype)

    def _install(self, flat):
        """Copy flat params (NumPy) into the device buffers.

        The buffers (params, momentum, gradient) are allocated once and later
        overwritten in place, so the weight views and any captured CUDA graph
        stay valid; the momentum is kept.
        """
        flat = torch.from_numpy(np.array(flat, dtype=self.dtype).reshape(-1))
        if getattr(self, "_flat", None) is None:
            kw = {"dtype": self.tdtype, "device": self.device}
            self._flat = torch.empty(flat.numel(), **kw)
            self._vel = self.optimizer.v = torch.zeros(flat.numel(), **kw)
            self._grad = torch.zeros(flat.numel(), **kw)
            self._w = split_layers(self._flat, self.layers)
            self._g = split_layers(self._grad, self.layers)
            self._graphs = {}
        self._flat.copy_(flat)

    @staticmethod
    def _numpy(tensor):
        return np.array(tensor.detach().cpu().numpy(), copy=True)

    @property
    def weights(self):
        """NumPy copies of the weight matrices; ``weights[k][i, j]`` is w^k_ij."""
        return [self._numpy(w) for w in self._w]

    @property
    def params(self):
        """A flat NumPy copy of all weights (row-major, layer by layer)."""
        return self._numpy(self._flat)

    @params.setter
    def params(self, value):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        self._install(check_params(value, self.n_params, self.dtype))

    @property
    def params_tensor(self):
        """The live flat parameter tensor on ``device`` (writing to it changes
        the net; keep its shape, dtype and storage)."""
        return self._flat

    def __repr__(self):
        return (
            f"{type(self).__name__}(layers={list(self.layers)}, dtype={self.dtype.name!r}, "
            f"device={str(self.device)!r})"
        )

    # -- input --------------------------------------------------------------
    def _as_input(self, value, name, width):
        """A contiguous finite ``(B, width)`` tensor on ``device`` in ``tdtype``.

        NumPy (and array-like) input goes through ``nnetlib._checks``; tensors
        get the same checks here.  The caller's data is never written to.
        """
        if not isinstance(value, torch.Tensor):
            arr = check_array(value, name, width, self.dtype)
            return torch.from_numpy(arr).to(self.device)
        if value.layout != torch.strided:
            raise ValueError(f"{name} must be a dense tensor, got layout {value.layout}")
        if (
            not (value.dtype.is_floating_point or value.dtype in _INPUT_DTYPES)
            or value.is_complex()
        ):
            raise ValueError(f"{name} must be real numeric, got dtype {value.dtype}")
        check_batch_shape(value.shape, name, width)
        out = value.detach().to(device=self.device, dtype=self.tdtype).contiguous()
        if not bool(torch.isfinite(out).all()):
            raise ValueError(f"{name} contains NaN or inf")
        return out

    def _as_batch(self, x, t):
        check_targets(t, self.layers[-1])
        x = self._as_input(x, "x", self.layers[0])
        t = self._as_input(t, "t", self.layers[-1])
        return check_same_samples(x, t)

    # -- the arithmetic (tensors in, tensors out; no checks, no host sync) ---
    def _forward_t(self, x):
        """Activations ``[a^0, ..., a^L]`` (bias neurons left implicit)."""
        acts = [x]
        for w in self._w:
            acts.append(torch.sigmoid(torch.addmm(w[-1], acts[-1], w[:-1])))
        return acts

    def _loss_and_grad_t(self, x, t):
        """Loss (0-dim tensor) of checked device tensors; the gradient is
        written into ``self._grad`` (layer views ``self._g``), eq. (1) from
        the forward sweep of ``nnetlib.frontprop``."""
        acts = self._forward_t(x)
        e = mse_gradients(
            acts,
            t,
            self._w,
            self.layers,
            self._g,
            lambda shape: acts[-1].new_empty(shape),
            self.jacobian_budget,
        )
        return (e * e).mean()

    def _update(self, lr, momentum, ok=None):
        """v <- momentum v - lr g; w <- w + v from ``self._grad``, in place
        (``optimizer.update``; with ``ok`` only where it is true)."""
        self.optimizer.update(self._flat, self._grad, lr, momentum, ok)

    # -- the shared interface ------------------------------------------------
    def _forward(self, x):
        """NumPy activations for checked NumPy input (the base class's hook)."""
        with torch.no_grad():
            return [self._numpy(a) for a in self._forward_t(torch.from_numpy(x).to(self.device))]

    def _loss_and_gradients(self, x, t):
        """``(loss, [grad W^k])`` as NumPy, for checked NumPy input."""
        with torch.no_grad():
            x, t = (torch.from_numpy(a).to(self.device) for a in (x, t))
            loss = self._loss_and_grad_t(x, t)
            return float(loss), [self._numpy(g) for g in self._g]

    def feedforward(self, x):
        """Map a batch ``x`` of shape (B, n_0) to the outputs O (NumPy, (B, n_L))."""
        with torch.no_grad():
            x = self._as_input(x, "x", self.layers[0])
            return self._numpy(self._forward_t(x)[-1])

    def loss(self, x, t):
        """E = mean over batch and outputs of (O - t)^2."""
        with torch.no_grad():
            x, t = self._as_batch(x, t)
            e = self._forward_t(x)[-1] - t
            return float((e * e).mean())

    def gradients(self, x, t):
        """The exact gradient of ``loss(x, t)``, NumPy, shaped like ``weights``."""
        with torch.no_grad():
            x, t = self._as_batch(x, t)
            self._loss_and_grad_t(x, t)
            return [self._numpy(g) for g in self._g]

    def step(self, x, t, lr=None, momentum=0.5):
        """One SGD-with-momentum update, v <- momentum v - lr g; w <- w + v.

        Returns the loss before the step.  A refused call (bad input, or a
        gradient that is not finite) changes neither weights nor momentum.
        """
        lr, momentum = self.check_step(lr, momentum)
        with torch.no_grad():
            x, t = self._as_batch(x, t)
            loss = self._loss_and_grad_t(x, t)
            ok = torch.isfinite(loss) & torch.isfinite(self._grad).all()
            if not bool(ok):
                raise FloatingPointError("gradient is not finite; weights left unchanged")
            self._update(lr, momentum)
            return float(loss)

    # -- whole epochs ----------------------------------------------------------
    def _epoch_body(self, x, t, bounds, lr, momentum, losses, oks):
        """The guarded steps of one epoch; no host sync, so CUDA can capture it.

        ``oks[i]`` is true when batch i and every batch before it had a finite
        loss and gradient (and so were applied).
        """
        ok = torch.ones((), dtype=torch.bool, device=self.device)
        for i, (start, stop) in enumerate(bounds):
            loss = self._loss_and_grad_t(x[start:stop], t[start:stop])
            ok = ok & torch.isfinite(loss) & torch.isfinite(self._grad).all()
            self._update(lr, momentum, ok)
            losses[i].copy_(loss)
            oks[i].copy_(ok)

    def _use_graph(self, graph):
        if graph is None:
            return self.device.type == "cuda"
        if graph and self.device.type != "cuda":
            raise ValueError(f"graph=True needs a CUDA device, this net is on {str(self.device)!r}")
        return bool(graph)

    def train_epoch(self, x, t, batch_size, lr=None, momentum=0.5, *, graph=None):
        """SGD with momentum over the whole of ``x``, in file order, in batches
        of ``batch_size`` (the last, partial batch included).

        Returns the mean loss before each step, weighted by batch size (the
        mean of the per-batch losses when every batch is full); the per-batch
        losses are kept in ``last_epoch_losses``.  ``graph`` (CUDA only,
        default on there) captures the epoch into a CUDA graph, kept for the
        next epoch of the same size; inputs are copied into its static
        buffers.  On a non-finite gradient the epoch stops applying updates,
        and ``FloatingPointError`` names the batch: weights and momentum are
        those after the previous batch, as after a loop of ``step``.
        """
        lr, momentum = self.check_step(lr, momentum)
        batch_size = check_positive_int(batch_size, "batch_size")
        use_graph = self._use_graph(graph)
        with torch.no_grad():
            x, t = self._as_batch(x, t)
            n = x.shape[0]
            bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
            if use_graph:
                losses, oks = self._replay(x, t, batch_size, bounds, lr, momentum)
            else:
                kw = {"device": self.device}
                losses = torch.empty(len(bounds), dtype=self.tdtype, **kw)
                oks = torch.empty(len(bounds), dtype=torch.bool, **kw)
                self._epoch_body(x, t, bounds, lr, momentum, losses, oks)
            losses = self._numpy(losses).astype(np.float64)
            oks = self._numpy(oks)
        self.last_epoch_losses = losses
        if not oks.all():
            bad = int(np.argmin(oks))
            start, stop = bounds[bad]
            self.last_epoch_losses = losses[:bad]
            raise FloatingPointError(
                f"gradient is not finite at batch {bad} (samples {start}:{stop}); the epoch stopped "
                f"there, weights and momentum are those after batch {bad - 1}"
            )
        sizes = np.array([stop - start for start, stop in bounds], dtype=np.float64)
        return float(np.dot(losses, sizes) / n)

    # -- CUDA graphs ------------------------------------------------------------
    def clear_graphs(self):
        """Drop the captured epoch graphs and their static buffers."""
        self._graphs = {}

    def _replay(self, x, t, batch_size, bounds, lr, momentum):
        key = (x.shape[0], batch_size)
        entry = self._graphs.pop(key, None)
        if entry is None:
            while len(self._graphs) >= MAX_GRAPHS:
                self._graphs.pop(next(iter(self._graphs)))
            entry = self._capture(x, t, bounds)
        self._graphs[key] = entry  # most recently used last
        if x.data_ptr() != entry.x.data_ptr():
            entry.x.copy_(x)
        if t.data_ptr() != entry.t.data_ptr():
            entry.t.copy_(t)
        entry.lr.fill_(lr)
        entry.momentum.fill_(momentum)
        entry.graph.replay()
        return entry.losses, entry.oks

    def _capture(self, x, t, bounds):
        """Capture one epoch of ``bounds`` into a CUDA graph over static buffers.

        As the torch docs ask, the step is first run on a side stream (a full
        batch and, if there is one, the partial last batch, three times) so
        that cuBLAS and the caching allocator are set up; the weights and
        momentum it changed are then restored.  The capture runs on that same
        stream and computes nothing; ``replay`` runs the epoch.
        """
        dev = self.device
        entry = _EpochGraph()
        with torch.cuda.device(dev):
            entry.x = x.clone()
            entry.t = t.clone()
            entry.lr = torch.zeros((), dtype=self.tdtype, device=dev)
            entry.momentum = torch.zeros((), dtype=self.tdtype, device=dev)
            entry.losses = torch.zeros(len(bounds), dtype=self.tdtype, device=dev)
            entry.oks = torch.zeros(len(bounds), dtype=torch.bool, device=dev)
            saved = (self._flat.clone(), self._vel.clone())
            warm = bounds[:1]
            if bounds[-1][1] - bounds[-1][0] != bounds[0][1] - bounds[0][0]:
                warm = warm + bounds[-1:]
            side = torch.cuda.Stream(dev)
            side.wait_stream(torch.cuda.current_stream(dev))
            with torch.cuda.stream(side):
                for _ in range(3):
                    self._epoch_body(
                        entry.x, entry.t, warm, entry.lr, entry.momentum, entry.losses, entry.oks
                    )
            torch.cuda.current_stream(dev).wait_stream(side)
            self._flat.copy_(saved[0])
            self._vel.copy_(saved[1])
            del saved
            entry.graph = torch.cuda.CUDAGraph()
            # capture on the warm-up stream, whose BLAS handles are already made
            with torch.cuda.graph(entry.graph, stream=side):
                self._epoch_body(
                    entry.x, entry.t, bounds, entry.lr, entry.momentum, entry.losses, entry.oks
                )
        return entry
