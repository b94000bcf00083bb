"""Training runs repeated over random seeds, and their summaries (04-mnist-classifier, 05-mnist-autoencoder).

A single run says little about a difference of one point of accuracy: two
random initial weight draws of the same network already differ by about
that much.  The notebooks therefore train every variant from several seeds
and report a ``stat``: mean, sample standard deviation and the values.  A
claim "A beats B" is made only when ``clearly_apart(A, B)`` holds: the
means differ by more than ``k`` (default 2) standard errors of their
difference, sqrt(sd_A^2 / n_A + sd_B^2 / n_B).
"""

import math

import numpy as np

from nnetlib.data import one_hot
from nnetlib.training import evaluate, train


def stat(values):
    """``{"mean", "sd", "values", "n"}`` of a sequence of numbers (sd with ddof=1; 0 for one value)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("stat needs at least one value")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"stat needs finite values, got {values}")
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "sd": sd, "values": values, "n": len(values)}


def clearly_apart(a, b, k=2.0):
    """True when the means of the stats ``a`` and ``b`` differ by more than ``k``
    standard errors of their difference (see the module docstring)."""
    if a["n"] < 2 or b["n"] < 2:
        raise ValueError("clearly_apart needs at least 2 values on each side; train more seeds")
    se = math.sqrt(a["sd"] ** 2 / a["n"] + b["sd"] ** 2 / b["n"])
    return abs(a["mean"] - b["mean"]) > k * se


def fmt(s, digits=4, percent=False):
    """A stat as the report prints it, one rule everywhere: ``"0.0473 ± 0.0004"``
    (``digits`` decimals), or with ``percent`` ``"91.1 ± 0.5 %"`` (one decimal)."""
    if percent:
        return f"{100 * s['mean']:.1f} ± {100 * s['sd']:.1f} %"
    return f"{s['mean']:.{digits}f} ± {s['sd']:.{digits}f}"


def frontprop_class():
    """``CyNet`` when its compiled kernel is built, else ``NpNet`` (same arithmetic), saying so in one line."""
    from nnetlib.nets import cynet

    if cynet.available():
        return cynet.CyNet
    from nnetlib.nets.npnet import NpNet

    print("CyNet's compiled kernel is not built here; using NpNet (same gradients, slower).")
    return NpNet


def torch_default_params(layers, seed, dtype="float32"):
    """Flat parameters drawn by PyTorch's own ``nn.Linear`` initialization (04, 05).

    torch's default draws W with ``kaiming_uniform_(a=sqrt(5))`` and the bias
    from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).  The draw uses its own
    ``torch.Generator`` state (``fork_rng``), so the caller's global torch
    random state is left unchanged.
    """
    import torch
    from torch import nn

    parts = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for fan_in, fan_out in zip(layers[:-1], layers[1:]):
            lin = nn.Linear(fan_in, fan_out, dtype=torch.float64)
            w = np.vstack([lin.weight.detach().numpy().T, lin.bias.detach().numpy()[None, :]])
            parts.append(w.ravel())
    return np.concatenate(parts).astype(dtype)


def _targets(split, net):
    x, y = split
    y = np.asarray(y)
    if y.ndim == 1:
        return x, one_hot(y, net.layers[-1], net.dtype), y
    return x, y, None


def final_figures(net, split):
    """(loss, accuracy or None) of ``net`` on a whole ``(x, y)`` split."""
    return evaluate(net, *_targets(split, net))


def run_seeds(make_net, seeds, train_split, test_split, progress=False, desc=None, **config):
    """Train ``make_net(seed)`` once per seed; a list of run records.

    Each record holds the ``history`` and the final ``test_loss``,
    ``test_accuracy``, ``train_loss`` and ``train_accuracy`` measured on the
    whole splits after training (accuracies are None for the autoencoder).
    ``config`` goes to ``nnetlib.train`` (without its own progress bar).
    ``progress=True`` shows one bar over the runs (one per seed), labelled ``desc``, by
    nnetlib's rule (``nnetlib._progress``: off under CI or with
    ``NNETLIB_PROGRESS=0``); it changes nothing else.
    """
    from nnetlib._progress import progress_bar

    bar = progress_bar(progress, total=len(seeds), desc=desc or "seeds", unit="run", leave=False)
    runs = []
    try:
        for seed in seeds:
            net = make_net(seed)
            history = train(net, train_split, test_split, **{**config, "progress": False})
            train_loss, train_acc = final_figures(net, train_split)
            runs.append(
                {
                    "seed": seed,
                    "net": net,
                    "history": history,
                    "train_loss": train_loss,
                    "train_accuracy": train_acc,
                    "test_loss": history.test_loss[-1],
                    "test_accuracy": history.test_accuracy[-1] if history.test_accuracy else None,
                }
            )
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return runs


def summarize(runs, key):
    """The ``stat`` of ``key`` (e.g. ``"test_accuracy"``) over a list of run records."""
    return stat([r[key] for r in runs])


def curve_band(runs, attr):
    """(mean, mean - sd, mean + sd) per epoch of the history field ``attr`` over runs."""
    curves = np.array([getattr(r["history"], attr) for r in runs], dtype=float)
    mean = curves.mean(axis=0)
    sd = curves.std(axis=0, ddof=1) if curves.shape[0] > 1 else np.zeros_like(mean)
    return mean, mean - sd, mean + sd


def splice_biases(layers, weights_from, biases_from):
    """Flat parameters: the weights of ``weights_from``, the bias rows (last of each matrix) of ``biases_from``."""
    from nnetlib.nets.base import layer_shapes

    a, b = np.asarray(weights_from), np.asarray(biases_from)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"need two flat parameter vectors of one length, got {a.shape} and {b.shape}"
        )
    out, start = a.copy(), 0
    for rows, cols in layer_shapes(layers):
        bias = slice(start + (rows - 1) * cols, start + rows * cols)
        out[bias] = b[bias]
        start += rows * cols
    if start != out.size:
        raise ValueError(f"layers {list(layers)} need {start} parameters, got {out.size}")
    return out
