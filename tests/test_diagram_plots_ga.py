"""Tests for nnetreport.diagram, nnetreport.plots and nnetreport.genetic."""

import dataclasses
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import problem  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from nnetlib import NpNet, PyNet  # noqa: E402
from nnetreport import diagram, genetic, plots  # noqa: E402

LAYERS = (3, 4, 4, 3, 2)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- diagram.dadw_case ---------------------------------------------------------


@pytest.mark.parametrize(
    "l, q, k, i, j, case",
    [
        (0, 1, 0, 0, 0, "l0"),  # inputs depend on no weight
        (0, 3, 0, 0, 0, "l0"),  # l = 0 wins over the bias rule
        (2, 4, 0, 1, 2, "bias"),  # q = n_l is the bias neuron
        (3, 3, 1, 0, 0, "bias"),
        (1, 0, 1, 0, 0, "k_ge_l"),  # k = l
        (1, 0, 3, 0, 0, "k_ge_l"),  # k > l
        (2, 1, 1, 0, 2, "j_ne_q"),  # k = l - 1, j != q
        (2, 2, 1, 0, 2, "direct"),  # k = l - 1, j = q
        (2, 2, 1, 4, 2, "direct"),  # i may be the bias of layer k
        (3, 0, 1, 1, 2, "shortcut"),  # k = l - 2
        (4, 1, 0, 3, 1, "recursive"),  # k < l - 2
    ],
)
def test_dadw_case(l, q, k, i, j, case):
    assert diagram.dadw_case(LAYERS, l, q, k, i, j) == case


def test_dadw_case_matches_pynet_zeros():
    """Every zero case is an exact 0 in PyNet.dadw; the non-zero cases are not 0."""
    x, _ = problem(LAYERS, 1, seed=3)
    net = PyNet(LAYERS, seed=1, dtype="float64")
    net.feedforward(x)
    L = len(LAYERS) - 1
    seen = set()
    for k in range(L):
        for i in range(LAYERS[k] + 1):
            for j in range(LAYERS[k + 1]):
                for l in range(L + 1):
                    for q in range(LAYERS[l] + 1):
                        case = diagram.dadw_case(LAYERS, l, q, k, i, j)
                        seen.add(case)
                        value = net.dadw(l, q, k, i, j)
                        if case in ("l0", "bias", "k_ge_l", "j_ne_q"):
                            assert value == 0.0, (l, q, k, i, j, case)
                        else:
                            assert value != 0.0, (l, q, k, i, j, case)
    assert seen == set(diagram.CASES)


@pytest.mark.parametrize(
    "args, match",
    [
        (dict(l=5, q=0, k=0, i=0, j=0), r"l must be an int in \[0, 4\], got 5"),  # no layer 5
        (
            dict(l=1, q=5, k=0, i=0, j=0),
            r"q must be an int in \[0, 4\], got 5",
        ),  # layer 1 has q <= 4
        (
            dict(l=1, q=0, k=4, i=0, j=0),
            r"k must be an int in \[0, 3\], got 4",
        ),  # no weight layer 4
        (
            dict(l=1, q=0, k=0, i=4, j=0),
            r"i must be an int in \[0, 3\], got 4",
        ),  # layer 0 has i <= 3
        (
            dict(l=1, q=0, k=0, i=0, j=4),
            r"j must be an int in \[0, 3\], got 4",
        ),  # a real neuron of layer 1
        (dict(l=1, q=0, k=0, i=0, j=-1), r"j must be an int in \[0, 3\], got -1"),
        (dict(l=1.0, q=0, k=0, i=0, j=0), r"l must be an int .*got 1\.0"),
        (dict(l=True, q=0, k=0, i=0, j=0), r"l must be an int .*got True"),
    ],
)
def test_dadw_case_rejects_bad_indices(args, match):
    with pytest.raises(ValueError, match=match):
        diagram.dadw_case(LAYERS, **args)


# -- diagram.draw_network ------------------------------------------------------


