"""MNIST loading and minibatching, for notebooks 04 (classifier) and 05 (autoencoder).

:func:`load_mnist` looks for the four IDX files (.gz or raw) in the ``data_dir``
argument, then in ``$NNETLIB_DATA`` (read at call time), then in the cache,
``pooch.os_cache("nnetlib")``. A file missing everywhere is downloaded by pooch
from :data:`MIRRORS` into the cache, renamed into place only once its sha256
matches :data:`REGISTRY`. Every file is verified decompressed (IDX header,
length, sha256); a damaged one raises ValueError naming the file and the fault.
pooch's ``Decompress`` gunzips a .gz once, into ``<cache>/decompressed/``,
verified again on each load. Arrays are kept in memory, so they are
**read-only** (``.copy()`` them). ``python -m nnetlib data`` says where the
files are (``nnetlib/__main__.py``).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import operator
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from ._checks import check_positive_int
from ._progress import progress_enabled

__all__ = ["MIRRORS", "REGISTRY", "MNISTNotFoundError", "batch_rows", "batches", "cache_dir", "find_mnist",
           "load_mnist", "mnist_task", "one_hot"]  # fmt: skip

#: Base URLs tried in order when a file is missing; each serves ``<name>.gz``.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
#: pooch registry: sha256 of the .gz files the mirrors serve.
REGISTRY = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
DOWNLOAD_TIMEOUT = 60  #: seconds before a stalled connection to a mirror is abandoned

# name -> (IDX magic number, item count, sha256 of the decompressed bytes)
# fmt: off
_IDX = {
    "train-images-idx3-ubyte": (2051, 60000, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": (2049, 60000, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": (2051, 10000, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": (2049, 10000, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}
# fmt: on
_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_memory_cache: dict[str, dict[tuple, tuple[np.ndarray, np.ndarray]]] = {}


class MNISTNotFoundError(FileNotFoundError):
    """An MNIST file is in none of the searched folders and could not be downloaded."""


def cache_dir() -> Path:
    """The download cache, ``pooch.os_cache("nnetlib")`` (honours XDG_CACHE_HOME)."""
    import pooch

    return Path(pooch.os_cache("nnetlib"))


def find_mnist(split: str, data_dir=None, download: bool = True) -> dict[str, Path]:
    """``{"images": Path, "labels": Path}`` of ``split``, downloading missing files; raises
    ValueError for an unknown split, :class:`MNISTNotFoundError` when a file is nowhere."""
    if split not in ("train", "test"):
        raise ValueError(f"unknown MNIST split {split!r}: expected 'train' or 'test'")
    env = os.environ.get("NNETLIB_DATA")
    dirs = [
        ("data_dir argument", Path(data_dir).expanduser() if data_dir is not None else None),
        ("NNETLIB_DATA", Path(env).expanduser() if env else None),
        ("cache", cache_dir()),
    ]
    found = {}
    for kind, name in zip(("images", "labels"), _SPLITS[split]):
        hits = [
            p for _, d in dirs if d is not None for p in (d / f"{name}.gz", d / name) if p.is_file()
        ]
        errors: list[str] = []
        path = hits[0] if hits else (_download(name, errors) if download else None)
        found[kind] = path or _not_found(name, dirs, download, errors)
    return found


def _not_found(name, dirs, download, errors):
    lines = [f"MNIST file {name!r} (.gz or raw) not found. Searched, in order:"]
    lines += [f"  - {what}: {folder if folder is not None else 'not set'}" for what, folder in dirs]
    lines += (
        ["Download failed from every mirror:"] + [f"  - {e}" for e in errors]
        if download
        else ["Downloading was disabled."]
    )
    lines.append(
        "Set NNETLIB_DATA to a folder holding the four MNIST IDX files ("
        + ", ".join(f"{n}.gz" for n in _IDX)
        + "), or pass data_dir=..., or allow network access for the download."
    )
    raise MNISTNotFoundError("\n".join(lines))


def _http(url, output_file, fetcher):
    """The pooch downloader: HTTP with a timeout and nnetlib's progress-bar rule."""
    import pooch

    return pooch.HTTPDownloader(
        progressbar=progress_enabled(), timeout=DOWNLOAD_TIMEOUT, chunk_size=1 << 16
    )(url, output_file, fetcher)


