"""The interface shared by every net, and the NumPy state most of them keep.

Index conventions (01-derivation, "Notation"):

* ``layers[l]`` is n_l, the number of neurons of layer l = 0 .. L.
* ``weights[k]`` has shape ``(n_k + 1, n_{k+1})``: entry ``[i, j]`` is w^k_ij,
  the weight from neuron i of layer k to neuron j of layer k + 1.  Row
  ``i = n_k`` is the bias neuron, fixed at a^k_{n_k} = 1, so the last row
  holds the biases.
* h^{l}_q = sum_i a^{l-1}_i w^{l-1}_iq and a^l_q = g(h^l_q), g the sigmoid.
* The loss is E = 1/(B n_L) sum_b sum_q (O_bq - t_bq)^2; its gradient is
  eq. (1), stated with eq. (2) in ``nnetlib.frontprop``.

``Network`` is the interface (checks, ``feedforward``/``loss``/``gradients``,
``step`` through an optimizer object of ``nnetlib.optim``, checkpoints through
``nnetlib.checkpoint``) and holds no arrays.  ``NumpyNetwork`` adds the NumPy
state: all weights in one flat buffer (``params``, the row-major concatenation
of the weights) and ``weights`` as views into it, so an update touches one
array.  Its subclasses implement ``_loss_and_gradients``; ``GeneralNetwork``
(``nets/general.py``) extends it with other activations, losses, dropout and
Adam.  GpuNet and TorchNet keep their state in torch and derive from
``Network`` directly.  ``net.velocity`` is SGD's v; a net that steps with
another optimizer has none (``AttributeError``), its state being
``net.optimizer_state()``.
"""

import os

import numpy as np

from .._checks import check_array, check_batch, check_params
from ..activations import sigmoid
from ..checkpoint import read_checkpoint, write_atomically, write_checkpoint
from ..optim import SGD
from ..params import INITS, check_options, init_params, layer_shapes, n_params, split_layers

#: what the article's nets compute: sigmoid layers, squared error, no dropout
ARTICLE_FUNCTION = {"activation": "sigmoid", "loss": "mse", "dropout": 0.0}

__all__ = [
    "Network",
    "NumpyNetwork",
    "init_params",
    "n_params",
    "layer_shapes",
    "read_checkpoint",
    "write_atomically",
    "INITS",
]


def _describe(function):
    return ", ".join(f"{k}={v!r}" for k, v in function.items())


