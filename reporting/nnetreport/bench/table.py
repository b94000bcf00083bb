"""The benchmark's table, as text, and its JSON file."""

import json

from .memory import MEMORY_BATCHES
from .plan import ARTICLE_TABLE, CUDA_IMPLS, PY_BUDGET_S, impl_table

WIDTH = 11  # characters per column


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
    text = f"{mem[key] / 2**20:.1f}"
    return ("≥" + text) if mem.get("lower_bound") else text


def _header(result):
    meta = result["meta"]
    n = meta["threads"]
    load = ""
    if meta.get("load_average_start") is not None and meta.get("load_average_end") is not None:
        load = f"; load average {meta['load_average_start']:g} at start, {meta['load_average_end']:g} at end"
    contend = meta.get("contend") or 0
    busy = (
        f"; LOAD: {contend} busy competitor process{'es' * (contend > 1)} (bench --contend "
        f"{contend}) ran throughout"
        if contend
        else ""
    )
    return [
        f"nnetlib bench: seconds per epoch ({meta['epoch_samples']:,} samples, batch {meta['batch_size']}, "
        f"lr {meta['lr']:g}, momentum {meta['momentum']:g}, {meta['order']}, {meta['dtype']})",
        f"CPU: {meta['cpu']} ({meta['cores']} cores available); threads ×1 and ×{n} "
        f"(torch.set_num_threads + threadpoolctl BLAS limit)"
        + (f"; GPU: {meta['gpu']}" if meta.get("gpu") else "")
        + busy,
        f"python {meta['python']}, numpy {meta['numpy']}, torch {meta['torch']}; {meta['date']}"
        + load,
        f"data: {meta['data']}",
        f"method: median of {meta['repeats']} interleaved rounds; each times {meta['batches']} "
        f"batch{'es' * (meta['batches'] > 1)} after 1 untimed warm-up batch; "
        f"* = extrapolated to {meta['epoch_batches']} batches",
        "",
    ]


def _row(name, unit, cells):
    return f"{name:<14}{unit:<13}" + "".join(f"{s:>{WIDTH}}" for s in cells)


def _net_rows(result, net):
    """The rows of one net: seconds, ratio, memory."""
    cols, impls = result["columns"], net["impls"]
    cells = {"s": [], "r": [], "t": [], "k": [], "m": [], "f": []}
    for c in cols:
        e = impls.get(c)
        if e is None:
            cells["s"].append("skip" if c in net["skipped"] else "-")
            for key in "rtkmf":
                cells[key].append("-")
            continue
        mark = ("†" if c == "py" else "*") if e["extrapolated"] else ""
        cells["s"].append(_fmt_seconds(e["epoch_s"]) + mark)
        cells["r"].append(_fmt_ratio(e["ratio"]))
        train = e.get("train_epoch_s")
        cells["t"].append("-" if train is None else _fmt_seconds(train) + mark)
        cells["k"].append(_fmt_ratio(e.get("train_over_kernel")))
        cells["m"].append(_fmt_mib(e.get("memory")))
        cells["f"].append(_fmt_mib(e.get("memory"), "first_step_bytes"))
    lines = [
        "",
        _row(net["name"], "s/epoch", cells["s"]),
        _row("-".join(map(str, net["layers"])), "÷ torch", cells["r"]),
    ]
    if any(v != "-" for v in cells["t"]):  # nnetlib.train on the same batches
        lines.append(_row("", "train s/ep", cells["t"]))
        lines.append(_row("", "train÷kernel", cells["k"]))
    if any(s != "-" for s in cells["m"]):
        lines.append(_row("", "+RSS MiB", cells["m"]))
    if any(s != "-" for s in cells["f"]):
        lines.append(_row("", "1st step MiB", cells["f"]))
    dev = {c: ((impls.get(c) or {}).get("memory") or {}).get("device_added_bytes") for c in cols}
    if any(v is not None for v in dev.values()):
        lines.append(
            _row("", "+GPU MiB", ["" if v is None else f"{v / 2**20:.1f}" for v in dev.values()])
        )
    return lines


