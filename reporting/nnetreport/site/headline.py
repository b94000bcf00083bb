"""The headline results of the landing page, read from the notebooks' saved results.

Every figure of "this report" comes from a JSON file that a notebook wrote with
``nnetreport.results.save_results`` (the keys each notebook saves are
listed in its last cell); the article's figures come from
``nnetreport.article``. A missing file or key shows as "not yet computed",
never as a number typed in here. ``tables(..., lang="es")`` gives the same
tables with their words in Spanish (the landing page of the Spanish edition).
"""

import json
import math
import pathlib
import re

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
    (``nnetreport.timing``), formatted by ``fmt``."""
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
    """The classifier's time per batch and per epoch here and in the article, like with like."""
    here = _get(results, "06-timing-table", "classifier") or {}
    batch, threads = here.get("batch_s") or {}, _get(results, "06-timing-table", "threads_N")
    py = _get(results, "03-python-numpy-cython", "pynet_batch_s")
    t, x1, x4 = article.TIMING_TABLE, article.TIMING_COLUMNS[0], article.TIMING_COLUMNS[2]
    n = article.BATCHES_PER_EPOCH
    tr_printed_batch = t["tr"][x1] / n  # its tr figure is an epoch (notebook 06)
    columns = [  # key, label, ours per batch, torch key at the same threads, printed, printed per batch
        ("py", "py, 1 thread", py, "tr1", t["py"][x1], t["py"][x1]),
        ("np1", "np, 1 thread", batch.get("np1"), "tr1", t["np"][x1], t["np"][x1]),
        ("cy1", "cy, 1 thread", batch.get("cy1"), "tr1", t["cy"][x1], t["cy"][x1]),
        (
            "cyN",
            f"cy, {threads if _number(threads) else 'N'} threads (article: 4)",
            batch.get(f"cy{threads}"),
            f"tr{threads}",
            t["cy"][x4],
            t["cy"][x4],
        ),
        ("tr1", "torch, 1 thread", batch.get("tr1"), "tr1", t["tr"][x1], tr_printed_batch),
    ]
    rows = []
    for _key, label, mine, ref, printed, printed_batch in columns:
        mine_c, ref_c = _central(mine), _central(batch.get(ref))
        rows.append(
            [
                Markup(escape(label)),
                _spread(mine, secs),
                Markup(escape(secs(mine_c * n))) if mine_c else MISSING,
                Markup(escape(ratio(mine_c / ref_c))) if mine_c and ref_c else MISSING,
                Markup(escape(f"{printed:g} s")),
                Markup(escape(ratio(printed_batch / tr_printed_batch))),
            ]
        )
    measured = article.MEASURED_HERE_BATCH_S
    note_es = (
        "El clasificador 784-16-16-10, batches de 1000, 60 por época. Los nuestros: segundos por "
        "batch (mediana, rango), por época, y divididos por los de PyTorch con la misma cantidad "
        'de hilos. La tabla del artículo dice "segundos por época", pero su propio código, '
        f"medido en la máquina de este proyecto, tarda {measured['cy']:g} s (cy) y "
        f"{measured['np']:g} s (np) en un batch de 1000 [medido, citado]; por eso sus cifras de "
        "py, np y cy se leen por batch, y la de tr, del orden de una época entera de PyTorch, por "
        "época; la última columna divide unidades iguales. Su columna es la i7-7700HQ (cy: 4 "
        f"hilos). Fuente: {_source('06-timing-table', pages)}."
    )
    note = (
        "The classifier 784-16-16-10, batches of 1000, 60 per epoch. Ours: seconds per batch "
        "(median, range), per epoch, and divided by PyTorch's at the same thread count. The "
        "article's table says \"seconds per epoch\", but its own code, timed on this project's "
        f"machine, takes {measured['cy']:g} s (cy) and {measured['np']:g} s (np) for one batch "
        "of 1000 [measured, quoted], so its py, np and cy figures are read per batch and its tr "
        "figure, of the order of a whole PyTorch epoch, per epoch; the last column divides like "
        f"units. Its column is the i7-7700HQ (cy: 4 threads). Source: {_source('06-timing-table', pages)}."
    )
    return {
        "title": "Training time, per batch and per epoch",
        "note": Markup(note),
        "note_es": Markup(note_es),
        "rows": rows,
        "header": [
            "version",
            "s per batch",
            "s per epoch",
            "÷ torch",
            "de Mayo (2021), as printed",
            "÷ its torch, per batch",
        ],
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
            "MSE + SGD, the article's recipe (08)",
            "08-beyond",
            ("one_change", "mse_sgd"),
            "—",
        ],
        [
            "the same with cross-entropy (future work in the article)",
            "08-beyond",
            ("one_change", "cross_entropy_sgd"),
            "—",
        ],
        ["the same with Adam (future work)", "08-beyond", ("one_change", "mse_adam"), "—"],
    ]
    return {
        "title": "Classifier test accuracy: without gradients, and beyond the article's recipe",
        "note": "",
        "header": ["run", "this report", "de Mayo (2021)", "notebook"],
        "rows": [
            [
                Markup(escape(label)),
                _spread(_get(results, stem, *(key if isinstance(key, tuple) else (key,))), pct),
                Markup(escape(printed)),
                _source(stem, pages),
            ]
            for label, stem, key, printed in rows
        ],
    }


