"""Repository-wide pytest set-up.

nbval (``pytest --nbval notebooks/*.ipynb``) compares every output stream of
every cell with the one stored in the notebook, stderr included. stderr holds
what we never want to compare: tqdm progress bars (on in ``make report``, off
under CI), warnings, library log lines. nbval has no switch for this and its
sanitize regexes cannot remove a whole stream, so here its comparison is
wrapped to drop stderr stream outputs on both sides. stdout, results and
rich outputs are still compared, after tests/nbval_sanitize.cfg.

Set NNETLIB_NBVAL_STDERR=1 to compare stderr too.
"""

import os


def _drop_stderr(outputs):
    kept = []
    for out in outputs:
        otype = out.get("output_type") if hasattr(out, "get") else None
        # nbval hands over NotebookNodes (name="stderr") or, after its own
        # transform, dicts keyed by the stream name ({"stderr": text})
        if otype == "stream" and (out.get("name") == "stderr" or "stderr" in out):
            continue
        kept.append(out)
    return kept


def pytest_configure(config):
    if not (getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)):
        return
    if os.environ.get("NNETLIB_NBVAL_STDERR", "") not in ("", "0"):
        return
    from nbval import plugin

    original = plugin.IPyNbCell.compare_outputs
    if getattr(original, "_nnetlib_drops_stderr", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        return original(self, _drop_stderr(test), _drop_stderr(ref), skip_compare)

    compare_outputs._nnetlib_drops_stderr = True
    plugin.IPyNbCell.compare_outputs = compare_outputs
