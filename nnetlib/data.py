"""MNIST loading and minibatching.

Used by the report notebooks ``04-mnist-classifier`` (images -> digit labels)
and ``05-mnist-autoencoder`` (images -> the same images).

Where the data comes from
-------------------------
:func:`load_mnist` looks for the four original IDX files, gzip-compressed
(``train-images-idx3-ubyte.gz``) or raw (``train-images-idx3-ubyte``), in
this order:

1. the ``data_dir`` argument, when given;
2. the folder named by the environment variable ``NNETLIB_DATA``;
3. the cache folder ``$XDG_CACHE_HOME/nnetlib`` (``~/.cache/nnetlib``).

Environment variables are read at call time. A file missing everywhere is
downloaded from public mirrors (:data:`MIRRORS`) into the cache folder; the
download goes to a hidden temporary file that is renamed into place only once
it is complete and verified, so no partial file is ever visible there.

Every file is verified: IDX header (magic number, item count, 28x28 images),
length implied by the header, and the SHA-256 of the decompressed bytes
against the published values. A damaged file raises :class:`ValueError`
naming the file and the problem. Files that passed are recorded in
``<cache>/verified.json`` by (path, size, mtime), so a later process skips the
hashing, and a decompressed copy of each verified .gz file is kept in
``<cache>/decompressed/`` (about 55 MB), so a later process skips the gunzip
too: loading both splits then takes well under a second. Loaded arrays are
also kept in memory for the life of the process. Delete the cache folder at
any time; it is rebuilt on the next load.

Arrays returned by :func:`load_mnist` are shared with that in-memory cache and
are therefore **read-only** (``flags.writeable`` is False); take ``.copy()``
to modify them.

Run ``python -m nnetlib.data`` to load both splits and print where they were
found.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import operator
import os
import sys
import tempfile
import threading
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._progress import progress_bar

__all__ = [
    "MIRRORS",
    "MNISTNotFoundError",
    "batches",
    "cache_dir",
    "find_mnist",
    "load_mnist",
    "mnist_task",
    "one_hot",
]

#: Base URLs tried in order when a file is missing; each must serve ``<name>.gz``.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

#: Seconds before a stalled connection to a mirror is abandoned.
DOWNLOAD_TIMEOUT = 60

# The opener used for downloads; tests replace it to simulate failures.
_urlopen = urllib.request.urlopen

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049
_ROWS = _COLS = 28


@dataclass(frozen=True)
class _Spec:
    name: str
    magic: int
    count: int
    sha256: str

    @property
    def header_size(self) -> int:
        return 16 if self.magic == _IMAGES_MAGIC else 8

    @property
    def nbytes(self) -> int:
        item = _ROWS * _COLS if self.magic == _IMAGES_MAGIC else 1
        return self.header_size + self.count * item


_SPECS = {
    s.name: s
    for s in (
        _Spec("train-images-idx3-ubyte", _IMAGES_MAGIC, 60000,
              "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        _Spec("train-labels-idx1-ubyte", _LABELS_MAGIC, 60000,
              "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        _Spec("t10k-images-idx3-ubyte", _IMAGES_MAGIC, 10000,
              "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        _Spec("t10k-labels-idx1-ubyte", _LABELS_MAGIC, 10000,
              "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    )
}

_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_VERIFIED_RECORD = "verified.json"
_lock = threading.Lock()
_memory_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


class MNISTNotFoundError(FileNotFoundError):
    """An MNIST file is in none of the searched folders and could not be downloaded."""


# --------------------------------------------------------------------------
# locating
# --------------------------------------------------------------------------

def cache_dir() -> Path:
    """The download/cache folder: ``$XDG_CACHE_HOME/nnetlib`` or ``~/.cache/nnetlib``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnetlib"


def _search_dirs(data_dir) -> list[tuple[str, Path | None]]:
    """(description, folder or None when unset) in search order."""
    env = os.environ.get("NNETLIB_DATA")
    return [
        ("data_dir argument", Path(data_dir).expanduser() if data_dir is not None else None),
        ("NNETLIB_DATA", Path(env).expanduser() if env else None),
        ("cache", cache_dir()),
    ]


