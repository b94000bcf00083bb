"""Bad input, checkpoints and interruption (reliability issue)."""

import inspect
import json
import os
import re
import signal
import warnings

import numpy as np
import pytest
from helpers import nets, problem
from hypothesis import given, settings
from hypothesis import strategies as st

import nnetlib

LAYERS = [4, 3, 2]


@pytest.mark.parametrize(
    "layers,complaint",
    [
        ([4], "list at least 2 layer widths"),
        ([], "list at least 2 layer widths"),
        (5, "be a sequence of positive ints"),
        (None, "be a sequence of positive ints"),
        ([4, 0, 2], "be positive ints"),
        ([4, -1], "be positive ints"),
        ([4, 2.5], "be positive ints"),
        (["4", 2], "be positive ints"),
        ([True, 2], "be positive ints"),
    ],
)
def test_bad_layers(net_class, layers, complaint):
    with pytest.raises(ValueError, match=re.escape(f"layers must {complaint}, got {layers!r}")):
        net_class(layers)


def test_bad_params_states_expected_length(net_class):
    with pytest.raises(
        ValueError, match=r"params must be a flat vector of length 23 .*got shape \(22,\)"
    ):
        net_class(LAYERS, params=np.zeros(22))
    with pytest.raises(
        ValueError, match=r"params must be a flat vector of length 23 .*got shape \(23, 1\)"
    ):
        net_class(LAYERS, params=np.zeros((23, 1)))
    with pytest.raises(ValueError, match="params contains NaN or inf"):
        net_class(LAYERS, params=np.full(23, np.nan))


@pytest.mark.parametrize("dtype", ["float16", "int32", "complex128", "banana", None])
def test_bad_dtype(net_class, dtype):
    with pytest.raises(
        ValueError, match=re.escape(f"dtype must be one of ('float32', 'float64'), got {dtype!r}")
    ):
        net_class(LAYERS, dtype=dtype)


def test_bad_init(net_class):
    with pytest.raises(
        ValueError,
        match=re.escape(
            "init must be one of ('torch', 'article_uniform', 'article_normal'), got 'xavier'"
        ),
    ):
        net_class(LAYERS, init="xavier")


BAD_X = [
    (np.zeros((2, 5)), r"x must have shape \(batch >= 1, 4\), got \(2, 5\)"),  # wrong width
    (np.zeros(4), r"x must be 2-D \(batch, 4\), got shape \(4,\)"),  # rank 1
    (np.zeros((2, 4, 1)), r"x must be 2-D \(batch, 4\), got shape \(2, 4, 1\)"),  # rank 3
    (np.zeros((0, 4)), r"x must have shape \(batch >= 1, 4\), got \(0, 4\)"),  # empty batch
    (np.array([[0, 0, np.nan, 0]]), "x contains NaN or inf"),  # NaN
    (np.array([[0, 0, np.inf, 0]]), "x contains NaN or inf"),  # inf
    (np.array([["a", "b", "c", "d"]]), "x must be numeric, got dtype <U1"),  # strings
    ([[1, 2], [3]], "x could not be read as an array"),  # ragged
]


@pytest.mark.parametrize("x,word", BAD_X)
def test_bad_x_everywhere_and_nothing_changes(net_class, x, word):
    net = net_class(LAYERS, seed=0, dtype="float64")
    t = np.zeros((2, 2))
    net.step(*problem(LAYERS, 2), lr=1.0)  # non-zero momentum to protect
    before, state = net.params, net.optimizer_state()
    with pytest.raises(ValueError, match=word):
        net.feedforward(x)
    for call in (net.loss, net.gradients, net.step):
        with pytest.raises(ValueError, match=word):
            call(x, t)
    assert np.array_equal(net.params, before)
    assert all(np.array_equal(net.optimizer_state()[k], v) for k, v in state.items())


@pytest.mark.parametrize(
    "t,word",
    [
        (np.zeros((2, 3)), r"t must have shape \(batch >= 1, 2\), got \(2, 3\)"),
        (np.zeros((3, 2)), "x and t must hold the same number of samples, got 2 and 3"),
        (np.zeros(2), r"t must be 2-D targets \(batch, 2\)"),
        (np.array([[0, np.nan], [0, 0]]), "t contains NaN or inf"),
    ],
)
def test_bad_t(net_class, t, word):
    net = net_class(LAYERS, seed=0)
    before = net.params
    with pytest.raises(ValueError, match=word):
        net.step(np.zeros((2, 4)), t)
    assert np.array_equal(net.params, before)


