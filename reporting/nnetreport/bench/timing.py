"""Timing one implementation on one net (see the package docstring, "Method")."""

import contextlib
import math
import statistics
import time

import numpy as np

from .plan import CUDA_IMPLS, EPOCH_SAMPLES, LR, MOMENTUM, PY_BUDGET_S

#: idle seconds between the warm-up and the timed batches.  OpenBLAS and
#: OpenMP workers spin for up to ~0.1 s after their last job; without a pause
#: the previous implementation's spinning threads steal a core from the next
#: one and every xN column is measured on one core (seen here: cy x2 slower
#: than cy x1 with no pause, 1.8x faster with 0.3 s).
SETTLE_S = 0.3


@contextlib.contextmanager
def thread_limit(n):
    """torch intra-op threads and BLAS threads limited to ``n`` inside."""
    import torch
    from threadpoolctl import threadpool_limits

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(old)


class Runner:
    """Times one implementation on one net."""

    def __init__(
        self,
        impl,
        net,
        x,
        t,
        batch_size,
        batches,
        py_samples,
        threads,
        y=None,
        settle=SETTLE_S,
        shuffle=False,
    ):
        self.impl, self.net, self.x, self.t = impl, net, x, t
        self.settle = settle  # seconds of pause before a timed run
        self.shuffle = shuffle  # measure_train shuffles its batches (seed 0)
        self.y = t if y is None else y  # what a user hands ``train``: labels, or the targets
        self.batch_size, self.batches, self.py_samples, self.threads = (
            batch_size,
            batches,
            py_samples,
            threads,
        )
        self.n_batches = x.shape[0] // batch_size
        if impl in CUDA_IMPLS:
            import torch

            n = min(EPOCH_SAMPLES, x.shape[0])
            self.xd = torch.from_numpy(np.ascontiguousarray(x[:n])).cuda()
            self.td = torch.from_numpy(np.ascontiguousarray(t[:n])).cuda()
        if impl == "tg":  # PyTorch's own loop on the TorchNet's model, one CUDA graph per epoch
            from .torch_graph import TorchEpoch

            self.epoch = TorchEpoch(net.model, self.xd, self.td, batch_size, LR, MOMENTUM)
            self.epoch.prepare()  # captured here: a failure skips the column, with the reason

    @property
    def unit(self):
        """(samples timed per measurement, description)."""
        if self.impl == "py":
            return self.py_samples, f"{self.py_samples} sample{'s' * (self.py_samples > 1)}"
        if self.impl in CUDA_IMPLS:
            n = self.xd.shape[0]
            how = "train_epoch" if self.impl == "gpu" else "torch graph"
            return n, f"{math.ceil(n / self.batch_size)} batches ({how})"
        return self.batches * self.batch_size, f"{self.batches} batch{'es' * (self.batches > 1)}"

    def _steps(self, indices):
        """Steps on batches ``indices`` (modulo the batch count), as ``train`` takes
        them: one ``net.steps`` call per run of consecutive batches where the net
        has it (CyNet), else ``net.step`` per batch."""
        bs = self.batch_size
        indices = [i % self.n_batches for i in indices]
        if not hasattr(self.net, "steps"):
            for i in indices:
                self.net.step(
                    self.x[i * bs : (i + 1) * bs], self.t[i * bs : (i + 1) * bs], LR, MOMENTUM
                )
            return
        start = 0
        for end in range(1, len(indices) + 1):
            if end == len(indices) or indices[end] != indices[end - 1] + 1:
                a, b = indices[start], indices[end - 1] + 1
                xs = self.x[a * bs : b * bs].reshape(b - a, bs, -1)
                ts = self.t[a * bs : b * bs].reshape(b - a, bs, -1)
                self.net.steps(xs, ts, LR, MOMENTUM)
                start = end

    def _one_epoch(self):
        """One epoch on the device data: GpuNet's ``train_epoch``, or PyTorch's
        captured loop (``TorchEpoch.run``); each copies the data into its graph's
        static buffers, then replays the graph."""
        if self.impl == "tg":
            self.epoch.run(self.xd, self.td)
        else:
            self.net.train_epoch(self.xd, self.td, self.batch_size, LR, MOMENTUM)

    def _gpu_epoch(self):
        """Seconds of one epoch on CUDA, after an untimed one (gpu: it captures the graph)."""
        import torch

        self._one_epoch()  # warm-up
        torch.cuda.synchronize()
        start = time.perf_counter()
        self._one_epoch()
        torch.cuda.synchronize()
        return time.perf_counter() - start

    def measure(self):
        """Seconds for one measurement (warm-up excluded)."""
        with thread_limit(self.threads):
            if self.impl == "py":
                s = self.py_samples
                start = time.perf_counter()
                self.net.step(self.x[:s], self.t[:s], LR, MOMENTUM)
                return time.perf_counter() - start
            if self.impl in CUDA_IMPLS:
                return self._gpu_epoch()
            self._steps([0])  # warm-up
            time.sleep(self.settle)  # let other pools' spinning workers sleep
            start = time.perf_counter()
            self._steps(range(1, self.batches + 1))
            return time.perf_counter() - start

    @property
    def times_train(self):
        """Whether ``measure_train`` applies: every column but PyNet (minutes per sample)
        and "tg" (PyTorch's own loop, which ``nnetlib.train`` does not run)."""
        return self.impl not in ("py", "tg")

    def measure_train(self):
        """Seconds of ``nnetlib.train`` for one epoch over the rows ``measure`` times
        (the user's path: checks, batching, the kernel), after a settle; with
        ``shuffle``, in a shuffled order (``train(..., shuffle=True, seed=0)``)."""
        from nnetlib import train

        n, _ = self.unit
        x, y = self.x[:n], self.y[:n]
        with thread_limit(self.threads):
            time.sleep(self.settle)
            start = time.perf_counter()
            train(self.net, (x, y), epochs=1, batch_size=self.batch_size, lr=LR,
                  momentum=MOMENTUM, progress=False, shuffle=self.shuffle,
                  seed=0 if self.shuffle else None)  # fmt: skip
            if self.impl == "gpu":
                import torch

                torch.cuda.synchronize()
            return time.perf_counter() - start


