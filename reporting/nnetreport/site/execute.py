"""Execute the report's notebooks in order (``make report``), full size or classroom size.

Full size (``make report``): each notebook is executed and written back in
place, so its stored outputs are the report; its results go to
``notebooks/results``. Classroom mode (``make report QUICK=1``): every
notebook runs with ``NNETLIB_QUICK=1`` as a copy written to ``report/quick/``,
with results in ``report/quick/results``; the stored full-scale notebooks and
results are never written.

Order: by name, so the ``00-*`` overview runs first, as the reader meets it
(it reads the results that the last full run saved); it runs once more at the
end, so that the stored overview shows the figures of this run.
"""

import os
import pathlib
import time

from ..results import FULL_DIR

#: environment of the kernels: the run size is set explicitly either way, so a
#: leftover NNETLIB_QUICK in the shell cannot overwrite full-scale outputs
QUICK_ENV = "NNETLIB_QUICK"
RESULTS_ENV = "NNETLIB_RESULTS"


def execution_order(paths):
    """``paths`` by name, then the ``00-*`` summary notebooks once more."""
    paths = sorted(pathlib.Path(p) for p in paths)
    summaries = [p for p in paths if p.name.startswith("00-")]
    return paths + summaries if len(summaries) < len(paths) else paths


def _set_run_env(quick, out):
    """Set the run size and the results folder for the kernels; returns the old values."""
    old = {k: os.environ.get(k) for k in (QUICK_ENV, RESULTS_ENV)}
    os.environ[QUICK_ENV] = "1" if quick else "0"
    results = pathlib.Path(out, "results") if quick else FULL_DIR
    os.environ[RESULTS_ENV] = str(results.resolve())
    return old


def _restore_env(old):
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def cell_seconds(nb):
    """Seconds the cells of an executed notebook ran (nbclient's timing metadata), start-up aside."""
    import datetime

    total = 0.0
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            parse = datetime.datetime.fromisoformat
            total += (
                parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))
            ).total_seconds()
    return total


def run_one(path, target, timeout, kernel_name="python3"):
    """Execute notebook ``path`` (working directory: its folder) and write it to ``target``.

    The file is written only when every cell ran: a failed run leaves the
    stored notebook as it was. Returns ``(seconds in all, seconds in cells)``.
    """
    import nbformat
    from nbclient import NotebookClient

    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    ).execute()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    nbformat.write(nb, partial)
    os.replace(partial, target)
    return time.perf_counter() - start, cell_seconds(nb)


def execute(paths, quick=False, out="report/quick", timeout=1200, log=print):
    """Execute ``paths`` in :func:`execution_order`; returns ``{name: (seconds, cell seconds)}``.

    In place at full size; as copies in ``out`` with ``NNETLIB_QUICK=1`` when
    ``quick``. Raises nbclient's CellExecutionError (naming the notebook) on a
    failing cell, after saying which notebook failed.
    """
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be positive seconds (or None), got {timeout!r}")
    paths = execution_order(paths)
    if not paths:
        raise FileNotFoundError("no notebooks to execute: pass notebooks/*.ipynb")
    old, times = _set_run_env(quick, out), {}
    # a notebook run twice (00-*) is timed once, by its last run
    try:
        for path in paths:
            target = pathlib.Path(out) / path.name if quick else path
            log(
                f"== executing {path}"
                + (f" -> {target} (NNETLIB_QUICK=1)" if quick else " (in place)")
            )
            try:
                times[path.name] = run_one(path, target, timeout)
            except Exception:
                log(f"   {path.name}: FAILED, {target} left as it was")
                raise
            log(
                f"   {path.name}: {times[path.name][1]:.1f} s in cells, {times[path.name][0]:.1f} s in all"
            )
    finally:
        _restore_env(old)
    mode = "classroom mode (NNETLIB_QUICK=1)" if quick else "full size"
    log(
        f"notebook time, {mode}: {sum(c for _, c in times.values()):.1f} s in cells, "
        f"{sum(t for t, _ in times.values()):.1f} s with kernel start-ups, {len(times)} notebooks"
    )
    return times
