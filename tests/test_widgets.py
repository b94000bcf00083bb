"""Tests for nnetreport.widgets: the case explorer of 01-derivation builds,
its controls are bounded by the net's widths, and changing one updates the
case, the formula line, the value and the figure, all without a display."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnetlib import PyNet  # noqa: E402
from nnetreport import diagram, widgets  # noqa: E402

LAYERS = (3, 4, 4, 3, 2)


@pytest.fixture(scope="module")
def net_x():
    net = PyNet(LAYERS, seed=0, dtype="float64")
    x = np.random.default_rng(1).random((1, LAYERS[0]))
    return net, x


@pytest.fixture
def explorer(net_x):
    net, x = net_x
    return widgets.case_explorer(net, x, l=4, q=0, k=1, i=2, j=3)


def _values(control):
    return [v for _, v in control.options]


def test_it_builds_with_the_first_state(explorer, net_x):
    net, x = net_x
    net.feedforward(x)
    assert explorer.index == (4, 0, 1, 2, 3)
    assert explorer.case == "recursive" == diagram.dadw_case(LAYERS, 4, 0, 1, 2, 3)
    assert explorer.value == net.dadw(4, 0, 1, 2, 3)
    assert f"{explorer.value:.9g}" in explorer.line and "recursive" in explorer.line
    assert bytes(explorer.image.value) == b""  # drawn when first shown, not before
    assert explorer.widget.children[1].children == tuple(explorer.controls.values())
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert explorer.image.layout.display is None and explorer.note.layout.display == "none"


def test_the_controls_are_bounded_by_the_widths(explorer):
    c = explorer.controls
    assert _values(c["l"]) == list(range(5)) and _values(c["k"]) == list(range(4))
    assert _values(c["q"]) == [0, 1]  # the output layer: no bias neuron
    assert _values(c["i"]) == [0, 1, 2, 3, 4]  # layer 1 and its bias, i = 4
    assert _values(c["j"]) == [0, 1, 2, 3]
    c["l"].value = 2
    assert _values(c["q"]) == [0, 1, 2, 3, 4] and c["q"].options[-1][0] == "4 (bias)"
    c["k"].value = 3
    assert _values(c["i"]) == [0, 1, 2, 3] and _values(c["j"]) == [0, 1]
    assert c["j"].value == 1  # j = 3 no longer exists: the largest valid j


@pytest.mark.parametrize(
    "l, q, case",
    [
        (0, 1, "l0"),
        (2, 4, "bias"),
        (1, 2, "k_ge_l"),
        (2, 0, "j_ne_q"),
        (2, 3, "direct"),
        (3, 1, "shortcut"),
    ],
)
def test_a_control_change_updates_case_value_and_figure(explorer, net_x, l, q, case):
    net, x = net_x
    net.feedforward(x)
    before = bytes(explorer.image.value)
    explorer.controls["l"].value = l  # the observer calls update
    explorer.controls["q"].value = q
    assert explorer.case == case
    assert explorer.value == net.dadw(l, q, 1, 2, 3)
    assert f"{explorer.value:.9g}" in explorer.text.value
    assert bytes(explorer.image.value) != before
    # the formula's factors multiply out to PyNet.dadw
    assert abs(explorer.product - explorer.value) <= 1e-15
    if case in widgets.ZERO_REASONS:
        assert explorer.value == 0.0 and "= 0" in explorer.line


def test_update_called_directly(explorer, net_x):
    net, x = net_x
    explorer._busy = True  # change values without the observers...
    explorer.controls["q"].value = 1
    explorer.controls["i"].value = 4
    explorer._busy = False
    assert explorer.line.startswith("∂a⁴₀/∂w¹₂₃")  # ...so the shown state is still the old one
    explorer.update()
    net.feedforward(x)
    assert explorer.case == "recursive" and explorer.value == net.dadw(4, 1, 1, 4, 3)
    assert explorer.line.startswith("∂a⁴₁/∂w¹₄₃ = g'(h⁴₁) · Σᵣ w³ᵣ₁ ∂a³ᵣ/∂w¹₄₃ = ")
    # a change of l reaches the same update through the observer, and resets q's options
    explorer.controls["l"].value = 3
    assert explorer.case == "shortcut" and explorer.value == net.dadw(3, 1, 1, 4, 3)
    assert explorer.line.startswith("∂a³₁/∂w¹₄₃ = g'(h³₁) · w²₃₁ · g'(h²₃) · a¹₄")


def test_the_explorer_keeps_its_own_copy(net_x):
    net, x = net_x
    e = widgets.case_explorer(net, x, l=2, q=3, k=1, i=2, j=3)
    value = e.value
    net.feedforward(np.zeros((1, LAYERS[0])))  # the caller's net fed something else
    e.update()
    assert e.value == value


def test_static_output_says_the_controls_need_a_kernel(explorer, capsys):
    explorer.show_static()
    out = capsys.readouterr().out
    assert explorer.line in out and "running" in out and "kernel" in out
    # the widget then leaves the first figure to the static output, and draws on a change
    assert explorer.widget.children
    assert bytes(explorer.image.value) == b"" and explorer.image.layout.display == "none"
    explorer.controls["q"].value = 1
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert explorer.image.layout.display is None and explorer.note.layout.display == "none"


def test_bad_start_and_big_nets_are_refused(net_x):
    net, x = net_x
    with pytest.raises(ValueError, match="no bias neuron"):
        widgets.case_explorer(net, x, l=4, q=2)
    with pytest.raises(ValueError, match="must be an int"):
        widgets.case_explorer(net, x, l=1, q=9)
    with pytest.raises(ValueError, match="at most"):
        widgets.case_explorer(PyNet((30, 2), seed=0), np.zeros((1, 30)))


def test_the_figure_text_is_at_least_9_pt(explorer):
    fig = explorer.figure()
    ax = fig.axes[0]
    sizes = [t.get_fontsize() for t in ax.texts] + [
        t.get_fontsize() for t in ax.get_legend().get_texts()
    ]
    assert min(sizes) >= widgets.MIN_FONT
