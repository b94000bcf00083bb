"""Tests for nnetreport.experiments (multi-seed runs of notebooks 04 and 05)."""

import numpy as np
import pytest

from nnetlib import NpNet
from nnetreport import experiments as ex


def test_stat_mean_sd_values():
    s = ex.stat([1.0, 2.0, 3.0])
    assert s == {"mean": 2.0, "sd": 1.0, "values": [1.0, 2.0, 3.0], "n": 3}
    assert ex.stat([0.5])["sd"] == 0.0
    with pytest.raises(ValueError, match="at least one"):
        ex.stat([])
    with pytest.raises(ValueError, match="finite"):
        ex.stat([1.0, float("nan")])


def test_clearly_apart_uses_the_spread():
    a = ex.stat([0.90, 0.91, 0.92])
    assert ex.clearly_apart(a, ex.stat([0.95, 0.96, 0.97]))
    assert not ex.clearly_apart(a, ex.stat([0.89, 0.92, 0.95]))
    with pytest.raises(ValueError, match="more seeds"):
        ex.clearly_apart(a, ex.stat([0.9]))


def test_fmt():
    s = ex.stat([0.9, 0.92])
    assert ex.fmt(s, percent=True) == "91.0 ± 1.4 %"
    assert ex.fmt(s) == "0.9100 ± 0.0141"


def test_torch_default_params_layout_and_bounds():
    torch = pytest.importorskip("torch")
    from torch import nn

    layers = (5, 4, 3)
    state = torch.get_rng_state()
    p = ex.torch_default_params(layers, seed=3, dtype="float64")
    assert torch.equal(state, torch.get_rng_state())  # the global torch RNG is untouched
    assert p.shape == (NpNet(layers).n_params,)
    torch.manual_seed(3)
    lin = nn.Linear(5, 4, dtype=torch.float64)
    w0 = p[: 6 * 4].reshape(6, 4)
    np.testing.assert_array_equal(w0[:-1], lin.weight.detach().numpy().T)
    np.testing.assert_array_equal(w0[-1], lin.bias.detach().numpy())
    assert np.all(np.abs(w0) <= 1 / np.sqrt(5))
    assert not np.array_equal(p, ex.torch_default_params(layers, seed=4, dtype="float64"))


def test_run_seeds_and_summaries():
    rng = np.random.default_rng(0)
    x = rng.random((40, 6)).astype("float32")
    y = rng.integers(0, 3, 40)
    runs = ex.run_seeds(
        lambda s: NpNet((6, 5, 3), seed=s),
        [0, 1],
        (x, y),
        (x[:20], y[:20]),
        epochs=2,
        batch_size=10,
        lr=1.0,
        momentum=0.5,
    )
    assert [r["seed"] for r in runs] == [0, 1]
    assert all(0 <= r["train_accuracy"] <= 1 and r["train_loss"] > 0 for r in runs)
    assert ex.summarize(runs, "test_loss")["n"] == 2
    mean, low, high = ex.curve_band(runs, "test_loss")
    assert mean.shape == (2,) and np.all(low <= mean) and np.all(mean <= high)
    auto = ex.run_seeds(
        lambda s: NpNet((6, 3, 6), seed=s), [0], (x, x), (x, x), epochs=1, batch_size=10
    )
    assert auto[0]["test_accuracy"] is None and auto[0]["train_accuracy"] is None


def test_run_seeds_bar_over_the_seeds_changes_no_result(monkeypatch, capsys):
    rng = np.random.default_rng(0)
    x = rng.random((40, 6)).astype("float32")
    y = rng.integers(0, 3, 40)
    config = dict(epochs=2, batch_size=10, lr=1.0, momentum=0.5)

    def runs(progress):
        out = ex.run_seeds(
            lambda s: NpNet((6, 5, 3), seed=s), [0, 1], (x, y), (x, y), progress=progress, **config
        )
        return [r["net"].params for r in out], [r["history"].test_loss for r in out]

    import tqdm.auto

    made = []  # the bars drawn (tqdm's own output is off under CI: TQDM_DISABLE)

    class Bar(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            made.append((kwargs.get("desc"), kwargs.get("total")))
            super().__init__(*args, **{**kwargs, "disable": True})

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    monkeypatch.setenv("NNETLIB_PROGRESS", "1")
    with_bar = runs(True)
    assert made == [("seeds", 2)]  # one bar, over the two seeds
    without = runs(False)
    assert made == [("seeds", 2)]
    assert all(np.array_equal(a, b) for a, b in zip(with_bar[0], without[0]))
    assert with_bar[1] == without[1]
    monkeypatch.setenv("NNETLIB_PROGRESS", "0")  # nnetlib's rule turns it off
    runs(True)
    assert capsys.readouterr().err == ""


def test_frontprop_class_is_a_network():
    cls = ex.frontprop_class()
    assert cls.__name__ in ("CyNet", "NpNet")


# -- nnetreport.timing -------------------------------------------------------


def test_batch_stat_and_timing_stat():
    from nnetreport import timing

    entry = {"raw": [0.6, 0.9, 1.2], "samples": 6000}
    s = timing.batch_stat(entry)
    assert s["median"] == pytest.approx(0.15) and s["n"] == 3
    with pytest.raises(ValueError, match="no raw timings"):
        timing.batch_stat({"raw": [], "samples": 1})


def test_time_steps_counts_rounds_and_checks_data():
    from nnetreport import timing

    rng = np.random.default_rng(0)
    x = rng.random((30, 6)).astype("float32")
    net = NpNet((6, 4, 3), seed=0)
    t = rng.random((30, 3)).astype("float32")
    before = net.params.copy()
    s = timing.time_steps(net, x, t, batches=2, repeats=3, batch_size=10)
    assert s["n"] == 3 and all(v > 0 for v in s["values"])
    assert not np.array_equal(before, net.params)  # the steps did train
    with pytest.raises(ValueError, match="need 40"):
        timing.time_steps(net, x, t, batches=3, batch_size=10)


def test_frontprop_class_falls_back_with_one_line(monkeypatch, capsys):
    from nnetlib.nets import cynet

    monkeypatch.setattr(cynet, "available", lambda: False)
    assert ex.frontprop_class() is NpNet
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "NpNet" in out


def test_splice_biases_takes_weights_from_one_and_bias_rows_from_the_other():
    from nnetlib.nets.base import init_params

    layers = (4, 3, 2)
    a = init_params(layers, "article_uniform", seed=0, dtype="float64")
    b = init_params(layers, "torch", seed=1, dtype="float64")
    mixed = ex.splice_biases(layers, a, b)
    wa, wb, wm = (NpNet(layers, params=p, dtype="float64").weights for p in (a, b, mixed))
    for k in range(2):
        assert np.array_equal(wm[k][:-1], wa[k][:-1]) and np.array_equal(wm[k][-1], wb[k][-1])
    assert np.array_equal(ex.splice_biases(layers, a, a), a)
    with pytest.raises(ValueError, match="need"):
        ex.splice_biases((4, 3, 3), a, b)
    with pytest.raises(ValueError, match="one length"):
        ex.splice_biases(layers, a, b[:-1])
