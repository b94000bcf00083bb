"""The interface shared by PyNet, NpNet, CyNet, GpuNet and TorchNet.

Index conventions (01-derivation, "Notation"):

* ``layers[l]`` is n_l, the number of neurons of layer l = 0 .. L.
* ``weights[k]`` has shape ``(n_k + 1, n_{k+1})``: entry ``[i, j]`` is w^k_ij,
  the weight from neuron i of layer k to neuron j of layer k + 1.  Row
  ``i = n_k`` is the bias neuron, fixed at a^k_{n_k} = 1, so the last row
  holds the biases.
* h^{l}_q = sum_i a^{l-1}_i w^{l-1}_iq and a^l_q = g(h^l_q), g the sigmoid.
* The loss is E = 1/(B n_L) sum_b sum_q (O_bq - t_bq)^2 and its gradient is
  eq. (1): grad E^k_ij = 2/(B n_L) sum_b sum_q (O_bq - t_bq) da^L_q/dw^k_ij.

All weights live in one flat buffer (``params``, row-major concatenation of
the weights); ``weights`` are views into it, so an update touches one array.
Subclasses implement ``_loss_and_gradients``; everything else is shared.
"""
import json
import os
import tempfile

import numpy as np

from .._checks import (check_array, check_batch, check_dtype, check_layers,
                      check_params, check_positive)
from ..activations import sigmoid

CHECKPOINT_MAGIC = "nnetlib-checkpoint"
CHECKPOINT_VERSION = 1
INITS = ("kaiming", "naive")


def layer_shapes(layers):
    """Shapes ``(n_k + 1, n_{k+1})`` of the weight matrices of ``layers``."""
    return [(n + 1, m) for n, m in zip(layers[:-1], layers[1:])]


def n_params(layers):
    """Length of the flat parameter vector for ``layers``."""
    return sum(a * b for a, b in layer_shapes(layers))


def init_params(layers, init="kaiming", seed=None, dtype="float32"):
    """Draw a flat parameter vector.

    ``"kaiming"``: every weight and bias of layer k from U(-1/sqrt(n_k),
    1/sqrt(n_k)), as torch.nn.Linear does.  ``"naive"``: N(0, 1)/sqrt(n_k),
    the seed's Nnet*.  The draw is made in float64 and then cast, so a
    float32 and a float64 net with one seed start from the same weights.
    """
    layers = check_layers(layers)
    dtype = check_dtype(dtype)
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    rng = np.random.default_rng(seed)
    parts = []
    for rows, cols in layer_shapes(layers):
        fan_in = rows - 1
        if init == "kaiming":
            bound = 1 / np.sqrt(fan_in)
            w = rng.uniform(-bound, bound, size=(rows, cols))
        else:
            w = rng.standard_normal((rows, cols)) / np.sqrt(fan_in)
        parts.append(w.ravel())
    return np.concatenate(parts).astype(dtype)


def _split(flat, layers):
    """Views of ``flat`` shaped like the weight matrices."""
    views, start = [], 0
    for shape in layer_shapes(layers):
        size = shape[0] * shape[1]
        views.append(flat[start:start + size].reshape(shape))
        start += size
    return views