@pytest.mark.parametrize(
    "kw,word",
    [
        ({"lr": -1}, "lr must be > 0, got -1"),
        ({"lr": 0}, "lr must be > 0, got 0"),
        ({"lr": np.nan}, "lr must be a finite number, got nan"),
        ({"lr": "10"}, "lr must be a finite number, got '10'"),
        ({"momentum": 1.0}, r"momentum must be in \[0, 1\), got 1.0"),
        ({"momentum": -0.1}, "momentum must be >= 0, got -0.1"),
    ],
)
def test_bad_step_args(net_class, kw, word):
    net = net_class(LAYERS, seed=0)
    before = net.params
    with pytest.raises(ValueError, match=word):
        net.step(*problem(LAYERS, 2, dtype="float32"), **kw)
    assert np.array_equal(net.params, before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_stable_for_extreme_inputs(dtype):
    h = np.array(
        [-1e308 if dtype == "float64" else -3e38, -1000, -80, 0, 80, 1000, np.inf, -np.inf],
        dtype=dtype,
    )
    with np.errstate(all="raise"):
        a = nnetlib.activations.sigmoid(h)
        d = nnetlib.activations.sigmoid_prime(h)
    assert a.dtype == np.dtype(dtype) and d.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(d))
    assert np.all((a >= 0) & (a <= 1)) and np.all(d >= 0)


def test_huge_inputs_give_finite_results(net_class):
    net = net_class(LAYERS, seed=0, dtype="float32")
    x = np.full((2, 4), 1e30, np.float32)
    with np.errstate(over="raise", invalid="raise"):
        out = net.feedforward(x)
        g = net.gradients(x, np.zeros((2, 2)))
    assert np.all(np.isfinite(out)) and all(np.all(np.isfinite(a)) for a in g)


# -- checkpoints -------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trip_exact(net_class, dtype, tmp_path):
    net = net_class([5, 4, 3], seed=1, dtype=dtype)
    x, t = problem([5, 4, 3], 6, dtype=dtype)
    net.step(x, t, lr=2.0, momentum=0.9)
    path = tmp_path / "net.npz"
    net.save(path)
    back = net_class.load(path)
    assert back.layers == net.layers and back.dtype == net.dtype
    assert np.array_equal(back.params, net.params)
    assert all(
        np.array_equal(back.optimizer_state()[k], v) for k, v in net.optimizer_state().items()
    )
    # the next step is identical too, so momentum really came back
    assert net.step(x, t, lr=2.0, momentum=0.9) == back.step(x, t, lr=2.0, momentum=0.9)
    assert np.array_equal(back.params, net.params)
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_load_refuses_garbage_naming_the_file(tmp_path):
    bad = tmp_path / "garbage.npz"
    bad.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ValueError, match="garbage.npz"):
        nnetlib.NpNet.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz"):
        nnetlib.NpNet.load(other)


def test_load_refuses_mismatched_checkpoint(tmp_path):
    path = tmp_path / "n.npz"
    nnetlib.NpNet([5, 4, 3], seed=1).save(path)
    with np.load(path) as z:
        meta, params, vel = str(z["meta"]), z["params"], z["opt_velocity"]
    np.savez(path, meta=np.array(meta), params=params[:-1], opt_velocity=vel)
    with pytest.raises(ValueError, match="n.npz"):
        nnetlib.NpNet.load(path)
    torch_path = tmp_path / "t.npz"
    nnetlib.TorchNet([5, 4, 3], seed=1).save(torch_path)
    with pytest.raises(ValueError, match="t.npz"):
        nnetlib.NpNet.load(torch_path)


def test_interrupted_save_keeps_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "n.npz"
    net = nnetlib.NpNet([3, 2], seed=0)
    net.save(path)
    old = path.read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt("Ctrl-C while writing")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt, match="Ctrl-C while writing"):
        net.save(path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.npz"]


# -- training, resume and interruption ---------------------------------------


def tiny_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 6)).astype("float32")
    labels = (x[:, 0] + x[:, 1] > 1).astype(np.int64) + (x[:, 2] > 0.5)
    return (x[: n - 100], labels[: n - 100]), (x[n - 100 :], labels[n - 100 :])