def _method_notes(result):
    """Footnotes on extrapolation, references and memory."""
    meta, cols, labels = result["meta"], result["columns"], result["labels"]
    notes = []
    star = {
        e["basis"]
        for net in result["nets"].values()
        for c, e in net["impls"].items()
        if e["extrapolated"] and c != "py"
    }
    if star:
        notes.append(
            f"* extrapolated to {meta['epoch_samples']:,} samples from "
            f"{', '.join(sorted(star))} of {meta['batch_size']}"
        )
    py = [
        f"{name} {net['impls']['py']['basis']}"
        for name, net in result["nets"].items()
        if "py" in net["impls"]
    ]
    if py:
        notes.append(
            f"† py extrapolated to {meta['epoch_samples']:,} samples from "
            f"{', '.join(py)} (one step each, no warm-up)"
        )
    if "gpu" in cols:
        notes.append(
            "gpu: one whole epoch per measurement (GpuNet.train_epoch, CUDA graph), not extrapolated"
        )
    if "tg" in cols:
        notes.append(
            f"{labels['tg']}: one whole epoch per measurement of PyTorch's own loop on TorchNet's "
            "model (autograd, nn.MSELoss, torch.optim.SGD with momentum) captured in one CUDA "
            "graph (nnetreport/bench/torch_graph.py), not extrapolated; no train s/ep"
        )
    if any("train_epoch_s" in e for net in result["nets"].values() for e in net["impls"].values()):
        notes.append(
            "train s/ep: nnetlib.train(net, (x, y), epochs=1) on the same rows, labels for a "
            "classifier, timed right after the kernel in each round; train÷kernel: that / s/epoch"
            + (
                "; train shuffles its batches (shuffle=True, seed 0), the kernel runs them in "
                "file order"
                if meta.get("train_order", "file order") != "file order"
                else ""
            )
        )
    by_ref = {}
    for c in cols:
        if result["refs"].get(c) in cols and result["refs"][c] != c:
            by_ref.setdefault(result["refs"][c], []).append(labels[c])
    if by_ref:
        table = impl_table(meta["threads"])
        notes.append(
            "÷ torch: time / the torch column at the same thread count"
            + (" or on the same GPU" if "tg" in by_ref else "")
            + " ("
            + "; ".join(f"{', '.join(v)} ÷ {table[r]['label']}" for r, v in by_ref.items())
            + ")"
        )
    if meta.get("memory_method"):
        notes.append(
            f"+RSS: peak resident memory added by {MEMORY_BATCHES} training batches after a "
            f"first step (py: one step on its samples); 1st step MiB: the first step alone, "
            f"one-time set-up (thread pools, code pages) included; a fresh subprocess per "
            f"cell, random data; see nnetreport/bench/memory.py"
        )
        if any(c in CUDA_IMPLS for c in cols):
            notes.append(
                "+GPU: torch.cuda.max_memory_allocated above the baseline, graph capture included"
            )
    return notes


def article_note(article=None):
    """One line with de Mayo (2021)'s timing table as printed."""
    article = article or ARTICLE_TABLE
    names = {"py": "py", "np": "np", "cy": "cy", "tr": "torch"}
    cols = "; ".join(
        f"{cpu}: " + ", ".join(f"{names[k]} {v:g}" for k, v in row.items())
        for cpu, row in article.items()
    )
    return f"de Mayo (2021), classifier, s/epoch as printed: {cols}"


def _skip_notes(result):
    meta, labels = result["meta"], result["labels"]
    notes = [
        f"{impl_table(meta['threads'])[impl]['label']}: skipped, {why}"
        for impl, why in result["skipped"].items()
    ]
    for name, net in result["nets"].items():
        for impl, why in net["skipped"].items():
            notes.append(f"{labels.get(impl, impl)} {name}: {why}")
        for impl, e in net["impls"].items():
            mem = e.get("memory") or {}
            if "error" in mem:
                notes.append(f"{labels[impl]} {name} memory: {mem['error']}")
            if e["rounds"] < meta["repeats"]:
                notes.append(
                    f"{labels[impl]} {name}: {e['rounds']} of {meta['repeats']} rounds "
                    f"(PyNet time budget {PY_BUDGET_S:g} s)"
                )
    return notes + meta.get("notes", [])


def format_table(result):
    """The table of a ``run_benchmark`` result, laid out like de Mayo
    (2021)'s, as text."""
    cols, labels = result["columns"], result["labels"]
    lines = _header(result)
    lines += [
        _row("", "", [labels[c] for c in cols]),
        _row(
            "",
            "threads",
            [str(result["threads"][c]) if c not in CUDA_IMPLS else "-" for c in cols],
        ),
    ]
    for name, net in result["nets"].items():
        lines += _net_rows(result, dict(net, name=name))
    lines.append("")
    lines += _method_notes(result)
    lines.append(article_note(result.get("article_table")))
    lines += _skip_notes(result)
    return "\n".join(lines)


def write_json(result, path):
    """Write ``result`` as JSON to ``path`` atomically."""
    from nnetlib.nets.base import write_atomically

    text = json.dumps(result, indent=2, default=float) + "\n"
    write_atomically(path, lambda f: f.write(text.encode()))
