"""Torch helpers shared by TorchNet, GpuNet and ForwardGradientNet: dtypes,
devices, and SGD with its velocity on a device (06-timing)."""

import warnings

import numpy as np

try:
    import torch
except ModuleNotFoundError as exc:  # torch is an extra: say what to install
    if exc.name != "torch":
        raise
    raise ImportError(
        "TorchNet, GpuNet and ForwardGradientNet need PyTorch, which is not installed: "
        "pip install 'nnetlib[torch]' (pip install torch==2.13.0 --index-url "
        "https://download.pytorch.org/whl/cpu for the CPU build). "
        "PyNet, NpNet, CyNet and FrontNet work without it."
    ) from None

from .._checks import check_array, check_batch_shape
from ..optim import SGD

#: nnetlib's dtype names and their torch dtypes
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def default_device():
    """ "cuda" when CUDA is available, else "cpu"."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device):
    """A usable ``torch.device`` for ``device`` (None: ``default_device()``)."""
    if device is None:
        device = default_device()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"device must be a torch device or a name such as 'cpu' or 'cuda', got {device!r}"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(dev)!r} requested, but CUDA is not available")
        index = torch.cuda.current_device() if dev.index is None else dev.index
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device {str(dev)!r} requested, but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist"
            )
        return torch.device("cuda", index)
    try:
        torch.empty(0, device=dev)
    except Exception as exc:
        raise ValueError(f"device {str(dev)!r} is not usable: {exc}") from None
    return dev


class DeviceSGD(SGD):
    """SGD (``nnetlib.optim``) whose velocity v is a flat tensor on the device; GpuNet's
    guarded step updates it in place (``GpuNet._guarded_step``)."""

    def __init__(self, dtype):
        super().__init__(0, dtype)
        self.v = None  # allocated by GpuNet._install

    def state(self):
        return {"v": np.array(self.v.cpu().numpy(), copy=True)}

    def load(self, arrays, hyper=None):
        self.v.copy_(torch.from_numpy(np.ascontiguousarray(arrays["v"])))

    def reset(self):
        self.v.zero_()


_INPUT_DTYPES = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _from_numpy(arr):
    """``torch.from_numpy`` of an array only read, read-only ones (``load_mnist``'s) included."""
    with warnings.catch_warnings():  # torch warns that it cannot protect a read-only array
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.from_numpy(arr)


def device_input(value, name, width, dtype, device):
    """A contiguous finite ``(B, width)`` tensor of ``dtype`` on ``device``.

    NumPy (and array-like) input goes through ``nnetlib._checks``; tensors
    get the same checks here.  The caller's data is never written to.
    """
    if not isinstance(value, torch.Tensor):
        return _from_numpy(check_array(value, name, width, dtype)).to(device)
    if value.layout != torch.strided:
        raise ValueError(f"{name} must be a dense tensor, got layout {value.layout}")
    if not (value.dtype.is_floating_point or value.dtype in _INPUT_DTYPES) or value.is_complex():
        raise ValueError(f"{name} must be real numeric, got dtype {value.dtype}")
    check_batch_shape(value.shape, name, width)
    out = value.detach().to(device=device, dtype=TORCH_DTYPES[dtype.name]).contiguous()
    if not bool(torch.isfinite(out).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return out


class _EpochGraph:
    """A captured epoch: the graph and the static buffers it reads and writes."""

    __slots__ = ("graph", "x", "t", "lr", "momentum", "losses", "oks")


def capture_epoch(net, x, t, bounds, in_place=False):
    """Capture one epoch of GpuNet ``net`` over ``bounds`` into a CUDA graph over static
    buffers (the data themselves when ``in_place``).

    As the torch docs ask, the step is first run on a side stream (a full
    batch and, if there is one, the partial last batch, three times) so
    that cuBLAS and the caching allocator are set up; the weights and
    momentum it changed are then restored.  The capture runs on that same
    stream and computes nothing; ``replay`` runs the epoch.
    """
    dev = net.device
    entry = _EpochGraph()
    with torch.cuda.device(dev):
        entry.x, entry.t = (x, t) if in_place else (x.clone(), t.clone())
        entry.lr = torch.zeros((), dtype=net.tdtype, device=dev)
        entry.momentum = torch.zeros((), dtype=net.tdtype, device=dev)
        entry.losses = torch.zeros(len(bounds), dtype=net.tdtype, device=dev)
        entry.oks = torch.zeros(len(bounds), dtype=torch.bool, device=dev)
        saved = (net._flat.clone(), net._vel.clone())
        warm = bounds[:1]
        if bounds[-1][1] - bounds[-1][0] != bounds[0][1] - bounds[0][0]:
            warm = warm + bounds[-1:]
        side = torch.cuda.Stream(dev)
        side.wait_stream(torch.cuda.current_stream(dev))
        with torch.cuda.stream(side):
            for _ in range(3):
                net._epoch_body(
                    entry.x, entry.t, warm, entry.lr, entry.momentum, entry.losses, entry.oks
                )
        torch.cuda.current_stream(dev).wait_stream(side)
        net._flat.copy_(saved[0])
        net._vel.copy_(saved[1])
        del saved
        entry.graph = torch.cuda.CUDAGraph()
        # capture on the warm-up stream, whose BLAS handles are already made
        with torch.cuda.graph(entry.graph, stream=side):
            net._epoch_body(
                entry.x, entry.t, bounds, entry.lr, entry.momentum, entry.losses, entry.oks
            )
    return entry