@pytest.mark.parametrize("shuffle", [False, True])
def test_resume_is_bitwise_identical(tmp_path, shuffle):
    train, test = tiny_data()
    kw = dict(
        epochs=5, batch_size=32, lr=2.0, momentum=0.5, shuffle=shuffle, seed=3, progress=False
    )
    full = nnetlib.NpNet([6, 5, 3], seed=0)
    h_full = nnetlib.train(full, train, test, **kw)
    ck = tmp_path / "ck.npz"
    part = nnetlib.NpNet([6, 5, 3], seed=0)
    nnetlib.train(part, train, test, checkpoint=ck, **{**kw, "epochs": 2})
    resumed = nnetlib.NpNet([6, 5, 3], seed=99)  # different start: the checkpoint wins
    h = nnetlib.train(resumed, train, test, checkpoint=ck, **kw)
    assert np.array_equal(resumed.params, full.params)
    assert h.epoch == [1, 2, 3, 4, 5] and h.test_loss == h_full.test_loss


def test_keyboard_interrupt_returns_history_and_complete_step():
    train, test = tiny_data()
    net = nnetlib.NpNet([6, 5, 3], seed=0)
    steps = []
    original = net.step

    def step(*a, **k):
        loss = original(*a, **k)
        steps.append(net.params)
        if len(steps) == 9:  # mid-epoch 2 (7 batches per epoch)
            os.kill(os.getpid(), signal.SIGINT)
        return loss

    net.step = step
    h = nnetlib.train(net, train, test, epochs=5, batch_size=32, progress=False)
    assert h.interrupted and h.epoch == [1]
    assert np.array_equal(net.params, steps[-1])


def test_train_records_history_and_validates():
    train, test = tiny_data()
    net = nnetlib.NpNet([6, 8, 3], seed=0)
    h = nnetlib.train(net, train, test, epochs=3, batch_size=50, progress=False)
    assert len(h.train_loss) == len(h.test_loss) == len(h.test_accuracy) == len(h.seconds) == 3
    assert h.test_loss[-1] < h.test_loss[0]
    with pytest.raises(ValueError, match="epochs"):
        nnetlib.train(net, train, test, epochs=-1)
    with pytest.raises(ValueError, match="batch_size"):
        nnetlib.train(net, train, test, batch_size=0)
    with pytest.raises(ValueError, match="labels"):
        nnetlib.train(net, (train[0], train[1] + 5), test)
    with pytest.raises(ValueError, match=r"data must be an \(x, y\) pair"):
        nnetlib.train(net, train[0], test)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(0, 6), min_size=0, max_size=3),
    fill=st.sampled_from([0.0, 1.0, np.nan, np.inf, -np.inf, 1e300]),
)
def test_fuzz_shapes_and_values(shape, fill):
    """Any array either works (right shape, finite) or raises ValueError."""
    net = nnetlib.NpNet(LAYERS, seed=0, dtype="float64")
    x = np.full(shape, fill)
    ok = x.ndim == 2 and x.shape[0] >= 1 and x.shape[1] == 4 and np.isfinite(fill)
    before = net.params
    try:
        out = net.feedforward(x)
        g = net.gradients(x, np.zeros((x.shape[0], 2)))
    except ValueError:
        assert not ok
    else:
        assert ok and np.all(np.isfinite(out)) and all(np.all(np.isfinite(a)) for a in g)
    assert np.array_equal(net.params, before)


# -- checkpoint format versions -------------------------------------------


def _v1_checkpoint(path, layers, params, velocity, convention="v", cls="NpNet", **more):
    """The layout nnetlib wrote before nnetlib.checkpoint (format version 1)."""
    meta = {
        "magic": "nnetlib-checkpoint",
        "version": 1,
        "class": cls,
        "layers": layers,
        "dtype": "float32",
        "init": "kaiming",
        "velocity_convention": convention,
        "extra": {"epochs_done": 2},
        **more.pop("meta", {}),
    }
    np.savez(path, meta=np.array(json.dumps(meta)), params=params, velocity=velocity, **more)


