"""Torch helpers shared by TorchNet, GpuNet and ForwardGradientNet: dtypes,
devices, and SGD with its velocity on a device (06-timing)."""

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

from ..optim import SGD, sgd_velocity

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
    """SGD (``nnetlib.optim``) whose velocity v is a flat tensor on the device."""

    def __init__(self, dtype):
        super().__init__(0, dtype)
        self.v = None  # allocated by GpuNet._install

    def state(self):
        return {"v": np.array(self.v.cpu().numpy(), copy=True)}

    def load(self, arrays, hyper=None):
        self.v.copy_(torch.from_numpy(np.ascontiguousarray(arrays["v"])))

    def reset(self):
        self.v.zero_()

    def update(self, flat, g, lr, momentum, ok=None):
        """SGD's update in place; with ``ok`` (a 0-dim bool tensor) only
        where it is true, without a host sync."""
        v = sgd_velocity(self.v, g, lr, momentum)
        w = flat + v
        if ok is not None:
            v = torch.where(ok, v, self.v)
            w = torch.where(ok, w, flat)
        self.v.copy_(v)
        flat.copy_(w)
