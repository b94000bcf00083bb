"""Network diagrams coloured by the case of eq. (2) (01-derivation).

For a chosen weight w^k_ij, every neuron q of every layer l is coloured by
which case of eq. (2) gives da^l_q/dw^k_ij (each non-zero case also carries
the factor g'(h^l_q)):

=============  =========================================================
case           value of da^l_q/dw^k_ij / g'(h^l_q)
=============  =========================================================
``l0``         0, the inputs do not depend on any weight (l = 0)
``bias``       0, the bias neuron q = n_l is fixed at 1
``k_ge_l``     0, w^k_ij lies at or after layer l (k >= l)
``j_ne_q``     0, k = l - 1 but w^k_ij feeds another neuron (j != q)
``direct``     a^k_i (k = l - 1, j = q)
``shortcut``   w^{l-1}_jq g'(h^{l-1}_j) a^k_i (k = l - 2: only r = j survives)
``recursive``  sum_r w^{l-1}_rq da^{l-1}_r/dw^k_ij (k < l - 2)
=============  =========================================================

Indices follow ``nnetlib.frontprop`` and notebook 01: layer l has neurons q = 0 .. n_l - 1
plus the bias neuron q = n_l; ``i`` may be the bias of layer k (i = n_k),
``j`` is a real neuron of layer k + 1.  ``dadw_case`` classifies exactly as
``PyNet.dadw`` computes.
"""

import numpy as np

#: case keys in legend order
CASES = ("l0", "bias", "k_ge_l", "j_ne_q", "direct", "shortcut", "recursive")

#: legend text for each case
CASE_LABELS = {
    "l0": "0  (l = 0)",
    "bias": "0  (bias)",
    "k_ge_l": "0  (k ≥ l)",
    "j_ne_q": "0  (k = l−1, j ≠ q)",
    "direct": r"$a^k_i$  (k = l−1, j = q)",
    "shortcut": r"$w^{l-1}_{jq}\,g'(h^{l-1}_j)\,a^k_i$  (k = l−2)",
    "recursive": r"$\Sigma_r\, w^{l-1}_{rq}\,\partial a^{l-1}_r/\partial w^k_{ij}$  (k < l−2)",
}

#: face colour for each case: greys and a pale blue for the zeros, warm
#: colours for the non-zero cases
CASE_COLORS = {
    "l0": "#E6E6E6",
    "bias": "#FFFFFF",
    "k_ge_l": "#A6A6A6",
    "j_ne_q": "#BFE3F5",
    "direct": "#D55E00",
    "shortcut": "#E69F00",
    "recursive": "#009E73",
}

#: widest layer ``draw_network`` accepts
MAX_WIDTH = 24


def _check_index(value, name, lo, hi):
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or not lo <= value <= hi
    ):
        raise ValueError(f"{name} must be an int in [{lo}, {hi}], got {value!r}")
    return int(value)


def _check_weight(layers, k, i, j):
    from nnetlib._checks import check_layers

    layers = check_layers(layers)
    L = len(layers) - 1
    k = _check_index(k, "k", 0, L - 1)
    i = _check_index(i, "i", 0, layers[k])  # i = n_k is the bias
    j = _check_index(j, "j", 0, layers[k + 1] - 1)
    return layers, k, i, j


def dadw_case(layers, l, q, k, i, j):
    """The case of eq. (2) that gives da^l_q/dw^k_ij, as a key of ``CASES``."""
    layers, k, i, j = _check_weight(layers, k, i, j)
    L = len(layers) - 1
    l = _check_index(l, "l", 0, L)
    q = _check_index(q, "q", 0, layers[l])  # q = n_l is the bias
    if l == 0:
        return "l0"
    if q == layers[l]:
        return "bias"
    if k >= l:
        return "k_ge_l"
    if k == l - 1:
        return "direct" if j == q else "j_ne_q"
    if k == l - 2:
        return "shortcut"
    return "recursive"


def _positions(layers, dx=1.6):
    """(x, y) of every neuron; bias neurons (all layers but the output) last."""
    L = len(layers) - 1
    pos = {}
    for l, n in enumerate(layers):
        count = n + (1 if l < L else 0)
        ys = (np.arange(count) - (count - 1) / 2)[::-1]
        for q in range(count):
            pos[l, q] = (l * dx, float(ys[q]))
    return pos


