"""Training loop shared by every network (04-mnist-classifier, 05-mnist-autoencoder).

``train(net, train, test, ...)`` runs SGD with momentum for a number of
epochs and returns a ``History``.  ``train`` and ``test`` are ``(x, y)``
pairs: a 1-D ``y`` holds class labels (the targets are their one-hot codes and
accuracy is recorded), a 2-D ``y`` holds the targets themselves (for the
autoencoder, ``y is x``).

Reliability (see the reliability issue):

* ``checkpoint=path`` saves the network, its momentum and the history after
  every epoch, atomically; calling ``train`` again with the same path resumes
  after the last saved epoch and ends bit for bit where an uninterrupted run
  would (shuffling is seeded per epoch, so no RNG state needs saving).
* Ctrl-C is held back until the current step is complete; training then
  stops and the history so far is returned, with ``history.interrupted``
  set.  The network is left at its last complete step.
"""
import contextlib
import dataclasses
import os
import signal
import threading
import time

import numpy as np

from ._checks import check_array
from ._progress import progress_bar
from .data import one_hot


@dataclasses.dataclass
class History:
    """Per-epoch records of one training run (epoch numbers start at 1)."""

    epoch: list = dataclasses.field(default_factory=list)
    train_loss: list = dataclasses.field(default_factory=list)
    test_loss: list = dataclasses.field(default_factory=list)
    test_accuracy: list = dataclasses.field(default_factory=list)
    seconds: list = dataclasses.field(default_factory=list)
    interrupted: bool = False

    def as_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in fields})

    def __repr__(self):
        if not self.epoch:
            return "History(no epochs)"
        acc = f", test accuracy {self.test_accuracy[-1]:.4f}" if self.test_accuracy else ""
        return (f"History({len(self.epoch)} epochs, test loss {self.test_loss[-1]:.5f}{acc}, "
                f"{np.mean(self.seconds):.3f} s/epoch{', interrupted' if self.interrupted else ''})")


def _prepare(split, name, net):
    """Check an ``(x, y)`` pair; return (x, targets, labels or None)."""
    try:
        x, y = split
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an (x, y) pair") from None
    x = check_array(x, f"{name} x", net.layers[0], net.dtype)
    y_arr = np.asarray(y)
    if y_arr.ndim == 1:
        n_out = net.layers[-1]
        if not np.issubdtype(y_arr.dtype, np.integer) or y_arr.size and (y_arr.min() < 0 or y_arr.max() >= n_out):
            raise ValueError(f"{name} labels must be ints in [0, {n_out}), got dtype {y_arr.dtype}")
        labels = y_arr.astype(np.int64)
        targets = one_hot(labels, n_out, net.dtype)
    else:
        labels = None
        targets = check_array(y_arr, f"{name} targets", net.layers[-1], net.dtype)
    if targets.shape[0] != x.shape[0]:
        raise ValueError(f"{name} x and y hold {x.shape[0]} and {targets.shape[0]} samples")
    return x, targets, labels


def evaluate(net, x, targets, labels=None, batch_size=10000):
    """(loss, accuracy or None) of ``net`` on a whole set, in chunks.

    The loss is the mean squared error of eq. (1), or the network's own loss
    when it has another (``FrontNet(loss="cross_entropy")``)."""
    mse = net.function["loss"] == "mse"
    total, correct = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        xb, tb = x[start:start + batch_size], targets[start:start + batch_size]
        out = net.feedforward(xb)
        if mse:
            total += float(np.sum((out - tb) ** 2, dtype=np.float64))
        else:  # the network's own loss (cross-entropy), a mean over samples
            total += net.loss(xb, tb) * xb.shape[0]
        if labels is not None:
            correct += int(np.sum(np.argmax(out, axis=1) == labels[start:start + batch_size]))
    loss = total / (targets.size if mse else targets.shape[0])
    return loss, (correct / x.shape[0] if labels is not None else None)


@contextlib.contextmanager
def _deferred_interrupt():
    """Hold SIGINT until the caller checks ``flag['hit']`` between steps."""
    flag = {"hit": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        flag["hit"] = True

    try:
        old = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not allowed here (e.g. embedded interpreter)
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, old)


def train(net, train, test, epochs=16, batch_size=1000, lr=10.0, momentum=0.5,
          shuffle=False, seed=None, progress=True, checkpoint=None, callback=None):
    """Train ``net`` with SGD + momentum; see the module docstring.

    Returns a ``History`` with train loss (mean of the batch losses before
    each step), test loss, test accuracy (classifiers) and seconds of
    training per epoch.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    lr, momentum = net.check_step(lr, momentum)
    x, targets, _ = _prepare(train, "train", net)
    xt, tt, test_labels = _prepare(test, "test", net)
    history = History()
    start_epoch = 0
    if checkpoint is not None and os.path.exists(checkpoint):
        saved = net.load_state(checkpoint)
        history = History.from_dict(saved.get("history", {}))
        history.interrupted = False
        start_epoch = int(saved.get("epochs_done", len(history.epoch)))
    n = x.shape[0]
    n_batches = -(-n // batch_size)
    bar = progress_bar(progress, total=max(0, epochs - start_epoch) * n_batches,
                       desc=type(net).__name__, unit="batch", leave=False)
    try:
        with _deferred_interrupt() as stop:
            for epoch in range(start_epoch, epochs):
                order = (np.random.default_rng([0 if seed is None else seed, epoch]).permutation(n)
                         if shuffle else None)
                t0 = time.perf_counter()
                running = 0.0
                for b in range(n_batches):
                    sl = slice(b * batch_size, (b + 1) * batch_size)
                    if order is None:
                        xb, tb = x[sl], targets[sl]
                    else:
                        idx = order[sl]
                        xb, tb = x[idx], targets[idx]
                    running += net.step(xb, tb, lr=lr, momentum=momentum) * xb.shape[0]
                    if bar is not None:
                        bar.update(1)
                    if stop["hit"]:
                        break
                if stop["hit"]:
                    history.interrupted = True
                    break
                seconds = time.perf_counter() - t0
                test_loss, acc = evaluate(net, xt, tt, test_labels)
                history.epoch.append(epoch + 1)
                history.train_loss.append(running / n)
                history.test_loss.append(test_loss)
                if acc is not None:
                    history.test_accuracy.append(acc)
                history.seconds.append(seconds)
                if bar is not None:
                    post = {"test_loss": f"{test_loss:.4f}"}
                    if acc is not None:
                        post["acc"] = f"{acc:.3f}"
                    bar.set_postfix(post)
                if checkpoint is not None:
                    net.save(checkpoint, extra={"history": history.as_dict(), "epochs_done": epoch + 1})
                if callback is not None:
                    callback(net, history)
    except KeyboardInterrupt:  # raised outside the main thread's handler
        history.interrupted = True
    finally:
        if bar is not None:
            bar.close()
    return history
