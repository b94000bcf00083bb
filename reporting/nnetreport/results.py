"""What one notebook hands to another: run size and saved results.

Two switches, both read when a function is called (never at import):

``NNETLIB_QUICK=1``
    classroom mode (``make report QUICK=1``): every notebook runs at a
    reduced size, chosen cell by cell with ``size(full, quick)``.
``NNETLIB_RESULTS=DIR``
    where ``save_results`` writes, and the only thing that makes it write.
    ``make report`` sets it to ``notebooks/results`` (``report/quick/results``
    in classroom mode); a check (nbval, a notebook run in JupyterLab) leaves
    it unset, so checking a notebook never overwrites the stored figures.

``00-overview`` reads the figures the other notebooks saved with
``load_results``; they are small JSON files, committed with the notebooks
in ``notebooks/results`` of this checkout (the report works in a checkout,
not from an installed wheel).
"""

import json
import math
import os
import pathlib

_ROOT = pathlib.Path(__file__).resolve().parents[2]
FULL_DIR = _ROOT / "notebooks" / "results"


def quick():
    """True in classroom mode (``NNETLIB_QUICK`` set to anything but 0/false/no/empty)."""
    return os.environ.get("NNETLIB_QUICK", "").strip().lower() not in (
        "",
        "0",
        "false",
        "no",
        "off",
    )


def size(full, quick_value):
    """``quick_value`` in classroom mode, else ``full``: ``epochs = size(16, 2)``."""
    return quick_value if quick() else full


def results_dir():
    """The folder ``save_results`` writes to, or None when no run asked for it."""
    env = os.environ.get("NNETLIB_RESULTS", "").strip()
    return pathlib.Path(env) if env else None


def _plain(value):
    """JSON-ready copy: NumPy scalars and arrays become floats, ints and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def save_results(name, results):
    """Write ``results`` (a dict) as ``<results_dir>/<name>.json`` and return the path,
    or write nothing and return None when ``NNETLIB_RESULTS`` is unset.

    Prints one line saying which. The file is written to a temporary name
    and renamed, so a reader never sees half a file. The run size is
    recorded under ``"quick"``.
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be a dict, got {type(results).__name__}")
    text = json.dumps({"quick": quick(), **_plain(results)}, indent=1, sort_keys=True) + "\n"
    folder = results_dir()
    if folder is None:
        print(f"{name}.json not written: NNETLIB_RESULTS is unset (make report sets it)")
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(text)
    os.replace(tmp, path)
    print(f"saved {path.name}")
    return path


def load_results(name, folder=None):
    """The dict that ``save_results(name, ...)`` wrote.

    Looks in ``folder`` if given, else in ``results_dir()`` (when set), then
    in the stored full-scale results. A missing file is a FileNotFoundError that
    names the notebook to run.
    """
    if folder is not None:
        places = [pathlib.Path(folder)]
    else:
        places = [p for p in (results_dir(), FULL_DIR) if p is not None]
    for place in places:
        path = place / f"{name}.json"
        if path.is_file():
            return json.loads(path.read_text())
    raise FileNotFoundError(
        f"no saved results {name!r} in {', '.join(str(p) for p in places)}: "
        f"run the notebook that saves them (notebooks/{name}*.ipynb) first"
    )