@pytest.mark.parametrize("layers, l", [(LAYERS, None), (LAYERS, 3), ((2, 3, 1), None)])
def test_draw_network_circles(layers, l):
    ax = diagram.draw_network(layers, k=0, i=1, j=0, l=l)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == sum(layers) + len(layers) - 1  # bias on all but the output
    dashed = [c for c in circles if c.get_linestyle() not in ("-", "solid")]
    assert len(dashed) == len(layers) - 1
    assert ax.get_legend() is not None


def test_draw_network_colours_follow_cases():
    ax = diagram.draw_network(LAYERS, k=1, i=2, j=1)
    faces = {
        matplotlib.colors.to_hex(c.get_facecolor()) for c in ax.patches if isinstance(c, Circle)
    }
    # L = 4 and k = 1: layer 2 holds "direct" and "j_ne_q", layer 3 "shortcut",
    # layer 4 "recursive", so every case shows up
    want = {matplotlib.colors.to_hex(diagram.CASE_COLORS[c]) for c in diagram.CASES}
    assert faces == want


def test_draw_network_on_given_axes_and_validation():
    fig, ax = plt.subplots()
    assert diagram.draw_network((2, 2, 2), 1, 2, 0, ax=ax) is ax
    with pytest.raises(ValueError, match="at most 24 neurons"):
        diagram.draw_network((784, 16, 10), 0, 0, 0)
    with pytest.raises(ValueError, match=r"k must be an int in \[0, 1\], got 2"):
        diagram.draw_network((2, 2, 2), 2, 0, 0)
    with pytest.raises(ValueError, match=r"l must be an int in \[0, 2\], got 3"):
        diagram.draw_network((2, 2, 2), 0, 0, 0, l=3)


# -- plots ---------------------------------------------------------------------


def test_plot_helpers_run_on_agg(tmp_path):
    plots.use_style()
    assert matplotlib.rcParams["axes.grid"]
    fig, axes = plots.new_axes(6, ncols=3)
    assert len(axes) == 6
    plots.plot_curves(
        axes[0],
        [1, 2, 3],
        {"a": [3, 2, 1], "b": [2, 2, 1]},
        xlabel="epoch",
        ylabel="loss",
        article={"article": 1.5, "article points": ([1, 3], [2.5, 1.2])},
        logy=True,
        bands={"a": ([2.5, 1.5, 0.5], [3.5, 2.5, 1.5])},
    )
    assert len(axes[0].get_lines()) == 4
    assert len(axes[0].collections) == 1  # the shaded band of "a"
    plots.plot_curves(axes[1], {"a": [0, 1], "b": [0, 1, 2]}, {"a": [1, 2], "b": [1, 2, 3]})
    plots.bar_log(
        axes[2], ["py", "np", "cy"], [100.0, 1.0, 0.01], ylabel="s", article=[200, np.nan, 0.02]
    )
    assert axes[2].get_yscale() == "log"
    cm = plots.confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], n_classes=3)
    assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    plots.confusion_matrix_plot(axes[3], cm, normalize=True)
    plots.histogram(axes[4], [1e-16, 1e-12, 1e-11, 0.0], log=True, label="rel. err.", vline=1e-10)
    assert axes[4].get_xscale() == "log"
    plots.histogram(axes[5], np.arange(10.0), log=False)
    fig.savefig(tmp_path / "helpers.png")
    fig2, grid = plots.image_grid(
        np.random.default_rng(0).random((5, 784)), 2, 3, titles=list("abcde")
    )
    assert grid.shape == (2, 3)
    fig3, _ = plots.image_grid(
        np.random.default_rng(0).normal(size=(4, 28, 28)), 1, 4, symmetric=True
    )
    fig2.savefig(tmp_path / "grid.png")
    # what was drawn: one bar per value at its height, each annotated; rows of the matrix normalised
    assert [b.get_height() for b in axes[2].patches] == [100.0, 1.0, 0.01]
    assert [t.get_text() for t in axes[2].texts] == ["100", "1", "0.01"]
    assert np.asarray(axes[3].images[0].get_array()).tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 1]]
    fig_one, ax_one = plots.new_axes()
    assert fig_one.axes == [ax_one]  # one panel: the Axes itself, not an array