def _download(name: str, errors: list[str]) -> Path | None:
    """Fetch ``name``.gz into the cache from the first mirror that serves the registered bytes."""
    import pooch

    for mirror in MIRRORS:
        fetcher = pooch.create(path=cache_dir(), base_url=mirror, registry=REGISTRY)
        try:
            return Path(fetcher.fetch(f"{name}.gz", downloader=_http))
        except Exception as exc:  # try the next mirror; KeyboardInterrupt propagates
            errors.append(f"{mirror}{name}.gz: {type(exc).__name__}: {exc}")
    return None


def _idx_fault(data: bytes, name: str) -> str | None:
    """What is wrong with ``data`` as the decompressed IDX file ``name``, or None."""
    magic, count, sha = _IDX[name]
    header = 16 if magic == 2051 else 8
    if len(data) < header:
        return f"truncated: {len(data)} bytes, shorter than the {header}-byte IDX header"
    fields = [int.from_bytes(data[i : i + 4], "big") for i in range(0, header, 4)]
    if fields[0] != magic:
        return f"bad magic number {fields[0]} (0x{fields[0]:08x}), expected {magic} for {name}"
    if fields[1] != count:
        return f"item count {fields[1]}, expected {count}"
    if fields[2:] not in ([], [28, 28]):
        return f"image size {fields[2]}x{fields[3]}, expected 28x28"
    expected = header + count * (784 if magic == 2051 else 1)
    if len(data) != expected:
        fault = "truncated" if len(data) < expected else "wrong length (trailing data)"
        return f"{fault}: {len(data)} bytes, header implies {expected}"
    if (got := hashlib.sha256(data).hexdigest()) != sha:
        return f"checksum mismatch: sha256 of the decompressed bytes is {got}, expected {sha}"
    return None


def _verified(path: Path, data: bytes, name: str) -> bytes:
    if (fault := _idx_fault(data, name)) is not None:  # the error names the file
        raise ValueError(f"{path}: {fault}")
    return data


def _gunzip(path: Path, blob: bytes, name: str, copy: Path) -> bytes:
    """Decompress ``path`` (bytes ``blob``) with pooch's Decompress into ``copy``, renamed
    there once verified; in memory when the cache cannot be written."""
    import pooch

    if blob[:2] != b"\x1f\x8b":
        raise ValueError(f"{path}: not a gzip file (bad gzip magic bytes)")
    tmp = None
    try:
        with contextlib.suppress(OSError):  # a read-only cache is no reason to fail
            copy.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{copy.name}.", suffix=".part", dir=copy.parent)
            os.close(fd)
        if tmp is None:
            return _verified(path, gzip.decompress(blob), name)
        # an absolute name puts Decompress's output in the cache, not next to ``path``
        pooch.Decompress(method="gzip", name=tmp)(str(path), "update", None)
        data = _verified(path, Path(tmp).read_bytes(), name)
        for old in copy.parent.glob(f"{name}.*"):  # the copy of an older source
            old.unlink(missing_ok=True)
        os.replace(tmp, copy)
        return data
    except EOFError as exc:
        raise ValueError(f"{path}: truncated gzip data ({exc})") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt gzip data ({exc})") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _read_idx(path: Path) -> bytes:
    """Verified, decompressed bytes of ``path``; a .gz is read from its cached copy when valid."""
    name, blob = path.name.removesuffix(".gz"), path.read_bytes()
    if not path.name.endswith(".gz"):
        return _verified(path, blob, name)
    copy = cache_dir() / "decompressed" / f"{name}.{hashlib.sha256(blob).hexdigest()[:16]}"
    try:
        return _verified(copy, copy.read_bytes(), name)
    except (OSError, ValueError):  # no copy yet, or a damaged one: rebuild it
        return _gunzip(path, blob, name, copy)


def load_mnist(split: str, data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 784) float32 in [0, 1] and labels (N,) uint8 of ``split``, both read-only.

    N is 60000 for "train", 10000 for "test"; ``data_dir`` is searched first.
    Raises ValueError for an unknown split or a damaged file, and
    :class:`MNISTNotFoundError` (a FileNotFoundError) when a file is nowhere."""
    paths = find_mnist(split, data_dir)
    key = tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths.values())
    if key in _memory_cache.get(split, {}):  # the latest load of a split, while its files stay
        return _memory_cache[split][key]
    pixels = np.frombuffer(_read_idx(paths["images"]), np.uint8, offset=16)
    images = np.divide(pixels.reshape(-1, 784), np.float32(255), dtype=np.float32)
    labels = np.frombuffer(_read_idx(paths["labels"]), np.uint8, offset=8).copy()
    images.flags.writeable = labels.flags.writeable = False
    _memory_cache[split] = {key: (images, labels)}
    return images, labels


def one_hot(labels, n_classes: int = 10, dtype="float32") -> np.ndarray:
    """One-hot encode integer ``labels`` (shape (N,)) into shape (N, n_classes)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    n_classes = operator.index(n_classes)
    if n_classes <= 0:
        raise ValueError(f"n_classes must be positive, got {n_classes}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in [0, {n_classes - 1}], got range [{labels.min()}, {labels.max()}]"
        )
    return _one_hot(labels, n_classes, dtype)


