"""Plotting helpers with one shared style for every report notebook.

Call ``use_style()`` once at the top of a notebook; the helpers below then
draw on Matplotlib axes with the same sizes, fonts, grid and colours
everywhere.  The style is deliberately plain (close to the d2l book's):
small figures, a light grid, a fixed colour cycle, no top/right spines.

Helpers and the notebooks that use them:

* ``new_axes``              -- all notebooks
* ``plot_curves``           -- 02, 04, 05, 07, 08 (loss / accuracy per epoch,
                               generation or learning rate)
* ``bar_log``               -- 01, 03, 06 (counts and timings on a log scale)
* ``seed_spread``           -- 04, 05, 07 (one value per random seed, mean ± sd,
                               beside the article's single figure)
* ``image_grid``            -- 04, 05, 07 (digits, reconstructions, hidden units)
* ``confusion_matrix``,
  ``confusion_matrix_plot`` -- 04
* ``histogram``             -- 02 (relative errors of gradient checks)
* ``COLORS``                -- the colour cycle, for bars coloured by group

Only Matplotlib and NumPy are needed; nothing here imports pyplot before
``new_axes``/``image_grid`` are called, so importing the module is cheap and
safe on a headless machine (the Agg backend works).
"""

import numpy as np

#: the fixed colour cycle (colour-blind friendly, Okabe-Ito order)
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

