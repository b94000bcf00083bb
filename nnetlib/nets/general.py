"""The general network of 08-beyond (sections 1, 2 and 5): the article's net
with another activation, the cross-entropy loss, dropout and Adam.

``GeneralNetwork`` holds what FrontNet (frontprop) and BackpropNet (backprop)
share: the forward pass, the losses, the dropout masks, the optimizers and
the checkpoints.  A subclass supplies only the deltas delta^k = dE/dh^{k+1};
``assemble_gradients`` (eq. (1)) turns them into the weight gradient.

**Softmax and cross-entropy.**  With ``loss="cross_entropy"`` the output
"activation" is the softmax, O = softmax(h^L), and
E = -1/B sum_b sum_q t_bq log O_bq.  The softmax couples all outputs, so its
Jacobian dO/dh^L is a full matrix, diag(O) - O O^T, not a diagonal.  Rather
than form it, the output contraction uses the product of the two factors at
once:

    dE/dh^L_q = sum_r dE/dO_r dO_r/dh^L_q = (O_q sum_r t_r - t_q) / B,

which is (O - t) / B for one-hot (or any probability) targets.  With the mean
squared error the output activation is the sigmoid (as in the article) and
dE/dh^L = 2 (O - t) / (B n_L) * g'(h^L), i.e. dE/dO times the diagonal
Jacobian.  Either way the row vector dE/dh^L is contracted with
W^{L-1}^T J^{L-1,k} as in NpNet: delta^k = dE/dh^{k+1}, and
grad E^k = sum_b a~^k_b (delta^k_b)^T.

**Dropout** (inverted, on hidden activations, during ``step`` only).  The
net that is trained uses a^l = m^l * g(h^l), with m^l_q = 0 with probability
p and 1/(1 - p) otherwise, fixed for the step.  Then da^l/dh^l =
diag(m^l g'(h^l)), so the mask enters the recursion only through the diagonal
scaling, s^l = m^l * g'(h^l), and through the activations a~^k (already
masked) that multiply delta^k in the weight gradient.  ``gradients`` and
``loss`` accept ``masks=`` to evaluate exactly that net; without masks they
(and ``feedforward``) are the deterministic evaluation-mode net.

**Optimizers.**  ``optimizer="sgd"`` is ``nnetlib.optim.SGD`` (momentum SGD).
``optimizer="adam"`` is Adam as ``torch.optim.Adam`` computes it (defaults
betas (0.9, 0.999), eps 1e-8, bias correction); ``lr`` is given to ``step``
and ``momentum`` is checked but ignored (Adam's first-moment decay is
``betas[0]``, fixed at construction), so ``nnetlib.train`` drives either.
"""

import numpy as np

from .._checks import (
    check_array,
    check_batch,
    check_betas,
    check_choice,
    check_dropout,
    check_positive,
    check_seed,
)
from ..activations import ACTIVATIONS, sigmoid, sigmoid_slope
from ..frontprop import assemble_gradients
from ..optim import SGD, Adam
from .base import NumpyNetwork

