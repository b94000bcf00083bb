"""The headline results of the landing page, read from the notebooks' saved results.

Every figure of "this report" comes from a JSON file that a notebook wrote with
``nnetlib.report.results.save_results`` (keys: /work/notes/results-keys.md, as
agreed between the notebook authors); the article's figures come from
``nnetlib.report.article``. A missing file or key shows as "not yet computed",
never as a number typed in here.
"""

import json
import math
import pathlib

from markupsafe import Markup, escape

from .. import article

MISSING = Markup('<span class="nn-missing">not yet computed</span>')


def load_all(folder):
    """``{notebook stem: results dict}`` for every ``folder/*.json`` (unreadable files skipped)."""
    out = {}
    folder = pathlib.Path(folder)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return out


def _get(results, stem, *keys):
    """``results[stem][k0][k1]...`` or None when any step is missing."""
    value = results.get(stem)
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _central(value):
    """The figure itself, or the mean or median of a summary; None when there is none."""
    if isinstance(value, dict):
        value = value.get("mean", value.get("median"))
    return value if _number(value) else None


def _spread(value, fmt):
    """A figure, a ``{"mean", "sd", "n"}`` or a ``{"median", "min", "max", "n"}`` summary
    (``nnetlib.report.timing``), formatted by ``fmt``."""
    if _number(value):
        return Markup(escape(fmt(value)))
    if isinstance(value, dict) and _number(value.get("median")):
        text = fmt(value["median"])
        if _number(value.get("min")) and _number(value.get("max")):
            text += f" ({fmt(value['min'])} to {fmt(value['max'])}"
            text += f", n = {int(value['n'])})" if _number(value.get("n")) else ")"
        return Markup(escape(text))
    if isinstance(value, dict) and _number(value.get("mean")):
        text = fmt(value["mean"])
        if _number(value.get("sd")):
            text += " ± " + fmt(value["sd"])
        if _number(value.get("n")):
            text += f" (n = {int(value['n'])})"
        return Markup(escape(text))
    return MISSING


def pct(x):
    return f"{100 * x:.1f} %"


def printed_pct(x):
    """A fraction as the article prints it: 0.91 -> "91 %"."""
    return f"{round(100 * x, 2):g} %"


def mse(x):
    return f"{x:.4f}"


def sci(x):
    return f"{x:.1e}"


def secs(x):
    if x < 1000:
        return f"{x:.3g} s"
    return f"{x:,.0f} s ({x / 3600:.1f} h)"


def ratio(x):
    return f"{x:,.3g}×" if x < 1000 else f"{x:,.0f}×"


def _source(stem, pages):
    """A link to the notebook page that saved ``stem``'s results."""
    page = pages.get(stem)
    if page is None:
        return Markup(escape(stem))
    return Markup('<a href="{}">{}</a>').format(page.html_name, page.title.split(" ·")[0])


def _training_table(results, pages, stem, key, title, printed, fmt, printed_fmt):
    rows = [
        [
            Markup(escape(run)),
            _spread(_get(results, stem, key, run), fmt),
            Markup(escape(printed_fmt(printed[run]))),
            _source(stem, pages),
        ]
        for run in printed
    ]
    return {
        "title": title,
        "note": "",
        "rows": rows,
        "header": ["run", "this report", "de Mayo (2021)", "notebook"],
    }


