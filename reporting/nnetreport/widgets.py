"""Interactive widgets of the report (01-derivation).

``case_explorer(net, x)`` is the case diagram of eq. (2) driven by controls:
pick the activation a^l_q (layer l, neuron q) and the weight w^k_ij (layer k,
from neuron i to neuron j); the diagram of ``nnetreport.diagram`` colours
every neuron by its case for that weight, rings the chosen neuron, and a line
gives the case's formula with its factors and the value of ``PyNet.dadw``.

The controls need a running kernel.  A static page (the HTML report, nbval's
stored outputs) shows only what ``CaseExplorer.show_static`` displays: the
first state as an ordinary figure and text, and a line saying so.
"""

import io

import numpy as np

from . import diagram

#: smallest font (points) in the explorer's figure; the report's figures use 9 pt text
MIN_FONT = 9

#: why each zero case of eq. (2) is zero, with {l}, {q}, {k}, {i}, {j}, {n_l} filled in
ZERO_REASONS = {
    "l0": "the inputs (l = 0) depend on no weight",
    "bias": "q = n_l = {n_l} is the bias neuron of layer {l}, fixed at 1",
    "k_ge_l": "the weight lies at or after layer l (k = {k} ≥ l = {l})",
    "j_ne_q": "k = l − 1 but the weight feeds neuron j = {j}, not q = {q}",
}

#: what each non-zero case of eq. (2) is called in the line
CASE_NAMES = {
    "direct": "direct case, k = l − 1 and j = q",
    "shortcut": "shortcut case, k = l − 2: only r = j survives",
    "recursive": "recursive case, k < l − 2: a sum over r",
}

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sup(n):
    """``n`` in Unicode superscript digits."""
    return str(n).translate(_SUP)


def sub(*ns):
    """Indices in Unicode subscript digits, comma-separated if any has two digits."""
    sep = "," if max(ns) >= 10 else ""
    return sep.join(str(n).translate(_SUB) for n in ns)


def a_sym(l, q):
    """a^l_q in plain text."""
    return f"a{sup(l)}{sub(q)}"


def w_sym(k, i, j):
    """w^k_ij in plain text."""
    return f"w{sup(k)}{sub(i, j)}"


def gp_sym(l, q):
    """g'(h^l_q) in plain text."""
    return f"g'(h{sup(l)}{sub(q)})"


def forward_activations(weights, x):
    """[a^0, ..., a^L] of one sample ``x``, each with its bias neuron (1) appended."""
    from nnetlib.activations import sigmoid

    a = [np.append(np.asarray(x, dtype=np.float64), 1.0)]
    for w in weights:
        a.append(np.append(sigmoid(a[-1] @ w), 1.0))
    return a