def test_version_1_checkpoint_still_loads(tmp_path):
    net = nnetlib.NpNet([5, 4, 3], seed=1)
    rng = np.random.default_rng(0)
    vel = rng.standard_normal(net.n_params).astype("float32")
    _v1_checkpoint(tmp_path / "old.npz", [5, 4, 3], net.params, vel)
    back = nnetlib.NpNet.load(tmp_path / "old.npz")
    assert np.array_equal(back.params, net.params) and np.array_equal(back.velocity, vel)
    assert nnetlib.read_checkpoint(tmp_path / "old.npz")["meta"]["extra"] == {"epochs_done": 2}
    # an Adam FrontNet of version 1 keeps its moments and step count
    u = np.abs(rng.standard_normal(net.n_params)).astype("float32")
    _v1_checkpoint(
        tmp_path / "adam.npz",
        [5, 4, 3],
        net.params,
        vel,
        "adam-first-moment",
        "FrontNet",
        second_moment=u,
        meta={
            "n_steps": 7,
            "config": {
                "activation": "relu",
                "loss": "cross_entropy",
                "optimizer": "adam",
                "dropout": 0.0,
                "dropout_seed": 3,
                "betas": [0.9, 0.999],
                "eps": 1e-8,
            },
        },
    )
    front = nnetlib.FrontNet.load(tmp_path / "adam.npz")
    assert front.function == {"activation": "relu", "loss": "cross_entropy", "dropout": 0.0}
    assert np.array_equal(front.optimizer.s, u) and np.array_equal(front.optimizer.m, vel)
    assert front.n_steps == 7 and front.optimizer.n_steps == 7
    # torch's buffer (version 1) is still not SGD's velocity
    _v1_checkpoint(
        tmp_path / "torch.npz", [5, 4, 3], net.params, vel, "torch-sgd-buffer", "TorchNet"
    )
    with pytest.raises(ValueError, match="torch-sgd.*weights_only=True"):
        nnetlib.NpNet.load(tmp_path / "torch.npz")


def test_unknown_checkpoint_version_is_named(tmp_path):
    path = tmp_path / "future.npz"
    nnetlib.NpNet([3, 2], seed=0).save(path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("meta")))
    assert meta["version"] == nnetlib.checkpoint.VERSION
    meta["version"] = 99
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ValueError, match="format version 99; this nnetlib reads versions 1, 2"):
        nnetlib.NpNet.load(path)


# -- what a newcomer trips on -------------------------------------------------


def test_train_names_its_data_and_documents_itself():
    params = inspect.signature(nnetlib.train).parameters
    assert "train" not in params and list(params)[:3] == ["net", "data", "test"]
    assert params["lr"].default is None and params["test"].default is None
    doc = nnetlib.train.__doc__
    assert "module docstring" not in doc
    for phrase in ("(x, y)", "callback(net, history)", "lr=None", "batch_size=None"):
        assert phrase in doc
    data, _ = tiny_data()
    h = nnetlib.train(nnetlib.NpNet([6, 8, 3], seed=0), data=data, epochs=1, progress=False)
    assert len(h.train_loss) == 1 and h.test_loss == [] and "train loss" in repr(h)


@pytest.mark.parametrize(
    "make, lr, batch",
    [
        (lambda: nnetlib.NpNet([6, 8, 3], seed=0), 10.0, 1000),
        (
            lambda: nnetlib.FrontNet(
                [6, 8, 3], seed=0, activation="relu", loss="cross_entropy", optimizer="adam"
            ),
            1e-3,
            100,
        ),
    ],
)
def test_train_defaults_are_the_nets_own(make, lr, batch):
    data, test = tiny_data()
    default, explicit = make(), make()
    h1 = nnetlib.train(default, data, test, epochs=2, progress=False)
    h2 = nnetlib.train(explicit, data, test, epochs=2, lr=lr, batch_size=batch, progress=False)
    assert np.array_equal(default.params, explicit.params) and h1.train_loss == h2.train_loss
    assert default.check_step() == (lr, 0.5)


