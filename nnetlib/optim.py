"""Optimizers: small objects that hold their own state, saved in checkpoints.

Each net has one, ``net.optimizer``; ``step`` hands it the flat gradient and
it updates the flat parameters in place.  The kind of an optimizer says what
its state means, which is what a checkpoint must record; each state array is
named after what it holds:

* ``SGD`` ("sgd"), the update of the article and of 01-derivation's training
  loop:  v <- momentum v - lr g,  w <- w + v.  Its state is v.
* ``TorchSGD`` ("torch-sgd"), ``torch.optim.SGD(momentum=...)``:
  b <- momentum b + g,  w <- w - lr b.  Its state is b.  With a constant lr,
  v = -lr b and the two give the same weights, but their states differ by
  the factor -lr, so one cannot continue from the other's state.
* ``Adam`` ("adam"), as ``torch.optim.Adam`` computes it: m and s, the first
  and second moments, and the step count ``n_steps`` for the bias corrections.

``momentum`` is given to every ``update`` (``train`` passes it), so that one
call signature drives all three; Adam checks it and ignores it.

Checkpoints store the arrays under the names nnetlib has always written
(``Optimizer.arrays``): "velocity" for v, b and m, "second_moment" for s.
"""

import numpy as np

from ._checks import check_betas, check_positive


def sgd_velocity(velocity, g, lr, momentum):
    """The new v = momentum v - lr g, with operators only (NumPy or torch)."""
    return velocity * momentum - g * lr


class Optimizer:
    """What every optimizer shares: checked ``lr`` and ``momentum``, its state
    arrays by name (``Opt(n, dtype)``: ``n`` zeros of ``dtype`` each), and
    their names in checkpoints."""

    kind = None
    #: the article's learning rate and batch size (``train``'s defaults)
    default_lr = 10.0
    default_batch_size = 1000
    #: the state arrays: attribute name -> the name checkpoints store it under
    arrays = {}

    def __init__(self, n, dtype):
        self.dtype = np.dtype(dtype)
        for name in self.arrays:
            setattr(self, name, np.zeros(n, self.dtype))

    def __repr__(self):
        return f"{type(self).__name__}()"

    @property
    def hyper(self):
        """Options that are part of the optimizer's state (none by default)."""
        return {}

    def check(self, lr=None, momentum=0.5):
        """``(lr, momentum)`` checked; ``lr=None`` is ``default_lr``."""
        lr = check_positive(self.default_lr if lr is None else lr, "lr")
        momentum = check_positive(momentum, "momentum", allow_zero=True)
        if momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        return lr, momentum

    def update(self, flat, g, lr, momentum):
        """Update ``flat`` in place from the flat gradient ``g`` (checked
        ``lr``, ``momentum``); the new state is committed with it."""
        raise NotImplementedError

    def state(self):
        """Copies of the state arrays, by name."""
        return {name: getattr(self, name).copy() for name in self.arrays}

    def load(self, arrays, hyper=None):
        """Install state arrays by name (already checked for shape and dtype)."""
        for name in self.arrays:
            getattr(self, name)[...] = arrays[name]

    def reset(self):
        """Forget the state (fresh momentum)."""
        for name in self.arrays:
            getattr(self, name)[...] = 0


class SGD(Optimizer):
    """SGD with momentum, v <- momentum v - lr g; w <- w + v (the article's)."""

    kind = "sgd"
    arrays = {"v": "velocity"}

    def update(self, flat, g, lr, momentum):
        v = sgd_velocity(self.v, g, self.dtype.type(lr), momentum)
        w = flat + v
        self.v[...] = v
        flat[...] = w


class TorchSGD(Optimizer):
    """``torch.optim.SGD``'s momentum: b <- momentum b + g; w <- w - lr b.

    TorchNet lets torch apply it; ``update`` here is the same rule in NumPy,
    for reference.
    """

    kind = "torch-sgd"
    arrays = {"b": "velocity"}

    def update(self, flat, g, lr, momentum):
        b = self.b * momentum + g
        self.b[...] = b
        flat -= b * self.dtype.type(lr)


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam`` computes it (betas, eps, bias correction):
    m <- b1 m + (1 - b1) g, s <- b2 s + (1 - b2) g^2, and at step n
    w <- w - lr/(1 - b1^n) m / (sqrt(s)/sqrt(1 - b2^n) + eps)."""

    kind = "adam"
    #: torch's default lr; at lr 1e-3 Adam wants more steps than batches of
    #: 1000 give in a few epochs, so ``train`` uses batches of 100 by default
    default_lr = 1e-3
    default_batch_size = 100
    arrays = {"m": "velocity", "s": "second_moment"}

    def __init__(self, n, dtype, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(n, dtype)
        self.betas = check_betas(betas)
        self.eps = check_positive(eps, "eps")
        self.n_steps = 0

    def __repr__(self):
        return f"Adam(betas={self.betas}, eps={self.eps})"

    @property
    def hyper(self):
        return {"betas": list(self.betas), "eps": self.eps, "n_steps": self.n_steps}

    def update(self, flat, g, lr, momentum):
        b1, b2 = self.betas
        n = self.n_steps + 1
        m, s = self.m, self.s
        m *= b1
        m += (1 - b1) * g
        s *= b2
        s += (1 - b2) * (g * g)
        denom = np.sqrt(s) / np.sqrt(1 - b2**n) + self.eps
        flat -= (lr / (1 - b1**n)) * (m / denom)
        self.n_steps = n

    def load(self, arrays, hyper=None):
        super().load(arrays)
        self.n_steps = int((hyper or {}).get("n_steps", 0))

    def reset(self):
        super().reset()
        self.n_steps = 0


KINDS = {cls.kind: cls for cls in (SGD, TorchSGD, Adam)}
