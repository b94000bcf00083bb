"""Seconds per batch with their spread, for the timing table (06-timing-table).

``nnetlib.bench`` times whole rounds; ``batch_stat`` turns one of its
entries into seconds per batch over rounds (median, mean, sd), and
``time_steps`` times any network's ``step`` the same way (the GpuNet row of
notebook 06, run on the CPU).  Nothing here asserts a speed: timing targets
live in ``make bench``.
"""

import statistics
import time

import numpy as np

from .experiments import stat


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
