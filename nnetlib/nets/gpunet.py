"""GpuNet: frontpropagation in torch tensor ops, on any device (06-timing).

The arithmetic is NpNet's fast path, eq. (2) as stated in ``nnetlib.frontprop``
(whose sweep it calls), in torch ops with no autograd.  The weights, momentum
and gradient are each ONE flat tensor on ``device``; the layers are views made
once, the gradient is written through them (``mm``/``sum`` with ``out=``), the
slopes are fused into what uses them, and the guarded update is a few
element-wise passes over the flat tensors, so a step dispatches fewer torch
ops than PyTorch's own autograd + SGD step (tested).  ``weights``, ``params``
and ``velocity`` return NumPy copies in nnetlib's layout; checkpoints load
into NpNet, PyNet and CyNet and back.

``run_epoch`` (``train`` uses it, after ``to_device``) and ``train_epoch`` run
a whole epoch on device tensors; on CUDA the epoch is captured once into a
``torch.cuda.CUDAGraph`` and replayed: one launch per epoch, no host sync
until the losses are read back.  A non-finite gradient cannot raise inside a
graph, so every step is guarded on the device: it applies only while every
step so far was finite; after the epoch the first bad batch raises
``FloatingPointError``, the weights being those a loop of ``step`` leaves.
"""

import numpy as np

from .._checks import (
    check_params,
    check_positive_int,
    check_same_samples,
    check_targets,
)
from ..frontprop import JACOBIAN_BUDGET, forward_jacobian, jacobian_chunk, mse_gradients
from ..params import split_layers
from ._torch import TORCH_DTYPES as _TORCH_DTYPES
from ._torch import (  # noqa: F401 (public here too)
    DeviceSGD,
    _EpochGraph,  # the test's stand-in graph builds one
    _from_numpy,
    capture_epoch,
    default_device,
    device_input,
    resolve_device,
    torch,  # first: a clear error when torch is missing
)
from .base import Network

