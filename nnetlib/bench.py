"""``python -m nnetlib bench``: seconds per epoch of every implementation (06-timing).

The seed's timing table, measured again: one epoch of SGD is 60,000 MNIST
training samples in file order, batch 1000, lr 10, momentum 0.5, for the
classifier 784-16-16-10 and the autoencoder 784-64-784.  Columns:

====== =============================================== ====================
column network                                          compared with
====== =============================================== ====================
py     PyNet (1 thread)                                 tr x1
np     NpNet (BLAS at N threads)                        tr xN
cy x1  CyNet(num_threads=1), BLAS at 1 thread           tr x1
cy xN  CyNet(num_threads=N), BLAS at N threads          tr xN
tr x1  TorchNet, torch.set_num_threads(1)               itself
tr xN  TorchNet, torch.set_num_threads(N)               itself
gpu    GpuNet on CUDA, ``train_epoch`` (CUDA graph)     tr xN
====== =============================================== ====================

Every measurement runs under ``torch.set_num_threads(n)`` and a threadpoolctl
BLAS limit of n.  N defaults to the cores this process may use.

Method
------
* For each net, each implementation is timed on ``batches`` consecutive
  batches (1..k of the file), after one untimed warm-up batch (batch 0) run
  under the same thread setting and a pause of ``SETTLE_S`` seconds, so that
  the thread pools of the implementation timed before have gone idle.  Rounds over the implementations are
  repeated and interleaved (A B C ... A B C ..., ``repeats`` rounds) so that
  drifts of the machine (clock, other load) hit every implementation alike;
  the figure is the median round.  It is extrapolated to an epoch as
  (median seconds per sample) x 60,000, and marked as extrapolated in the
  table whenever fewer batches than an epoch's were timed.
* PyNet costs seconds (classifier) to minutes (autoencoder) per *sample*, so
  it is timed on ``py_samples`` samples of batch 0 (one step on that many
  samples), without a warm-up, and extrapolated to 60,000 samples; after the
  first round it is repeated only while its total stays under
  ``PY_BUDGET_S``.  With ``quick`` it is skipped for nets where one sample
  would take minutes (``PY_QUICK_LIMIT``).
* GpuNet is timed on a whole epoch (60 batches, data resident on the GPU,
  ``train_epoch`` replaying one CUDA graph), after one untimed epoch (which
  captures the graph); its figure is not extrapolated.

Memory
------
"Peak RSS added by training": each (net, implementation) cell is run in a
fresh Python subprocess that first builds the network and random data of the
right shape (values do not change memory), then resets the kernel's
resident-set high-water mark (writing "5" to ``/proc/self/clear_refs``,
Linux >= 4.0) and runs one training step: VmHWM - VmRSS at the reset is the
"1st step" figure, one-time set-up included (thread pools, pages of library
code touched for the first time, allocator pools).  It then resets the mark
again and runs ``MEMORY_BATCHES`` more steps: VmHWM - VmRSS at that reset is
the "+RSS" figure, the working memory of training proper.  Both count every
page touched beyond what was resident before, NumPy, torch, OpenMP and Python
objects alike.  Where the reset is refused (or there is no /proc), the
increase of ``ru_maxrss`` over all the steps is reported instead, a lower
bound (marked "≥").  For GpuNet the CUDA allocator's peak
(``torch.cuda.max_memory_allocated`` above the baseline, graph capture
included) is reported too.  PyNet runs one step on its ``py_samples``
samples; its memo grows linearly with the batch, so its figure holds for
those samples only.
"""
import contextlib
import datetime
import json
import math
import numbers
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

from ._progress import progress_enabled

#: the seed report's table: s/epoch, classifier, Intel i7-7700HQ (4 cores)
SEED_TABLE = {"py": 405, "np": 6.31, "cy1": 3.97, "cy4": 1.71, "torch": 0.08}
SEED_MACHINE = "seed report, classifier, i7-7700HQ"

NETS = {"classifier": (784, 16, 16, 10), "autoencoder": (784, 64, 784)}
IMPLS = ("py", "np", "cy1", "cyN", "tr1", "trN", "gpu")
EPOCH_SAMPLES = 60_000
BATCH_SIZE = 1000
LR = 10.0
MOMENTUM = 0.5