def tables(results, pages, lang="en"):
    """The landing page's tables: dicts with title, note, header and rows of HTML cells.

    ``results`` is :func:`load_all`'s dict; ``pages`` maps notebook stem to
    :class:`~nnetreport.site.pages.Page` (for the links to the source);
    ``lang="es"``: their words in Spanish (:data:`SPANISH`).
    """
    found = [
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
    return [_in_spanish(t) for t in found] if lang == "es" else found


#: the tables' words in Spanish: titles, headers and the first column's labels
SPANISH = {
    "MNIST classifier 784-16-16-10: test accuracy after 16 epochs": (
        "Clasificador de MNIST 784-16-16-10: exactitud en test después de 16 épocas"
    ),
    "MNIST autoencoder 784-64-784: test MSE after 16 epochs": (
        "Autoencoder de MNIST 784-64-784: MSE en test después de 16 épocas"
    ),
    "Training time, per batch and per epoch": "Tiempo de entrenamiento, por batch y por época",
    "Gradient agreement with autograd": "Coincidencia de los gradientes con autograd",
    "Classifier test accuracy: without gradients, and beyond the article's recipe": (
        "Exactitud en test del clasificador: sin gradientes, y más allá de la receta del artículo"
    ),
    "run": "corrida",
    "this report": "este informe",
    "check": "verificación",
    "version": "versión",
    "s per batch": "s por batch",
    "s per epoch": "s por época",
    "de Mayo (2021), as printed": "de Mayo (2021), tal como lo imprime",
    "÷ its torch, per batch": "÷ su torch, por batch",
    "py, 1 thread": "py, 1 hilo",
    "np, 1 thread": "np, 1 hilo",
    "cy, 1 thread": "cy, 1 hilo",
    "torch, 1 thread": "torch, 1 hilo",
    "eq. (1) by frontprop vs PyTorch autograd, relative difference": (
        "ec. (1) por frontprop vs autograd de PyTorch, diferencia relativa"
    ),
    "PyNet, NpNet, CyNet vs PyTorch autograd, max relative difference": (
        "PyNet, NpNet, CyNet vs autograd de PyTorch, máxima diferencia relativa"
    ),
    "MNIST classifier vs central differences, max absolute difference": (
        "clasificador de MNIST vs diferencias centradas, máxima diferencia absoluta"
    ),
    "frontprop vs torch.func.jacfwd / jvp, max absolute difference": (
        "frontprop vs torch.func.jacfwd / jvp, máxima diferencia absoluta"
    ),
    "genetic algorithm, the article's settings": "algoritmo genético, la configuración del artículo",
    "genetic algorithm, this report's": "algoritmo genético, la de este informe",
    "MSE + SGD, the article's recipe (08)": "MSE + SGD, la receta del artículo (08)",
    "the same with cross-entropy (future work in the article)": (
        "lo mismo con entropía cruzada (trabajo futuro del artículo)"
    ),
    "the same with Adam (future work)": "lo mismo con Adam (trabajo futuro)",
}


def _words_in_spanish(text):
    """A title, header or label in Spanish (unchanged when it has no translation)."""
    match = re.fullmatch(r"cy, (\S+) threads \(article: 4\)", text)
    if match:
        return f"cy, {match.group(1)} hilos (artículo: 4)"
    match = re.fullmatch(r"below (.+)", text)
    if match:
        return f"menos de {match.group(1)}"
    return SPANISH.get(text, text)


def _cell_in_spanish(cell):
    """A cell's HTML with its words in Spanish: a label, a range "a to b", the missing marker."""
    text = str(cell).replace(">not yet computed<", ">todavía sin calcular<")
    text = re.sub(r"(\S) to (\d)", r"\1 a \2", text)  # a range: "0.1 s to 0.2 s"
    plain = Markup(text).unescape()
    translated = _words_in_spanish(plain)
    return Markup(escape(translated)) if translated != plain else Markup(text)


def _in_spanish(table):
    """One of :func:`tables`' dicts with its words in Spanish."""
    return {
        "title": _words_in_spanish(table["title"]),
        "note": table.get("note_es", table["note"]),
        "header": [_words_in_spanish(h) for h in table["header"]],
        "rows": [[_cell_in_spanish(c) for c in row] for row in table["rows"]],
    }


def quick_stems(results):
    """The notebooks whose saved results were computed in classroom mode."""
    return sorted(stem for stem, r in results.items() if isinstance(r, dict) and r.get("quick"))