def time_rounds(runners, repeats, progress, names, train=False):
    """``(raw, raw_train)``: seconds of every runner over ``repeats`` interleaved
    rounds (A B C ... A B C ...), and with ``train`` those of ``nnetlib.train``
    on the same rows, measured right after each runner's own.  PyNet is
    repeated after its first round only while its total stays under
    PY_BUDGET_S.  ``progress`` is a ``run.Progress``; ``names[impl]`` what it shows."""
    raw = {impl: [] for impl in runners}
    raw_train = {impl: [] for impl, r in runners.items() if train and r.times_train}
    for r in range(repeats):
        for impl, runner in runners.items():
            if not (impl == "py" and r > 0 and sum(raw[impl]) >= PY_BUDGET_S):
                progress.show(f"{names[impl]} round {r + 1}/{repeats}")
                raw[impl].append(runner.measure())
            if impl in raw_train:
                progress.show(f"{names[impl]} train round {r + 1}/{repeats}")
                raw_train[impl].append(runner.measure_train())
            progress.advance()
    return raw, raw_train


def summarize(runners, raw, table, raw_train=None):
    """Per implementation: raw times, median, per-sample and per-epoch
    seconds, the ratio to the column ``table[impl]["ref"]`` (torch at the same
    thread count; for gpu, tg when it runs), and, where
    ``raw_train`` has it, what ``nnetlib.train`` spends per epoch on the
    same rows (``train_epoch_s``) and its ratio to the kernel's figure
    (``train_over_kernel``)."""
    out = {}
    for impl, runner in runners.items():
        n_samples, basis = runner.unit
        med = statistics.median(raw[impl])
        per_sample = med / n_samples
        out[impl] = {
            "raw": raw[impl],
            "median": med,
            "samples": n_samples,
            "per_sample": per_sample,
            "epoch_s": per_sample * EPOCH_SAMPLES,
            "extrapolated": n_samples < EPOCH_SAMPLES,
            "basis": basis,
            "rounds": len(raw[impl]),
            "threads": table[impl]["threads"],
        }
        if (raw_train or {}).get(impl):
            train_epoch = statistics.median(raw_train[impl]) / n_samples * EPOCH_SAMPLES
            out[impl].update(
                raw_train=raw_train[impl],
                train_epoch_s=train_epoch,
                train_over_kernel=train_epoch / out[impl]["epoch_s"],
            )
    for impl, entry in out.items():
        ref = out.get(table[impl]["ref"])
        entry["ratio"] = entry["epoch_s"] / ref["epoch_s"] if ref else None
        entry["ref"] = table[impl]["ref"] if ref else None
    return out