def _timing_table(results, pages):
    """Seconds per epoch here and in the article, each also divided by PyTorch's."""
    here = _get(results, "06-timing-table", "epoch_s") or {}
    threads = _get(results, "06-timing-table", "threads_N")
    printed = {
        k: article.TIMING_TABLE[k].get(article.TIMING_COLUMNS[0]) for k in article.TIMING_TABLE
    }
    printed_cy4 = article.TIMING_TABLE["cy"].get(article.TIMING_COLUMNS[2])
    columns = [
        ("py", "py", printed["py"]),
        ("np", "np", printed["np"]),
        ("cy1", "cy, 1 thread", printed["cy"]),
        ("cyN", f"cy, {threads if _number(threads) else 'N'} threads", printed_cy4),
        ("torch", "torch", printed["tr"]),
    ]
    torch_here = _central(here.get("torch"))
    rows = []
    for key, label, theirs in columns:
        mine = here.get(key)
        rows.append(
            [
                Markup(escape(label)),
                _spread(mine, secs),
                _spread(_central(mine) / torch_here, ratio)
                if _central(mine) and torch_here
                else MISSING,
                Markup(escape(secs(theirs))) if theirs else "—",
                Markup(escape(ratio(theirs / printed["tr"]))) if theirs else "—",
            ]
        )
    measured = article.MEASURED_HERE_BATCH_S
    note = (
        "Seconds per epoch of the classifier 784-16-16-10 (60,000 samples, batch 1000), and the same "
        "divided by PyTorch's. The article's column is its i7-7700HQ (its cy with 4 threads in the "
        f"threads row). Its own code, timed on this project's machine, takes {measured['cy']:g} s (cy) "
        f"and {measured['np']:g} s (np) for one batch of 1000, close to the figures it prints per "
        f"epoch. Source: {_source('06-timing-table', pages)}."
    )
    return {
        "title": "Training time of one epoch",
        "note": Markup(note),
        "rows": rows,
        "header": ["version", "this report", "÷ torch", "de Mayo (2021)", "÷ torch"],
    }


def _gradient_table(results, pages):
    checks = [
        (
            "01-derivation",
            "eq1_rel_vs_autograd",
            "eq. (1) by frontprop vs PyTorch autograd, relative difference",
        ),
        (
            "02-gradient-checks",
            "impl_max_rel_vs_torch",
            "PyNet, NpNet, CyNet vs PyTorch autograd, max relative difference",
        ),
        (
            "02-gradient-checks",
            "mnist_fd_max_abs",
            "MNIST classifier vs central differences, max absolute difference",
        ),
        (
            "08-beyond",
            "autodiff_max_abs_diff",
            "frontprop vs torch.func.jacfwd / jvp, max absolute difference",
        ),
    ]
    rows = [
        [Markup(escape(label)), _spread(_get(results, stem, key), sci), _source(stem, pages)]
        for stem, key, label in checks
    ]
    return {
        "title": "Gradient agreement with autograd",
        "note": "",
        "rows": rows,
        "header": ["check", "this report", "notebook"],
    }


def _beyond_table(results, pages):
    rows = [
        [
            "genetic algorithm, the article's settings",
            "07-genetic-algorithm",
            "article_setting_test_accuracy",
            f"below {printed_pct(article.GA_MAX_ACCURACY)}",
        ],
        ["genetic algorithm, this report's", "07-genetic-algorithm", "ours_test_accuracy", "—"],
        [
            "softmax, cross-entropy and Adam (future work in the article)",
            "08-beyond",
            "crossentropy_adam_test_accuracy",
            "—",
        ],
    ]
    return {
        "title": "Classifier test accuracy: without gradients, and beyond the article's recipe",
        "note": "",
        "header": ["run", "this report", "de Mayo (2021)", "notebook"],
        "rows": [
            [
                Markup(escape(label)),
                _spread(_get(results, stem, key), pct),
                Markup(escape(printed)),
                _source(stem, pages),
            ]
            for label, stem, key, printed in rows
        ],
    }


def tables(results, pages):
    """The landing page's tables: dicts with title, note, header and rows of HTML cells.

    ``results`` is :func:`load_all`'s dict; ``pages`` maps notebook stem to
    :class:`~nnetlib.report.site.pages.Page` (for the links to the source).
    """
    return [
        _training_table(
            results,
            pages,
            "04-mnist-classifier",
            "test_accuracy",
            "MNIST classifier 784-16-16-10: test accuracy after 16 epochs",
            article.CLASSIFIER_ACCURACY,
            pct,
            printed_pct,
        ),
        _training_table(
            results,
            pages,
            "05-mnist-autoencoder",
            "test_mse",
            "MNIST autoencoder 784-64-784: test MSE after 16 epochs",
            article.AUTOENCODER_MSE,
            mse,
            "{:g}".format,
        ),
        _timing_table(results, pages),
        _gradient_table(results, pages),
        _beyond_table(results, pages),
    ]


def quick_stems(results):
    """The notebooks whose saved results were computed in classroom mode."""
    return sorted(stem for stem, r in results.items() if isinstance(r, dict) and r.get("quick"))
