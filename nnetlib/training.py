"""Training loop shared by every network (04-mnist-classifier, 05-mnist-autoencoder).

``train(net, data, test, ...)`` runs the net's optimizer (SGD with momentum
for the article's nets) for a number of epochs and returns a ``History``;
``help(train)`` documents its arguments.  ``data`` and ``test`` are
``(x, y)`` pairs: a 1-D ``y`` holds class labels (the targets are their
one-hot codes and accuracy is recorded), a 2-D ``y`` holds the targets
themselves (for the autoencoder, ``y is x``).

Reliability:

* The data are checked once per call, before any step: for NaN and inf
  by a full scan, or, for a net whose kernel refuses such a batch itself
  (``CyNet``), by the first epoch, which reads every sample; a refusal
  there puts the weights and momentum back as they were and raises the
  same error as the scan.
* ``checkpoint=path`` saves the network, its momentum and the history after
  every epoch, atomically; calling ``train`` again with the same path resumes
  after the last saved epoch and ends bit for bit where an uninterrupted run
  would (shuffling is seeded per epoch, so no RNG state needs saving).
* Ctrl-C is held back until the current step (for a CyNet, the current
  stack of steps; for a GpuNet, which runs whole epochs, the current
  epoch, recorded and checkpointed) is complete; training then
  stops and the history so far is returned, with ``history.interrupted``
  set.  The network is left at its last complete step.
"""

import contextlib
import dataclasses
import functools
import os
import signal
import threading
import time

import numpy as np

from ._checks import check_array, check_count, check_positive_int, warn_if_unscaled
from ._progress import progress_bar
from .data import _batch_rows, _checked_batches, _one_hot


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
        loss = (
            f"test loss {self.test_loss[-1]:.5f}"
            if self.test_loss
            else f"train loss {self.train_loss[-1]:.5f}"
        )
        return (
            f"History({len(self.epoch)} epochs, {loss}{acc}, "
            f"{np.mean(self.seconds):.3f} s/epoch{', interrupted' if self.interrupted else ''})"
        )


def _labels(y, name, n_out):
    """Check 1-D class labels against the output width; int64 labels."""
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} labels must be ints in [0, {n_out}), got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"{name} labels must be ints in [0, {n_out}), got {int(y.min())}")
    if y.size and y.max() >= n_out:
        raise ValueError(
            f"{name} labels go up to {int(y.max())} but the net has {n_out} outputs: "
            f"build it with layers ending in {int(y.max()) + 1} (one output per class)"
        )
    return y.astype(np.int64)


def _one_hot_labels(t):
    """The labels of one-hot targets ``t`` (rows of 0s and a single 1), else None."""
    if t.shape[1] < 2 or not np.all((t[0] == 0) | (t[0] == 1)):  # most targets fail at row 0
        return None
    if np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1):
        return np.argmax(t, axis=1)
    return None


def _prepare(split, name, net, scan=True):
    """Check an ``(x, y)`` pair; return (x, targets, labels or None).

    ``y`` is 1-D labels (targets are their one-hot codes) or 2-D targets;
    one-hot targets also give labels, so that accuracy is recorded.
    ``scan=False`` leaves the search for NaN and inf to the net's kernel
    (``train`` on a CyNet) and looks for unscaled images on a sample of rows."""
    try:
        x, y = split
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an (x, y) pair") from None
    warn_if_unscaled(x, f"{name} x", sample=not scan)
    x = check_array(x, f"{name} x", net.layers[0], net.dtype, finite=scan)
    y_arr = np.asarray(y)
    if y_arr.ndim == 1:
        labels = _labels(y_arr, name, net.layers[-1])
        targets = _one_hot(labels, net.layers[-1], net.dtype)
    else:
        targets = check_array(y_arr, f"{name} targets", net.layers[-1], net.dtype, finite=scan)
        labels = _one_hot_labels(targets)
    if targets.shape[0] != x.shape[0]:
        raise ValueError(f"{name} x and y hold {x.shape[0]} and {targets.shape[0]} samples")
    return x, targets, labels


def evaluate(net, x, y, labels=None, batch_size=10000):
    """``(loss, accuracy or None)`` of ``net`` on a whole set, in chunks.

    ``y`` is either class labels (1-D ints) or targets (B, n_L); accuracy is
    the fraction of samples whose largest output is the label, computed when
    labels are given, passed as ``labels``, or read from one-hot targets
    (None for the autoencoder).  The loss is the mean squared error of
    eq. (1), or the network's own loss when it has another
    (``FrontNet(loss="cross_entropy")``)."""
    xs, targets, found = _prepare((x, y), "evaluate", net)
    return _evaluate(net, xs, targets, found if labels is None else np.asarray(labels), batch_size)