def _find_file(name: str, dirs) -> Path | None:
    for _, folder in dirs:
        if folder is None:
            continue
        for candidate in (folder / (name + ".gz"), folder / name):
            if candidate.is_file():
                return candidate
    return None


def _check_split(split) -> tuple[str, str]:
    try:
        return _SPLITS[split]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown MNIST split {split!r}: expected 'train' or 'test'") from None


def find_mnist(split: str, data_dir=None, download: bool = True) -> dict[str, Path]:
    """Paths of the images and labels files of ``split``, downloading them if needed.

    Returns ``{"images": Path, "labels": Path}``. Raises
    :class:`MNISTNotFoundError` (a :class:`FileNotFoundError`) when a file is
    missing and cannot be downloaded (or ``download`` is False).
    """
    names = _check_split(split)
    dirs = _search_dirs(data_dir)
    found = {}
    for kind, name in zip(("images", "labels"), names):
        path = _find_file(name, dirs)
        if path is None:
            path = _download_or_explain(name, dirs, download)
        found[kind] = path
    return found


def _download_or_explain(name: str, dirs, download: bool) -> Path:
    errors: list[str] = []
    if download:
        path = _download(name, cache_dir(), errors)
        if path is not None:
            return path
    lines = [f"MNIST file {name!r} (.gz or raw) not found. Searched, in order:"]
    for what, folder in dirs:
        if folder is None:
            hint = "not given" if what == "data_dir argument" else "not set"
            lines.append(f"  - {what}: {hint}")
        else:
            lines.append(f"  - {what}: {folder}")
    if download:
        lines.append("Download failed from every mirror:")
        lines.extend(f"  - {e}" for e in errors)
    else:
        lines.append("Downloading was disabled.")
    lines.append(
        "Set NNETLIB_DATA to a folder holding the four MNIST IDX files "
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), "
        "or pass data_dir=..., or allow network access for the download.")
    raise MNISTNotFoundError("\n".join(lines))


# --------------------------------------------------------------------------
# downloading
# --------------------------------------------------------------------------

def _progress(total, desc):
    return progress_bar(True, total=total, unit="B", unit_scale=True, desc=desc)


def _download(name: str, folder: Path, errors: list[str]) -> Path | None:
    """Fetch ``name``.gz from the first mirror that serves a verified copy.

    Appends one message per failed mirror to ``errors`` and returns the final
    path, or None when every mirror failed. The bytes go to a hidden
    ``.part`` file in ``folder`` that is renamed into place only once verified,
    and removed on any failure or interruption (KeyboardInterrupt included).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        errors.append(f"cannot create the cache folder {folder}: {exc}")
        return None
    final = folder / (name + ".gz")
    for mirror in MIRRORS:
        url = mirror + name + ".gz"
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.gz.", suffix=".part", dir=folder)
        except OSError as exc:
            errors.append(f"cannot write to the cache folder {folder}: {exc}")
            return None
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                _fetch(url, out, desc=name)
            _verify(tmp, _SPECS[name], record=False, gz=True)
            os.replace(tmp, final)
            return final
        except Exception as exc:  # try the next mirror; KeyboardInterrupt propagates
            errors.append(f"{url}: {type(exc).__name__}: {exc}")
        finally:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
    return None


def _fetch(url: str, out, desc: str) -> None:
    with _urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp:
        length = resp.headers.get("Content-Length") if getattr(resp, "headers", None) else None
        bar = _progress(int(length) if length and length.isdigit() else None, desc)
        try:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        out.flush()
        os.fsync(out.fileno())


# --------------------------------------------------------------------------
# verifying and parsing
# --------------------------------------------------------------------------

def _stat_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _read_verified_record() -> dict:
    try:
        with open(cache_dir() / _VERIFIED_RECORD, encoding="utf-8") as f:
            record = json.load(f)
        return record if isinstance(record, dict) else {}
    except (OSError, ValueError):
        return {}


def _add_verified_record(key: str, sha: str) -> None:
    """Remember that ``key`` ("path|size|mtime_ns") hashed to ``sha``; best effort, atomic."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        record = _read_verified_record()
        record[key] = sha
        fd, tmp = tempfile.mkstemp(prefix=".verified.", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f, indent=0, sort_keys=True)
            os.replace(tmp, folder / _VERIFIED_RECORD)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass  # a read-only home is no reason to fail loading


