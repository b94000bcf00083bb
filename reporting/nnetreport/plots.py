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
* ``image_grid``            -- 04, 05, 07 (digits, reconstructions)
* ``weight_grid``           -- 05, 07 (incoming weights of hidden units, one
                               shared colour scale and its colorbar)
* ``confusion_matrix``,
  ``confusion_matrix_plot`` -- 04
* ``histogram``             -- 02 (relative errors of gradient checks)
* ``small_text``            -- tests: the texts of a figure below ``MIN_FONT_SIZE``
* ``COLORS``                -- the colour cycle, for bars coloured by group

Every text the helpers draw is at least ``MIN_FONT_SIZE`` (9 pt), and so is
every size ``use_style`` sets.

Only Matplotlib and NumPy are needed; nothing here imports pyplot before
``new_axes``/``image_grid`` are called, so importing the module is cheap and
safe on a headless machine (the Agg backend works).
"""

import numpy as np

#: the fixed colour cycle (colour-blind friendly, Okabe-Ito order)
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

#: the smallest text, in points, in any figure of the report
MIN_FONT_SIZE = 9

#: rcParams set by ``use_style`` (no text below ``MIN_FONT_SIZE``)
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
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "figure.titlesize": 11,
    "figure.labelsize": 10,
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
    article_label="de Mayo (2021)",
    zero_floor=None,
):
    """Curves ``ys_dict[name]`` against ``xs`` (02, 04, 05, 07, 08).

    ``xs`` is one sequence shared by every curve, or a dict with a sequence
    per name.  ``bands`` (optional) gives ``{name: (low, high)}`` sequences,
    shaded around that curve (mean ± sd over random seeds, 04 and 05).
    ``article`` holds reference values (de Mayo (2021)'s figures, or any
    fixed reference), drawn dashed: ``{name: y}`` is a horizontal line at
    ``y``; ``{name: (x, y)}`` is a dashed line with round markers through
    those points.  A reference named like a curve is that curve's: it is
    drawn in the curve's colour, and one legend entry, a black dash named
    ``article_label``, stands for all of them.  Any other reference gets a
    colour and a legend entry of its own.

    With ``logy``, a curve's exact zeros (which a log axis cannot show) are
    drawn at ``zero_floor`` (default: a power of ten below the smallest
    positive value) as hollow down-triangles, with a legend entry "exactly 0";
    the curve itself breaks there and shows its values as dots.  Returns ``ax``.
    """
    if not ys_dict:
        raise ValueError("ys_dict must hold at least one curve")
    curves = {}
    for i, (name, ys) in enumerate(ys_dict.items()):
        x = xs[name] if isinstance(xs, dict) else xs
        x = np.arange(1, len(ys) + 1) if x is None else np.asarray(x)
        ys = np.asarray(ys, dtype=float)
        if x.shape != ys.shape:
            raise ValueError(f"curve {name!r}: {x.shape[0]} x values for {ys.shape[0]} y values")
        curves[name] = (x, ys, _color(i))
    floor = _zero_floor(curves, zero_floor) if logy else None
    marked_zero = False
    for name, (x, ys, color) in curves.items():
        zero = ys == 0 if logy else np.zeros(ys.shape, bool)
        # where zeros break a curve, dots keep its isolated values visible
        marker = markers if markers is not None or not zero.any() else "o"
        ax.plot(x, np.where(zero, np.nan, ys), color=color, label=name, marker=marker)
        if zero.any():
            ax.plot(
                x[zero],
                np.full(int(zero.sum()), floor),
                linestyle="none",
                marker="v",
                markersize=7,
                markerfacecolor="none",
                markeredgecolor=color,
                label=None if marked_zero else f"exactly 0 (drawn at {floor:.0e})",
            )
            marked_zero = True
        if bands and name in bands:
            low, high = (np.asarray(b, dtype=float) for b in bands[name])
            if low.shape != ys.shape or high.shape != ys.shape:
                raise ValueError(f"band {name!r}: needs {ys.shape[0]} low and high values")
            ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)
    j = len(curves)
    own = False
    for name, ref in (article or {}).items():
        if name in curves:
            color, label, own = curves[name][2], None, True
        else:
            color, label, j = _color(j), name, j + 1
        if np.ndim(ref) == 0:
            ax.axhline(float(ref), color=color, linestyle="--", linewidth=1.2, label=label)
        else:
            rx, ry = ref
            ax.plot(rx, ry, color=color, linestyle="--", marker="o", linewidth=1.2, label=label)
    if own:
        ax.plot([], [], "k--", linewidth=1.2, label=f"{article_label} (dashed, the curve's colour)")
    if logy:
        ax.set_yscale("log")
    _label(ax, xlabel, ylabel, title)
    if legend:
        ax.legend()
    return ax


def _zero_floor(curves, zero_floor):
    """Where exact zeros are drawn on a log axis: ``zero_floor``, or a power of
    ten at least ten times below the smallest positive value of the curves."""
    if zero_floor is not None:
        if not zero_floor > 0:
            raise ValueError(f"zero_floor must be positive, got {zero_floor!r}")
        return float(zero_floor)
    positive = [ys[ys > 0] for _, ys, _ in curves.values()]
    positive = np.concatenate(positive) if positive else np.array([])
    if positive.size == 0:
        return 1e-18
    return float(10.0 ** (np.floor(np.log10(positive.min())) - 1))


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
                fontsize=MIN_FONT_SIZE,
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
        ax.annotate(
            fmt.format(s["mean"]), (i + 0.32, s["mean"]), fontsize=MIN_FONT_SIZE, va="center"
        )
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
    vmax=None,
    colorbar=False,
    colorbar_label=None,
):
    """Show ``images`` (rows of pixels, or 2-D images) on an nrows x ncols grid (04, 05, 07).

    ``symmetric`` centres the colour map on 0 (a diverging map, for weights
    of hidden units); otherwise images are drawn in gray with their own
    range.  ``vmax`` gives every panel one shared scale, [-vmax, vmax] when
    ``symmetric``, [0, vmax] otherwise; without it each panel has its own.
    ``colorbar`` (needs ``vmax``: one scale for the colorbar to mean) adds a
    colorbar beside the grid, labelled ``colorbar_label``.  ``size`` is the
    side of one panel in inches.  Returns ``(fig, axes)`` with axes shaped
    (nrows, ncols).
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
    if colorbar and vmax is None:
        raise ValueError("a colorbar needs one shared scale: pass vmax")
    # a fixed layout, in inches (constrained layout is slow on dozens of axes)
    margin, gap = 0.05, 0.06 * size
    title_h = 0.22 if titles is not None else 0.0  # room for a 9-pt title above each panel
    sup_h = 0.4 if suptitle else 0.0
    cbar_w = 1.0 if colorbar else 0.0  # the colorbar, its tick labels and its label
    width = ncols * size + (ncols - 1) * gap + 2 * margin + cbar_w
    height = nrows * (size + title_h) + (nrows - 1) * gap + 2 * margin + sup_h
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, layout="none")
    for r in range(nrows):
        for c in range(ncols):
            x0 = margin + c * (size + gap)
            y0 = height - sup_h - margin - (r + 1) * (size + title_h) - r * gap
            axes[r, c].set_position([x0 / width, y0 / height, size / width, size / height])
    shown = None
    for idx, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if idx >= n:
            continue
        img = images[idx]
        if symmetric:
            m = float(vmax) if vmax is not None else float(np.max(np.abs(img))) or 1.0
            shown = ax.imshow(img, cmap=cmap or "RdBu_r", vmin=-m, vmax=m, interpolation="nearest")
        else:
            lim = {} if vmax is None else {"vmin": 0.0, "vmax": float(vmax)}
            shown = ax.imshow(img, cmap=cmap or "gray", interpolation="nearest", **lim)
        if titles is not None:
            ax.set_title(str(titles[idx]), fontsize=MIN_FONT_SIZE, pad=2)
    if colorbar and shown is not None:
        grid_h = height - sup_h - 2 * margin
        bar_h = min(grid_h, max(1.2, 0.8 * grid_h))
        x0 = width - cbar_w + 0.15
        y0 = margin + (grid_h - bar_h) / 2
        cax = fig.add_axes([x0 / width, y0 / height, 0.15 / width, bar_h / height])
        fig.colorbar(shown, cax=cax, label=colorbar_label)
    if suptitle:
        fig.suptitle(suptitle, y=1 - 0.08 / height, va="top")
    return fig, axes


