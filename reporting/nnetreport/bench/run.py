"""``run_benchmark``: every implementation on every net, and the ``bench``
command's entry point."""

import datetime
import math
import os
import platform
import sys

import numpy as np

from nnetlib._progress import progress_enabled

from . import plan as P
from .contend import competitors
from .memory import measure_memory
from .table import format_table, write_json
from .timing import Runner, summarize, time_rounds


class Progress:
    """A tqdm bar on stderr, or nothing."""

    def __init__(self, total, enabled):
        self.bar = None
        if enabled:
            from tqdm import tqdm  # text on stderr, also in notebooks

            self.bar = tqdm(total=total, desc="bench", unit="run", file=sys.stderr, leave=False)

    def show(self, text):
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def advance(self):
        if self.bar is not None:
            self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _loadavg():
    """The 1-minute load average, or None where the OS has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _columns(s):
    """(columns that run, their table, skipped columns with the reason, notes)."""
    wanted, n_threads = list(s.impls), s.threads
    table = P.impl_table(n_threads)
    notes = []
    if n_threads == 1:
        dropped = [i for i in wanted if i in ("cyN", "trN")]
        wanted = [i for i in wanted if i not in ("cyN", "trN")]
        for i in ("cyN", "trN", "np", "gpu"):
            table[i]["ref"] = "tr1"
        if dropped:
            notes.append("N = 1 thread: the ×N columns would repeat ×1 and are left out")
    skipped = {i: why for i in wanted if (why := P.unavailable(i))}
    columns = [i for i in wanted if i not in skipped]
    if "gpu" in columns and "tg" in columns:  # GpuNet beside PyTorch's loop on the same GPU
        table["gpu"]["ref"] = "tg"
    if not columns:
        raise ValueError(f"none of the implementations can run here: {skipped}")
    return columns, table, skipped, notes


def _new_result(s, columns, table, skipped, notes, data_note):
    import torch
    from threadpoolctl import threadpool_info

    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": P.cpu_model(),
        "cores": P.available_cores(),
        "threads": s.threads,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "blas": [
            {k: i.get(k) for k in ("internal_api", "version", "num_threads")}
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        ],
        "epoch_samples": P.EPOCH_SAMPLES,
        "batch_size": s.batch_size,
        "epoch_batches": math.ceil(P.EPOCH_SAMPLES / s.batch_size),
        "lr": P.LR,
        "momentum": P.MOMENTUM,
        "dtype": s.dtype,
        "order": "file order",
        "train_order": "shuffled (seed 0)" if s.shuffle else "file order",
        "batches": s.batches,
        "repeats": s.repeats,
        "quick": s.quick,
        "data": data_note,
        "memory_method": None,
        "notes": notes,
        "load_average_start": _loadavg(),
    }
    if any(i in P.CUDA_IMPLS for i in columns):
        meta["gpu"] = torch.cuda.get_device_name()
    return {
        "meta": meta,
        "columns": columns,
        "labels": {i: table[i]["label"] for i in columns},
        "threads": {i: table[i]["threads"] for i in columns},
        "refs": {i: table[i]["ref"] for i in columns},
        "skipped": skipped,
        "article_table": {k: dict(v) for k, v in P.ARTICLE_TABLE.items()},
        "nets": {},
    }


def _data_rows(s, columns):
    """MNIST rows the run needs: the timed batches plus the warm-up one (an
    epoch for the GPU columns)."""
    epoch_batches = math.ceil(P.EPOCH_SAMPLES / s.batch_size)
    rows = min(P.EPOCH_SAMPLES, (min(s.batches, epoch_batches - 1) + 1) * s.batch_size)
    if any(i in P.CUDA_IMPLS for i in columns):
        rows = P.EPOCH_SAMPLES
    return max(rows, s.py_samples or 1, s.batch_size)


def _net_plan(s, columns):
    """{name: (layers, implementations to run, skipped ones, PyNet samples)}."""
    out = {}
    for name, layers in s.nets.items():
        samples, py_skip = P.py_samples_for(layers, s.quick, s.py_samples)
        net_skip = {"py": py_skip} if py_skip and "py" in columns else {}
        out[name] = (layers, [i for i in columns if i not in net_skip], net_skip, samples)
    return out


def _runners(run, net_skip, layers, x, t, labels, s, table, samples):
    """A Runner per implementation that could be built (the others are moved
    to ``net_skip`` with the reason)."""
    from nnetlib.nets.base import init_params

    params = init_params(layers, seed=s.seed, dtype=s.dtype)
    runners = {}
    for impl in run:
        threads = table[impl]["threads"]
        try:
            net = P.make_net(impl, layers, params, s.dtype, threads)
            y = labels if t is not x else x  # what a user passes train: labels, or (x, x)
            runners[impl] = Runner(
                impl,
                net,
                x,
                t,
                s.batch_size,
                s.batches,
                samples,
                threads,
                y=y,
                settle=s.settle,
                shuffle=s.shuffle,
            )
        except Exception as exc:
            net_skip[impl] = f"could not be built: {type(exc).__name__}: {exc}"
    return runners


def _probe_memory(out, name, layers, s, table, samples, progress, result):
    for impl, entry in out.items():
        progress.show(f"{name} {table[impl]['label']} memory")
        if impl == "py" and entry["per_sample"] > P.PY_MEMORY_MAX_S:
            mem = {"error": f"not probed: one PyNet sample takes {entry['per_sample']:.0f} s"}
        else:
            mem = measure_memory(
                impl, layers, s.dtype, table[impl]["threads"], s.batch_size, py_samples=samples
            )
        entry["memory"] = mem
        if "method" in mem:
            result["meta"]["memory_method"] = mem["method"]
        progress.advance()


def run_benchmark(s):
    """Time every implementation with the settings ``s`` (a ``BenchSettings``); return a
    JSON-serialisable dict.

    Result: ``meta`` (machine, versions, settings, notes), ``columns`` (the
    implementations measured, in table order) with their ``labels``,
    ``threads`` and torch ``refs``, ``skipped`` (implementation -> reason),
    ``article_table`` (de Mayo (2021)'s figures, ``ARTICLE_TABLE``) and
    ``nets[name]`` with ``layers``, ``skipped`` and ``impls[impl]``: ``raw``
    (seconds of every measurement), ``median``, ``samples`` (timed per
    measurement), ``per_sample``, ``epoch_s``, ``extrapolated``, ``basis``,
    ``ratio`` (to torch at the same thread count; gpu to tg, PyTorch's loop
    in a CUDA graph, when both run), ``ref`` (that column), ``train_epoch_s``
    and ``train_over_kernel`` (``nnetlib.train`` on the same rows, every
    column but py and tg; ``settings.train``) and ``memory``
    (``meta["contend"]``: the busy processes run beside it).
    """
    if not isinstance(s, P.BenchSettings):
        raise TypeError(f"run_benchmark takes a BenchSettings, got {type(s).__name__}")
    cols = _columns(s)
    with competitors(s.contend) as pids:
        result = _run(s, cols)
    result["meta"]["contend"] = len(pids)
    return result


def _run(s, cols):
    """run_benchmark's work, from checked settings."""
    columns, table, skipped, notes = cols
    x, labels, data_note = P.load_data(_data_rows(s, columns), s.dtype, s.data, s.seed)
    result = _new_result(s, columns, table, skipped, notes, data_note)
    plan = _net_plan(s, columns)
    total = sum(len(run) * (s.repeats + bool(s.memory)) for _, run, _, _ in plan.values())
    bar = Progress(total, progress_enabled(s.progress))
    try:
        for name, (layers, run, net_skip, samples) in plan.items():
            t = P.targets(layers, x, labels, s.dtype)
            runners = _runners(run, net_skip, layers, x, t, labels, s, table, samples)
            names = {i: f"{name} {table[i]['label']}" for i in runners}
            raw, raw_train = time_rounds(runners, s.repeats, bar, names, train=s.train)
            out = summarize(runners, raw, table, raw_train)
            if s.memory:
                _probe_memory(out, name, layers, s, table, samples, bar, result)
            result["nets"][name] = {
                "layers": list(layers),
                "impls": out,
                "skipped": net_skip,
                "py_samples": samples if "py" in runners else None,
            }
    finally:
        bar.close()
    result["meta"]["load_average_end"] = _loadavg()
    return result


def _cli_nets(names, layers):
    """``nets`` of the command line: the named nets (both by default, none
    when only --layers is given), then one per --layers, named by its widths."""
    if names is None:
        names = "" if layers else "classifier,autoencoder"
    names = names.replace(",", " ").split()
    for name in names:
        if name not in P.NETS:
            raise ValueError(
                f"unknown net {name!r} in --nets; choose from {', '.join(P.NETS)}, "
                f"or give the widths with --layers, such as --layers 784,32,10"
            )
    return names + [("-".join(map(str, w)), w) for w in layers or []]


def settings_from_args(args):
    """The ``BenchSettings`` of the ``bench`` command's parsed arguments."""
    return P.BenchSettings(
        quick=args.quick,
        repeats=args.repeats,
        threads=args.threads,
        batches=args.batches,
        py_samples=args.py_samples,
        batch_size=args.batch_size,
        dtype=args.dtype,
        data=args.data,
        nets=_cli_nets(args.nets, args.layers),
        impls=args.impls,
        memory=not args.no_memory,
        train=not args.no_train,
        shuffle=args.shuffle,
        progress=not args.no_progress,
        contend=args.contend,
    )


def main(args):
    """Run the ``bench`` subcommand from parsed arguments; return the exit code."""
    result = run_benchmark(settings_from_args(args))
    print(format_table(result))
    if args.json:
        write_json(result, args.json)
        print(f"\nraw times written to {args.json}")
    return 0