def test_unscaled_images_warn():
    data, test = tiny_data()
    net = nnetlib.NpNet([6, 8, 3], seed=0)
    with pytest.warns(UserWarning, match=r"scale the inputs to \[0, 1\]"):
        nnetlib.train(
            net, ((data[0] * 255).astype(np.uint8), data[1]), test, epochs=1, progress=False
        )
    with pytest.warns(UserWarning, match=r"values up to 2\d\d.*\[0, 1\]"):
        nnetlib.evaluate(net, test[0] * 255, test[1])
    with pytest.warns(UserWarning, match=r"integers \(uint8\)"):
        net.step((data[0][:5] * 255).astype(np.uint8), nnetlib.one_hot(data[1][:5], 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nnetlib.train(net, data, test, epochs=1, progress=False)


def test_labels_given_as_targets_name_one_hot(net_class):
    net = net_class([4, 3, 2], seed=0)
    x = np.random.default_rng(0).random((5, 4))
    labels = np.array([0, 1, 1, 0, 1])
    for call in (net.step, net.gradients, net.loss):
        with pytest.raises(ValueError, match=r"nnetlib\.one_hot\(labels, 2\)"):
            call(x, labels)


def test_evaluate_and_train_take_labels_or_one_hot_targets():
    data, test = tiny_data()
    net = nnetlib.NpNet([6, 8, 3], seed=0)
    nnetlib.train(net, data, test, epochs=2, progress=False)
    by_labels = nnetlib.evaluate(net, test[0], test[1])
    by_targets = nnetlib.evaluate(net, test[0], nnetlib.one_hot(test[1], 3))
    assert by_labels == by_targets and 0 < by_labels[1] <= 1
    h1 = nnetlib.train(nnetlib.NpNet([6, 8, 3], seed=1), data, test, epochs=2, progress=False)
    h2 = nnetlib.train(
        nnetlib.NpNet([6, 8, 3], seed=1),
        (data[0], nnetlib.one_hot(data[1], 3)),
        (test[0], nnetlib.one_hot(test[1], 3)),
        epochs=2,
        progress=False,
    )
    assert h2.test_accuracy == h1.test_accuracy and len(h2.test_accuracy) == 2
    # the autoencoder's targets are not one-hot: no accuracy
    ae = nnetlib.train(
        nnetlib.NpNet([6, 3, 6], seed=1),
        (data[0], data[0]),
        (test[0], test[0]),
        epochs=1,
        progress=False,
    )
    assert ae.test_accuracy == [] and len(ae.test_loss) == 1


def test_labels_beyond_the_outputs_are_reported_as_such():
    data, test = tiny_data()
    net = nnetlib.NpNet([6, 8, 2], seed=0)
    before = net.params
    with pytest.raises(ValueError, match="labels go up to 2 but the net has 2 outputs"):
        nnetlib.train(net, data, test, epochs=1, progress=False)
    with pytest.raises(ValueError, match="got dtype float64"):
        nnetlib.train(net, (data[0], data[1].astype(float)), test, epochs=1, progress=False)
    assert np.array_equal(net.params, before)


def test_pynet_dadw_says_what_to_do():
    net = nnetlib.PyNet([3, 2, 2], seed=0)
    with pytest.raises(RuntimeError, match=r"call feedforward\(x\) first"):
        net.dadw(2, 0, 0, 0, 0)
    net.feedforward(np.full((2, 3), 0.5))
    for args, message in (
        ((3, 0, 0, 0, 0), r"l=3 is out of range 0\.\.2"),
        ((2, 3, 0, 0, 0), r"q=3 is out of range 0\.\.2 \(layer l=2\)"),
        ((2, 0, 0, 4, 0), r"i=4 is out of range 0\.\.3 \(weights k=0\)"),
        ((2, 0, 1, 0, 2), r"j=2 is out of range 0\.\.1 \(weights k=1\)"),
        ((2, 0, 0, 0, 0, 2), r"b=2 is out of range 0\.\.1"),
    ):
        with pytest.raises(IndexError, match=message):
            net.dadw(*args)
    assert net.dadw(2, 0, 0, 3, 1, 1) != 0.0
    assert "Ranges" in nnetlib.PyNet.dadw.__doc__


# -- loads that refuse what they cannot honour -----------------------------------


def test_checkpoint_of_another_function_is_refused(tmp_path):
    path = tmp_path / "front.npz"
    front = nnetlib.FrontNet([4, 3, 2], seed=0, activation="relu", loss="cross_entropy")
    front.save(path)
    for weights_only in (False, True):
        with pytest.raises(ValueError, match=r"activation='relu', loss='cross_entropy'.*FrontNet"):
            nnetlib.NpNet.load(path, weights_only=weights_only)
    assert np.array_equal(
        nnetlib.FrontNet.load(path).feedforward(np.ones((1, 4))), front.feedforward(np.ones((1, 4)))
    )
    # dropout is part of the function trained; weights_only is the way out
    drop = tmp_path / "drop.npz"
    net = nnetlib.FrontNet([4, 3, 2], seed=0, optimizer="adam", dropout=0.25)
    net.step(np.full((3, 4), 0.5), np.eye(2)[[0, 1, 0]])
    net.save(drop)
    with pytest.raises(
        ValueError, match=r"dropout=0\.25.*FrontNet\.load\(path, weights_only=True\)"
    ):
        nnetlib.FrontNet.load(drop, dropout=0.0)
    fresh = nnetlib.FrontNet.load(drop, dropout=0.0, weights_only=True)
    assert np.array_equal(fresh.params, net.params) and fresh.n_steps == 0
    assert not fresh.optimizer.m.any() and not fresh.optimizer.s.any()


@nets("CyNet", "NpNet", "FrontNet")
def test_torchnet_starts_from_a_frontprop_checkpoint_with_weights_only(net_class, tmp_path):
    path = tmp_path / "cy.npz"
    x, t = problem([4, 3, 2], 6)
    net = net_class([4, 3, 2], seed=0, dtype="float64")
    net.step(x, t)
    net.save(path)
    with pytest.raises(ValueError, match=r"'sgd'.*TorchNet\.load\(path, weights_only=True\)"):
        nnetlib.TorchNet.load(path)
    torch_net = nnetlib.TorchNet.load(path, weights_only=True)
    assert (
        np.array_equal(torch_net.params, net.params) and not torch_net.optimizer_state()["b"].any()
    )
    for a, b in zip(torch_net.gradients(x, t), net.gradients(x, t)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_weights_of_other_layers_are_refused_and_nothing_changes(tmp_path):
    path = tmp_path / "n.npz"
    nnetlib.NpNet([4, 3, 2], seed=0).save(path)
    other = nnetlib.NpNet([4, 3, 3], seed=1)
    before = other.params
    with pytest.raises(ValueError, match=r"layers \[4, 3, 2\].*not even with weights_only=True"):
        other.load_state(path, weights_only=True)
    assert np.array_equal(other.params, before)


# -- files as a user expects ------------------------------------------------------


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoint_mode_follows_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        nnetlib.NpNet([3, 2], seed=0).save(tmp_path / "n.npz")
        nnetlib.NpNet([3, 2], seed=1).save(tmp_path / "n.npz")  # replaced atomically
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "n.npz").st_mode & 0o777 == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.npz"]
    assert np.array_equal(
        nnetlib.NpNet.load(tmp_path / "n.npz").params, nnetlib.NpNet([3, 2], seed=1).params
    )


def test_unscaled_warning_on_a_sample_of_rows():
    from nnetlib._checks import UNSCALED_SAMPLE_ROWS, warn_if_unscaled

    x = np.full((3 * UNSCALED_SAMPLE_ROWS, 4), 200.0)  # raw images: every row above 1
    with pytest.warns(UserWarning, match=r"values up to 200"):
        warn_if_unscaled(x, "x", sample=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_unscaled(np.zeros((3 * UNSCALED_SAMPLE_ROWS, 4)), "x", sample=True)
        warn_if_unscaled(np.array([[0.5, np.inf, np.nan]]), "x")  # refused later, not "unscaled"


@pytest.mark.parametrize("bad", [-1, 0.0, 1.5, True, "2"])
def test_train_refuses_an_epoch_count_that_is_not_a_count(bad):
    x = np.random.default_rng(0).random((4, 3)).astype("float32")
    net = nnetlib.NpNet([3, 2, 2], seed=0)
    before = net.params
    with pytest.raises(ValueError, match="epochs must be an int >= 0"):
        nnetlib.train(net, (x, np.array([0, 1, 0, 1])), epochs=bad, progress=False)
    assert np.array_equal(net.params, before)
    assert nnetlib.train(net, (x, np.array([0, 1, 0, 1])), epochs=0, progress=False).epoch == []
