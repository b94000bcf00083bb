"""Measurements made outside this repository's runs, stored as taken, with their provenance.

Each lives in ``measured/<name>/`` beside this module: the measurement's
README (machine, date, commit, command) and its JSON files.  Nothing here is
recomputed by ``make report``; notebooks 00 and 06 quote these figures and
name their source with ``source()``.
"""

import json
import pathlib

_DIR = pathlib.Path(__file__).resolve().parent / "measured"

#: the H200 run: machine, date, the project's commit and the commands
H200 = {
    "name": "h200-2026-12-04",
    "machine": "one NVIDIA H200 (141 GB), 16 Intel Xeon cores, torch 2.11.0+cu130",
    "date": "2026-12-04",
    "commit": "eba09a3",
    "command": "python -m nnetlib bench --impls np,cy1,cyN,tr1,trN,gpu --threads 16 --repeats 3 "
    "--no-memory --no-progress --json bench16.json, and a script timing 7 epochs of each "
    "GPU variant (gpu_extra.json)",
}


def source(meta=H200):
    """One line naming a quoted measurement: machine, date, commit, command."""
    return (
        f"measured on {meta['machine']}, {meta['date']}, this project's code at {meta['commit']}: "
        f"{meta['command']} (stored in reporting/nnetreport/measured/{meta['name']})"
    )


def h200():
    """The H200 measurement: ``{"bench": bench16.json, "gpu": gpu_extra.json, "meta": H200}``.

    ``gpu`` holds ms per epoch (``epoch_classifier``, ``epoch_autoencoder``:
    ``gpunet_graph``, ``gpunet_loop``, ``torch_eager``, ``torch_graph``, 7
    epochs summarised as median, min, max), gradients against autograd on
    CUDA (``grad_*``, max relative difference) and ``train16``; ``bench``
    is the benchmark's JSON (s per epoch).
    """
    folder = _DIR / H200["name"]
    return {
        "bench": json.loads((folder / "bench16.json").read_text()),
        "gpu": json.loads((folder / "gpu_extra.json").read_text()),
        "meta": dict(H200),
    }
