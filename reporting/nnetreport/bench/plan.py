"""What the benchmark runs: constants, settings, nets, columns, data."""

import dataclasses
import numbers
import os
import platform

import numpy as np

from ..article import TIMING_COLUMNS, TIMING_TABLE

#: de Mayo (2021), "training time of one epoch in seconds" of the classifier
#: 784-16-16-10 as printed (source: nnetreport.article, "The
#: article's numbers, as printed"), keyed by the table's columns, CPU x threads
#: ("i7-7700HQ x1", "E5-2680 x1", "i7-7700HQ x4", "E5-2680 x24"), then by
#: version: py, np, cy, tr (its PyNet, NpNet, CyNet, PyTorch).  The figures
#: themselves live once, in nnetreport.article.TIMING_TABLE.
ARTICLE_TABLE = {
    col: {impl: row[col] for impl, row in TIMING_TABLE.items() if col in row}
    for col in TIMING_COLUMNS
}

NETS = {"classifier": (784, 16, 16, 10), "autoencoder": (784, 64, 784)}
IMPLS = ("py", "np1", "np", "cy1", "cyN", "tr1", "trN", "gpu", "tg")
#: the columns that run on CUDA: one whole epoch per measurement, data on the device
CUDA_IMPLS = ("gpu", "tg")
EPOCH_SAMPLES = 60_000
BATCH_SIZE = 1000
LR = 10.0
MOMENTUM = 0.5

DEFAULT_BATCHES, QUICK_BATCHES = 60, 2
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


def positive_int(value, name, allow_none=True):
    """``value`` as an int >= 1 (None passes when ``allow_none``)."""
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


def impl_table(n):
    """label, threads and torch reference of every implementation at N = n
    (``run._columns`` makes "tg" gpu's reference when both run)."""
    return {
        "py": {"label": "py", "threads": 1, "ref": "tr1"},
        "np1": {"label": "np×1", "threads": 1, "ref": "tr1"},
        "np": {"label": f"np×{n}", "threads": n, "ref": "trN"},
        "cy1": {"label": "cy×1", "threads": 1, "ref": "tr1"},
        "cyN": {"label": f"cy×{n}", "threads": n, "ref": "trN"},
        "tr1": {"label": "tr×1", "threads": 1, "ref": "tr1"},
        "trN": {"label": f"tr×{n}", "threads": n, "ref": "trN"},
        "gpu": {"label": "gpu", "threads": n, "ref": "trN"},
        "tg": {"label": "tr graph", "threads": n, "ref": "tg"},
    }


def parse_impls(impls):
    """The implementations named by ``impls`` (a list, or a comma-separated
    string; "cy" and "tr" stand for both thread counts), in table order."""
    if impls is None:
        return list(IMPLS)
    if isinstance(impls, str):
        impls = impls.replace(",", " ").split()
    out = []
    for name in impls:
        expanded = {"cy": ["cy1", "cyN"], "tr": ["tr1", "trN"], "torch": ["tr1", "trN"]}.get(
            name, [name]
        )
        for e in expanded:
            if e not in IMPLS:
                raise ValueError(
                    f"unknown implementation {name!r}; choose from {', '.join(IMPLS)} "
                    f"(or cy, tr for both thread counts)"
                )
            if e not in out:
                out.append(e)
    if not out:
        raise ValueError("impls must name at least one implementation")
    return [i for i in IMPLS if i in out]


def parse_layers(text):
    """Layer widths from the command line's ``784,32,10`` as a tuple of ints."""
    parts = [p.strip() for p in str(text).replace(" ", ",").split(",") if p.strip()]
    try:
        layers = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"--layers must be comma-separated neuron counts such as 784,32,10, got {text!r}"
        ) from None
    if len(layers) < 2:
        raise ValueError(
            f"--layers needs at least an input and an output width (784,32,10), got {text!r}"
        )
    return layers


def _net_items(nets):
    """``(name, layers)`` pairs of ``nets``: names of NETS (a list, or a
    comma-separated string), ``(name, layers)`` pairs, or a dict."""
    if isinstance(nets, str):
        nets = nets.replace(",", " ").split()
    if isinstance(nets, dict):
        return list(nets.items())
    items = []
    for entry in nets:
        if isinstance(entry, str):
            if entry not in NETS:
                raise ValueError(
                    f"unknown net {entry!r}; choose from {', '.join(NETS)}, "
                    f"or pass a (name, layers) pair such as ('mlp', (784, 32, 10))"
                )
            items.append((entry, NETS[entry]))
            continue
        try:
            name, layers = entry
        except (TypeError, ValueError):
            raise ValueError(
                f"nets entries must be names or (name, layers) pairs, got {entry!r}"
            ) from None
        items.append((name, layers))
    return items


def parse_nets(nets):
    """``{name: layers}`` for ``nets``, each checked to fit MNIST."""
    from nnetlib._checks import check_layers

    items = _net_items(nets)
    if not items:
        raise ValueError("nets must name at least one net")
    out = {}
    for name, layers in items:
        layers = check_layers(layers)
        if layers[0] != 784:
            raise ValueError(
                f"net {name!r}: the input layer must have 784 neurons (MNIST), got {layers[0]}"
            )
        if layers[-1] not in (10, 784):
            raise ValueError(
                f"net {name!r}: the output layer must have 10 neurons (one-hot digits) or "
                f"784 (autoencoder: the image itself), got {layers[-1]}"
            )
        out[str(name)] = layers
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
            from nnetlib import data as nndata

            if hasattr(nndata, "find_mnist"):
                nndata.find_mnist("train", download=False)  # raises when absent
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
        except Exception as exc:  # a damaged file and the like
            note = f"MNIST unreadable ({type(exc).__name__}: {exc}); random data of MNIST's shape"
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 784), dtype=np.float32).astype(dtype, copy=False)
    y = rng.integers(0, 10, rows)
    return x, y, note or "random data of MNIST's shape (data='random')"