def _one_hot(labels, n_classes, dtype):
    """``one_hot`` of labels already checked (``train`` checks them once)."""
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels.astype(np.intp, copy=False)] = 1
    return out


def batches(x, t, batch_size: int, shuffle: bool = False, seed=None, group=None):
    """Minibatches ``(xb, tb)`` of ``batch_size`` rows, the last maybe smaller: the one
    batching path (``training.train`` uses it). Every sample appears once per pass.

    With ``shuffle`` the order is ``np.random.default_rng(seed).permutation(len(x))``;
    ``seed`` is anything ``default_rng`` takes (``train`` passes ``[seed, epoch]``:
    a new order each epoch). Without shuffling the batches are views, in file order.

    ``group=k`` yields the same batches stacked, ``k`` at a time: arrays of shape
    (k', batch_size, ...) with k' <= k, for ``CyNet.steps``; a last smaller batch comes
    alone, as a stack of one. Unshuffled stacks of a C-contiguous ``x`` are views."""
    batch_size = check_positive_int(batch_size, "batch_size")
    if group is not None:
        group = check_positive_int(group, "group")
    if len(t) != len(x):
        raise ValueError(f"x and t must have the same length: len(x)={len(x)}, len(t)={len(t)}")
    return _checked_batches(x, t, batch_size, shuffle, seed, group)


def _checked_batches(x, t, batch_size, shuffle, seed, group):
    """``batches`` on arguments already checked (``train`` checks them once per call)."""
    order = np.random.default_rng(seed).permutation(len(x)) if shuffle else None
    if group is None:
        return _batches(x, t, batch_size, order)
    return _stacks(x, t, batch_size, group, order)


def _batches(x, t, batch_size, order):
    for start in range(0, len(x), batch_size):
        stop = start + batch_size
        idx = slice(start, stop) if order is None else order[start:stop]
        yield x[idx], t[idx]


def batch_rows(n, batch_size: int, seed, group: int):
    """The rows of the shuffled batches of ``batches(x, t, batch_size, True, seed,
    group=group)`` for ``len(x) == n``: (k', batch_size) index arrays, k' <= group,
    and the last smaller batch, if any, as (1, r).  ``CyNet.steps_in_order`` takes them."""
    batch_size, group = (
        check_positive_int(batch_size, "batch_size"),
        check_positive_int(group, "group"),
    )
    return _batch_rows(n, batch_size, seed, group)


def _batch_rows(n, batch_size, seed, group):
    """``batch_rows`` on arguments already checked."""
    order = np.random.default_rng(seed).permutation(n)
    full = n // batch_size * batch_size
    for start in range(0, full, batch_size * group):
        yield order[start : min(start + batch_size * group, full)].reshape(-1, batch_size)
    if full < n:
        yield order[full:][None]


def _stacks(x, t, batch_size, group, order):
    full = len(x) // batch_size * batch_size
    for start in range(0, full, batch_size * group):
        stop = min(start + batch_size * group, full)
        idx = slice(start, stop) if order is None else order[start:stop]
        k = (stop - start) // batch_size
        yield (
            x[idx].reshape(k, batch_size, *x.shape[1:]),
            t[idx].reshape(k, batch_size, *t.shape[1:]),
        )
    if full < len(x):
        idx = slice(full, None) if order is None else order[full:]
        yield x[idx][None], t[idx][None]


def mnist_task(kind: str, dtype="float32", data_dir=None):
    """``((x_train, y_train), (x_test, y_test))`` for ``"classifier"`` (labels) or
    ``"autoencoder"`` (the images themselves); images cast to ``dtype``."""
    if kind not in ("classifier", "autoencoder"):
        raise ValueError(f"unknown task kind {kind!r}: expected 'classifier' or 'autoencoder'")
    (x_tr, y_tr), (x_te, y_te) = (load_mnist(s, data_dir) for s in ("train", "test"))
    x_tr, x_te = x_tr.astype(dtype, copy=False), x_te.astype(dtype, copy=False)
    if kind == "classifier":
        return (x_tr, y_tr), (x_te, y_te)
    return (x_tr, x_tr), (x_te, x_te)