#: rcParams set by ``use_style``
STYLE = {
    "figure.figsize": (4.5, 3.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "figure.autolayout": False,
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linestyle": "-",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.size": 10,
    "lines.linewidth": 1.6,
    "lines.markersize": 4,
    "image.cmap": "gray",
}


def use_style():
    """Apply the report's style to Matplotlib's global rcParams (all notebooks)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(STYLE)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(COLORS))


def new_axes(n=1, ncols=None, figsize=None, **subplot_kw):
    """A figure with ``n`` axes in a row (or ``ncols`` per row).

    Returns ``(fig, ax)`` for ``n == 1`` and ``(fig, axes)`` with a flat
    array of axes otherwise.  ``figsize`` defaults to the style's size per
    panel.  Used by all notebooks.
    """
    import matplotlib.pyplot as plt

    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    n = int(n)
    ncols = n if ncols is None else min(int(ncols), n)
    nrows = -(-n // ncols)
    if figsize is None:
        w, h = STYLE["figure.figsize"]
        figsize = (w * ncols, h * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, **subplot_kw)
    flat = axes.ravel()
    for extra in flat[n:]:
        extra.remove()
    return (fig, flat[0]) if n == 1 else (fig, flat[:n])


def _label(ax, xlabel=None, ylabel=None, title=None):
    """Set whichever of the axis labels and title are given."""
    for setter, text in ((ax.set_xlabel, xlabel), (ax.set_ylabel, ylabel), (ax.set_title, title)):
        if text:
            setter(text)


def _color(i):
    return COLORS[i % len(COLORS)]


def plot_curves(
    ax,
    xs,
    ys_dict,
    xlabel=None,
    ylabel=None,
    title=None,
    article=None,
    logy=False,
    markers=None,
    legend=True,
    bands=None,
):
    """Curves ``ys_dict[name]`` against ``xs`` (02, 04, 05, 07, 08).

    ``xs`` is one sequence shared by every curve, or a dict with a sequence
    per name.  ``bands`` (optional) gives ``{name: (low, high)}`` sequences,
    shaded around that curve (mean ± sd over random seeds, 04 and 05).
    ``article`` holds reference values (de Mayo (2021)'s figures, or any
    fixed reference), drawn dashed: ``{name: y}`` is a horizontal line at
    ``y``; ``{name: (x, y)}`` is a dashed line with round markers through
    those points.  Returns ``ax``.
    """
    if not ys_dict:
        raise ValueError("ys_dict must hold at least one curve")
    i = 0
    for i, (name, ys) in enumerate(ys_dict.items()):
        x = xs[name] if isinstance(xs, dict) else xs
        x = np.arange(1, len(ys) + 1) if x is None else np.asarray(x)
        ys = np.asarray(ys, dtype=float)
        if x.shape != ys.shape:
            raise ValueError(f"curve {name!r}: {x.shape[0]} x values for {ys.shape[0]} y values")
        ax.plot(x, ys, color=_color(i), label=name, marker=markers)
        if bands and name in bands:
            low, high = (np.asarray(b, dtype=float) for b in bands[name])
            if low.shape != ys.shape or high.shape != ys.shape:
                raise ValueError(f"band {name!r}: needs {ys.shape[0]} low and high values")
            ax.fill_between(x, low, high, color=_color(i), alpha=0.2, linewidth=0)
    for j, (name, ref) in enumerate((article or {}).items(), start=i + 1):
        if np.ndim(ref) == 0:
            ax.axhline(float(ref), color=_color(j), linestyle="--", linewidth=1.2, label=name)
        else:
            rx, ry = ref
            ax.plot(rx, ry, color=_color(j), linestyle="--", marker="o", linewidth=1.2, label=name)
    if logy:
        ax.set_yscale("log")
    _label(ax, xlabel, ylabel, title)
    if legend:
        ax.legend()
    return ax


def bar_log(
    ax,
    labels,
    values,
    ylabel=None,
    title=None,
    annotate=True,
    fmt="{:.3g}",
    colors=None,
    article=None,
    article_label="de Mayo (2021)",
    errors=None,
):
    """Bars of ``values`` on a log scale, one per label (01, 03, 06).

    ``annotate`` writes each value above its bar with ``fmt``.  ``article`` is
    an optional sequence of reference values (NaN for none) drawn as dashed
    horizontal ticks over the bars, labelled ``article_label`` in the legend.
    ``errors`` (optional, one per bar) draws a spread as error bars.
    Returns ``ax``.
    """
    labels = [str(s) for s in labels]
    values = np.asarray(values, dtype=float)
    if values.shape != (len(labels),):
        raise ValueError(f"{len(labels)} labels for {values.size} values")
    if np.any(~np.isfinite(values)) or np.any(values <= 0):
        raise ValueError("bar_log needs finite positive values")
    pos = np.arange(len(labels))
    colors = colors or [_color(i) for i in range(len(labels))]
    ax.bar(pos, values, color=colors, width=0.65)
    if errors is not None:
        errors = np.asarray(errors, dtype=float)
        if errors.shape != values.shape:
            raise ValueError(f"{errors.size} errors for {values.size} values")
        ax.errorbar(
            pos,
            values,
            yerr=np.minimum(errors, 0.99 * values),
            fmt="none",
            ecolor="k",
            capsize=3,
            linewidth=1,
        )
    ax.set_yscale("log")
    ax.set_xticks(pos, labels)
    ax.grid(axis="x", visible=False)
    if annotate:
        for p, v in zip(pos, values):
            ax.annotate(
                fmt.format(v),
                (p, v),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    if article is not None:
        article = np.asarray(article, dtype=float)
        if article.shape != values.shape:
            raise ValueError(f"{article.size} article values for {values.size} bars (NaN for none)")
        for p, ref in zip(pos, article):
            if np.isfinite(ref):
                ax.hlines(ref, p - 0.4, p + 0.4, colors="k", linestyles="--", linewidth=1.2)
        ax.plot([], [], "k--", label=article_label)
        ax.legend()
    top = values.max() if article is None else np.nanmax(np.append(article, values.max()))
    ax.set_ylim(top=top * 3)
    _label(ax, ylabel=ylabel, title=title)
    return ax


def seed_spread(
    ax, stats, article=None, ylabel=None, title=None, fmt="{:.3g}", article_label="de Mayo (2021)"
):
    """Per variant: one dot per random seed, the mean ± sd as an error bar (04, 05, 07).

    ``stats`` is ``{name: stat}`` with stats from ``experiments.stat``;
    ``article`` (optional) ``{name: value}`` draws the article's single
    figure for that variant as a black dash.  Returns ``ax``.
    """
    if not stats:
        raise ValueError("stats must hold at least one variant")
    names = list(stats)
    for i, name in enumerate(names):
        s = stats[name]
        if not {"mean", "sd", "values"} <= set(s):
            raise ValueError(f"stats[{name!r}] must be a stat with mean, sd and values")
        values = np.asarray(s["values"], dtype=float)
        jitter = np.linspace(-0.12, 0.12, values.size) if values.size > 1 else np.zeros(1)
        ax.plot(i + jitter, values, "o", color=_color(i), alpha=0.55, markersize=4)
        ax.errorbar(i + 0.25, s["mean"], yerr=s["sd"], fmt="s", color=_color(i), capsize=4)
        ax.annotate(fmt.format(s["mean"]), (i + 0.32, s["mean"]), fontsize=8, va="center")
    shown = False
    for i, name in enumerate(names):
        if article and name in article:
            ax.hlines(
                article[name],
                i - 0.3,
                i + 0.3,
                colors="k",
                linestyles="--",
                linewidth=1.4,
                label=None if shown else article_label,
            )
            shown = True
    ax.set_xticks(range(len(names)), names)
    ax.set_xlim(-0.6, len(names) - 0.2)
    ax.grid(axis="x", visible=False)
    if shown:
        ax.legend()
    _label(ax, ylabel=ylabel, title=title)
    return ax


def image_grid(
    images,
    nrows,
    ncols,
    shape=(28, 28),
    titles=None,
    symmetric=False,
    cmap=None,
    size=1.0,
    suptitle=None,
):
    """Show ``images`` (rows of pixels, or 2-D images) on an nrows x ncols grid (04, 05, 07).

    ``symmetric`` centres the colour map on 0 (a diverging map, for weights
    of hidden units); otherwise images are drawn in gray with their own
    range.  ``size`` is the side of one panel in inches.  Returns
    ``(fig, axes)`` with axes shaped (nrows, ncols).
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=float)
    n = images.shape[0]
    if n > nrows * ncols:
        raise ValueError(f"{n} images do not fit a {nrows} x {ncols} grid")
    if images.ndim == 2:
        images = images.reshape((n,) + tuple(shape))
    if titles is not None and len(titles) != n:
        raise ValueError(f"{len(titles)} titles for {n} images")
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * size, nrows * size + (0.3 if suptitle else 0)), squeeze=False
    )
    for idx, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if idx >= n:
            continue
        img = images[idx]
        if symmetric:
            m = float(np.max(np.abs(img))) or 1.0
            ax.imshow(img, cmap=cmap or "RdBu_r", vmin=-m, vmax=m, interpolation="nearest")
        else:
            ax.imshow(img, cmap=cmap or "gray", interpolation="nearest")
        if titles is not None:
            ax.set_title(str(titles[idx]), fontsize=8, pad=2)
    if suptitle:
        fig.suptitle(suptitle)
    return fig, axes