def targets(layers, x, y, dtype):
    """One-hot labels for a classifier, the images for an autoencoder."""
    if layers[-1] != 10:
        return x
    out = np.zeros((y.shape[0], 10), dtype=dtype)
    out[np.arange(y.shape[0]), y.astype(np.int64)] = 1
    return out


def make_net(impl, layers, params, dtype, threads):
    """The network of column ``impl``, from the flat ``params``."""
    from nnetlib import NpNet, PyNet, TorchNet

    if impl == "py":
        return PyNet(layers, params=params, dtype=dtype)
    if impl in ("np", "np1"):
        return NpNet(layers, params=params, dtype=dtype)
    if impl in ("cy1", "cyN"):
        from nnetlib.nets.cynet import CyNet

        return CyNet(layers, params=params, dtype=dtype, num_threads=threads)
    if impl in ("tr1", "trN"):
        return TorchNet(layers, params=params, dtype=dtype)
    if impl == "gpu":
        from nnetlib.nets.gpunet import GpuNet

        return GpuNet(layers, params=params, dtype=dtype, device="cuda")
    if impl == "tg":  # its model, trained by PyTorch's own loop (``torch_graph.TorchEpoch``)
        return TorchNet(layers, params=params, dtype=dtype, device="cuda")
    raise ValueError(f"unknown implementation {impl!r}")


def unavailable(impl):
    """Why ``impl`` cannot run here, or None."""
    if impl in ("cy1", "cyN"):
        from nnetlib.nets import cynet

        if not cynet.available():
            return "CyNet's compiled kernel is not built (nnetlib.nets.cynet.available() is False)"
    if impl in CUDA_IMPLS:
        import torch

        if not torch.cuda.is_available():
            return "CUDA not available"
    return None


def py_samples_for(layers, quick, fixed):
    """PyNet samples per measurement for ``layers``, and whether quick mode
    skips it there (None: it runs)."""
    size = sum((a + 1) * b for a, b in zip(layers[:-1], layers[1:])) * layers[-1]
    skip = None
    if quick and size > PY_QUICK_LIMIT and fixed is None:
        skip = "skipped in quick mode: one sample takes minutes (run without --quick)"
    return fixed or (1 if quick or size > PY_BIG else DEFAULT_PY_SAMPLES), skip


def _default(value, name, default):
    """``value`` checked as a positive int, or ``default`` when it is None."""
    return positive_int(value, name) or default


@dataclasses.dataclass(frozen=True)
class BenchSettings:
    """The settings of one ``run_benchmark``, checked when made; None picks the default."""

    quick: bool = False  # 2 batches, 2 rounds, PyNet on 1 sample and skipped where slow
    repeats: int | None = None  # interleaved rounds: 5 (quick: 2)
    threads: int | None = None  # N of the xN columns: the cores available
    batches: int | None = None  # batches timed per measurement: 60, an epoch (quick: 2)
    py_samples: int | None = None  # PyNet samples per measurement: per net (``py_samples_for``)
    batch_size: int = BATCH_SIZE
    dtype: str = "float32"
    data: str = "auto"  # "auto": MNIST when it is on this machine, else random; or "random"
    seed: int = 0
    nets: tuple | dict = ("classifier", "autoencoder")  # NETS names, (name, layers) pairs
    impls: tuple | str | None = None  # a subset of IMPLS (or "np,cy"); None: all
    memory: bool = True  # probe the peak RSS in subprocesses
    train: bool = True  # also time nnetlib.train on the same rows (the user's path)
    shuffle: bool = False  # ... with shuffle=True (seed 0): the batches' rows gathered anew
    settle: float = 0.3  # seconds of pause before each timed run (timing.SETTLE_S)
    progress: bool = True
    contend: int = 0  # busy processes run beside the whole benchmark

    def __post_init__(self):
        for name, value in self._checked().items():
            object.__setattr__(self, name, value)

    def _checked(self):
        """The fields that checking changes, checked (defaults filled in)."""
        from nnetlib._checks import check_dtype

        quick = bool(self.quick)
        batch_size = positive_int(self.batch_size, "batch_size", allow_none=False)
        if batch_size > EPOCH_SAMPLES:
            raise ValueError(f"batch_size must be at most {EPOCH_SAMPLES}, got {batch_size}")
        if self.data not in ("auto", "random"):
            raise ValueError(f"data must be 'auto' or 'random', got {self.data!r}")
        if (
            isinstance(self.settle, bool)
            or not isinstance(self.settle, (int, float))
            or not 0 <= self.settle <= 10
        ):
            raise ValueError(f"settle must be seconds in [0, 10], got {self.settle!r}")
        if not isinstance(self.shuffle, bool):
            raise ValueError(f"shuffle must be True or False, got {self.shuffle!r}")
        return {
            "quick": quick,
            "repeats": _default(
                self.repeats, "repeats", QUICK_REPEATS if quick else DEFAULT_REPEATS
            ),
            "threads": _default(self.threads, "threads", available_cores()),
            "batches": _default(
                self.batches, "batches", QUICK_BATCHES if quick else DEFAULT_BATCHES
            ),
            "py_samples": positive_int(self.py_samples, "py_samples"),
            "batch_size": batch_size,
            "dtype": check_dtype(self.dtype).name,
            "nets": parse_nets(self.nets),
            "impls": tuple(parse_impls(self.impls)),
        }