#: how many captured epoch graphs (one per (samples, batch size)) are kept
MAX_GRAPHS = 4


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
            self._views()
            self._graphs = {}
        self._flat.copy_(flat)

    def _views(self):
        """The layer views the step reads and writes, made once: W^k without and
        with only its bias row, (W^k)^T without it, and the same of the gradient."""
        self._wm = [w[:-1] for w in self._w]
        self._wb = [w[-1] for w in self._w]
        self._wt = [w[:-1].t() for w in self._w]
        self._gm = [g[:-1] for g in self._g]
        self._gb = [g[-1] for g in self._g]
        self._zero = torch.zeros_like(self._grad)  # dot(g, 0) == 0 iff g is finite
        self._one = torch.ones((), dtype=self.tdtype, device=self.device)

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
        """A contiguous finite ``(B, width)`` tensor on ``device`` (``_torch.device_input``)."""
        return device_input(value, name, width, self.dtype, self.device)

    def _as_batch(self, x, t):
        check_targets(t, self.layers[-1])
        x = self._as_input(x, "x", self.layers[0])
        t = self._as_input(t, "t", self.layers[-1])
        return check_same_samples(x, t)

    # -- the arithmetic (tensors in, tensors out; no checks, no host sync) ---
    def _forward_t(self, x):
        """Activations ``[a^0, ..., a^L]`` (bias neurons left implicit)."""
        acts = [x]
        for wb, wm in zip(self._wb, self._wm):
            acts.append(torch.sigmoid(torch.addmm(wb, acts[-1], wm)))
        return acts

    def _deltas(self, acts, d):
        """delta^k = d W^{L-1}^T J^{L-1,k} (``frontprop.frontprop_deltas``), the
        slope of layer L-1 fused into the last step (``sigmoid_backward``)."""
        L = len(self._w)
        deltas = [None] * (L - 1) + [d]
        if L == 1:
            return deltas
        u = torch.mm(d, self._wt[L - 1])
        deltas[L - 2] = torch.ops.aten.sigmoid_backward(u, acts[L - 1])
        if L > 2:  # the sweep of eq. (2) for the earlier layers: J^{L-1,k}, then u J
            slopes = [None] + [torch.addcmul(a, a, a, value=-1) for a in acts[1:L]]
            for k in range(L - 2):
                J = forward_jacobian(slopes, self._w, k, L - 1, transposed=self._wt)
                deltas[k] = torch.bmm(u.unsqueeze(1), J).squeeze(1)
        return deltas

    def _loss_and_grad_t(self, x, t):
        """Loss (0-dim tensor) of checked device tensors; the gradient, eq. (1),
        is written through the views ``_gm``, ``_gb`` into ``self._grad``."""
        acts = self._forward_t(x)
        if x.shape[0] > jacobian_chunk(self.layers, self.jacobian_budget):
            e = mse_gradients(acts, t, self._w, self.layers, self._g,
                              lambda shape: acts[-1].new_empty(shape), self.jacobian_budget)  # fmt: skip
            return (e * e).mean()
        out = acts[-1]
        scale = 2 / out.numel()  # eq. (1)'s 2/(B n_L), taken into d at once
        d = torch.ops.aten.sigmoid_backward(out - t, out).mul_(scale)
        for k, dk in enumerate(self._deltas(acts, d)):
            torch.mm(acts[k].t(), dk, out=self._gm[k])
            torch.sum(dk, 0, out=self._gb[k])
        return torch.nn.functional.mse_loss(out, t)

    def _guarded_step(self, x, t, neg_lr, momentum, ok):
        """One step, applied only where ``ok`` (all steps so far good) and the
        gradient is finite: v <- momentum v - lr g; w <- w + v.  Returns
        ``(loss, ok)`` as device scalars, with no host sync."""
        loss = self._loss_and_grad_t(x, t)
        ok = ok & (torch.dot(self._grad, self._zero) == 0)
        g = torch.where(ok, self._grad, self._zero)
        self._vel.mul_(torch.where(ok, momentum, self._one))
        self._vel.addcmul_(g, neg_lr)
        self._flat.addcmul_(self._vel, ok.to(self.tdtype))
        return loss, ok

    def _scalars(self, lr, momentum):
        """-lr and momentum as device scalars of the net's dtype (tensors pass through)."""
        kw = {"dtype": self.tdtype, "device": self.device}
        neg_lr = -lr if torch.is_tensor(lr) else torch.tensor(-lr, **kw)
        return neg_lr, momentum if torch.is_tensor(momentum) else torch.tensor(momentum, **kw)

    # -- the shared interface ------------------------------------------------
    def _forward(self, x):
        """NumPy activations for checked NumPy input (the base class's hook)."""
        with torch.no_grad():
            return [self._numpy(a) for a in self._forward_t(_from_numpy(x).to(self.device))]

    def _loss_and_gradients(self, x, t):
        """``(loss, [grad W^k])`` as NumPy, for checked NumPy input."""
        with torch.no_grad():
            x, t = (_from_numpy(a).to(self.device) for a in (x, t))
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
            ok = torch.ones((), dtype=torch.bool, device=self.device)
            loss, ok = self._guarded_step(x, t, *self._scalars(lr, momentum), ok)
            if not bool(ok):
                raise FloatingPointError("gradient is not finite; weights left unchanged")
            return float(loss)

    # -- whole epochs ----------------------------------------------------------
    def _epoch_body(self, x, t, bounds, lr, momentum, losses, oks):
        """The guarded steps of one epoch (``_guarded_step``, as ``step`` takes
        them); no host sync, so CUDA can capture it.  ``oks[i]`` is true when
        batch i and every batch before it were finite (and so were applied)."""
        neg_lr, momentum = self._scalars(lr, momentum)
        ok = torch.ones((), dtype=torch.bool, device=self.device)
        out = []
        for start, stop in bounds:
            loss, ok = self._guarded_step(x[start:stop], t[start:stop], neg_lr, momentum, ok)
            out.append((loss, ok))
        torch.stack([lo for lo, _ in out], out=losses[: len(out)])
        torch.stack([k for _, k in out], out=oks[: len(out)])

    def _use_graph(self, graph):
        if graph is None:
            return self.device.type == "cuda"
        if graph and self.device.type != "cuda":
            raise ValueError(f"graph=True needs a CUDA device, this net is on {str(self.device)!r}")
        return bool(graph)

    def to_device(self, x, t, checked=False):
        """``(x, t)`` checked once and held on ``device`` as the net's dtype, for
        ``run_epoch``; a CUDA graph reads them in place.  ``checked=True``: NumPy
        arrays of the net's dtype already checked (``train`` checks them), only moved."""
        with torch.no_grad():
            if checked:
                self._held = tuple(_from_numpy(a).to(self.device).contiguous() for a in (x, t))
            else:
                self._held = self._as_batch(x, t)
        return self._held

    def run_epoch(self, x, t, batch_size, lr, momentum, order=None, graph=None):
        """One epoch of guarded steps on data from ``to_device``, unchecked: batches
        of ``batch_size`` in file order, or of the rows ``order`` (a permutation),
        gathered on the device.  Returns ``(losses, sizes)`` per batch (NumPy).
        On CUDA (``graph``, default on there) the epoch is one CUDA graph, kept
        for the next epoch of the same size.  On a non-finite gradient the epoch
        stops applying updates and ``FloatingPointError`` names the batch:
        weights and momentum are those after the previous batch, as after a
        loop of ``step``."""
        use_graph = self._use_graph(graph)
        n = x.shape[0]
        bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
        with torch.no_grad():
            if order is not None:
                order = torch.as_tensor(order, device=self.device)
            if use_graph:
                losses, oks = self._replay(x, t, batch_size, bounds, lr, momentum, order)
            else:
                if order is not None:
                    x, t = x.index_select(0, order), t.index_select(0, order)
                losses = torch.empty(len(bounds), dtype=self.tdtype, device=self.device)
                oks = torch.empty(len(bounds), dtype=torch.bool, device=self.device)
                self._epoch_body(x, t, bounds, lr, momentum, losses, oks)
            losses = self._numpy(losses).astype(np.float64)
            oks = self._numpy(oks)
        sizes = np.array([stop - start for start, stop in bounds], dtype=np.float64)
        self.last_epoch_losses = losses
        if not oks.all():
            bad = int(np.argmin(oks))
            start, stop = bounds[bad]
            self.last_epoch_losses = losses[:bad]
            raise FloatingPointError(
                f"gradient is not finite at batch {bad} (samples {start}:{stop}); the epoch stopped "
                f"there, weights and momentum are those after batch {bad - 1}"
            )
        return losses, sizes

    def train_epoch(self, x, t, batch_size, lr=None, momentum=0.5, *, graph=None):
        """SGD with momentum over the whole of ``x``, in file order, in batches
        of ``batch_size`` (the last, partial batch included): ``to_device``
        and ``run_epoch`` in one call.

        Returns the mean loss before each step, weighted by batch size; the
        per-batch losses are kept in ``last_epoch_losses``.
        """
        lr, momentum = self.check_step(lr, momentum)
        batch_size = check_positive_int(batch_size, "batch_size")
        self._use_graph(graph)  # refuse graph=True off CUDA before any work
        with torch.no_grad():
            x, t = self._as_batch(x, t)
        losses, sizes = self.run_epoch(x, t, batch_size, lr, momentum, graph=graph)
        return float(np.dot(losses, sizes) / x.shape[0])

    # -- CUDA graphs ------------------------------------------------------------
    def clear_graphs(self):
        """Drop the captured epoch graphs and their static buffers."""
        self._graphs = {}

    def _replay(self, x, t, batch_size, bounds, lr, momentum, order=None):
        held = getattr(self, "_held", None) or (None, None)
        # data from to_device, in file order, is read in place; anything else is copied in
        in_place = order is None and x is held[0] and t is held[1]
        key = (x.shape[0], batch_size) + (("in place",) if in_place else ())
        entry = self._graphs.pop(key, None)
        if entry is None:
            while len(self._graphs) >= MAX_GRAPHS:
                self._graphs.pop(next(iter(self._graphs)))
            entry = self._capture(x, t, bounds, in_place)
        self._graphs[key] = entry  # most recently used last
        for src, dst in ((x, entry.x), (t, entry.t)):  # gathered or copied into the graph's input
            if order is not None:
                torch.index_select(src, 0, order, out=dst)
            elif src.data_ptr() != dst.data_ptr():
                dst.copy_(src)
        entry.lr.fill_(lr)
        entry.momentum.fill_(momentum)
        entry.graph.replay()
        return entry.losses, entry.oks

    def _capture(self, x, t, bounds, in_place=False):
        """One epoch of ``bounds`` captured into a CUDA graph (``_torch.capture_epoch``)."""
        return capture_epoch(self, x, t, bounds, in_place)