def test_seed_spread_draws_dots_means_and_article():
    from nnetreport.experiments import stat

    fig, ax = plots.new_axes()
    plots.seed_spread(
        ax,
        {"a": stat([0.9, 0.91, 0.92]), "b": stat([0.8, 0.82])},
        article={"a": 0.95},
        ylabel="accuracy",
    )
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [len(d.get_xdata()) for d in dots] == [3, 2]
    assert ax.get_legend().get_texts()[0].get_text() == "de Mayo (2021)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="at least one"):
        plots.seed_spread(ax, {})
    with pytest.raises(ValueError, match="must be a stat"):
        plots.seed_spread(ax, {"a": {"mean": 1.0}})


def test_an_article_line_named_like_a_curve_takes_its_colour():
    fig, ax = plots.new_axes()
    plots.plot_curves(
        ax, [1, 2, 3], {"a": [1, 2, 3], "b": [2, 3, 4]}, article={"b": 3.5, "other": 0.5}
    )
    solid = {line.get_label(): line for line in ax.get_lines() if line.get_linestyle() == "-"}
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    b_ref = [
        line for line in dashed if len(line.get_ydata()) and np.allclose(line.get_ydata(), 3.5)
    ]
    assert len(b_ref) == 1 and b_ref[0].get_color() == solid["b"].get_color()
    other = [line for line in dashed if line.get_label() == "other"]
    assert other and other[0].get_color() not in {solid["a"].get_color(), solid["b"].get_color()}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "b" in labels and "other" in labels and any("de Mayo (2021)" in t for t in labels)


def test_exact_zeros_on_a_log_axis_are_marked_at_a_floor():
    fig, ax = plots.new_axes()
    gap = [0.0, 3e-17, 0.0, 1e-16]
    plots.plot_curves(ax, [1, 2, 3, 4], {"gap": gap}, logy=True)
    curve, zeros = ax.get_lines()[:2]
    assert np.isnan(curve.get_ydata()[[0, 2]]).all() and curve.get_marker() == "o"
    assert list(zeros.get_xdata()) == [1, 3] and zeros.get_marker() == "v"
    floor = zeros.get_ydata()[0]
    assert floor == 1e-18 and "exactly 0" in zeros.get_label()
    assert np.all(np.asarray(zeros.get_ydata()) == floor)
    fig2, ax2 = plots.new_axes()
    plots.plot_curves(ax2, [1, 2], {"gap": [0.0, 1.0]}, logy=True, zero_floor=1e-3)
    assert ax2.get_lines()[1].get_ydata()[0] == 1e-3
    with pytest.raises(ValueError, match="zero_floor"):
        plots.plot_curves(ax2, [1, 2], {"gap": [0.0, 1.0]}, logy=True, zero_floor=0)


def test_weight_grid_shares_one_scale_and_draws_its_colorbar():
    w = np.random.default_rng(0).normal(size=(6, 16))
    fig, axes = plots.weight_grid(w, 2, 3, shape=(4, 4), clip=100)
    limits = {im.get_clim() for ax in axes.ravel() for im in ax.images}
    m = np.abs(w).max()
    assert limits == {(-m, m)}
    assert len(fig.axes) == 7 and fig.axes[-1].get_ylabel() == "weight"  # 6 panels + colorbar
    fig2, axes2 = plots.weight_grid(w, 2, 3, shape=(4, 4), colorbar=False)
    assert len(fig2.axes) == 6
    with pytest.raises(ValueError, match="shared scale"):
        plots.image_grid(w, 2, 3, shape=(4, 4), colorbar=True)