class Network:
    """The interface of every net: checks, evaluation, ``step``, checkpoints.

    ``Net(layers, *, params=None, init="torch", seed=None, dtype="float32")``.
    Subclasses store the parameters (``_install``, ``params``, ``weights``)
    and compute (``_forward``, ``_loss_and_gradients``, ``step``).
    """

    #: the optimizer ``step`` follows (``nnetlib.optim``)
    optimizer_class = SGD

    def __init__(self, layers, *, params=None, init="torch", seed=None, dtype="float32"):
        layers, dtype = check_options(layers, init, dtype)
        if params is None:
            flat = init_params(layers, init, seed, dtype)
        else:
            flat = check_params(params, n_params(layers), dtype).copy()
        self.layers = layers
        self.dtype = dtype
        self.init = init
        self.seed = seed
        self.optimizer = self._make_optimizer(flat.size)
        self._install(flat)

    def _make_optimizer(self, n):
        return self.optimizer_class(n, self.dtype)

    def _install(self, flat):
        """Take ownership of a checked flat parameter vector."""
        raise NotImplementedError

    @property
    def n_params(self):
        return n_params(self.layers)

    @property
    def function(self):
        """What the net computes, as checkpoints record it: activation, loss
        and dropout (the article's sigmoid, squared error, none)."""
        return dict(ARTICLE_FUNCTION)

    @property
    def velocity(self):
        """A flat copy of SGD's velocity v.  Other optimizers keep no v (Adam's
        m, TorchSGD's b are not one): for them AttributeError, naming their state."""
        if self.optimizer.kind != "sgd":
            names = ", ".join(self.optimizer.arrays)
            raise AttributeError(
                f"this {type(self).__name__} steps with {self.optimizer.kind!r}, which keeps "
                f"no velocity v: its state is net.optimizer_state() ({names})"
            )
        return self.optimizer_state()["v"]

    def __repr__(self):
        return f"{type(self).__name__}(layers={list(self.layers)}, dtype={self.dtype.name!r})"

    # -- evaluation -----------------------------------------------------------
    def _forward(self, x):
        """Activations ``[a^0, ..., a^L]`` (at least the last) of checked ``x``."""
        raise NotImplementedError

    def _loss_and_gradients(self, x, t):
        """Return ``(loss, [grad W^0, ..., grad W^{L-1}])`` for checked input."""
        raise NotImplementedError

    def _check_batch(self, x, t):
        return check_batch(x, t, self.layers, self.dtype)

    def feedforward(self, x):
        """Map a batch ``x`` of shape (B, n_0) to the outputs O, (B, n_L)."""
        x = check_array(x, "x", self.layers[0], self.dtype)
        return self._forward(x)[-1]

    def loss(self, x, t):
        """E = mean over batch and outputs of (O - t)^2 (eq. (1)).  ``t`` are
        one-hot targets (B, n_L); ``nnetlib.one_hot`` makes them from labels."""
        x, t = self._check_batch(x, t)
        e = self._forward(x)[-1] - t
        return float(np.mean(e * e))

    def gradients(self, x, t):
        """The exact gradient of ``loss(x, t)``, shaped like ``weights``."""
        x, t = self._check_batch(x, t)
        _, grads = self._loss_and_gradients(x, t)
        return [np.array(g, dtype=self.dtype) for g in grads]

    def check_step(self, lr=None, momentum=0.5):
        """``(lr, momentum)`` as ``step`` would take them, checked; ``lr=None``
        is the optimizer's default (10 for SGD, the article's; 1e-3 for Adam)."""
        return self.optimizer.check(lr, momentum)

    # -- checkpoints ------------------------------------------------------------
    def optimizer_state(self):
        """Copies of the optimizer's state arrays, by name."""
        return self.optimizer.state()

    def _load_optimizer_state(self, arrays, hyper):
        self.optimizer.load(arrays, hyper)

    def _reset_optimizer(self):
        self.optimizer.reset()

    def extra_state(self):
        """Hook: JSON-serialisable state a subclass saves beside the weights."""
        return {}

    def _restore_extra_state(self, state):
        """Hook: take back what ``extra_state`` saved."""

    def save(self, path, extra=None):
        """Write layers, dtype, params, optimizer state and ``extra_state``
        to ``path`` atomically (``nnetlib.checkpoint``).

        ``extra`` is a JSON-serialisable dict stored beside them (``train``
        keeps its history there).
        """
        meta = {
            "class": type(self).__name__,
            "layers": list(self.layers),
            "dtype": self.dtype.name,
            "init": self.init,
            "function": self.function,
            "optimizer": {"kind": self.optimizer.kind, **self.optimizer.hyper},
            "state": self.extra_state(),
            "extra": extra or {},
        }
        write_checkpoint(path, meta, self.params, self.optimizer_state())

    def _refusal(self, meta, weights_only):
        """Why this net cannot take the checkpoint (None if it can)."""
        me, saved = type(self).__name__, meta["class"]
        if tuple(meta["layers"]) != self.layers:
            return (
                f"it holds weights for layers {list(meta['layers'])}, this {me} has layers "
                f"{list(self.layers)}; weights of other layers cannot be taken, not even "
                f"with weights_only=True: build the net with layers={list(meta['layers'])}"
            )
        fn, mine = meta["function"], self.function
        shape = [k for k in ("activation", "loss") if fn.get(k) != mine[k]]
        if shape:
            return (
                f"its weights compute {_describe({k: fn.get(k) for k in shape})}, this {me} "
                f"computes {_describe({k: mine[k] for k in shape})}; the weights would mean "
                f"another function, so not even weights_only=True takes them: load it into a "
                f"FrontNet built with {_describe({k: fn.get(k) for k in shape})}"
            )
        if weights_only:
            return None
        way_out = (
            f"; {me}.load(path, weights_only=True) takes the weights and starts a fresh optimizer"
        )
        if meta["dtype"] != self.dtype.name or fn.get("dropout", 0.0) != mine["dropout"]:
            return (
                f"it was saved by a {saved} with dtype={meta['dtype']!r}, "
                f"dropout={fn.get('dropout', 0.0)!r}; this {me} has dtype={self.dtype.name!r}, "
                f"dropout={mine['dropout']!r}" + way_out
            )
        kind = meta["optimizer"]["kind"]
        if kind != self.optimizer.kind:
            return (
                f"its optimizer state is {kind!r} (saved by a {saved}), this {me} steps with "
                f"{self.optimizer.kind!r}, which cannot continue from it" + way_out
            )
        return None

    def load_state(self, path, weights_only=False):
        """Take the state saved in checkpoint ``path``; returns its ``extra``.

        The checkpoint must describe the same function (layers, dtype,
        activation, loss, dropout) and optimizer; otherwise ``ValueError``
        names the mismatch and this net is unchanged.  ``weights_only=True``
        takes only the weights (cast to this net's dtype) and starts fresh
        optimizer state; it still refuses other layers or another activation
        or loss, for which the weights would mean something else.
        """
        return self._take_checkpoint(read_checkpoint(path), path, weights_only)

    def _take_checkpoint(self, ckpt, path, weights_only):
        """``load_state`` on a checkpoint already read from ``path``."""
        meta = ckpt["meta"]
        why = self._refusal(meta, weights_only)
        if why is not None:
            raise ValueError(
                f"{os.fspath(path)}: cannot load into this {type(self).__name__}: {why}"
            )
        self.params = ckpt["params"].astype(self.dtype)
        if weights_only:
            self._reset_optimizer()
        else:
            self._load_optimizer_state(ckpt["optimizer_state"], meta["optimizer"])
            self._restore_extra_state(meta["state"])
        return meta["extra"]

    @classmethod
    def _options(cls, meta, kwargs):
        """Constructor options for ``load``: the saved dtype, then ``kwargs``."""
        return {"dtype": meta["dtype"], **kwargs}

    @classmethod
    def load(cls, path, weights_only=False, **kwargs):
        """Rebuild a network saved by ``save`` (see ``load_state`` for what
        must match and for ``weights_only``); extra keyword arguments go to
        the constructor (for example ``num_threads`` for CyNet)."""
        ckpt = read_checkpoint(path)
        net = cls(ckpt["meta"]["layers"], **cls._options(ckpt["meta"], kwargs))
        net._take_checkpoint(ckpt, path, weights_only)
        return net


