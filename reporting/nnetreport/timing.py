"""Timings with their spread, for the notebooks (never a single best value).

``repeat_seconds`` times a call several times and ``describe`` prints the
median and the range (03).  For the timing table (06), ``nnetreport.bench``
times whole rounds; ``batch_stat`` turns one of its entries into seconds per
batch over rounds (median, mean, sd), and ``time_steps`` times any network's
``step`` the same way (the GpuNet row, run on the CPU).  ``batch_and_epoch``
gives such stats in both units, seconds per batch of 1000 and per epoch of
60 batches, and ``h200_columns`` does the same for the quoted H200 run
(``nnetreport.quoted.h200``).  Nothing here asserts a speed: timing
targets live in ``make bench``.
"""

import statistics
import time

import numpy as np

from nnetlib._checks import check_positive_int

from .experiments import stat


def repeat_seconds(fn, repeat):
    """Wall seconds of each of ``repeat`` calls of ``fn()``, as a float array."""
    out = np.empty(check_positive_int(repeat, "repeat"))
    for n in range(out.size):
        t0 = time.perf_counter()
        fn()
        out[n] = time.perf_counter() - t0
    return out


def summary(seconds, per=1):
    """``{"median", "min", "max", "n"}`` of ``seconds / per`` (per: samples in one call)."""
    s = np.asarray(seconds, dtype=float).ravel() / per
    if s.size == 0:
        raise ValueError("seconds is empty: time at least one call")
    return {
        "median": float(np.median(s)),
        "min": float(s.min()),
        "max": float(s.max()),
        "n": int(s.size),
    }


def describe(seconds, per=1, scale=1.0, unit="s", fmt="{:.3g}"):
    """'median (min–max, n runs) unit' of ``seconds / per * scale``."""
    d = summary(seconds, per)
    m, lo, hi = (fmt.format(d[k] * scale) for k in ("median", "min", "max"))
    if d["n"] == 1:
        return f"{m} {unit} (1 run)"
    return f"{m} {unit} ({lo}–{hi}, {d['n']} runs)"


def timing_stat(seconds):
    """``experiments.stat`` of a list of timings, plus their ``median``."""
    out = stat(seconds)
    out["median"] = float(statistics.median(out["values"]))
    return out


def batch_stat(entry):
    """Seconds per batch of 1000 over the rounds of one ``bench.run_benchmark`` entry.

    The entry's ``raw`` list holds one measurement per round, each of
    ``samples`` samples; a batch is 1000 samples (PyNet's figure is
    extrapolated from its single sample, like the bench's).
    """
    if not entry.get("raw"):
        raise ValueError(
            "entry has no raw timings: pass an entry of run_benchmark(...)['nets'][net]['impls']"
        )
    per_sample = np.asarray(entry["raw"], dtype=float) / entry["samples"]
    return timing_stat(per_sample * 1000)


def time_steps(net, x, t, *, batches=6, repeats=5, batch_size=1000, lr=10.0, momentum=0.5):
    """Seconds per SGD step of ``net`` on consecutive batches of ``(x, t)``, one value per round.

    Each round runs one untimed warm-up step, then ``batches`` timed steps.
    ``x`` must hold at least ``batches + 1`` batches.
    """
    if x.shape[0] < (batches + 1) * batch_size:
        raise ValueError(
            f"x holds {x.shape[0]} samples; {batches} timed batches of {batch_size} "
            f"plus a warm-up need {(batches + 1) * batch_size}"
        )
    per_round = []
    for _ in range(repeats):
        net.step(x[:batch_size], t[:batch_size], lr=lr, momentum=momentum)
        start = time.perf_counter()
        for i in range(1, batches + 1):
            sl = slice(i * batch_size, (i + 1) * batch_size)
            net.step(x[sl], t[sl], lr=lr, momentum=momentum)
        per_round.append((time.perf_counter() - start) / batches)
    return timing_stat(per_round)


def spread_of(values, scale=1.0):
    """``{"median", "min", "max"}`` of ``values`` times ``scale``, as floats."""
    v = np.asarray(values, dtype=float).ravel() * scale
    if v.size == 0:
        raise ValueError("values is empty: time at least one round")
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def batch_and_epoch(stats, batches_per_epoch=60):
    """``{"batch_s": {key: spread}, "epoch_s": {key: spread}}`` of timing stats in s per batch.

    ``stats`` maps a column key to a ``timing_stat`` (or ``time_steps``)
    result of seconds per batch; each spread is ``spread_of`` its values,
    per batch and times ``batches_per_epoch`` (an epoch of consecutive
    batches costs that many batches).
    """
    check_positive_int(batches_per_epoch, "batches_per_epoch")
    return {
        "batch_s": {k: spread_of(s["values"]) for k, s in stats.items()},
        "epoch_s": {k: spread_of(s["values"], batches_per_epoch) for k, s in stats.items()},
    }


def format_spread(s, fmt="{:.3g}"):
    """'median (min–max)' of a ``spread_of`` dict."""
    m, lo, hi = (fmt.format(s[k]) for k in ("median", "min", "max"))
    return f"{m} ({lo}–{hi})"


#: the GPU variants of the quoted H200 run (``quoted.h200()["gpu"]``), in table order
H200_GPU = {
    "gpunet_graph": "GpuNet, one CUDA graph per epoch",
    "gpunet_loop": "GpuNet, no graph (a step per batch)",
    "torch_eager": "torch autograd + optim.SGD, eager",
    "torch_graph": "torch's same loop in one CUDA graph",
}


def h200_columns(h200, net, batches_per_epoch=60):
    """The quoted H200 run's figures for ``net``, per batch and per epoch.

    ``h200`` is ``nnetreport.quoted.h200()``.  Returns ``{key: {"label",
    "threads", "batch_s": spread, "epoch_s": spread}}``: the four GPU variants
    of ``H200_GPU`` (its ``gpu`` part: ms per epoch as [median, min, max] of
    7 epochs), then the CPU columns of its benchmark (``bench``: seconds per
    epoch of 60 timed batches, one value per round), keyed ``cy1``,
    ``cy16``, ``tr1``, ``tr16`` and the like by their thread counts.
    """
    out = {}
    for key, label in H200_GPU.items():
        med, lo, hi = (v / 1000 for v in h200["gpu"][f"epoch_{net}"][key])
        epoch = {"median": med, "min": lo, "max": hi}
        out[key] = {
            "label": label,
            "threads": None,
            "batch_s": {k: v / batches_per_epoch for k, v in epoch.items()},
            "epoch_s": epoch,
        }
    bench = h200["bench"]
    for impl in ("cy1", "cyN", "tr1", "trN", "np"):
        e = bench["nets"][net]["impls"].get(impl)
        if e is None:
            continue
        threads = bench["threads"][impl]
        per_epoch = [r / e["samples"] * 60_000 for r in e["raw"]]
        out[f"{impl[:2]}{threads}"] = {
            "label": f"{impl[:2]}×{threads} (CPU)",
            "threads": threads,
            "batch_s": spread_of(per_epoch, 1 / batches_per_epoch),
            "epoch_s": spread_of(per_epoch),
        }
    return out