DEFAULT_BATCHES, QUICK_BATCHES = 10, 2
DEFAULT_REPEATS, QUICK_REPEATS = 5, 2
#: PyNet samples per measurement (1 for nets above PY_BIG)
DEFAULT_PY_SAMPLES, QUICK_PY_SAMPLES = 2, 1
#: weights x outputs above which PyNet takes minutes per sample: one sample
#: only, and skipped with ``quick`` (classifier: 0.13 M, autoencoder: 79 M)
PY_BIG = PY_QUICK_LIMIT = 5_000_000
#: PyNet is repeated after its first round only while its total is below this
PY_BUDGET_S = 120.0
#: PyNet's memory is probed only when one of its samples took less than this
PY_MEMORY_MAX_S = 30.0
#: training steps run by each memory probe (the first step's allocations count)
#: idle seconds between the warm-up and the timed batches.  OpenBLAS and
#: OpenMP workers spin for up to ~0.1 s after their last job; without a pause
#: the previous implementation's spinning threads steal a core from the next
#: one and every xN column is measured on one core (seen here: cy x2 slower
#: than cy x1 with no pause, 1.8x faster with 0.3 s).
SETTLE_S = 0.3
MEMORY_BATCHES = 3
MEMORY_TIMEOUT_S = 600


# -- small helpers -------------------------------------------------------------------
def _positive_int(value, name, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def available_cores():
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_model():
    """The CPU's model name, from /proc/cpuinfo or ``platform``."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


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


def _impl_table(n):
    """label, threads and torch reference of every implementation at N = n."""
    return {
        "py": {"label": "py", "threads": 1, "ref": "tr1"},
        "np": {"label": "np", "threads": n, "ref": "trN"},
        "cy1": {"label": "cy×1", "threads": 1, "ref": "tr1"},
        "cyN": {"label": f"cy×{n}", "threads": n, "ref": "trN"},
        "tr1": {"label": "tr×1", "threads": 1, "ref": "tr1"},
        "trN": {"label": f"tr×{n}", "threads": n, "ref": "trN"},
        "gpu": {"label": "gpu", "threads": n, "ref": "trN"},
    }


def _parse_impls(impls):
    if impls is None:
        return list(IMPLS)
    if isinstance(impls, str):
        impls = [s for s in impls.replace(",", " ").split()]
    out = []
    for name in impls:
        expanded = {"cy": ["cy1", "cyN"], "tr": ["tr1", "trN"], "torch": ["tr1", "trN"]}.get(name, [name])
        for e in expanded:
            if e not in IMPLS:
                raise ValueError(f"unknown implementation {name!r}; choose from {', '.join(IMPLS)} "
                                 f"(or cy, tr for both thread counts)")
            if e not in out:
                out.append(e)
    if not out:
        raise ValueError("impls must name at least one implementation")
    return [i for i in IMPLS if i in out]


def _parse_nets(nets):
    from ._checks import check_layers

    if isinstance(nets, str):
        nets = [s for s in nets.replace(",", " ").split()]
    if isinstance(nets, dict):
        items = list(nets.items())
    else:
        items = []
        for entry in nets:
            if isinstance(entry, str):
                if entry not in NETS:
                    raise ValueError(f"unknown net {entry!r}; choose from {', '.join(NETS)} "
                                     f"or pass (name, layers)")
                items.append((entry, NETS[entry]))
            else:
                try:
                    name, layers = entry
                except (TypeError, ValueError):
                    raise ValueError(f"nets entries must be names or (name, layers), got {entry!r}") from None
                items.append((name, layers))
    if not items:
        raise ValueError("nets must name at least one net")
    out = {}
    for name, layers in items:
        layers = check_layers(layers)
        if layers[0] != 784:
            raise ValueError(f"net {name!r}: the input layer must have 784 neurons (MNIST), got {layers[0]}")
        if layers[-1] not in (10, 784):
            raise ValueError(f"net {name!r}: the output layer must have 10 neurons (one-hot digits) or "
                             f"784 (autoencoder: the image itself), got {layers[-1]}")
        out[str(name)] = layers
    return out


# -- data -------------------------------------------------------------------------------
def _one_hot(labels, dtype):
    out = np.zeros((labels.shape[0], 10), dtype=dtype)
    out[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1
    return out


def load_data(rows, dtype="float32", source="auto", seed=0):
    """``(images (rows, 784), labels (rows,), note)``: the first ``rows``
    MNIST training samples if they are on this machine (``source="auto"``;
    nothing is downloaded), else uniform random images and labels."""
    note = None
    if source not in ("auto", "random"):
        raise ValueError(f"data must be 'auto' or 'random', got {source!r}")
    if source == "auto":
        try:
            from . import data as nndata
            if hasattr(nndata, "find_mnist"):
                nndata.find_mnist("train", download=False)     # raises when absent
            images, labels = nndata.load_mnist("train")
            x = np.ascontiguousarray(np.asarray(images)[:rows].reshape(-1, 784), dtype=dtype)
            if x.size and x.max() > 1:
                x /= 255
            y = np.asarray(labels)[:rows]
            if y.ndim == 2:
                y = y.argmax(axis=1)
            return x, y.astype(np.int64), "MNIST train (file order)"
        except (FileNotFoundError, ImportError, AttributeError) as exc:
            note = f"MNIST not found locally ({type(exc).__name__}); random data of MNIST's shape"
        except Exception as exc:                                   # a damaged file and the like
            note = f"MNIST unreadable ({type(exc).__name__}: {exc}); random data of MNIST's shape"
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 784), dtype=np.float32).astype(dtype, copy=False)
    y = rng.integers(0, 10, rows)
    return x, y, note or "random data of MNIST's shape (data='random')"


def _targets(layers, x, y, dtype):
    return _one_hot(y, dtype) if layers[-1] == 10 else x


# -- building and running nets --------------------------------------------------------------
def make_net(impl, layers, params, dtype, threads):
    """The network of column ``impl``, from the flat ``params``."""
    from . import NpNet, PyNet, TorchNet

    if impl == "py":
        return PyNet(layers, params=params, dtype=dtype)
    if impl == "np":
        return NpNet(layers, params=params, dtype=dtype)
    if impl in ("cy1", "cyN"):
        from .nets.cynet import CyNet
        return CyNet(layers, params=params, dtype=dtype, num_threads=threads)
    if impl in ("tr1", "trN"):
        return TorchNet(layers, params=params, dtype=dtype)
    if impl == "gpu":
        from .nets.gpunet import GpuNet
        return GpuNet(layers, params=params, dtype=dtype, device="cuda")
    raise ValueError(f"unknown implementation {impl!r}")


def _unavailable(impl):
    """Why ``impl`` cannot run here, or None."""
    if impl in ("cy1", "cyN"):
        try:
            from .nets.cynet import CyNet  # noqa: F401
        except Exception as exc:
            return f"nnetlib.cynet not importable ({type(exc).__name__}: {exc})"
    if impl == "gpu":
        import torch
        if not torch.cuda.is_available():
            return "CUDA not available"
    return None


class _Runner:
    """Times one implementation on one net (see the module docstring)."""

    def __init__(self, impl, net, x, t, batch_size, batches, py_samples, threads):
        self.impl, self.net, self.x, self.t = impl, net, x, t
        self.batch_size, self.batches, self.py_samples, self.threads = batch_size, batches, py_samples, threads
        self.n_batches = x.shape[0] // batch_size
        if impl == "gpu":
            import torch
            n = min(EPOCH_SAMPLES, x.shape[0])
            self.xd = torch.from_numpy(np.ascontiguousarray(x[:n])).cuda()
            self.td = torch.from_numpy(np.ascontiguousarray(t[:n])).cuda()

    @property
    def unit(self):
        """(samples timed per measurement, description)."""
        if self.impl == "py":
            return self.py_samples, f"{self.py_samples} sample{'s' * (self.py_samples > 1)}"
        if self.impl == "gpu":
            n = self.xd.shape[0]
            return n, f"{math.ceil(n / self.batch_size)} batches (train_epoch)"
        return self.batches * self.batch_size, f"{self.batches} batch{'es' * (self.batches > 1)}"

    def _steps(self, indices):
        bs = self.batch_size
        for i in indices:
            i %= self.n_batches
            self.net.step(self.x[i * bs:(i + 1) * bs], self.t[i * bs:(i + 1) * bs], LR, MOMENTUM)

    def measure(self):
        """Seconds for one measurement (warm-up excluded)."""
        with thread_limit(self.threads):
            if self.impl == "py":
                s = self.py_samples
                start = time.perf_counter()
                self.net.step(self.x[:s], self.t[:s], LR, MOMENTUM)
                return time.perf_counter() - start
            if self.impl == "gpu":
                import torch
                self.net.train_epoch(self.xd, self.td, self.batch_size, LR, MOMENTUM)   # warm-up
                torch.cuda.synchronize()
                start = time.perf_counter()
                self.net.train_epoch(self.xd, self.td, self.batch_size, LR, MOMENTUM)
                torch.cuda.synchronize()
                return time.perf_counter() - start
            self._steps([0])                                                            # warm-up
            time.sleep(SETTLE_S)                       # let other pools' spinning workers sleep
            start = time.perf_counter()
            self._steps(range(1, self.batches + 1))
            return time.perf_counter() - start


# -- memory ------------------------------------------------------------------------------------
def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _probe(spec):
    """Run in a fresh process: peak RSS added by a few training steps."""
    import gc
    import resource

    import torch

    layers, impl, dtype = tuple(spec["layers"]), spec["impl"], spec["dtype"]
    threads, bs = spec["threads"], spec["batch_size"]
    rng = np.random.default_rng(0)
    rows = spec["py_samples"] if impl == "py" else bs * max(1, spec["batches"])
    x = rng.random((rows, layers[0]), dtype=np.float32).astype(dtype, copy=False)
    t = rng.random((rows, layers[-1]), dtype=np.float32).astype(dtype, copy=False)
    from .nets.base import init_params
    torch.set_num_threads(threads)
    from threadpoolctl import threadpool_limits
    limits = threadpool_limits(limits=threads, user_api="blas")
    net = make_net(impl, layers, init_params(layers, seed=0, dtype=dtype), dtype, threads)
    cuda = impl == "gpu"
    if cuda:
        xd, td = torch.from_numpy(x).cuda(), torch.from_numpy(t).cuda()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        dev0 = torch.cuda.memory_allocated()

    def train(steps):
        if impl == "py":
            net.step(x, t, LR, MOMENTUM)
        elif cuda:
            net.train_epoch(xd, td, bs, LR, MOMENTUM)     # the first call captures the graph
            torch.cuda.synchronize()
        else:
            for i in range(steps):
                net.step(x[i * bs:(i + 1) * bs], t[i * bs:(i + 1) * bs], LR, MOMENTUM)

    def reset():
        gc.collect()
        try:
            before = _status_kib("VmRSS")
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except (OSError, KeyError, ValueError):
            return None
        return before

    def peak_since(before):
        return max(0, _status_kib("VmHWM") - before) * 1024

    out = {"ran": (f"{spec['py_samples']} sample(s), one step" if impl == "py"
                   else f"train_epoch over {spec['batches']} batches of {bs}" if cuda
                   else f"{spec['batches']} batches of {bs}")}
    rss0 = reset()
    if rss0 is not None:
        train(1)                                   # first step: one-time set-up included
        out["first_step_bytes"] = peak_since(rss0)
        rss1 = reset()
        train(spec["batches"])
        out["rss_added_bytes"] = peak_since(rss1)
        out["rss_before_bytes"] = rss1 * 1024
        out["method"] = ("VmHWM - VmRSS around the training steps, the high-water mark reset first "
                         "(/proc/self/clear_refs); after one untimed first step")
        out["lower_bound"] = False
    else:
        maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        train(1 + spec["batches"])
        unit = 1 if sys.platform == "darwin" else 1024              # ru_maxrss: bytes on macOS
        out["rss_added_bytes"] = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss0) * unit
        out["method"] = ("increase of ru_maxrss over the first step and the training steps (a lower "
                         "bound: the reset of VmHWM was refused)")
        out["lower_bound"] = True
    if cuda:
        out["device_added_bytes"] = int(torch.cuda.max_memory_allocated() - dev0)
    del limits
    return out


def _probe_main(arg):
    """Entry point of the probe subprocess: prints its result as JSON."""
    print("NNETLIB-PROBE " + json.dumps(_probe(json.loads(arg))))


def measure_memory(impl, layers, dtype, threads, batch_size, batches=MEMORY_BATCHES, py_samples=1,
                   timeout=MEMORY_TIMEOUT_S):
    """Peak RSS added by training ``impl`` on ``layers``, in a subprocess
    (see the module docstring).  Returns a dict; ``{"error": ...}`` on failure."""
    spec = {"impl": impl, "layers": list(layers), "dtype": dtype, "threads": threads,
            "batch_size": batch_size, "batches": batches, "py_samples": py_samples}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    code = "import sys; from nnetlib.bench import _probe_main; _probe_main(sys.argv[1])"
    try:
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], capture_output=True,
                              text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"probe took over {timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("NNETLIB-PROBE "):
            return json.loads(line[len("NNETLIB-PROBE "):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"error": f"probe exited {proc.returncode}: {tail[0]}"}


# -- the benchmark -------------------------------------------------------------------------------
def _loadavg():
    """The 1-minute load average, or None where the OS has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _versions():
    import torch
    return {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__}


def run_benchmark(quick=False, repeats=None, threads=None, progress=True,
                  nets=("classifier", "autoencoder"), impls=None, *, batches=None, py_samples=None,
                  batch_size=BATCH_SIZE, dtype="float32", memory=True, data="auto", seed=0):
    """Time every implementation; return a JSON-serialisable dict.

    ``quick``: 2 batches and 2 rounds instead of 10 and 5, PyNet on 1 sample
    and skipped where a sample takes minutes.  ``threads``: N of the xN
    columns (default: the cores available).  ``nets``: names of ``NETS`` or
    ``(name, layers)`` pairs.  ``impls``: a subset of ``IMPLS`` (default all;
    those that cannot run here are skipped with a note).  ``batches``: batches
    timed per measurement; ``py_samples``: samples per PyNet measurement;
    ``memory``: probe the peak RSS in subprocesses; ``data``: "auto" (MNIST
    when it is on this machine, else random) or "random".

    Result: ``meta`` (machine, versions, settings, notes), ``columns`` (the
    implementations measured, in table order) with their ``labels``,
    ``threads`` and torch ``refs``, ``skipped`` (implementation -> reason),
    and ``nets[name]`` with ``layers``, ``skipped`` and ``impls[impl]``:
    ``raw`` (seconds of every measurement), ``median``, ``samples`` (timed per
    measurement), ``per_sample``, ``epoch_s``, ``extrapolated``, ``basis``,
    ``ratio`` (to torch at the same thread count) and ``memory``.
    """
    from threadpoolctl import threadpool_info

    from ._checks import check_dtype
    from .nets.base import init_params

    quick = bool(quick)
    repeats = _positive_int(repeats, "repeats") or (QUICK_REPEATS if quick else DEFAULT_REPEATS)
    n_threads = _positive_int(threads, "threads") or available_cores()
    batches = _positive_int(batches, "batches") or (QUICK_BATCHES if quick else DEFAULT_BATCHES)
    py_fixed = _positive_int(py_samples, "py_samples")
    batch_size = _positive_int(batch_size, "batch_size", allow_none=False)
    if batch_size > EPOCH_SAMPLES:
        raise ValueError(f"batch_size must be at most {EPOCH_SAMPLES}, got {batch_size}")
    dtype = check_dtype(dtype).name
    if data not in ("auto", "random"):
        raise ValueError(f"data must be 'auto' or 'random', got {data!r}")
    net_layers = _parse_nets(nets)
    wanted = _parse_impls(impls)
    table = _impl_table(n_threads)
    notes = []
    if n_threads == 1:
        dropped = [i for i in wanted if i in ("cyN", "trN")]
        wanted = [i for i in wanted if i not in ("cyN", "trN")]
        for i in ("cyN", "trN"):
            table[i]["ref"] = "tr1"
        table["np"]["ref"] = table["gpu"]["ref"] = "tr1"
        if dropped:
            notes.append("N = 1 thread: the ×N columns would repeat ×1 and are left out")
    skipped = {}
    for impl in wanted:
        why = _unavailable(impl)
        if why:
            skipped[impl] = why
    columns = [i for i in wanted if i not in skipped]
    if not columns:
        raise ValueError(f"none of the implementations can run here: {skipped}")

    epoch_batches = math.ceil(EPOCH_SAMPLES / batch_size)
    rows = min(EPOCH_SAMPLES, (min(batches, epoch_batches - 1) + 1) * batch_size)
    if "gpu" in columns:
        rows = EPOCH_SAMPLES
    rows = max(rows, py_fixed or 1, batch_size)
    x, labels, data_note = load_data(rows, dtype, data, seed)

    result = {
        "meta": {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": cpu_model(), "cores": available_cores(), "threads": n_threads,
            "platform": platform.platform(), **_versions(),
            "blas": [{k: i.get(k) for k in ("internal_api", "version", "num_threads")}
                     for i in threadpool_info() if i.get("user_api") == "blas"],
            "epoch_samples": EPOCH_SAMPLES, "batch_size": batch_size, "epoch_batches": epoch_batches,
            "lr": LR, "momentum": MOMENTUM, "dtype": dtype, "order": "file order",
            "batches": batches, "repeats": repeats, "quick": quick, "data": data_note,
            "memory_method": None, "notes": notes, "load_average_start": _loadavg(),
        },
        "columns": columns,
        "labels": {i: table[i]["label"] for i in columns},
        "threads": {i: table[i]["threads"] for i in columns},
        "refs": {i: table[i]["ref"] for i in columns},
        "skipped": skipped,
        "seed_table": dict(SEED_TABLE),
        "nets": {},
    }
    if "gpu" in columns:
        import torch
        result["meta"]["gpu"] = torch.cuda.get_device_name()

    # what runs where
    plan = {}
    for name, layers in net_layers.items():
        size = sum((a + 1) * b for a, b in zip(layers[:-1], layers[1:])) * layers[-1]
        net_skip, run = {}, []
        for impl in columns:
            if impl == "py" and quick and size > PY_QUICK_LIMIT and py_fixed is None:
                net_skip[impl] = "skipped in quick mode: one sample takes minutes (run without --quick)"
                continue
            run.append(impl)
        samples = py_fixed or (1 if quick or size > PY_BIG else DEFAULT_PY_SAMPLES)
        plan[name] = (layers, run, net_skip, samples)

    total = sum(len(run) * repeats for _, run, _, _ in plan.values())
    if memory:
        total += sum(len(run) for _, run, _, _ in plan.values())
    bar = None
    if progress_enabled(progress):
        from tqdm import tqdm                     # text on stderr, also in notebooks
        bar = tqdm(total=total, desc="bench", unit="run", file=sys.stderr, leave=False)

    try:
        for name, (layers, run, net_skip, samples) in plan.items():
            t = _targets(layers, x, labels, dtype)
            params = init_params(layers, seed=seed, dtype=dtype)
            runners = {}
            for impl in list(run):
                try:
                    net = make_net(impl, layers, params, dtype, table[impl]["threads"])
                    runners[impl] = _Runner(impl, net, x, t, batch_size, batches, samples,
                                            table[impl]["threads"])
                except Exception as exc:
                    net_skip[impl] = f"could not be built: {type(exc).__name__}: {exc}"
                    run.remove(impl)
            raw = {impl: [] for impl in run}
            for r in range(repeats):
                for impl in run:
                    if impl == "py" and r > 0 and sum(raw[impl]) >= PY_BUDGET_S:
                        if bar is not None:
                            bar.update(1)
                        continue
                    if bar is not None:
                        bar.set_postfix_str(f"{name} {table[impl]['label']} round {r + 1}/{repeats}")
                    raw[impl].append(runners[impl].measure())
                    if bar is not None:
                        bar.update(1)
            out = {}
            for impl in run:
                n_samples, basis = runners[impl].unit
                med = statistics.median(raw[impl])
                per_sample = med / n_samples
                out[impl] = {
                    "raw": raw[impl], "median": med, "samples": n_samples,
                    "per_sample": per_sample, "epoch_s": per_sample * EPOCH_SAMPLES,
                    "extrapolated": n_samples < EPOCH_SAMPLES, "basis": basis,
                    "rounds": len(raw[impl]), "threads": table[impl]["threads"],
                }
            for impl, entry in out.items():
                ref = out.get(table[impl]["ref"])
                entry["ratio"] = entry["epoch_s"] / ref["epoch_s"] if ref else None
                entry["ref"] = table[impl]["ref"] if ref else None
            if memory:
                for impl in run:
                    if bar is not None:
                        bar.set_postfix_str(f"{name} {table[impl]['label']} memory")
                    if impl == "py" and out[impl]["per_sample"] > PY_MEMORY_MAX_S:
                        mem = {"error": f"not probed: one PyNet sample takes "
                                        f"{out[impl]['per_sample']:.0f} s"}
                    else:
                        mem = measure_memory(impl, layers, dtype, table[impl]["threads"], batch_size,
                                             py_samples=samples)
                    out[impl]["memory"] = mem
                    if "method" in mem:
                        result["meta"]["memory_method"] = mem["method"]
                    if bar is not None:
                        bar.update(1)
            result["nets"][name] = {"layers": list(layers), "impls": out, "skipped": net_skip,
                                    "py_samples": samples if "py" in run else None}
    finally:
        if bar is not None:
            bar.close()
    result["meta"]["load_average_end"] = _loadavg()
    return result


# -- the table ---------------------------------------------------------------------------------------
def _fmt_seconds(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}" if v >= 0.01 else f"{v:.2g}"


def _fmt_ratio(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")


def _fmt_mib(mem, key="rss_added_bytes"):
    if not mem or "error" in mem or key not in mem:
        return "-"
    text = f"{mem[key] / 2 ** 20:.1f}"
    return ("≥" + text) if mem.get("lower_bound") else text


def format_table(result):
    """The seed-style table of a ``run_benchmark`` result, as text."""
    meta = result["meta"]
    cols = result["columns"]
    labels = result["labels"]
    n = meta["threads"]
    width = 11
    lines = [
        f"nnetlib bench: seconds per epoch ({meta['epoch_samples']:,} samples, batch {meta['batch_size']}, "
        f"lr {meta['lr']:g}, momentum {meta['momentum']:g}, {meta['order']}, {meta['dtype']})",
        f"CPU: {meta['cpu']} ({meta['cores']} cores available); threads ×1 and ×{n} "
        f"(torch.set_num_threads + threadpoolctl BLAS limit)" + (f"; GPU: {meta['gpu']}" if meta.get("gpu") else ""),
        f"python {meta['python']}, numpy {meta['numpy']}, torch {meta['torch']}; {meta['date']}"
        + (f"; load average {meta['load_average_start']:g} at start, {meta['load_average_end']:g} at end"
           if meta.get("load_average_start") is not None and meta.get("load_average_end") is not None else ""),
        f"data: {meta['data']}",
        f"method: median of {meta['repeats']} interleaved rounds; each times {meta['batches']} "
        f"batch{'es' * (meta['batches'] > 1)} after 1 untimed warm-up batch; "
        f"* = extrapolated to {meta['epoch_batches']} batches",
        "",
    ]
    head = f"{'':<14}{'':<10}" + "".join(f"{labels[c]:>{width}}" for c in cols)
    lines += [head, f"{'':<14}{'threads':<10}" + "".join(
        f"{(result['threads'][c] if c != 'gpu' else '-')!s:>{width}}" for c in cols)]
    footnotes = []
    for name, net in result["nets"].items():
        impls = net["impls"]
        cells_s, cells_r, cells_m, cells_f = [], [], [], []
        for c in cols:
            e = impls.get(c)
            if e is None:
                cells_s.append("skip" if c in net["skipped"] else "-")
                cells_r.append("-")
                cells_m.append("-")
                cells_f.append("-")
                continue
            mark = ("†" if c == "py" else "*") if e["extrapolated"] else ""
            cells_s.append(_fmt_seconds(e["epoch_s"]) + mark)
            cells_r.append(_fmt_ratio(e["ratio"]))
            cells_m.append(_fmt_mib(e.get("memory")))
            cells_f.append(_fmt_mib(e.get("memory"), "first_step_bytes"))
        layers = "-".join(map(str, net["layers"]))
        lines.append("")
        lines.append(f"{name:<14}{'s/epoch':<10}" + "".join(f"{s:>{width}}" for s in cells_s))
        lines.append(f"{layers:<14}{'÷ torch':<10}" + "".join(f"{s:>{width}}" for s in cells_r))
        if any(s != "-" for s in cells_m):
            lines.append(f"{'':<14}{'+RSS MiB':<10}" + "".join(f"{s:>{width}}" for s in cells_m))
        if any(s != "-" for s in cells_f):
            lines.append(f"{'':<14}{'1st step':<10}" + "".join(f"{s:>{width}}" for s in cells_f))
        dev = ((impls.get("gpu") or {}).get("memory") or {}).get("device_added_bytes")
        if dev is not None:
            lines.append(f"{'':<14}{'+GPU MiB':<10}" + "".join(
                f"{(f'{dev / 2 ** 20:.1f}' if c == 'gpu' else ''):>{width}}" for c in cols))
    lines.append("")
    star = {e["basis"] for net in result["nets"].values() for c, e in net["impls"].items()
            if e["extrapolated"] and c != "py"}
    if star:
        footnotes.append(f"* extrapolated to {meta['epoch_samples']:,} samples from "
                         f"{', '.join(sorted(star))} of {meta['batch_size']}")
    py = [f"{name} {net['impls']['py']['basis']}" for name, net in result["nets"].items()
          if "py" in net["impls"]]
    if py:
        footnotes.append(f"† py extrapolated to {meta['epoch_samples']:,} samples from "
                         f"{', '.join(py)} (one step each, no warm-up)")
    if "gpu" in cols:
        footnotes.append("gpu: one whole epoch per measurement (GpuNet.train_epoch, CUDA graph), "
                         "not extrapolated")
    by_ref = {}
    for c in cols:
        if result["refs"].get(c) in cols and result["refs"][c] != c:
            by_ref.setdefault(result["refs"][c], []).append(labels[c])
    if by_ref:
        footnotes.append("÷ torch: time / the tr column at the same thread count ("
                         + "; ".join(f"{', '.join(v)} ÷ {_impl_table(n)[r]['label']}"
                                     for r, v in by_ref.items()) + ")")
    if meta.get("memory_method"):
        footnotes.append(f"+RSS: peak resident memory added by {MEMORY_BATCHES} training batches after a "
                         f"first step (py: one step on its samples); 1st step: the first step alone, "
                         f"one-time set-up (thread pools, code pages) included; a fresh subprocess per "
                         f"cell, random data; see nnetlib/bench.py")
        if "gpu" in cols:
            footnotes.append("+GPU: torch.cuda.max_memory_allocated above the baseline, graph capture included")
    seed = result.get("seed_table") or SEED_TABLE
    footnotes.append(f"{SEED_MACHINE}, s/epoch: py {seed['py']:g}, np {seed['np']:g}, cy×1 {seed['cy1']:g}, "
                     f"cy×4 {seed['cy4']:g}, torch {seed['torch']:g}")
    for impl, why in result["skipped"].items():
        footnotes.append(f"{_impl_table(n)[impl]['label']}: skipped, {why}")
    for name, net in result["nets"].items():
        for impl, why in net["skipped"].items():
            footnotes.append(f"{labels.get(impl, impl)} {name}: {why}")
        for impl, e in net["impls"].items():
            mem = e.get("memory") or {}
            if "error" in mem:
                footnotes.append(f"{labels[impl]} {name} memory: {mem['error']}")
            if e["rounds"] < meta["repeats"]:
                footnotes.append(f"{labels[impl]} {name}: {e['rounds']} of {meta['repeats']} rounds "
                                 f"(PyNet time budget {PY_BUDGET_S:g} s)")
    footnotes += meta.get("notes", [])
    lines += footnotes
    return "\n".join(lines)


def write_json(result, path):
    """Write ``result`` as JSON to ``path`` atomically."""
    from .nets.base import write_atomically

    text = json.dumps(result, indent=2, default=float) + "\n"
    write_atomically(path, lambda f: f.write(text.encode()))


def main(args):
    """Run the ``bench`` subcommand from parsed arguments; return the exit code."""
    result = run_benchmark(quick=args.quick, repeats=args.repeats, threads=args.threads,
                           progress=not args.no_progress, nets=args.nets, impls=args.impls,
                           batches=args.batches, py_samples=args.py_samples,
                           batch_size=args.batch_size, dtype=args.dtype,
                           memory=not args.no_memory, data=args.data)
    print(format_table(result))
    if args.json:
        write_json(result, args.json)
        print(f"\nraw times written to {args.json}")
    return 0