def confusion_matrix(labels, predictions, n_classes=10):
    """Counts ``cm[true, predicted]`` as an int array (04)."""
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise ValueError("labels and predictions must be 1-D and of equal length")
    if labels.size and (
        min(labels.min(), predictions.min()) < 0
        or max(labels.max(), predictions.max()) >= n_classes
    ):
        raise ValueError(f"classes must lie in [0, {n_classes})")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (labels, predictions), 1)
    return cm


def confusion_matrix_plot(ax, cm, class_names=None, normalize=False, annotate=True, title=None):
    """Draw a confusion matrix (rows: true class, columns: predicted) (04).

    ``normalize=True`` shows each row as fractions of that class.  Returns ``ax``.
    """
    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    n = cm.shape[0]
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    ax.imshow(shown, cmap="Blues")
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.grid(False)
    if annotate:
        top = shown.max() if shown.size else 1
        for r in range(n):
            for c in range(n):
                v = shown[r, c]
                text = f"{v:.2f}" if normalize else f"{int(round(v))}"
                ax.text(
                    c,
                    r,
                    text,
                    ha="center",
                    va="center",
                    fontsize=6 if n > 6 else 8,
                    color="white" if v > 0.6 * top else "black",
                )
    _label(ax, title=title)
    return ax


def histogram(
    ax,
    values,
    log=True,
    bins=40,
    xlabel=None,
    ylabel="count",
    title=None,
    label=None,
    color=None,
    vline=None,
):
    """Histogram of ``values``; ``log=True`` uses log-spaced bins and a log x-axis (02).

    With ``log`` the values must be positive (zeros are dropped and counted in
    the legend).  ``vline`` draws a dashed vertical reference (e.g. a
    tolerance).  Returns ``ax``.
    """
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if log:
        zeros = int(np.sum(values <= 0))
        values = values[values > 0]
        if values.size == 0:
            raise ValueError("no positive values to histogram on a log axis")
        lo, hi = np.log10(values.min()), np.log10(values.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.logspace(lo, hi, int(bins) + 1)
        if zeros and label is not None:
            label = f"{label} ({zeros} exact zeros not shown)"
        ax.hist(values, bins=edges, color=color or COLORS[0], label=label)
        ax.set_xscale("log")
    else:
        ax.hist(values, bins=int(bins), color=color or COLORS[0], label=label)
    if vline is not None:
        ax.axvline(vline, color=COLORS[1], linestyle="--", linewidth=1.2)
    _label(ax, xlabel, ylabel, title)
    if label is not None:
        ax.legend()
    return ax
