"""Peak resident memory added by training, probed in a fresh subprocess
(see the package docstring, "Memory")."""

import gc
import json
import os
import resource
import subprocess
import sys

import numpy as np

from .plan import CUDA_IMPLS, LR, MOMENTUM, make_net

#: training steps run by each memory probe after its first step
MEMORY_BATCHES = 3
MEMORY_TIMEOUT_S = 600
_TAG = "NNETLIB-PROBE "


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    """Reset the kernel's RSS high-water mark; the RSS (KiB) before, or None
    where the reset is refused (or there is no /proc)."""
    gc.collect()
    try:
        before = _status_kib("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except (OSError, KeyError, ValueError):
        return None
    return before


def _peak_since(before):
    return max(0, _status_kib("VmHWM") - before) * 1024


def _trainer(spec):
    """A function ``train(steps)`` running the probe's network on random data
    of the right shape (values do not change memory), and the CUDA baseline."""
    import torch
    from threadpoolctl import threadpool_limits

    from nnetlib.nets.base import init_params

    layers, impl, dtype = tuple(spec["layers"]), spec["impl"], spec["dtype"]
    threads, bs = spec["threads"], spec["batch_size"]
    rng = np.random.default_rng(0)
    rows = spec["py_samples"] if impl == "py" else bs * max(1, spec["batches"])
    x = rng.random((rows, layers[0]), dtype=np.float32).astype(dtype, copy=False)
    t = rng.random((rows, layers[-1]), dtype=np.float32).astype(dtype, copy=False)
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads, user_api="blas")  # for the rest of the process
    net = make_net(impl, layers, init_params(layers, seed=0, dtype=dtype), dtype, threads)
    dev0 = epoch = None
    if impl in CUDA_IMPLS:
        xd, td = torch.from_numpy(x).cuda(), torch.from_numpy(t).cuda()
        if impl == "tg":  # PyTorch's own loop, one CUDA graph per epoch
            from .torch_graph import TorchEpoch

            epoch = TorchEpoch(net.model, xd, td, bs, LR, MOMENTUM)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        dev0 = torch.cuda.memory_allocated()

    def train(steps):
        if impl == "py":
            net.step(x, t, LR, MOMENTUM)
        elif impl in CUDA_IMPLS:  # the first call captures the graph
            if epoch is not None:
                epoch.run(xd, td)
            else:
                net.train_epoch(xd, td, bs, LR, MOMENTUM)
            torch.cuda.synchronize()
        else:
            for i in range(steps):
                net.step(x[i * bs : (i + 1) * bs], t[i * bs : (i + 1) * bs], LR, MOMENTUM)

    return train, dev0


def _probe(spec):
    """Run in a fresh process: peak RSS added by a few training steps."""
    impl, bs, batches = spec["impl"], spec["batch_size"], spec["batches"]
    train, dev0 = _trainer(spec)
    out = {
        "ran": (
            f"{spec['py_samples']} sample(s), one step"
            if impl == "py"
            else f"train_epoch over {batches} batches of {bs}"
            if impl == "gpu"
            else f"PyTorch's loop in a CUDA graph over {batches} batches of {bs}"
            if impl == "tg"
            else f"{batches} batches of {bs}"
        )
    }
    rss0 = _reset_peak()
    if rss0 is not None:
        train(1)  # first step: one-time set-up included
        out["first_step_bytes"] = _peak_since(rss0)
        rss1 = _reset_peak()
        train(batches)
        out.update(
            rss_added_bytes=_peak_since(rss1),
            rss_before_bytes=rss1 * 1024,
            lower_bound=False,
            method="VmHWM - VmRSS around the training steps, the high-water mark reset first "
            "(/proc/self/clear_refs); after one untimed first step",
        )
    else:
        maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        train(1 + batches)
        unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS
        out.update(
            rss_added_bytes=max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss0)
            * unit,
            lower_bound=True,
            method="increase of ru_maxrss over the first step and the training steps (a lower "
            "bound: the reset of VmHWM was refused)",
        )
    if dev0 is not None:
        import torch

        out["device_added_bytes"] = int(torch.cuda.max_memory_allocated() - dev0)
    return out


def _probe_main(arg):
    """Entry point of the probe subprocess: prints its result as JSON."""
    print(_TAG + json.dumps(_probe(json.loads(arg))))


def measure_memory(
    impl,
    layers,
    dtype,
    threads,
    batch_size,
    batches=MEMORY_BATCHES,
    py_samples=1,
    timeout=MEMORY_TIMEOUT_S,
):
    """Peak RSS added by training ``impl`` on ``layers``, in a subprocess
    (see the package docstring).  Returns a dict; ``{"error": ...}`` on failure."""
    spec = {
        "impl": impl,
        "layers": list(layers),
        "dtype": dtype,
        "threads": threads,
        "batch_size": batch_size,
        "batches": batches,
        "py_samples": py_samples,
    }
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    code = "import sys; from nnetreport.bench.memory import _probe_main; _probe_main(sys.argv[1])"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, json.dumps(spec)],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"probe took over {timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith(_TAG):
            return json.loads(line[len(_TAG) :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"error": f"probe exited {proc.returncode}: {tail[0]}"}
