"""Checkpoints: one writer, one reader, a format version; loads refuse what they cannot honour.

A checkpoint is an ``.npz`` file with a JSON ``meta`` entry, the flat
``params`` and the optimizer's state arrays, each stored as ``opt_<name>``
under the name ``nnetlib.optim`` gives it on disk (``Optimizer.arrays``:
"velocity" for SGD's v, TorchSGD's b and Adam's m, "second_moment" for
Adam's s); readers get them back under the optimizer's own names.
``meta`` holds:

* ``magic`` ("nnetlib-checkpoint") and ``version`` (``VERSION``);
* ``class``, ``layers``, ``dtype``, ``init``;
* ``function``: what the weights compute, ``{"activation", "loss", "dropout"}``;
* ``optimizer``: ``{"kind", ...}`` (``nnetlib.optim``) and its options;
* ``state``: extra state a class adds through the hook ``Network.extra_state``
  (FrontNet: its options and step count, which draws the dropout masks);
* ``extra``: what the caller passed to ``save`` (``train`` keeps its history).

Version 1 (nnetlib before this module) stored ``params``, ``velocity`` (and
for FrontNet ``second_moment``) and a ``velocity_convention`` string; it is
read and translated.  Other versions are refused with an error naming them.
"""

import json
import os
import tempfile

import numpy as np

from ._checks import check_dtype, check_layers
from .optim import KINDS
from .params import n_params

MAGIC = "nnetlib-checkpoint"
VERSION = 2
#: checkpoint versions this code reads
READABLE = (1, 2)
_V1_KINDS = {"v": "sgd", "torch-sgd-buffer": "torch-sgd", "adam-first-moment": "adam"}


def _umask():
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path, writer):
    """Call ``writer(fileobj)`` on a temporary file next to ``path``, then
    rename it over ``path``: readers see the old file or the new, never half.

    The file gets the mode a new file gets (0666 less the umask), not the
    0600 of the temporary file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.chmod(tmp, 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def stored_names(kind):
    """The state names of optimizer ``kind`` -> the names its arrays have on disk."""
    cls = KINDS.get(kind)
    return dict(cls.arrays) if cls is not None else {}


def write_checkpoint(path, meta, params, optimizer_arrays):
    """Write ``meta`` (JSON-serialisable), ``params`` and the optimizer's
    arrays (by state name) to ``path`` atomically; ``magic`` and ``version``
    are added."""
    text = json.dumps({"magic": MAGIC, "version": VERSION, **meta})
    names = stored_names(meta["optimizer"]["kind"])
    arrays = {f"opt_{names.get(name, name)}": arr for name, arr in optimizer_arrays.items()}

    def writer(f):
        np.savez(f, meta=np.array(text), params=params, **arrays)

    write_atomically(path, writer)


def _load_npz(path):
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {key: z[key] for key in z.files}
        meta = json.loads(str(data.pop("meta")))
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ValueError(
            f"{path}: not an nnetlib checkpoint ({exc.__class__.__name__}: {exc})"
        ) from None
    if not isinstance(meta, dict) or meta.get("magic") != MAGIC:
        raise ValueError(f"{path}: not an nnetlib checkpoint (no nnetlib magic in its meta)")
    version = meta.get("version")
    if version not in READABLE:
        raise ValueError(
            f"{path}: checkpoint format version {version!r}; this nnetlib reads versions "
            f"{', '.join(map(str, READABLE))}: load it with the nnetlib that wrote it"
        )
    return meta, data


def _from_v1(meta, data):
    """Translate a version 1 checkpoint into the version 2 layout."""
    config = meta.get("config", {})
    kind = _V1_KINDS.get(meta.get("velocity_convention", "v"), "sgd")
    optimizer = {"kind": kind}
    arrays = {"velocity": data["velocity"]}
    if kind == "adam":
        optimizer.update(
            betas=config.get("betas", [0.9, 0.999]),
            eps=config.get("eps", 1e-8),
            n_steps=meta.get("n_steps", 0),
        )
        arrays["second_moment"] = data.get("second_moment", np.zeros_like(data["velocity"]))
    function = {
        "activation": config.get("activation", "sigmoid"),
        "loss": config.get("loss", "mse"),
        "dropout": config.get("dropout", 0.0),
    }
    state = {"config": config, "n_steps": meta.get("n_steps", 0)} if config else {}
    meta = dict(meta, version=2, function=function, optimizer=optimizer, state=state)
    return meta, {"params": data["params"], **{f"opt_{k}": v for k, v in arrays.items()}}


def read_checkpoint(path):
    """Read and check a checkpoint: ``{"meta", "params", "optimizer_state",
    "kind"}``, the optimizer state by its state names (v; b; m and s), plus
    ``"velocity"``, the array stored under that name, as before.

    Raises ``ValueError`` naming the file when it is not a checkpoint, has a
    version this code does not read, or its parts do not fit together.
    """
    path = os.fspath(path)
    meta, data = _load_npz(path)
    try:
        if meta["version"] == 1:
            meta, data = _from_v1(meta, data)
        layers = check_layers(meta["layers"])
        dtype = check_dtype(meta["dtype"])
        params = data["params"]
        kind = meta["optimizer"]["kind"]
        stored = {key[4:]: arr for key, arr in data.items() if key.startswith("opt_")}
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not an nnetlib checkpoint (missing or bad {exc})") from None
    want = n_params(layers)
    for name, arr in (("params", params), *stored.items()):
        if arr.shape != (want,) or arr.dtype != dtype:
            raise ValueError(
                f"{path}: {name} has shape {arr.shape} and dtype {arr.dtype}, "
                f"but layers {layers} in {dtype} need ({want},)"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{path}: {name} contains NaN or inf")
    meta["layers"], meta["dtype"] = layers, dtype.name
    meta.setdefault("function", {"activation": "sigmoid", "loss": "mse", "dropout": 0.0})
    meta.setdefault("state", {})
    meta.setdefault("extra", {})
    own = {disk: name for name, disk in stored_names(kind).items()}
    state = {own.get(name, name): arr for name, arr in stored.items()}
    out = {"meta": meta, "params": params, "optimizer_state": state, "kind": kind}
    if "velocity" in stored:
        out["velocity"] = stored["velocity"]
    return out