def test_confusion_matrix_in_percent_with_a_colour_scale():
    cm = np.array([[90, 10], [0, 50]])
    fig, ax = plots.new_axes()
    plots.confusion_matrix_plot(ax, cm, percent=True, colorbar=True)
    assert [t.get_text() for t in ax.texts] == ["90.0", "10.0", "0", "100"]
    assert all(t.get_fontsize() >= plots.MIN_FONT_SIZE for t in ax.texts)
    assert len(fig.axes) == 2 and "%" in fig.axes[1].get_ylabel()


def test_no_text_below_9_points():
    from nnetreport.experiments import stat

    plots.use_style()
    assert all(
        v >= plots.MIN_FONT_SIZE
        for k, v in plots.STYLE.items()
        if k.endswith(("fontsize", "labelsize", "titlesize", "font.size"))
    )
    fig, axes = plots.new_axes(5, ncols=3)
    plots.plot_curves(axes[0], [1, 2], {"a": [0.0, 1e-3]}, logy=True, article={"a": 1e-2})
    plots.bar_log(axes[1], ["x", "y"], [1.0, 10.0], article=[2.0, np.nan])
    plots.seed_spread(axes[2], {"a": stat([0.9, 0.92])}, article={"a": 0.91})
    plots.confusion_matrix_plot(axes[3], np.eye(10) * 90 + 1, percent=True, colorbar=True)
    plots.histogram(axes[4], [1e-3, 1e-2, 0.0], label="err")
    assert plots.small_text(fig) == []
    grid, _ = plots.weight_grid(np.ones((3, 4)), 1, 3, shape=(2, 2), suptitle="w")
    assert plots.small_text(grid) == []
    titled, _ = plots.image_grid(np.ones((2, 4)), 1, 2, shape=(2, 2), titles=["a", "b"])
    assert plots.small_text(titled) == []
    small, ax = plots.new_axes()
    ax.text(0, 0, "tiny", fontsize=7)
    assert plots.small_text(small) == [(7, "tiny")]