class CaseExplorer:
    """The case diagram of eq. (2) with controls for (l, q, k, i, j).

    ``controls`` maps each index name to its ``ipywidgets.Dropdown``, whose
    options are bounded by the net's widths (q and i include the bias
    neuron, the output layer has none).  Changing a control calls
    ``update``, which sets ``case``, ``value`` (``PyNet.dadw``),
    ``product`` (the formula's factors multiplied out) and ``line``, and
    redraws ``image`` (a PNG).  ``widget`` is the whole explorer; after
    ``show_static`` it leaves the first figure to the static output (no second
    copy in the notebook) and draws on the first change.
    """

    def __init__(self, net, x, l=None, q=0, k=0, i=0, j=0, b=0):
        import ipywidgets as w

        from nnetlib import PyNet

        self.layers = tuple(int(n) for n in net.layers)
        if max(self.layers) > diagram.MAX_WIDTH:
            raise ValueError(
                f"case_explorer draws every neuron: layers of at most {diagram.MAX_WIDTH} "
                f"neurons, got {list(self.layers)}"
            )
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.layers[0])
        self.x = x[b]
        # a float64 copy of the net, fed once: later feedforwards of ``net`` change nothing here
        self.net = PyNet(self.layers, params=np.asarray(net.params, np.float64), dtype="float64")
        self.net.feedforward(self.x[None, :])
        self.a = forward_activations(self.net.weights, self.x)
        self.L = L = len(self.layers) - 1

        def dropdown(name, options, value):
            return w.Dropdown(
                options=options,
                value=value,
                description=name,
                style={"description_width": "1.2em"},
                layout=w.Layout(width="11em"),
            )

        start_l = L if l is None else l
        diagram.dadw_case(self.layers, start_l, q, k, i, j)  # a clear error for a bad start
        if start_l == L and q == self.layers[L]:
            raise ValueError(f"the output layer has no bias neuron: q must be < {self.layers[L]}")
        self.controls = {
            "l": dropdown("l", self._l_options(), start_l),
            "q": dropdown("q", self._q_options(start_l), q),
            "k": dropdown("k", self._k_options(), k),
            "i": dropdown("i", self._i_options(k), i),
            "j": dropdown("j", self._j_options(k), j),
        }
        self.text = w.HTML()
        # the figure is drawn on the first change of a control, or when ``widget`` is
        # shown without ``show_static`` before it: a notebook then stores it once
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%", display="none"))
        self.note = w.HTML(
            "<i>The diagram above is this state; change a control to redraw it here.</i>"
        )
        self._box = w.VBox(
            [
                w.HTML(
                    "<b>Activation a<sup>l</sup><sub>q</sub> and weight w<sup>k</sup><sub>ij</sub>:</b>"
                ),
                w.HBox(list(self.controls.values())),
                self.text,
                self.note,
                self.image,
            ]
        )
        self._busy = False
        self._drawn = self._static_shown = False
        self.update(draw=False)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")

    @property
    def widget(self):
        """The explorer: a title, the five controls, the line and the figure."""
        if not (self._drawn or self._static_shown):
            self._draw()
        return self._box

    # -- the options of each control -----------------------------------------
    def _l_options(self):
        names = {0: "input", self.L: "output"}
        return [(f"{l} ({names.get(l, 'hidden')})", l) for l in range(self.L + 1)]

    def _q_options(self, l):
        n = self.layers[l]
        opts = [(str(q), q) for q in range(n)]
        return opts + ([(f"{n} (bias)", n)] if l < self.L else [])

    def _k_options(self):
        return [(f"{k} (layer {k}→{k + 1})", k) for k in range(self.L)]

    def _i_options(self, k):
        n = self.layers[k]
        return [(str(i), i) for i in range(n)] + [(f"{n} (bias)", n)]

    def _j_options(self, k):
        return [(str(j), j) for j in range(self.layers[k + 1])]

    @staticmethod
    def _reset(control, options):
        """New options for ``control``, keeping its value where it is still valid."""
        old = control.value
        values = [v for _, v in options]
        control.options = options
        control.value = old if old in values else values[-1]

    def _on_change(self, change):
        if self._busy:
            return
        self._busy = True
        try:
            if change["owner"] is self.controls["l"]:
                self._reset(self.controls["q"], self._q_options(self.controls["l"].value))
            if change["owner"] is self.controls["k"]:
                k = self.controls["k"].value
                self._reset(self.controls["i"], self._i_options(k))
                self._reset(self.controls["j"], self._j_options(k))
        finally:
            self._busy = False
        self.update()

    # -- the state shown ---------------------------------------------------------
    @property
    def index(self):
        """The chosen (l, q, k, i, j)."""
        return tuple(self.controls[n].value for n in "lqkij")

    def formula(self, l, q, k, i, j):
        """(case, the formula line with its factors, the product of the factors)."""
        a, wts = self.a, self.net.weights
        case = diagram.dadw_case(self.layers, l, q, k, i, j)
        lhs = f"∂{a_sym(l, q)}/∂{w_sym(k, i, j)}"
        if case in ZERO_REASONS:
            why = ZERO_REASONS[case].format(l=l, q=q, k=k, i=i, j=j, n_l=self.layers[l])
            return case, f"{lhs} = 0   (zero case {case}: {why})", 0.0

        def gp(m, r):
            return a[m][r] * (1 - a[m][r])  # g'(h^m_r) = a^m_r (1 - a^m_r)

        if case == "direct":
            names = [gp_sym(l, q), a_sym(k, i)]
            factors = [gp(l, q), a[k][i]]
        elif case == "shortcut":
            names = [gp_sym(l, q), w_sym(l - 1, j, q), gp_sym(l - 1, j), a_sym(k, i)]
            factors = [gp(l, q), wts[l - 1][j, q], gp(l - 1, j), a[k][i]]
        else:
            inner = sum(
                wts[l - 1][r, q] * self.net.dadw(l - 1, r, k, i, j)
                for r in range(self.layers[l - 1])
            )
            names = [gp_sym(l, q), f"Σᵣ w{sup(l - 1)}ᵣ{sub(q)} ∂a{sup(l - 1)}ᵣ/∂{w_sym(k, i, j)}"]
            factors = [gp(l, q), inner]
        product = float(np.prod(factors))
        shown = " × ".join(f"({v:.4g})" if v < 0 else f"{v:.4g}" for v in factors)
        return (
            case,
            f"{lhs} = {' · '.join(names)} = {shown} = {product:.9g}   ({CASE_NAMES[case]})",
            product,
        )

    def update(self, draw=True):
        """Recompute the case, the line and the value of the chosen index, and redraw."""
        l, q, k, i, j = self.index
        self.case, self.line, self.product = self.formula(l, q, k, i, j)
        self.value = self.net.dadw(l, q, k, i, j)
        self.text.value = (
            f"<code>{self.line}</code><br>PyNet.dadw({l}, {q}, {k}, {i}, {j}) = {self.value:.9g}"
        )
        if draw:
            self._draw()

    def _draw(self):
        """Render ``figure()`` into ``image`` and show it."""
        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", bbox_inches="tight")
        self.image.value = buf.getvalue()
        self.image.layout.display = None
        self.note.layout.display = "none"
        self._drawn = True

    def figure(self):
        """The diagram of the chosen weight with the chosen neuron ringed (a Figure, not pyplot's)."""
        from matplotlib.figure import Figure
        from matplotlib.patches import Circle

        l, q, k, i, j = self.index
        layers, L = self.layers, self.L
        fig = Figure(figsize=(1.6 * L + 5.7, max(max(layers) + 1, 3) * 0.62 + 1.0))
        ax = fig.subplots()
        diagram.draw_network(layers, k, i, j, ax=ax, title=False)
        x0, y0 = diagram._positions(layers)[l, q]
        ax.add_patch(
            Circle((x0, y0), 0.42, fill=False, edgecolor="#CC0066", linewidth=2.5, zorder=6)
        )
        ij = f"{i}{j}" if max(i, j) < 10 else f"{i},{j}"
        ax.set_title(
            rf"$\partial a^{{{l}}}_{{{q}}}/\partial w^{{{k}}}_{{{ij}}}$ = {self.value:.6g}"
            f"   ({self.case} case; ringed: the neuron $a^{{{l}}}_{{{q}}}$)",
            fontsize=11,
        )
        for text in ax.texts:
            text.set_fontsize(max(text.get_fontsize(), MIN_FONT))
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_fontsize(max(text.get_fontsize(), MIN_FONT))
        return fig

    def show_static(self):
        """Display the current state as plain output: the line, the figure, and a note
        that the controls need a running kernel (what a static page shows)."""
        from IPython.display import display

        l, q, k, i, j = self.index
        print(self.line)
        print(f"PyNet.dadw({l}, {q}, {k}, {i}, {j}) = {self.value:.9g}")
        display(self.figure())
        self._static_shown = True
        print(
            "This is the explorer's first state. Its controls (next cell) need a running "
            "Jupyter kernel; a static page such as the HTML report shows only this figure."
        )


def case_explorer(net, x, **start):
    """A ``CaseExplorer`` for ``net`` (a sigmoid net whose layers have at most
    ``diagram.MAX_WIDTH`` neurons) and the first sample of ``x``.

    ``start`` may set the first l, q, k, i, j (default: the output layer's
    neuron 0 and w^0_00).  Display ``.widget`` for the controls and
    ``.show_static()`` for the first state as ordinary output.
    """
    return CaseExplorer(net, x, **start)
