"""The training widget of notebook 04 (nnetreport.training_widget): built, trained
by its button's handler on tiny random data, its curves get one point per epoch."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from nnetlib import NpNet
from nnetreport import training_widget as tw


def _tiny(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 6)).astype("float32"), rng.integers(0, 3, n)


def _widget(**kw):
    data, test = _tiny(), _tiny(30, seed=1)
    return tw.TrainingWidget(data, test, layers=(6, 5, 3), batch_size=10, net_class=NpNet, **kw)


def test_the_controls_hold_the_article_inits_and_its_learning_rate():
    w = _widget()
    assert set(w.init.options) == {"article_uniform", "article_normal", "torch"}
    assert w.lr.value == 10.0 and 10.0 in dict(w.lr.options).values()
    assert w.history is None and all(len(line.get_xdata()) == 0 for line in w.lines.values())


def test_the_button_handler_trains_and_draws_one_point_per_epoch():
    w = _widget(epochs=1)
    w.init.value, w.lr.value = "torch", 1.0
    w._on_click(w.button)  # what a click does
    assert len(w.history.epoch) == 1 and w.net.init == "torch"
    for key, line in w.lines.items():
        assert list(line.get_xdata()) == [1]
        np.testing.assert_array_equal(line.get_ydata(), getattr(w.history, key))
    assert not w.button.disabled and "epoch 1" in w.status.value
    w.epochs.value = 3
    w.train()
    assert all(list(line.get_xdata()) == [1, 2, 3] for line in w.lines.values())
    assert w.last_run == "init torch, lr 1, 3 epochs"


def test_a_failed_run_is_said_in_the_status_line():
    w = _widget(epochs=1)
    x = w.data[0].copy()
    x[3, 2] = np.nan  # data a net refuses
    w.data = (x, w.data[1])
    w._on_click(w.button)
    assert w.status.value.startswith("stopped:") and not w.button.disabled


def test_each_epoch_redraws_and_updates_the_display():
    w = _widget(epochs=2)
    seen = []

    class Handle:
        def update(self, image):
            assert image.data[:4] == b"\x89PNG"
            seen.append(len(w.lines["test_loss"].get_xdata()))

    w._handle = Handle()
    w.train()
    assert seen == [0, 1, 2]  # cleared, then after each epoch


def test_the_run_is_nnetlib_train_with_the_controls_values():
    import nnetlib

    w = _widget(epochs=2)
    history = w.train(init="article_normal", lr=3.0)
    net = NpNet((6, 5, 3), init="article_normal", seed=0)
    ref = nnetlib.train(net, *_split(w), epochs=2, batch_size=10, lr=3.0, progress=False)
    assert history.test_loss == ref.test_loss
    np.testing.assert_array_equal(w.net.params, net.params)


def _split(w):
    return w.data, w.test


def test_display_shows_controls_figure_and_the_note(capsys, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj) or None)
    w = _widget(epochs=1)
    w.train()
    w._ipython_display_()
    assert shown[0] is w.controls and shown[1].data == w.png()
    assert "need a running Jupyter kernel" in capsys.readouterr().out


def _mnist_here():
    from nnetlib.data import MNISTNotFoundError, find_mnist

    try:
        for split in ("train", "test"):
            find_mnist(split, download=False)
    except MNISTNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _mnist_here(), reason="needs the MNIST files (NNETLIB_DATA)")
def test_exercise_4_3_what_the_three_learning_rates_do():
    """The runs exercise 4.3 describes (the widget's setting): lr 10 learns, lr 0.1 and
    lr 1000 stay near chance, for each of the three initial draws."""
    from nnetreport.exercises import nb04

    for init in ("article_uniform", "article_normal", "torch"):
        acc = nb04.ex43_accuracies(init)
        best = max(acc, key=acc.get)
        assert best == nb04.EX43_BEST and acc[best] > 0.5, (init, acc)
        assert all(a < 0.3 for lr, a in acc.items() if lr != best), (init, acc)