def test_plot_helpers_validate():
    fig, ax = plots.new_axes()
    with pytest.raises(ValueError, match="2 labels for 1 values"):
        plots.bar_log(ax, ["a", "b"], [1.0])
    with pytest.raises(ValueError, match="finite positive"):
        plots.bar_log(ax, ["a"], [0.0])
    with pytest.raises(ValueError, match="article values"):
        plots.bar_log(ax, ["a", "b"], [1.0, 2.0], article=[1.0])
    with pytest.raises(ValueError, match="errors for"):
        plots.bar_log(ax, ["a", "b"], [1.0, 2.0], errors=[0.1])
    with pytest.raises(ValueError, match="x values"):
        plots.plot_curves(ax, [1, 2], {"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="band 'a'"):
        plots.plot_curves(ax, [1, 2], {"a": [1, 2]}, bands={"a": ([1], [2])})
    with pytest.raises(ValueError, match="no positive values"):
        plots.histogram(ax, [0.0, -1.0], log=True)
    with pytest.raises(ValueError, match="5 images do not fit a 2 x 2 grid"):
        plots.image_grid(np.zeros((5, 4)), 2, 2, shape=(2, 2))
    with pytest.raises(ValueError, match=r"classes must lie in \[0, 3\)"):
        plots.confusion_matrix([0, 3], [0, 1], n_classes=3)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        plots.new_axes(0)


# -- genetic -------------------------------------------------------------------


def _blobs(n=300, seed=0):
    """Three separable clusters in 4-D: a tiny classification problem."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0.5]], dtype=float)
    x = centres[labels] + 0.15 * rng.standard_normal((n, 4))
    return x.astype(np.float32), labels


def test_population_forward_matches_npnet():
    layers = (5, 4, 3)
    rng = np.random.default_rng(0)
    pop = rng.normal(size=(3, NpNet(layers).n_params)).astype(np.float64)
    x = rng.random((7, 5))
    out = genetic.population_forward(pop, x, layers)
    for p in range(3):
        net = NpNet(layers, params=pop[p], dtype="float64")
        np.testing.assert_allclose(out[p], net.feedforward(x), rtol=1e-12, atol=1e-14)


#: a generational GA with tournaments and elitism, unlike the article's setting
GENERATIONAL = dict(
    selection="tournament",
    parent_pool=1.0,
    crossover_rate=0.9,
    mutation_rate=0.05,
    elite=2,
    replacement="generational",
    batch_size=None,
)


def _generational(**kw):
    return genetic.GAConfig(**dict(GENERATIONAL, **kw))


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(fitness="neg_loss", selection="truncation", crossover="one_point"),
        dict(fitness="neg_loss", batch_size=100),
    ],
)
def test_run_ga_improves(kw):
    x, labels = _blobs()
    config = _generational(
        generations=40, population=30, mutation_sigma=0.5, mutation_rate=0.2, **kw
    )
    r = genetic.run_ga((4, 6, 3), x, labels, config, seed=1, progress=False)
    assert r.generations == 40 and r.stopped_by == "generations"
    assert len(r.best) == len(r.mean) == len(r.best_accuracy) == len(r.elapsed) == 40
    assert r.best[-1] > r.best[0]
    assert r.best_accuracy[-1] > 0.8
    acc = np.mean(np.argmax(r.network().feedforward(x), axis=1) == labels)
    assert acc > 0.8
    if "batch_size" not in kw:  # elitism: the best never gets worse on a fixed set
        assert all(b >= a for a, b in zip(r.best, r.best[1:]))
        assert r.best_fitness == r.best[-1]


def test_run_ga_article_setting_runs_and_keeps_the_fittest():
    x, labels = _blobs()
    config = genetic.GAConfig(
        generations=60, batch_size=None, mutation_rate=0.2, mutation_sigma=0.5
    )
    r = genetic.run_ga((4, 6, 3), x, labels, config, seed=0, progress=False)
    assert r.config.population == 8 and r.config.replacement == "plus" and r.config.offspring == 8
    # "plus" replacement on a fixed set: parents compete with children, so the best never drops
    assert all(b >= a for a, b in zip(r.best, r.best[1:]))
    assert r.best[-1] > r.best[0]


def test_the_defaults_are_the_article_setting():
    from nnetreport import article

    a = genetic.ARTICLE_SETTING
    assert a == genetic.GAConfig()
    assert (a.population, a.mutation_rate, a.crossover_rate) == (
        article.GA_SETTINGS["population"],
        article.GA_SETTINGS["mutation_rate"],
        article.GA_SETTINGS["crossover_rate"],
    )
    assert (a.selection, a.batch_size) == (
        article.GA_SETTINGS["selection"],
        article.GA_SETTINGS["fitness_batch"],
    )


def test_roulette_selection_follows_fitness():
    rng = np.random.default_rng(0)
    fit = np.array([0.0, 1.0, 3.0])
    picks = genetic._select(rng, fit, 4000, "roulette", 3, 0.2)
    counts = np.bincount(picks, minlength=3) / 4000
    assert counts[0] == 0  # the least fit gets weight 0 after the shift
    assert abs(counts[2] / counts[1] - 3) < 0.5
    half = genetic._select(
        rng, np.array([5.0, 1.0, 4.0, 0.5]), 1000, "roulette", 3, 0.2, parent_pool=0.5
    )
    assert set(half.tolist()) <= {0, 2}  # only the best half breeds


def test_run_ga_is_reproducible():
    x, labels = _blobs()
    config = _generational(generations=10, population=12)
    a = genetic.run_ga((4, 5, 3), x, labels, config, seed=7, progress=False)
    b = genetic.run_ga((4, 5, 3), x, labels, config, seed=7, progress=False)
    c = genetic.run_ga((4, 5, 3), x, labels, config, seed=8, progress=False)
    np.testing.assert_array_equal(a.best_params, b.best_params)
    assert a.best == b.best and a.mean == b.mean
    assert not np.array_equal(a.best_params, c.best_params)


def test_run_ga_respects_time_limit(monkeypatch):
    """A clock that reads 0.1 s more at each look: generations end at 0.1, 0.2, ... s,
    and the run stops before the generation that would end past the limit."""
    ticks = iter(np.arange(0, 100, 0.1))
    monkeypatch.setattr(genetic, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    x, labels = _blobs()
    config = _generational(generations=10**7, population=10, time_limit_s=0.45)
    r = genetic.run_ga((4, 5, 3), x, labels, config, seed=0, progress=False)
    assert r.stopped_by == "time_limit"
    assert r.generations == 4 and r.elapsed == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert r.seconds == pytest.approx(0.5)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(layers=(4, 3, 1)), "2 classes"),
        (dict(x=np.zeros((10, 5))), "x"),
        (dict(labels=np.zeros(9, int)), "labels"),
        (dict(labels=np.full(10, 3)), "labels"),
        (dict(labels=np.zeros(10)), "integers"),
        (dict(x=np.full((10, 4), np.nan)), "NaN"),
        (dict(blas_threads=0), "blas_threads"),
    ],
)
def test_run_ga_validates_its_data(kw, match):
    args = dict(layers=(4, 3, 3), x=np.zeros((10, 4)), labels=np.zeros(10, int), progress=False)
    args.update(kw)
    config = genetic.GAConfig(generations=2)
    with pytest.raises(ValueError, match=match):
        genetic.run_ga(args.pop("layers"), args.pop("x"), args.pop("labels"), config, **args)


def test_run_ga_wants_a_config():
    with pytest.raises(TypeError, match="config must be a GAConfig, got dict"):
        genetic.run_ga((4, 3), np.zeros((10, 4)), np.zeros(10, int), dict(generations=2))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(generations=0), "generations must be an int >= 1, got 0"),
        (dict(generations=2.0), "generations must be an int >= 1"),
        (dict(population=1), "population must be an int >= 2"),
        (dict(population=True), "population must be an int >= 2"),
        (dict(elite=10), r"elite \(10\) must be smaller than population \(10\)"),
        (dict(tournament_size=0), "tournament_size"),
        (dict(time_limit_s=0), "time_limit_s must be > 0"),
        (dict(fitness="f1"), "fitness must be one of"),
        (dict(selection="rank"), "selection must be one of"),
        (dict(replacement="steady"), "replacement must be one of"),
        (dict(parent_pool=0), "parent_pool must be > 0"),
        (dict(truncation=1.5), r"truncation must be in \[0, 1\]"),
        (dict(offspring=3, replacement="generational"), "offspring must be population - elite"),
        (dict(offspring=0), "offspring must be an int >= 1"),
        (dict(crossover="two_point"), "crossover must be one of"),
        (dict(crossover_rate=-0.1), "crossover_rate must be >= 0"),
        (dict(mutation_rate=1.5), "mutation_rate"),
        (dict(mutation_sigma=-1), "mutation_sigma must be >= 0"),
        (dict(mutation_sigma="big"), "mutation_sigma must be a finite number"),
        (dict(batch_size=0), "batch_size must be an int >= 1"),
        (dict(dtype="float16"), "dtype must be 'float32' or 'float64'"),
    ],
)
def test_ga_config_validates(kw, match):
    with pytest.raises(ValueError, match=match):
        genetic.GAConfig(**{"population": 10, **kw})


def test_ga_config_is_frozen_normalised_and_fitted_to_the_data():
    config = genetic.GAConfig(population=np.int64(12), mutation_rate=1, batch_size=500)
    assert type(config.population) is int and config.mutation_rate == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.population = 3
    fitted = config.for_data(200)
    assert (fitted.batch_size, fitted.offspring) == (200, 12)
    assert config.offspring is None  # the config itself is unchanged
    generational = _generational(population=12).for_data(50)
    assert (generational.batch_size, generational.offspring) == (None, 10)
    # replace re-checks: a changed population gets its own default offspring
    assert dataclasses.replace(config, population=30).for_data(200).offspring == 30
    with pytest.raises(ValueError, match="elite"):
        dataclasses.replace(config, elite=12)