def _evaluate(net, xs, targets, labels, batch_size=10000):
    """``evaluate`` on checked arrays."""
    mse = net.function["loss"] == "mse"
    total, correct = 0.0, 0
    for start in range(0, xs.shape[0], batch_size):
        xb, tb = xs[start : start + batch_size], targets[start : start + batch_size]
        out = net._forward(xb)[-1]  # xs is checked: no second pass over it
        if mse:
            total += float(np.sum((out - tb) ** 2, dtype=np.float64))
        else:  # the network's own loss (cross-entropy), a mean over samples
            total += net.loss(xb, tb) * xb.shape[0]
        if labels is not None:
            correct += int(np.sum(np.argmax(out, axis=1) == labels[start : start + batch_size]))
    loss = total / (targets.size if mse else targets.shape[0])
    return loss, (correct / xs.shape[0] if labels is not None else None)


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


def _resume(net, checkpoint):
    """(history, epochs done) saved in ``checkpoint``, whose state ``net`` takes."""
    saved = net.load_state(checkpoint)
    history = History.from_dict(saved.get("history", {}))
    history.interrupted = False
    return history, int(saved.get("epochs_done", len(history.epoch)))


#: bytes of batches stacked for one ``net.steps`` call (CyNet), at most ``MAX_GROUP`` batches
GROUP_BYTES = 128 << 20
MAX_GROUP = 32


