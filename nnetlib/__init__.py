"""nnetlib: a feedforward network trained by frontpropagation.

See notebooks/01-derivation for eq. (1) and eq. (2), which every network
class implements; ``TorchNet`` is the backprop reference.
"""
from .network import Network, init_params, n_params, read_checkpoint
from .npnet import NpNet
from .pynet import PyNet
from .torchnet import TorchNet
from .training import History, evaluate, train

__all__ = ["Network", "PyNet", "NpNet", "TorchNet", "init_params", "n_params",
           "read_checkpoint", "History", "evaluate", "train"]
__version__ = "0.1.0"
