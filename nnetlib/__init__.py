"""nnetlib: a feedforward network trained by frontpropagation.

See notebooks/01-derivation for eq. (1) and eq. (2) (stated in
``nnetlib.frontprop``), which every network class implements; ``TorchNet``
is the backprop reference.

==========  ===================================================  ==========
class       what computes the gradient                           notebook
==========  ===================================================  ==========
PyNet       pure Python, eq. (2) as derived (``dadw``)            01, 02, 03
NpNet       NumPy: ``DADW`` matrices and forward Jacobians        02, 03
CyNet       Cython kernel on a C thread pool (``_frontprop.pyx``) 03-07
GpuNet      frontprop in torch tensor ops, CPU or CUDA            06
TorchNet    PyTorch autograd (backprop), the reference            02, 04-06
FrontNet    generalized frontprop: tanh/ReLU, cross-entropy,      08
            Adam, dropout
BackpropNet the reverse sweep in NumPy, for comparison            08
==========  ===================================================  ==========
"""

import importlib

from . import data
from .costmodel import backprop_macs, frontprop_macs
from .data import batches, load_mnist, mnist_task, one_hot
from .nets.backprop import BackpropNet
from .nets.base import Network, init_params, n_params, read_checkpoint
from .nets.cynet import CyNet, openmp_enabled  # CyNet raises a clear error if not built
from .nets.front import FrontNet
from .nets.npnet import NpNet
from .nets.pynet import PyNet
from .training import History, evaluate, train

__all__ = [
    "Network",
    "PyNet",
    "NpNet",
    "CyNet",
    "GpuNet",
    "TorchNet",
    "init_params",
    "n_params",
    "read_checkpoint",
    "History",
    "evaluate",
    "train",
    "load_mnist",
    "mnist_task",
    "batches",
    "one_hot",
    "openmp_enabled",
    "data",
    "FrontNet",
    "BackpropNet",
    "ForwardGradientNet",
    "frontprop_macs",
    "backprop_macs",
]
__version__ = "0.1.0"  # the one version source: pyproject.toml reads it (setuptools attr)

# Classes built on PyTorch load it on first use, so that `import nnetlib`
# (the loader, the NumPy and Cython nets) does not pay for `import torch`.
_TORCH_CLASSES = {
    "TorchNet": ".nets.torchnet",
    "GpuNet": ".nets.gpunet",
    "ForwardGradientNet": ".nets.forward_gradient",
}


def __getattr__(name):
    if name in _TORCH_CLASSES:
        value = getattr(importlib.import_module(_TORCH_CLASSES[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_TORCH_CLASSES))