def _decompressed_bytes(path: Path, gz: bool) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if gz:
        if raw[:2] != b"\x1f\x8b":
            raise ValueError(f"{path}: not a gzip file (bad gzip magic bytes)")
        try:
            return gzip.decompress(raw)
        except EOFError as exc:
            raise ValueError(f"{path}: truncated gzip data ({exc})") from None
        except (gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise ValueError(f"{path}: corrupt gzip data ({exc})") from None
    return raw


def _check_idx(path: Path, data: bytes, spec: _Spec) -> None:
    if len(data) < spec.header_size:
        raise ValueError(
            f"{path}: truncated: {len(data)} bytes, shorter than the "
            f"{spec.header_size}-byte IDX header")
    magic = int.from_bytes(data[0:4], "big")
    if magic != spec.magic:
        raise ValueError(
            f"{path}: bad magic number {magic} (0x{magic:08x}), expected {spec.magic} "
            f"for {spec.name}")
    count = int.from_bytes(data[4:8], "big")
    if count != spec.count:
        raise ValueError(f"{path}: item count {count}, expected {spec.count}")
    if spec.magic == _IMAGES_MAGIC:
        rows = int.from_bytes(data[8:12], "big")
        cols = int.from_bytes(data[12:16], "big")
        if (rows, cols) != (_ROWS, _COLS):
            raise ValueError(f"{path}: image size {rows}x{cols}, expected {_ROWS}x{_COLS}")
    if len(data) < spec.nbytes:
        raise ValueError(
            f"{path}: truncated: {len(data)} bytes, header implies {spec.nbytes}")
    if len(data) > spec.nbytes:
        raise ValueError(
            f"{path}: wrong length: {len(data)} bytes, header implies {spec.nbytes} "
            f"(trailing data)")


def _decompressed_copy(spec: _Spec) -> Path:
    """Raw copy of a verified .gz file, in the cache folder, named by its checksum."""
    return cache_dir() / "decompressed" / f"{spec.name}.{spec.sha256[:16]}"


def _read_decompressed_copy(spec: _Spec) -> bytes | None:
    path = _decompressed_copy(spec)
    try:
        if path.stat().st_size != spec.nbytes:
            return None
        data = path.read_bytes()
        _check_idx(path, data, spec)
    except (OSError, ValueError):
        return None
    # hashing is cheap next to gunzip; a damaged copy is simply rebuilt
    return data if hashlib.sha256(data).hexdigest() == spec.sha256 else None


def _write_decompressed_copy(spec: _Spec, data: bytes) -> None:
    """Best effort, atomic (temporary file + os.replace)."""
    path = _decompressed_copy(spec)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass


def _verify(path: Path, spec: _Spec, record: bool = True, gz: bool | None = None) -> bytes:
    """Decompress, check header/length, then checksum; returns the decompressed bytes.

    ``gz`` says whether the file is gzip-compressed (default: name ends in .gz).
    With ``record``, a file already recorded as verified (same path, size and
    mtime) is not hashed again, and a .gz file is read from its decompressed
    copy in the cache when that exists (gunzipping the training images is
    most of the cost of a load).
    """
    key = "|".join(map(str, _stat_key(path)))
    if gz is None:
        gz = path.name.endswith(".gz")
    known = record and _read_verified_record().get(key) == spec.sha256
    if known and gz:
        data = _read_decompressed_copy(spec)
        if data is not None:
            return data
    data = _decompressed_bytes(path, gz)
    _check_idx(path, data, spec)
    if not known:
        sha = hashlib.sha256(data).hexdigest()
        if sha != spec.sha256:
            raise ValueError(
                f"{path}: checksum mismatch: sha256 of the decompressed bytes is {sha}, "
                f"expected {spec.sha256}")
        if record:
            _add_verified_record(key, sha)
    if record and gz:
        _write_decompressed_copy(spec, data)
    return data


def _spec_for(path: Path) -> _Spec:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    return _SPECS[name]


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------

def load_mnist(split: str, data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST split.

    Parameters
    ----------
    split : {"train", "test"}
    data_dir : path-like, optional
        Folder searched first (then ``$NNETLIB_DATA``, then the cache).

    Returns
    -------
    images : ndarray, float32, shape (N, 784), values in [0, 1], read-only
    labels : ndarray, uint8, shape (N,), read-only

    N is 60000 for "train" and 10000 for "test". Raises ValueError for an
    unknown split or a damaged file, MNISTNotFoundError (a FileNotFoundError)
    when the files are nowhere and cannot be downloaded.
    """
    paths = find_mnist(split, data_dir)
    key = (split, _stat_key(paths["images"]), _stat_key(paths["labels"]))
    with _lock:
        hit = _memory_cache.get(key)
    if hit is not None:
        return hit

    img_bytes = _verify(paths["images"], _spec_for(paths["images"]))
    lab_bytes = _verify(paths["labels"], _spec_for(paths["labels"]))
    pixels = np.frombuffer(img_bytes, dtype=np.uint8, offset=16).reshape(-1, _ROWS * _COLS)
    images = pixels.astype(np.float32)
    images /= np.float32(255.0)
    labels = np.frombuffer(lab_bytes, dtype=np.uint8, offset=8).copy()
    images.flags.writeable = False
    labels.flags.writeable = False

    with _lock:
        # keep only the latest copy of a split (e.g. after a file changed)
        for old in [k for k in _memory_cache if k[0] == split]:
            del _memory_cache[old]
        _memory_cache[key] = (images, labels)
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
            f"labels must lie in [0, {n_classes - 1}], got range "
            f"[{labels.min()}, {labels.max()}]")
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels.astype(np.intp, copy=False)] = 1
    return out


def batches(x, t, batch_size: int, shuffle: bool = False, seed=None):
    """Yield minibatches ``(xb, tb)`` of ``batch_size`` rows; the last may be smaller.

    Every sample appears exactly once per pass. With ``shuffle=True`` the order
    is ``np.random.default_rng(seed).permutation(len(x))``, so a given seed
    gives the same batches every time. Without shuffling the batches are views.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = len(x)
    if len(t) != n:
        raise ValueError(
            f"x and t must have the same length: len(x)={n}, len(t)={len(t)}")
    return _batches(x, t, int(batch_size), shuffle, seed, n)


def _batches(x, t, batch_size, shuffle, seed, n):
    if shuffle:
        order = np.random.default_rng(seed).permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            yield x[idx], t[idx]
    else:
        for start in range(0, n, batch_size):
            yield x[start:start + batch_size], t[start:start + batch_size]


def mnist_task(kind: str, dtype="float32", data_dir=None):
    """Train and test pairs for a notebook task.

    ``"classifier"``: ``((x_train, labels_train), (x_test, labels_test))``;
    ``"autoencoder"``: ``((x_train, x_train), (x_test, x_test))``.
    Images are cast to ``dtype`` (float32 returns the cached read-only arrays).
    """
    if kind not in ("classifier", "autoencoder"):
        raise ValueError(f"unknown task kind {kind!r}: expected 'classifier' or 'autoencoder'")
    (x_tr, y_tr), (x_te, y_te) = (load_mnist(s, data_dir) for s in ("train", "test"))
    x_tr = x_tr.astype(dtype, copy=False)
    x_te = x_te.astype(dtype, copy=False)
    if kind == "classifier":
        return (x_tr, y_tr), (x_te, y_te)
    return (x_tr, x_tr), (x_te, x_te)


def main(argv=None) -> int:
    """Load both splits and print shapes and where the files came from."""
    import time

    for split in ("train", "test"):
        t0 = time.perf_counter()
        paths = find_mnist(split)
        images, labels = load_mnist(split)
        dt = time.perf_counter() - t0
        print(f"{split}: images {images.shape} {images.dtype}, labels {labels.shape} "
              f"{labels.dtype} ({dt:.2f} s, verified)")
        for kind, path in paths.items():
            print(f"  {kind}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
