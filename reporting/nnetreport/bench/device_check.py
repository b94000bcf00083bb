"""A prepared check for a few minutes on a GPU machine, in one run:
``python -m nnetreport.bench.device_check --out DIR``.

It writes, under a total time budget (``--budget``, 330 s by default):

* ``DIR/checks.json``: on CUDA, PyTorch's loop captured in a CUDA graph
  (``torch_graph.TorchEpoch``) against the same loop run eagerly, two epochs
  from the same weights (the largest difference of losses and weights);
* ``DIR/bench_gpu.json`` (and ``bench_gpu.txt``, its table): the benchmark,
  ``python -m nnetreport bench`` with the columns cy1, cyN, tr1, trN, gpu and
  tg on both nets, ``--threads`` = ``os.cpu_count()``, ``--repeats 3``,
  ``--no-memory``, ``--no-progress``, in a subprocess (a timeout; a failure
  leaves the rest to run);
* ``DIR/train_threads.json``: seconds of ``nnetlib.train(CyNet(layers,
  num_threads=k), (x, y), epochs=1)`` (60 batches of 1000, lr 10, momentum
  0.5, BLAS and torch limited to k threads too) for k in 1, 2, 4, 8, 16,
  capped at the cores, on both nets, the median of 3 after an untimed
  one-batch warm-up;
* ``DIR/README.md``: the machine (CPU model, cores, GPU), date, git commit,
  versions, the exact commands, and every result in short.

Without CUDA the gpu and tg columns are skipped with the reason and the rest
runs.  ``--quick`` (2 batches, 1 repeat, threads 1 and 2) checks the script
itself in seconds on any machine.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

from . import plan as P

#: the benchmark's columns here: the CPU kernels, torch on the CPU, and the two GPU epochs
BENCH_IMPLS = "cy1,cyN,tr1,trN,gpu,tg"
THREADS = (1, 2, 4, 8, 16)
QUICK_THREADS = (1, 2)
REPEATS, QUICK_REPEATS = 3, 1
QUICK_BATCHES = 2
#: seconds kept for the thread sweep and README when the benchmark's timeout is set
SWEEP_RESERVE_S = 60
#: the benchmark's own timeout never goes below this
MIN_BENCH_S = 30

_REPORTING = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_ROOT = os.path.dirname(_REPORTING)


def _machine():
    """CPU model, cores, GPU name (or why none), versions, date and git commit."""
    import torch

    out = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": P.cpu_model(),
        "cpu_count": os.cpu_count(),
        "cores_available": P.available_cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "git_commit": _git("rev-parse", "HEAD"),
    }
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    out["git_uncommitted_changes"] = None if dirty is None else bool(dirty)
    return out


def _git(*args):
    """The output of a read-only git command in the repository, or None."""
    try:
        proc = subprocess.run(["git", *args], cwd=_ROOT, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def graph_check(quick):
    """On CUDA: two epochs of the captured loop against the eager one from the same
    weights (classifier; 10 batches of 1000, quick: 2); their largest differences."""
    import torch

    from nnetlib import TorchNet
    from nnetlib.nets.base import init_params

    from .torch_graph import TorchEpoch

    if not torch.cuda.is_available():
        return {"skipped": "CUDA not available"}
    layers = P.NETS["classifier"]
    rows = (QUICK_BATCHES if quick else 10) * P.BATCH_SIZE + P.BATCH_SIZE // 2  # a partial one
    rng = np.random.default_rng(0)
    x = rng.random((rows, 784), dtype=np.float32)
    t = P.targets(layers, x, rng.integers(0, 10, rows), "float32")
    params = init_params(layers, seed=0, dtype="float32")
    xd, td = torch.from_numpy(x).cuda(), torch.from_numpy(t).cuda()
    nets = [TorchNet(layers, params=params, device="cuda") for _ in range(2)]
    start = time.perf_counter()
    eager, graph = (
        TorchEpoch(n.model, xd, td, P.BATCH_SIZE, P.LR, P.MOMENTUM, graph=g)
        for n, g in zip(nets, (False, True))
    )
    graph.prepare()
    out = {"layers": list(layers), "rows": rows, "batch_size": P.BATCH_SIZE, "epochs": []}
    for _ in range(2):
        lo_e, lo_g = eager.run().cpu().numpy(), graph.run().cpu().numpy()
        dw = max(float(np.abs(a - b).max()) for a, b in zip(*(n.weights for n in nets)))
        out["epochs"].append(
            {"max_loss_diff": float(np.abs(lo_e - lo_g).max()), "max_weight_diff": dw}
        )
    out["seconds"] = time.perf_counter() - start
    return out


def bench_command(out_dir, quick, data, impls=BENCH_IMPLS):
    """The ``python -m nnetreport bench`` command line of the benchmark stage."""
    cmd = [sys.executable, "-m", "nnetreport", "bench", "--impls", impls]
    cmd += ["--nets", "classifier,autoencoder", "--threads", str(os.cpu_count() or 1)]
    cmd += ["--repeats", str(QUICK_REPEATS if quick else REPEATS)]
    if quick:
        cmd += ["--quick", "--batches", str(QUICK_BATCHES)]
    cmd += ["--no-memory", "--no-progress", "--data", data]
    return cmd + ["--json", os.path.join(out_dir, "bench_gpu.json")]


def run_bench(out_dir, quick, data, timeout, impls=BENCH_IMPLS):
    """Run the benchmark in a subprocess; its table goes to ``bench_gpu.txt``."""
    cmd = bench_command(out_dir, quick, data, impls)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_REPORTING, env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=_ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, stdout, stderr = "timeout", exc.stdout or "", f"timed out after {timeout:.0f} s"
        stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
    with open(os.path.join(out_dir, "bench_gpu.txt"), "w") as f:
        f.write(stdout + ("\n--- stderr ---\n" + stderr if stderr.strip() else ""))
    return {
        "command": shlex.join(cmd),
        "returncode": rc,
        "seconds": time.perf_counter() - start,
        "table": stdout.strip(),
        "stderr_tail": stderr.strip().splitlines()[-5:],
    }


def thread_counts(quick, cores):
    """k of the sweep: 1, 2, 4, 8, 16 (quick: 1, 2), each capped at ``cores``, once each."""
    out = []
    for k in QUICK_THREADS if quick else THREADS:
        k = min(k, cores)
        if k not in out:
            out.append(k)
    return out


def train_threads(quick, data, deadline):
    """Seconds per epoch of ``nnetlib.train`` on a CyNet at each thread count, both nets;
    a thread count that would pass ``deadline`` (perf_counter seconds) is skipped."""
    from nnetlib import train
    from nnetlib.nets import cynet
    from nnetlib.nets.base import init_params

    from .timing import thread_limit

    batches = QUICK_BATCHES if quick else P.EPOCH_SAMPLES // P.BATCH_SIZE
    repeats = QUICK_REPEATS if quick else REPEATS
    ks = thread_counts(quick, os.cpu_count() or 1)
    out = {"threads": ks, "repeats": repeats, "batches": batches, "batch_size": P.BATCH_SIZE,
           "lr": P.LR, "momentum": P.MOMENTUM, "nets": {}}  # fmt: skip
    if not cynet.available():
        out["skipped"] = "CyNet's compiled kernel is not built"
        return out
    x, labels, out["data"] = P.load_data(batches * P.BATCH_SIZE, "float32", data)
    out["method"] = (
        "nnetlib.train(CyNet(layers, num_threads=k), (x, y), epochs=1, batch_size=1000, "
        "lr=10, momentum=0.5, progress=False) under torch.set_num_threads(k) and a "
        "threadpoolctl BLAS limit of k; y: labels (classifier) or x (autoencoder); median of "
        f"{repeats} after an untimed one-batch warm-up"
    )
    for name, layers in P.NETS.items():
        y = labels if layers[-1] == 10 else x
        params = init_params(layers, seed=0, dtype="float32")
        rows, last = {}, None
        for k in ks:
            if last is not None and time.perf_counter() + last * (repeats + 1) > deadline:
                rows[str(k)] = {"skipped": "time budget"}
                continue
            net = cynet.CyNet(layers, params=params, num_threads=k)
            kw = {"epochs": 1, "batch_size": P.BATCH_SIZE, "lr": P.LR,
                  "momentum": P.MOMENTUM, "progress": False}  # fmt: skip
            raw = []
            with thread_limit(k):
                train(net, (x[: P.BATCH_SIZE], y[: P.BATCH_SIZE]), **kw)  # warm-up
                for _ in range(repeats):
                    start = time.perf_counter()
                    train(net, (x, y), **kw)
                    raw.append(time.perf_counter() - start)
            rows[str(k)] = {"raw": raw, "median": statistics.median(raw)}
            last = max(raw)
        base = (rows.get(str(ks[0])) or {}).get("median")
        for row in rows.values():
            if base and "median" in row:
                row["speedup"] = base / row["median"]
        out["nets"][name] = {"layers": list(layers), "by_threads": rows}
    return out


def _stage(results, name, fn, *args):
    """Run one stage; its result, or the error it raised, goes to ``results[name]``."""
    start = time.perf_counter()
    try:
        results[name] = fn(*args)
    except Exception as exc:  # one stage failing leaves the others to run
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    print(f"device_check: {name} done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return results[name]


def _write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, default=float)
        f.write("\n")


def _sweep_lines(sweep):
    if "error" in sweep or "skipped" in sweep:
        return [f"- {sweep.get('error') or sweep.get('skipped')}"]
    lines = [f"{sweep['method']}; data: {sweep.get('data')}", ""]
    what = "s/epoch" if sweep["batches"] * sweep["batch_size"] >= P.EPOCH_SAMPLES else (
        f"s per {sweep['batches']} batches")  # fmt: skip
    lines += [f"| net | threads | {what} (median) | speedup vs 1st |", "|---|---|---|---|"]
    for name, net in sweep["nets"].items():
        for k, row in net["by_threads"].items():
            if "median" in row:
                lines.append(f"| {name} | {k} | {row['median']:.4f} | {row['speedup']:.2f} |")
            else:
                lines.append(f"| {name} | {k} | {row['skipped']} | |")
    return lines


def readme(machine, command, results, total_s):
    """DIR/README.md: what ran where, and the results in short."""
    m, bench, check = machine, results.get("bench", {}), results.get("graph_check", {})
    commit = m["git_commit"] or "unavailable (no git repository here)"
    if m.get("git_uncommitted_changes"):
        commit += " (plus uncommitted changes)"
    lines = [
        "# nnetlib device check",
        "",
        f"- date: {m['date']}",
        f"- machine: {m['cpu']}, {m['cpu_count']} cores ({m['cores_available']} available); "
        f"GPU: {m['gpu'] or 'none (CUDA not available)'}; {m['platform']}",
        f"- git commit: {commit}",
        f"- python {m['python']}, numpy {m['numpy']}, torch {m['torch']} (CUDA {m['cuda']})",
        f"- command: `{command}` ({total_s:.0f} s in all)",
        f"- benchmark command: `{bench.get('command', '-')}` (exit {bench.get('returncode')}, "
        f"{bench.get('seconds', 0):.0f} s)",
        *(
            [f"- FIRST benchmark run, with tg, failed: {results['bench_failed_with_tg']}"]
            if "bench_failed_with_tg" in results
            else []
        ),
        "",
        "Files: checks.json (captured torch loop against the eager one), bench_gpu.json and "
        "bench_gpu.txt (the benchmark), train_threads.json (CyNet thread sweep).",
        "",
        "## Captured torch loop against the eager one",
        "",
        "```",
        json.dumps(check, indent=1, default=float),
        "```",
        "",
        "## Benchmark",
        "",
        "```",
        bench.get("table") or "(no table: " + "; ".join(bench.get("stderr_tail", [])) + ")",
        "```",
        "",
        "## nnetlib.train on CyNet by thread count",
        "",
        *_sweep_lines(results.get("train_threads", {})),
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    """Run every stage into ``--out``; returns 0 (a failed stage is recorded, not raised)."""
    from ..__main__ import add_data_option

    parser = argparse.ArgumentParser(
        prog="python -m nnetreport.bench.device_check", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", required=True, help="folder for the results (made if missing)")
    parser.add_argument(
        "--quick", action="store_true", help="2 batches, 1 repeat, threads 1 and 2: seconds"
    )
    add_data_option(parser)
    parser.add_argument(
        "--budget", type=float, default=330.0, help="seconds for the whole run (default 330)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    deadline = start + args.budget
    os.makedirs(args.out, exist_ok=True)
    command = shlex.join([sys.executable, "-m", "nnetreport.bench.device_check", *(
        sys.argv[1:] if argv is None else argv)])  # fmt: skip
    machine, results = _machine(), {}
    _write_json(os.path.join(args.out, "checks.json"),
                _stage(results, "graph_check", graph_check, args.quick))  # fmt: skip
    bench_timeout = max(MIN_BENCH_S, deadline - time.perf_counter() - SWEEP_RESERVE_S)
    bench = _stage(results, "bench", run_bench, args.out, args.quick, args.data, bench_timeout)
    left = deadline - time.perf_counter() - SWEEP_RESERVE_S
    if bench.get("returncode") not in (0, "timeout") and left > 2 * MIN_BENCH_S:
        # a crash (a CUDA error in the new column, say): once more without tg
        results["bench_failed_with_tg"] = results.pop("bench")
        impls = BENCH_IMPLS.replace(",tg", "")
        _stage(results, "bench", run_bench, args.out, args.quick, args.data, left, impls)
    sweep = _stage(results, "train_threads", train_threads, args.quick, args.data, deadline)
    _write_json(os.path.join(args.out, "train_threads.json"), dict(sweep, machine=machine))
    total = time.perf_counter() - start
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(readme(machine, command, results, total))
    print(f"device_check: wrote {args.out} in {total:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
