"""PyTorch's own training loop, one epoch per call, eager or captured in one
CUDA graph: the bench's "tg" column, measured beside GpuNet's captured epoch
("gpu", ``GpuNet.run_epoch``).

The loop is the one a PyTorch user writes for TorchNet's model (``nn.Linear``
+ ``nn.Sigmoid`` layers, ``nn.MSELoss``, autograd, ``torch.optim.SGD`` with
momentum): per batch ``zero_grad(set_to_none=True)``, forward, loss,
``backward``, ``optimizer.step()``, as ``TorchNet.step`` takes them, on
batches of ``batch_size`` in file order (the last may be smaller).  Eager
(``graph=False``) it runs on any device and gives, bit for bit, the weights
of ``TorchNet.step`` on the same batches.  On CUDA (``graph``, the default
there) the whole epoch is captured once into a ``torch.cuda.CUDAGraph`` as
the torch docs ask ("whole-network capture"): warm-up steps on a side
stream first (they also create SGD's momentum buffers, which must exist
before capture), the weights and momentum then put back, the grads set to
None so that backward allocates them from the graph's pool, and the capture
on that stream; each later call copies the data into the static input
buffers and replays the graph.  A momentum buffer created by the warm-up is
put back as zeros, so the first captured step computes ``0.5 * 0 + g``, the
value ``g`` that torch's first step clones.
"""

import math

import torch

#: warm-up rounds before capture (the torch docs' example runs 3)
WARMUP_ROUNDS = 3


def epoch_bounds(n, batch_size):
    """``(start, stop)`` rows of each batch of an epoch of ``n`` rows, in file order."""
    return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


class TorchEpoch:
    """One epoch of SGD with momentum on ``model`` by PyTorch's own loop, eager or
    one CUDA graph replay per call (see the module docstring).

    ``TorchEpoch(model, x, t, batch_size, lr, momentum, graph=None)``: ``x``
    and ``t`` are the epoch's inputs and targets, copied into static buffers
    on the model's device; ``graph=None`` captures on CUDA only.
    """

    def __init__(self, model, x, t, batch_size, lr, momentum, graph=None, foreach=None):
        param = next(model.parameters())
        self.device, self.dtype = param.device, param.dtype
        if graph is None:
            graph = self.device.type == "cuda"
        if graph and self.device.type != "cuda":
            raise ValueError(f"graph=True needs a CUDA device, the model is on {self.device}")
        self.model, self.use_graph = model, bool(graph)
        self.loss_fn = torch.nn.MSELoss()  # TorchNet's criterion: mean over batch and outputs
        # torch's default implementation (foreach=None: for-loop on the CPU, foreach on CUDA)
        self.optimizer = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=momentum, foreach=foreach
        )
        self.x, self.t = self._static(x), self._static(t)
        self.bounds = epoch_bounds(self.x.shape[0], batch_size)
        self.losses = torch.zeros(len(self.bounds), dtype=self.dtype, device=self.device)
        self.graph = None  # captured by ``prepare`` or the first ``run`` on CUDA

    def _static(self, data):
        """A buffer of the model's dtype on its device holding ``data`` (NumPy or tensor)."""
        data = torch.as_tensor(data)
        out = torch.empty(tuple(data.shape), dtype=self.dtype, device=self.device)
        return out.copy_(data)

    def _steps(self, bounds):
        """The loop over ``bounds`` on the static buffers, the loss before each step
        stored in ``losses``; no host sync, so CUDA can capture it."""
        out = []
        for start, stop in bounds:
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(self.x[start:stop]), self.t[start:stop])
            loss.backward()
            self.optimizer.step()
            out.append(loss.detach())
        with torch.no_grad():
            torch.stack(out, out=self.losses[: len(out)])

    def _capture(self):
        """Warm up on a side stream, put the weights and momentum back, capture the epoch."""
        params = list(self.model.parameters())
        with torch.no_grad():
            saved = [p.detach().clone() for p in params]
            bufs = [self.optimizer.state[p].get("momentum_buffer") for p in params]
            bufs = [None if b is None else b.clone() for b in bufs]
        warm = self.bounds[:1]
        if self.bounds[-1][1] - self.bounds[-1][0] != self.bounds[0][1] - self.bounds[0][0]:
            warm = warm + self.bounds[-1:]  # the partial last batch too
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_ROUNDS):
                self._steps(warm)
        torch.cuda.current_stream(self.device).wait_stream(side)
        with torch.no_grad():
            for p, w, b in zip(params, saved, bufs):
                p.copy_(w)
                buf = self.optimizer.state[p]["momentum_buffer"]
                if b is None:  # made by the warm-up: zeros, so 0.5 * 0 + g == g
                    buf.zero_()
                else:
                    buf.copy_(b)
        del saved, bufs
        self.optimizer.zero_grad(set_to_none=True)  # backward allocates from the graph's pool
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, stream=side):
            self._steps(self.bounds)

    def prepare(self):
        """Capture the graph now (on CUDA; eager: nothing), so that a failure shows before
        any timing; weights and momentum are left as they were."""
        if self.use_graph and self.graph is None:
            with torch.cuda.device(self.device):
                self._capture()
        return self

    def run(self, x=None, t=None):
        """One epoch (new data ``x``, ``t`` of the same shape copied into the static
        buffers first); returns the per-batch losses before each step (a device tensor,
        not synchronised)."""
        for src, dst in ((x, self.x), (t, self.t)):
            if src is not None and torch.as_tensor(src).data_ptr() != dst.data_ptr():
                dst.copy_(torch.as_tensor(src))
        if not self.use_graph:
            self._steps(self.bounds)
            return self.losses
        self.prepare().graph.replay()
        return self.losses

    def mean_loss(self):
        """The mean loss of the last epoch, weighted by batch size (as ``train``'s)."""
        sizes = [stop - start for start, stop in self.bounds]
        losses = self.losses.detach().cpu().double().tolist()
        return math.fsum(lo * n for lo, n in zip(losses, sizes)) / sum(sizes)
