"""When to show progress bars: one rule for training, the benchmark, the
genetic algorithm and the MNIST download.

Bars are shown unless the caller passes ``progress=False``; the environment
variable ``NNETLIB_PROGRESS`` (1/0, true/false, yes/no, on/off) overrides;
without it, bars are off when ``CI`` is set.
"""

import os

_OFF = ("0", "false", "no", "off")


def progress_enabled(progress=True):
    """True when a progress bar should be drawn."""
    if not progress:
        return False
    setting = os.environ.get("NNETLIB_PROGRESS", "").strip().lower()
    if setting:
        return setting not in _OFF
    return os.environ.get("CI", "").strip().lower() in ("",) + _OFF


def progress_bar(progress=True, **kwargs):
    """A ``tqdm.auto`` bar (a widget in JupyterLab, text elsewhere), or None
    when bars are off."""
    if not progress_enabled(progress):
        return None
    from tqdm.auto import tqdm

    return tqdm(**kwargs)
