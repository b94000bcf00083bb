"""Optimizers: small objects that hold their own state, saved in checkpoints.

Each net has one, ``net.optimizer``; ``step`` hands it the flat gradient and
it updates the flat parameters in place.  The kind of an optimizer says what
its state means, which is what a checkpoint must record:

* ``SGD`` ("sgd"), the update of the article and of 01-derivation's training
  loop:  v <- momentum v - lr g,  w <- w + v.  Its state is v.
* ``TorchSGD`` ("torch-sgd"), ``torch.optim.SGD(momentum=...)``:
  b <- momentum b + g,  w <- w - lr b.  Its state is b.  With a constant lr,
  v = -lr b and the two give the same weights, but their states differ by
  the factor -lr, so one cannot continue from the other's state.
* ``Adam`` ("adam"), as ``torch.optim.Adam`` computes it: m and u, the first
  and second moments, and the step count n for the bias corrections.

``momentum`` is given to every ``update`` (``train`` passes it), so that one
call signature drives all three; Adam checks it and ignores it.
"""

import numbers

import numpy as np

from ._checks import check_positive


def sgd_velocity(velocity, g, lr, momentum):
    """The new v = momentum v - lr g, with operators only (NumPy or torch)."""
    return velocity * momentum - g * lr


def check_betas(betas):
    """A pair (b1, b2) of numbers in [0, 1)."""
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}") from None
    for b in (b1, b2):
        if isinstance(b, bool) or not isinstance(b, numbers.Real) or not 0 <= b < 1:
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
    return float(b1), float(b2)


class SGD:
    """SGD with momentum, v <- momentum v - lr g; w <- w + v (the article's).

    ``SGD(n, dtype)`` holds the velocity v, ``n`` entries of ``dtype``.
    """

    kind = "sgd"
    #: the article's learning rate and batch size (``train``'s defaults)
    default_lr = 10.0
    default_batch_size = 1000
    #: names of the state arrays, in checkpoint order
    arrays = ("velocity",)

    def __init__(self, n, dtype):
        self.dtype = np.dtype(dtype)
        self.velocity = np.zeros(n, self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}()"

    @property
    def hyper(self):
        """Options that are part of the optimizer's state (none for SGD)."""
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
        v = sgd_velocity(self.velocity, g, self.dtype.type(lr), momentum)
        w = flat + v
        self.velocity[...] = v
        flat[...] = w

    def state(self):
        """Copies of the state arrays, by name."""
        return {name: getattr(self, name).copy() for name in self.arrays}

    def load(self, arrays, hyper=None):
        """Install state arrays (already checked for shape and dtype)."""
        for name in self.arrays:
            getattr(self, name)[...] = arrays[name]

    def reset(self):
        """Forget the state (fresh momentum)."""
        for name in self.arrays:
            getattr(self, name)[...] = 0


class TorchSGD(SGD):
    """``torch.optim.SGD``'s momentum: b <- momentum b + g; w <- w - lr b.

    TorchNet lets torch apply it; ``update`` here is the same rule in NumPy,
    for reference.  The state array is named ``velocity`` like SGD's, but
    holds b, which is why ``kind`` differs.
    """

    kind = "torch-sgd"

    def update(self, flat, g, lr, momentum):
        b = self.velocity * momentum + g
        self.velocity[...] = b
        flat -= b * self.dtype.type(lr)


class Adam(SGD):
    """Adam as ``torch.optim.Adam`` computes it (betas, eps, bias correction):
    m <- b1 m + (1 - b1) g, u <- b2 u + (1 - b2) g^2, and at step n
    w <- w - lr/(1 - b1^n) m / (sqrt(u)/sqrt(1 - b2^n) + eps)."""

    kind = "adam"
    #: torch's default lr; at lr 1e-3 Adam wants more steps than batches of
    #: 1000 give in a few epochs, so ``train`` uses batches of 100 by default
    default_lr = 1e-3
    default_batch_size = 100
    arrays = ("velocity", "second_moment")

    def __init__(self, n, dtype, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(n, dtype)
        self.betas = check_betas(betas)
        self.eps = check_positive(eps, "eps")
        self.second_moment = np.zeros(n, self.dtype)
        self.n_steps = 0

    def __repr__(self):
        return f"Adam(betas={self.betas}, eps={self.eps})"

    @property
    def hyper(self):
        return {"betas": list(self.betas), "eps": self.eps, "n_steps": self.n_steps}

    def update(self, flat, g, lr, momentum):
        b1, b2 = self.betas
        n = self.n_steps + 1
        m, u = self.velocity, self.second_moment
        m *= b1
        m += (1 - b1) * g
        u *= b2
        u += (1 - b2) * (g * g)
        denom = np.sqrt(u) / np.sqrt(1 - b2**n) + self.eps
        flat -= (lr / (1 - b1**n)) * (m / denom)
        self.n_steps = n

    def load(self, arrays, hyper=None):
        super().load(arrays)
        self.n_steps = int((hyper or {}).get("n_steps", 0))

    def reset(self):
        super().reset()
        self.n_steps = 0


KINDS = {cls.kind: cls for cls in (SGD, TorchSGD, Adam)}