def weight_grid(
    weights,
    nrows,
    ncols,
    shape=(28, 28),
    size=0.8,
    suptitle=None,
    colorbar=True,
    label="weight",
    clip=99.5,
):
    """Incoming weights of hidden units as images on one shared colour scale (05, 07).

    ``weights`` holds one unit per row, e.g. ``net.weights[0][:-1].T`` (the
    bias row left out).  Blue is negative, red positive, white 0, on one
    symmetric scale for every panel, so that panels compare: ±(the
    ``clip`` percentile of |weights|), a few extreme weights saturating
    rather than washing out the rest.  ``colorbar`` draws that scale, labelled
    ``label``.  Returns ``(fig, axes)`` as ``image_grid``.
    """
    w = np.asarray(weights, dtype=float)
    vmax = float(np.percentile(np.abs(w), clip)) if w.size else 1.0
    return image_grid(
        w,
        nrows,
        ncols,
        shape=shape,
        symmetric=True,
        size=size,
        suptitle=suptitle,
        vmax=vmax or 1.0,
        colorbar=colorbar,
        colorbar_label=label,
    )


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


def confusion_matrix_plot(
    ax,
    cm,
    class_names=None,
    normalize=False,
    annotate=True,
    title=None,
    percent=False,
    colorbar=False,
):
    """Draw a confusion matrix (rows: true class, columns: predicted) (04).

    ``normalize=True`` shows each row as fractions of that class, ``percent=True``
    as percentages (one decimal).  The colours follow what is shown, on a
    square-root scale so that the small off-diagonal cells are not all white;
    ``colorbar`` draws that scale.  Numbers are ``MIN_FONT_SIZE`` points.
    Returns ``ax``.
    """
    from matplotlib.colors import PowerNorm

    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    n = cm.shape[0]
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize or percent else cm
    if percent:
        shown = 100 * shown
    top = float(shown.max()) if shown.size and shown.max() > 0 else 1.0
    image = ax.imshow(shown, cmap="Blues", norm=PowerNorm(0.5, vmin=0, vmax=top))
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.grid(False)
    if annotate:
        for r in range(n):
            for c in range(n):
                v = shown[r, c]
                if percent:
                    text = "0" if v == 0 else f"{v:.1f}" if v < 99.95 else "100"
                elif normalize:
                    text = f"{v:.2f}"
                else:
                    text = f"{int(round(v))}"
                ax.text(
                    c,
                    r,
                    text,
                    ha="center",
                    va="center",
                    fontsize=MIN_FONT_SIZE,
                    color="white" if v > 0.45 * top else "black",
                )
    if colorbar:
        label = (
            "% of the true class"
            if percent
            else "fraction of the true class"
            if normalize
            else "count"
        )
        ax.figure.colorbar(image, ax=ax, label=label, fraction=0.046, pad=0.03)
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


def small_text(fig, minimum=MIN_FONT_SIZE):
    """The visible texts of ``fig`` smaller than ``minimum`` points, as
    ``[(size, text), ...]`` (empty when every text is large enough); tick
    labels, titles, legends, annotations and colorbar labels alike."""
    from matplotlib.text import Text

    fig.canvas.draw()  # tick labels exist once the figure is drawn
    out = []
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and t.get_fontsize() < minimum:
            out.append((t.get_fontsize(), t.get_text()))
    return out