def _group_size(x, targets, batch_size):
    per_batch = batch_size * (x[:1].nbytes + targets[:1].nbytes)
    return max(1, min(MAX_GROUP, GROUP_BYTES // max(1, per_batch)))


def _kernel_calls(net, x, targets, batch_size, order_seed, step_args):
    """``(rows per batch, call)`` for each call of one epoch: ``net.step`` per
    batch, or, where the net has them, ``net.steps`` on stacks of batches
    (views in file order) and ``net.steps_in_order`` on the rows of each
    shuffled stack, which the kernel gathers without a copy."""
    shuffle = order_seed is not None
    if hasattr(net, "steps"):
        group = _group_size(x, targets, batch_size)
        if shuffle and hasattr(net, "steps_in_order"):
            for rows in _batch_rows(len(x), batch_size, order_seed, group):
                yield (
                    rows.shape[1],
                    functools.partial(net.steps_in_order, x, targets, rows, **step_args),
                )
        else:
            for xs, ts in _checked_batches(x, targets, batch_size, shuffle, order_seed, group):
                yield xs.shape[1], functools.partial(net.steps, xs, ts, **step_args)
    else:
        for xb, tb in _checked_batches(x, targets, batch_size, shuffle, order_seed, None):
            yield xb.shape[0], lambda xb=xb, tb=tb: [net.step(xb, tb, **step_args)]


def _device_epoch(net, x, targets, batch_size, order_seed, step_args, bar):
    """One epoch of a net that runs whole epochs on its device (GpuNet: one CUDA
    graph per epoch on CUDA), on data it holds already; the summed batch losses."""
    order = None if order_seed is None else np.random.default_rng(order_seed).permutation(len(x))
    losses, sizes = net.run_epoch(x, targets, batch_size, order=order, **step_args)
    running = 0.0
    for loss, rows in zip(losses, sizes):  # the sum a loop of steps makes, in its order
        running += float(loss) * rows
    if bar is not None:
        bar.update(len(losses))
    return running


def _epoch(net, x, targets, batch_size, order_seed, step_args, bar, stop):
    """One pass over the batches (``_kernel_calls``); the summed batch
    losses (times their sizes), or None when Ctrl-C stopped it."""
    if hasattr(net, "run_epoch"):  # Ctrl-C is seen after the epoch
        return _device_epoch(net, x, targets, batch_size, order_seed, step_args, bar)
    running = 0.0
    for rows, call in _kernel_calls(net, x, targets, batch_size, order_seed, step_args):
        losses = call()
        for loss in losses:
            running += float(loss) * rows
        if bar is not None:
            bar.update(len(losses))
        if stop["hit"]:
            return None
    return running


def train(
    net,
    data,
    test=None,
    epochs=16,
    batch_size=None,
    lr=None,
    momentum=0.5,
    shuffle=False,
    seed=None,
    progress=True,
    checkpoint=None,
    callback=None,
):
    """Train ``net`` for ``epochs`` passes over ``data``; returns a ``History``.

    ``data`` and ``test`` are ``(x, y)`` pairs: ``x`` is (N, n_0), scaled to
    [0, 1] as the article's nets expect (``load_mnist`` does it; integer or
    0-255 images get a warning); ``y`` is either class labels (1-D ints in
    [0, n_L), turned into one-hot targets, accuracy recorded) or targets
    (N, n_L): one-hot rows also record accuracy, anything else (the
    autoencoder's ``(x, x)``) records only the loss.  ``test=None`` skips
    the per-epoch evaluation.  (``data`` was called ``train`` before; pass
    it by position.)

    Each epoch calls ``net.step`` on batches of ``batch_size`` (the last may
    be smaller), in file order, or, with ``shuffle=True``, in the order
    ``default_rng([seed or 0, epoch]).permutation(N)``.  A CyNet takes them
    in stacks of up to ``MAX_GROUP`` batches (``CyNet.steps``: the same
    steps, bit for bit, in one kernel call per stack; shuffled, the kernel
    gathers each batch's rows itself, ``CyNet.steps_in_order``).  A GpuNet
    takes the data onto its device once and runs each epoch in one call
    (``GpuNet.run_epoch``: one CUDA graph on CUDA), the same steps as a loop
    of ``step``; Ctrl-C then stops at the end of an epoch.  ``lr=None`` and
    ``batch_size=None`` are the net's own defaults (``net.optimizer``): lr 10
    and batches of 1000 for the article's SGD with momentum (``momentum``
    0.5), lr 1e-3 and batches of 100 for ``FrontNet(optimizer="adam")``.

    ``checkpoint=path`` saves net, optimizer state and history after every
    epoch, atomically; calling ``train`` again with the same path resumes
    after the last saved epoch, bit for bit.  ``callback(net, history)`` is
    called after every epoch (after the checkpoint is written).  Ctrl-C
    stops after the current step (CyNet: stack of steps); the history so far is returned with
    ``history.interrupted`` set.  ``progress`` shows a progress bar.

    The ``History`` holds per epoch: train loss (mean of the batch losses
    before each step), test loss, test accuracy (classifiers) and seconds
    of training (evaluation excluded).
    """
    epochs = check_count(epochs, "epochs")
    if batch_size is None:
        batch_size = net.optimizer.default_batch_size
    batch_size = check_positive_int(batch_size, "batch_size")
    lr, momentum = net.check_step(lr, momentum)
    # a net whose kernel refuses NaN and inf itself is spared a pass over the data;
    # a refusal in the first epoch (which reads every sample) then undoes the call
    scan = not getattr(net, "refuses_bad_input", False)
    x, targets, _ = _prepare(data, "data", net, scan=scan)
    evaluation = None if test is None else _prepare(test, "test", net)
    history, start_epoch = History(), 0
    if checkpoint is not None and os.path.exists(checkpoint):
        history, start_epoch = _resume(net, checkpoint)
    if not scan and start_epoch >= epochs:  # no epoch will read the data: check it here
        _prepare(data, "data", net)
    if hasattr(net, "run_epoch"):  # a net that trains whole epochs on its device gets the data once
        x, targets = net.to_device(x, targets, checked=True)
    n_batches = -(-x.shape[0] // batch_size)
    bar = progress_bar(
        progress,
        total=max(0, epochs - start_epoch) * n_batches,
        desc=type(net).__name__,
        unit="batch",
        leave=False,
    )
    before = None if scan else (net.params, net.optimizer_state())
    try:
        with _deferred_interrupt() as stop:
            for epoch in range(start_epoch, epochs):
                t0 = time.perf_counter()
                try:
                    running = _epoch(
                        net,
                        x,
                        targets,
                        batch_size,
                        [0 if seed is None else seed, epoch] if shuffle else None,
                        {"lr": lr, "momentum": momentum},
                        bar,
                        stop,
                    )
                except ValueError:
                    if before is not None and epoch == start_epoch:
                        _undo(net, before)
                        _prepare(data, "data", net)  # the full check: raises, naming x or y
                    raise
                if running is None:
                    history.interrupted = True
                    break
                _record(
                    history,
                    net,
                    epoch,
                    running / x.shape[0],
                    time.perf_counter() - t0,
                    evaluation,
                    bar,
                )
                if checkpoint is not None:
                    net.save(
                        checkpoint, extra={"history": history.as_dict(), "epochs_done": epoch + 1}
                    )
                if callback is not None:
                    callback(net, history)
                if stop["hit"]:  # a whole-epoch net saw Ctrl-C during the epoch it finished
                    history.interrupted = True
                    break
    except KeyboardInterrupt:  # raised outside the main thread's handler
        history.interrupted = True
    finally:
        if bar is not None:
            bar.close()
    return history


def _undo(net, before):
    """Put back the weights and optimizer state of ``before = (params, optimizer_state())``."""
    params, state = before
    net.params = params
    net.optimizer.load(state, net.optimizer.hyper)


def _record(history, net, epoch, train_loss, seconds, evaluation, bar):
    """Append one epoch's figures (and the test set's, if any) to ``history``."""
    history.epoch.append(epoch + 1)
    history.train_loss.append(train_loss)
    history.seconds.append(seconds)
    if evaluation is None:
        return
    test_loss, acc = _evaluate(net, *evaluation)
    history.test_loss.append(test_loss)
    if acc is not None:
        history.test_accuracy.append(acc)
    if bar is not None:
        bar.set_postfix(
            {"test_loss": f"{test_loss:.4f}", **({} if acc is None else {"acc": f"{acc:.3f}"})}
        )