LOSSES = ("mse", "cross_entropy")
OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def softmax(h):
    """Row-wise softmax, shifted by the row maximum so it never overflows."""
    z = np.exp(h - h.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def log_softmax(h):
    """Row-wise log softmax, h - max - log sum exp(h - max)."""
    s = h - h.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


class GeneralNetwork(NumpyNetwork):
    """The general network (any activation, loss, dropout, optimizer): the
    forward pass, losses, masks, optimizers and checkpoints that ``FrontNet``
    (frontprop) and ``backprop.BackpropNet`` share.

    Subclasses implement ``_hidden_deltas(acts, slopes, d_out)``, which turns
    dE/dh^L into the list delta^k = dE/dh^{k+1}, k = 0 .. L-1.

    ``Net(layers, *, activation="sigmoid", loss="mse", optimizer="sgd",
    dropout=0.0, dropout_seed=None, betas=(0.9, 0.999), eps=1e-8,
    params=None, init="torch", seed=None, dtype="float32")``.
    With the defaults the net is the article's: its gradients equal NpNet's.
    ``net.optimizer`` is an ``nnetlib.optim.SGD`` or ``Adam`` object and
    ``net.function`` says what the net computes (activation, loss, dropout).
    """

    def __init__(
        self,
        layers,
        *,
        activation="sigmoid",
        loss="mse",
        optimizer="sgd",
        dropout=0.0,
        dropout_seed=None,
        betas=(0.9, 0.999),
        eps=1e-8,
        params=None,
        init="torch",
        seed=None,
        dtype="float32",
    ):
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self._loss_kind = check_choice(loss, "loss", LOSSES)
        self.optimizer_class = OPTIMIZERS[check_choice(optimizer, "optimizer", OPTIMIZERS)]
        self.dropout = check_dropout(dropout)
        self._adam = {"betas": check_betas(betas), "eps": check_positive(eps, "eps")}
        self.dropout_seed = check_seed(dropout_seed, "dropout_seed", seed)
        self._act = ACTIVATIONS[self.activation]
        super().__init__(layers, params=params, init=init, seed=seed, dtype=dtype)
        self.n_steps = 0

    def _make_optimizer(self, n):
        if self.optimizer_class is Adam:
            return Adam(n, self.dtype, **self._adam)
        return SGD(n, self.dtype)

    def __repr__(self):
        return (
            f"{type(self).__name__}(layers={list(self.layers)}, activation={self.activation!r}, "
            f"loss={self._loss_kind!r}, optimizer={self.optimizer.kind!r}, dropout={self.dropout}, "
            f"dtype={self.dtype.name!r})"
        )

    @property
    def function(self):
        """What the net computes: activation, loss (``"mse"`` or
        ``"cross_entropy"``) and the dropout of training."""
        return {"activation": self.activation, "loss": self._loss_kind, "dropout": self.dropout}

    @property
    def config(self):
        """The constructor options that define the net's function and update rule."""
        return {
            "activation": self.activation,
            "loss": self._loss_kind,
            "optimizer": self.optimizer.kind,
            "dropout": self.dropout,
            "dropout_seed": self.dropout_seed,
            "betas": list(self._adam["betas"]),
            "eps": self._adam["eps"],
        }

    # -- forward ------------------------------------------------------------------
    def _output(self, h):
        return softmax(h) if self._loss_kind == "cross_entropy" else sigmoid(h)

    def _forward_train(self, x, masks=None):
        """``(acts, slopes, h_out)``: activations a^0 .. a^L (hidden ones
        multiplied by their masks), the diagonal scalings s^l = m^l g'(h^l)
        for l = 1 .. L-1 (``slopes[0]`` is None) and the output's h^L."""
        L = len(self.layers) - 1
        acts, slopes = [x], [None]
        h = None
        for l, w in enumerate(self._weights, start=1):
            h = acts[-1] @ w[:-1] + w[-1]
            if l == L:
                acts.append(self._output(h))
                break
            a = self._act.g(h)
            s = self._act.g_prime(h, a)
            if masks is not None:
                a = a * masks[l - 1]
                s = s * masks[l - 1]
            acts.append(a)
            slopes.append(s)
        return acts, slopes, h

    def _forward(self, x):
        """Evaluation mode (no dropout); used by ``feedforward``."""
        return self._forward_train(x)[0]

    def _loss_and_output_grad(self, out, h_out, t):
        """E and dE/dh^L (see the module docstring)."""
        B = t.shape[0]
        if self._loss_kind == "mse":
            e = out - t
            loss = float(np.mean(e * e))
            d = e * sigmoid_slope(out) * self.dtype.type(2 / e.size)
        else:
            loss = float(-np.sum(t * log_softmax(h_out)) / B)
            d = (out * t.sum(axis=1, keepdims=True) - t) * self.dtype.type(1 / B)
        return loss, d

    # -- dropout masks --------------------------------------------------------------
    def _check_masks(self, masks, batch):
        if masks is None:
            return None
        hidden = self.layers[1:-1]
        try:
            masks = list(masks)
        except TypeError:
            raise ValueError(
                "masks must be a list with one (batch, n_l) array per hidden layer"
            ) from None
        if len(masks) != len(hidden):
            raise ValueError(
                f"masks must hold {len(hidden)} arrays (one per hidden layer), got {len(masks)}"
            )
        out = []
        for i, (m, n) in enumerate(zip(masks, hidden)):
            m = check_array(m, f"masks[{i}]", n, self.dtype)
            if m.shape[0] != batch:
                raise ValueError(f"masks[{i}] must have shape ({batch}, {n}), got {m.shape}")
            out.append(m)
        return out

    def draw_masks(self, batch, step=None):
        """The inverted-dropout masks used by step number ``step`` (default:
        the next step): entries 0 with probability p, else 1/(1 - p).

        Drawn from ``default_rng([dropout_seed, step])``, so a run resumed
        from a checkpoint draws the same masks as an uninterrupted one.
        """
        step = self.n_steps if step is None else step
        rng = np.random.default_rng([self.dropout_seed, step])
        keep = self.dtype.type(1 / (1 - self.dropout))
        return [
            (rng.random((batch, n)) >= self.dropout).astype(self.dtype) * keep
            for n in self.layers[1:-1]
        ]

    # -- losses and gradients ---------------------------------------------------------
    def loss(self, x, t, masks=None):
        """The chosen loss: mean squared error, or cross-entropy of the softmax
        outputs averaged over the batch.  ``masks`` as in ``gradients``."""
        x, t = check_batch(x, t, self.layers, self.dtype)
        masks = self._check_masks(masks, x.shape[0])
        acts, _, h = self._forward_train(x, masks)
        return self._loss_and_output_grad(acts[-1], h, t)[0]

    def gradients(self, x, t, masks=None):
        """The exact gradient of ``loss(x, t, masks)``, shaped like ``weights``.

        ``masks``: one ``(B, n_l)`` array per hidden layer, multiplied into
        the hidden activations (``draw_masks`` makes dropout masks); None is
        the evaluation-mode net.
        """
        x, t = check_batch(x, t, self.layers, self.dtype)
        masks = self._check_masks(masks, x.shape[0])
        _, grads = self._loss_and_gradients(x, t, masks)
        return [np.array(g, dtype=self.dtype) for g in grads]

    def _hidden_deltas(self, acts, slopes, d_out):
        raise NotImplementedError

    def _loss_and_gradients(self, x, t, masks=None):
        acts, slopes, h = self._forward_train(x, masks)
        loss, d_out = self._loss_and_output_grad(acts[-1], h, t)
        deltas = self._hidden_deltas(acts, slopes, d_out)
        grads = [np.empty(w.shape, self.dtype) for w in self._weights]
        return loss, assemble_gradients(acts, deltas, grads)

    # -- optimizers and checkpoints ----------------------------------------------------
    def _step_gradient(self, x, t):
        """(loss, flat gradient) that ``step`` follows, with this step's
        dropout masks; ForwardGradientNet replaces the exact gradient by its
        estimate here."""
        loss, grads = self._loss_and_gradients(x, t, self._step_masks(x.shape[0]))
        return loss, np.concatenate([np.ravel(g) for g in grads])

    def _step_masks(self, batch):
        """The next step's dropout masks (None without dropout)."""
        return self.draw_masks(batch) if self.dropout > 0 else None

    def step(self, x, t, lr=None, momentum=0.5):
        """One update; returns the loss before it (with this step's dropout).

        ``lr`` defaults to 10 for SGD (the article's) and 1e-3 for Adam.  SGD:
        v <- momentum v - lr g, w <- w + v.  Adam (torch's formulas,
        ``nnetlib.optim.Adam``); ``momentum`` is checked and then ignored.
        A refused call (bad input, a gradient that is not finite) changes no
        state.
        """
        loss = super().step(x, t, lr, momentum)
        self.n_steps += 1
        return loss

    @property
    def second_moment(self):
        """A flat copy of Adam's second moment s (zeros for SGD)."""
        return self.optimizer_state().get("s", np.zeros_like(self._flat))

    def extra_state(self):
        """The options and the step count (which draws the dropout masks), so
        that ``train(checkpoint=...)`` resumes exactly."""
        return {"config": self.config, "n_steps": self.n_steps}

    def _restore_extra_state(self, state):
        self.n_steps = int(state.get("n_steps", 0))

    @classmethod
    def _options(cls, meta, kwargs):
        """The saved options (``config``), then ``kwargs`` over them."""
        saved = dict(meta["state"].get("config", {}))
        if "betas" in saved:
            saved["betas"] = tuple(saved["betas"])
        return {"dtype": meta["dtype"], **saved, **kwargs}