class NumpyNetwork(Network):
    """A net whose parameters are one flat NumPy buffer (PyNet, NpNet, CyNet,
    the general nets): ``weights`` views into it, the sigmoid forward pass
    and ``step``."""

    def _install(self, flat):
        self._flat = np.ascontiguousarray(flat, dtype=self.dtype)
        self._weights = split_layers(self._flat, self.layers)

    @property
    def weights(self):
        """List of weight matrices; ``weights[k][i, j]`` is w^k_ij."""
        return self._weights

    @property
    def params(self):
        """A flat copy of all weights (row-major, layer by layer)."""
        return self._flat.copy()

    @params.setter
    def params(self, value):
        self._install(check_params(value, self._flat.size, self.dtype).copy())

    def _forward(self, x):
        """Activations ``[a^0, ..., a^L]`` (bias neurons left implicit)."""
        acts = [x]
        for w in self._weights:
            acts.append(sigmoid(acts[-1] @ w[:-1] + w[-1]))
        return acts

    def _step_gradient(self, x, t):
        """(loss, flat gradient) that ``step`` follows."""
        loss, grads = self._loss_and_gradients(x, t)
        return loss, np.concatenate([np.ravel(gk) for gk in grads])

    def step(self, x, t, lr=None, momentum=0.5):
        """One update of the optimizer (SGD with momentum by default:
        v <- momentum v - lr g; w <- w + v, lr 10 as in the article).

        ``t`` are one-hot targets (``nnetlib.one_hot``).  Returns the loss
        before the step.  A refused call (bad input, or a gradient that is
        not finite) changes neither weights nor optimizer state.
        """
        lr, momentum = self.check_step(lr, momentum)
        x, t = self._check_batch(x, t)
        loss, g = self._step_gradient(x, t)
        if not (np.isfinite(loss) and np.all(np.isfinite(g))):
            raise FloatingPointError("gradient is not finite; weights left unchanged")
        self.optimizer.update(self._flat, g.astype(self.dtype, copy=False), lr, momentum)
        return float(loss)