def draw_network(layers, k, i, j, l=None, ax=None, radius=0.28, legend=True, title=True):
    """Draw ``layers`` with neurons coloured by the case of eq. (2) for w^k_ij.

    Every layer but the output gets its bias neuron, drawn last (lowest)
    with a dashed outline and a "1" inside.  With ``l`` given, only layer
    ``l`` is coloured and the others are left blank.  The weight w^k_ij is
    drawn thick and labelled.  Returns the Axes; it holds one
    ``matplotlib.patches.Circle`` per neuron, ``sum(layers) + len(layers) - 1``
    in all.
    """
    import matplotlib.pyplot as plt

    layers, k, i, j = _check_weight(layers, k, i, j)
    L = len(layers) - 1
    if l is not None:
        l = _check_index(l, "l", 0, L)
    if max(layers) > MAX_WIDTH:
        raise ValueError(
            f"draw_network is for small networks (layers of at most {MAX_WIDTH} neurons), "
            f"got {list(layers)}"
        )
    if ax is None:
        width = 1.6 * L + 1.5 + (4.2 if legend else 0)
        height = max(max(layers) + 1, 3) * 0.62 + 0.8
        _, ax = plt.subplots(figsize=(width, height))
    pos = _positions(layers)
    _draw_edges(ax, layers, pos, k, i, j)
    ys = _draw_neurons(ax, layers, pos, k, i, j, l, radius)

    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_xlim(-0.6, 1.6 * L + 0.6)
    ax.set_ylim(min(ys) - 1.6, max(ys) + 0.6)
    if title:
        where = "every layer l" if l is None else f"layer l = {l}"
        ax.set_title(
            rf"$\partial a^l_q/\partial w^{{{k}}}_{{{i}{j}}}$ for {where}  (non-zero cases × $g'(h^l_q)$)",
            fontsize=10,
        )
    if legend:
        _draw_legend(ax)
    return ax


def _draw_edges(ax, layers, pos, k, i, j):
    """Every neuron of layer m (bias included) to every real neuron of m + 1;
    w^k_ij thick and labelled."""
    for m in range(len(layers) - 1):
        for a in range(layers[m] + 1):
            for b in range(layers[m + 1]):
                (x0, y0), (x1, y1) = pos[m, a], pos[m + 1, b]
                ax.plot([x0, x1], [y0, y1], color="#B0B0B0", linewidth=0.5, zorder=1)
    (x0, y0), (x1, y1) = pos[k, i], pos[k + 1, j]
    ax.plot([x0, x1], [y0, y1], color="#CC0066", linewidth=3.0, zorder=2, solid_capstyle="round")
    ax.annotate(
        rf"$w^{{{k}}}_{{{i}{j}}}$" if max(i, j) < 10 else rf"$w^{{{k}}}_{{{i},{j}}}$",
        ((x0 + x1) / 2, (y0 + y1) / 2),
        xytext=(0, 7),
        textcoords="offset points",
        ha="center",
        va="bottom",
        color="#CC0066",
        fontsize=11,
        zorder=5,
        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8),
    )


def _draw_neurons(ax, layers, pos, k, i, j, l, radius):
    """One circle per neuron, coloured by its case of eq. (2); returns the y coordinates."""
    from matplotlib.patches import Circle

    L = len(layers) - 1
    for (m, q), (x, y) in pos.items():
        is_bias = q == layers[m]
        if l is None or m == l:
            face = CASE_COLORS[dadw_case(layers, m, q, k, i, j)]
        else:
            face = "#FAFAFA"
        ax.add_patch(
            Circle(
                (x, y),
                radius,
                facecolor=face,
                edgecolor="#333333",
                linewidth=1.0,
                linestyle="--" if is_bias else "-",
                zorder=3,
            )
        )
        if is_bias:
            ax.text(x, y, "1", ha="center", va="center", fontsize=9, zorder=4)
    ys = [y for _, y in pos.values()]
    for m in range(L + 1):
        label = "input" if m == 0 else ("output" if m == L else "hidden")
        ax.text(m * 1.6, min(ys) - 0.55, f"layer {m}\n({label})", ha="center", va="top", fontsize=9)
    return ys


def _draw_legend(ax):
    """The cases' colours, and the bias neuron's dashed outline."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=10,
            markerfacecolor=CASE_COLORS[c],
            markeredgecolor="#333333",
            label=CASE_LABELS[c],
        )
        for c in CASES
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=10,
            markerfacecolor="white",
            markeredgecolor="#333333",
            markeredgewidth=1.0,
            label="bias neuron (a = 1), dashed",
            fillstyle="full",
        )
    )
    ax.legend(
        handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=9
    )