def write_atomically(path, writer):
    """Call ``writer(fileobj)`` on a temporary file next to ``path``, then
    rename it over ``path``: readers see the old file or the new, never half."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_checkpoint(path):
    """Read a checkpoint written by ``Network.save`` into a dict, checking it.

    Raises ``ValueError`` naming the file when it is not a checkpoint or its
    parts do not fit together.
    """
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {key: z[key] for key in z.files}
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ValueError(f"{path}: not an nnetlib checkpoint ({exc.__class__.__name__}: {exc})") from None
    try:
        meta = json.loads(str(data["meta"]))
        if meta.get("magic") != CHECKPOINT_MAGIC:
            raise KeyError("magic")
        layers = check_layers(meta["layers"])
        dtype = check_dtype(meta["dtype"])
        params = data["params"]
        velocity = data["velocity"]
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not an nnetlib checkpoint (missing or bad {exc})") from None
    want = n_params(layers)
    for name, arr in (("params", params), ("velocity", velocity)):
        if arr.shape != (want,) or arr.dtype != dtype:
            raise ValueError(f"{path}: {name} has shape {arr.shape} and dtype {arr.dtype}, "
                             f"but layers {layers} in {dtype} need ({want},)")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{path}: {name} contains NaN or inf")
    meta["layers"], meta["dtype"] = layers, dtype.name
    return {"meta": meta, "params": params, "velocity": velocity}


class Network:
    """Base class: parameters, validation, SGD with momentum, checkpoints.

    ``Net(layers, *, params=None, init="kaiming", seed=None, dtype="float32")``.
    """

    #: how the momentum buffer is stored; TorchNet keeps torch's convention
    velocity_convention = "v"

    def __init__(self, layers, *, params=None, init="kaiming", seed=None, dtype="float32"):
        layers = check_layers(layers)
        dtype = check_dtype(dtype)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if params is None:
            flat = init_params(layers, init, seed, dtype)
        else:
            flat = check_params(params, n_params(layers), dtype).copy()
        self.layers = layers
        self.dtype = dtype
        self.init = init
        self.seed = seed
        self._set_state(flat, np.zeros_like(flat))

    # -- parameters ---------------------------------------------------------
    def _set_state(self, flat, velocity):
        """Install a flat parameter vector and momentum buffer (owned)."""
        self._flat = np.ascontiguousarray(flat, dtype=self.dtype)
        self._velocity = np.ascontiguousarray(velocity, dtype=self.dtype)
        self._weights = _split(self._flat, self.layers)

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
        flat = check_params(value, self._flat.size, self.dtype)
        self._set_state(flat.copy(), self._velocity)

    @property
    def velocity(self):
        """A flat copy of the momentum buffer v of ``step``."""
        return self._velocity.copy()

    @property
    def n_params(self):
        return self._flat.size

    def __repr__(self):
        return f"{type(self).__name__}(layers={list(self.layers)}, dtype={self.dtype.name!r})"

    # -- forward ------------------------------------------------------------
    def _forward(self, x):
        """Activations ``[a^0, ..., a^L]`` (bias neurons left implicit)."""
        acts = [x]
        for w in self._weights:
            acts.append(sigmoid(acts[-1] @ w[:-1] + w[-1]))
        return acts

    def feedforward(self, x):
        """Map a batch ``x`` of shape (B, n_0) to the outputs O, (B, n_L)."""
        x = check_array(x, "x", self.layers[0], self.dtype)
        return self._forward(x)[-1]

    def loss(self, x, t):
        """E = mean over batch and outputs of (O - t)^2."""
        x, t = check_batch(x, t, self.layers, self.dtype)
        e = self._forward(x)[-1] - t
        return float(np.mean(e * e))

    # -- gradients ----------------------------------------------------------
    def _loss_and_gradients(self, x, t):
        """Return ``(loss, [grad W^0, ..., grad W^{L-1}])`` for checked input."""
        raise NotImplementedError

    def gradients(self, x, t):
        """The exact gradient of ``loss(x, t)``, shaped like ``weights``."""
        x, t = check_batch(x, t, self.layers, self.dtype)
        _, grads = self._loss_and_gradients(x, t)
        return [np.array(g, dtype=self.dtype) for g in grads]

    def _check_step_args(self, lr, momentum):
        lr = check_positive(lr, "lr")
        momentum = check_positive(momentum, "momentum", allow_zero=True)
        if momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        return lr, momentum

    def step(self, x, t, lr=10.0, momentum=0.5):
        """One SGD-with-momentum update, v <- momentum v - lr g; w <- w + v.

        Returns the loss before the step.  A refused call (bad input, or a
        gradient that is not finite) changes neither weights nor momentum.
        """
        lr, momentum = self._check_step_args(lr, momentum)
        x, t = check_batch(x, t, self.layers, self.dtype)
        loss, grads = self._loss_and_gradients(x, t)
        g = np.concatenate([np.ravel(gk) for gk in grads])
        if not (np.isfinite(loss) and np.all(np.isfinite(g))):
            raise FloatingPointError("gradient is not finite; weights left unchanged")
        v = momentum * self._velocity - self.dtype.type(lr) * g.astype(self.dtype, copy=False)
        w = self._flat + v
        # commit both buffers in place, so the weight views stay valid
        self._velocity[...] = v
        self._flat[...] = w
        return float(loss)

    # -- checkpoints --------------------------------------------------------
    def _state_for_save(self):
        return self.params, self.velocity

    def save(self, path, extra=None):
        """Write layers, dtype, params and momentum to ``path`` atomically.

        ``extra`` is a JSON-serialisable dict stored beside them (``train``
        keeps its history there).
        """
        params, velocity = self._state_for_save()
        meta = {"magic": CHECKPOINT_MAGIC, "version": CHECKPOINT_VERSION,
                "class": type(self).__name__, "layers": list(self.layers),
                "dtype": self.dtype.name, "init": self.init,
                "velocity_convention": self.velocity_convention,
                "extra": extra or {}}
        text = json.dumps(meta)

        def writer(f):
            np.savez(f, meta=np.array(text), params=params, velocity=velocity)

        write_atomically(path, writer)

    def _load_state(self, ckpt, path):
        """Install params and velocity from a ``read_checkpoint`` dict."""
        meta = ckpt["meta"]
        if tuple(meta["layers"]) != self.layers or meta["dtype"] != self.dtype.name:
            raise ValueError(f"{path}: checkpoint is for layers {list(meta['layers'])} in {meta['dtype']}, "
                             f"not {list(self.layers)} in {self.dtype.name}")
        if meta.get("velocity_convention", "v") != self.velocity_convention:
            raise ValueError(f"{path}: momentum state was saved by a {meta.get('class')}, "
                             f"whose convention a {type(self).__name__} cannot take")
        self._set_state(ckpt["params"].copy(), ckpt["velocity"].copy())

    @classmethod
    def load(cls, path, **kwargs):
        """Rebuild a network saved by ``save``; extra keyword arguments go to
        the constructor (for example ``num_threads`` for CyNet)."""
        ckpt = read_checkpoint(path)
        meta = ckpt["meta"]
        net = cls(meta["layers"], params=ckpt["params"], dtype=meta["dtype"], **kwargs)
        net._load_state(ckpt, os.fspath(path))
        return net
