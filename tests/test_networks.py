"""Gradients of every network against torch autograd and finite differences."""

import numpy as np
import pytest
import torch
from helpers import ARTICLE_NETS, nets, problem, rel_err
from hypothesis import given, settings
from hypothesis import strategies as st

import nnetlib

ARCHS = [
    [3, 4, 2],
    [2, 3, 3, 2],
    [3, 5, 4, 3, 2, 2],
    [1, 1],
    [4, 1, 1, 3],
    [5, 1],
    [2, 6, 1, 4, 2, 3, 2],
]


def autograd(layers, params, x, t):
    """Reference gradient straight from torch.autograd, written here."""
    flat = torch.tensor(params, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(x)
    start = 0
    for n, m in zip(layers[:-1], layers[1:]):
        w = flat[start : start + (n + 1) * m].reshape(n + 1, m)
        a = torch.sigmoid(a @ w[:-1] + w[-1])
        start += (n + 1) * m
    loss = torch.mean((a - torch.tensor(t)) ** 2)
    (g,) = torch.autograd.grad(loss, flat)
    return g.numpy()


@nets(*ARTICLE_NETS)
@pytest.mark.parametrize("layers", ARCHS)
@pytest.mark.parametrize("batch", [1, 3])
def test_all_agree_with_autograd(net_class, layers, batch):
    p = nnetlib.init_params(layers, seed=len(layers) + batch, dtype="float64")
    x, t = problem(layers, batch, seed=batch)
    ref = autograd(layers, p, x, t)
    net = net_class(layers, params=p, dtype="float64")
    flat = np.concatenate([g.ravel() for g in net.gradients(x, t)])
    assert rel_err([flat], [ref]) <= 1e-10


def test_npnet_dadw_path_equals_fast_path():
    layers = [3, 4, 3, 2]
    x, t = problem(layers, 4)
    net = nnetlib.NpNet(layers, seed=0, dtype="float64")
    assert rel_err(net.gradients_dadw(x, t), net.gradients(x, t)) <= 1e-12


def test_pynet_dadw_matches_npnet_DADW():
    layers = [2, 3, 3, 2]
    x, _ = problem(layers, 2)
    p = nnetlib.init_params(layers, seed=3, dtype="float64")
    py, npn = (
        nnetlib.PyNet(layers, params=p, dtype="float64"),
        nnetlib.NpNet(layers, params=p, dtype="float64"),
    )
    py.feedforward(x), npn.feedforward(x)
    for l in range(4):
        for k in range(3):
            for q in range(layers[l] + 1):
                D = npn.DADW(l, q, k)
                for i in range(layers[k] + 1):
                    for j in range(layers[k + 1]):
                        for b in range(2):
                            assert abs(py.dadw(l, q, k, i, j, b) - D[b, i, j]) < 1e-14


def numeric_gradient(net, x, t, index, eps=1e-6):
    p = net.params
    plus, minus = p.copy(), p.copy()
    plus[index] += eps
    minus[index] -= eps
    net.params = plus
    lp = net.loss(x, t)
    net.params = minus
    lm = net.loss(x, t)
    net.params = p
    return (lp - lm) / (2 * eps)


@pytest.mark.parametrize("layers", [[3, 4, 2], [2, 3, 3, 2], [1, 1], [3, 2, 2, 2, 2, 2]])
def test_central_differences_every_weight(layers):
    x, t = problem(layers, 3)
    net = nnetlib.NpNet(layers, seed=1, dtype="float64")
    g = np.concatenate([a.ravel() for a in net.gradients(x, t)])
    num = np.array([numeric_gradient(net, x, t, i) for i in range(net.n_params)])
    assert np.max(np.abs(g - num)) <= 1e-8 * max(1.0, np.max(np.abs(g)))


def test_central_differences_sample_of_784_16_16_10():
    layers = [784, 16, 16, 10]
    x, t = problem(layers, 5)
    net = nnetlib.NpNet(layers, seed=2, dtype="float64")
    g = np.concatenate([a.ravel() for a in net.gradients(x, t)])
    idx = np.random.default_rng(0).choice(net.n_params, 60, replace=False)
    idx = np.concatenate([idx, [net.n_params - 1, 784 * 16 + 3]])  # a bias of each kind
    num = np.array([numeric_gradient(net, x, t, i) for i in idx])
    assert np.max(np.abs(g[idx] - num)) <= 1e-9


@nets("PyNet", "NpNet", "CyNet", "GpuNet")
@settings(max_examples=40, deadline=None)
@given(
    layers=st.lists(st.integers(1, 6), min_size=2, max_size=6),
    batch=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.1, 3.0),
)
def test_property_random_architectures(net_class, layers, batch, seed, scale):
    if net_class is nnetlib.PyNet and nnetlib.n_params(layers) > 60:
        layers = layers[:2]  # PyNet is slow: keep it small
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(nnetlib.n_params(layers)) * scale
    x = rng.standard_normal((batch, layers[0])) * scale
    t = rng.random((batch, layers[-1]))
    ref = autograd(layers, p, x, t)
    net = net_class(layers, params=p, dtype="float64")
    flat = np.concatenate([g.ravel() for g in net.gradients(x, t)])
    assert np.max(np.abs(flat - ref)) <= 1e-10 * max(np.max(np.abs(ref)), 1e-300) + 1e-300


@nets("PyNet", "NpNet", "TorchNet")
def test_one_big_step_drives_single_sample_loss_to_zero(net_class):
    """The article's test: one large step on one sample fits it almost exactly."""
    layers = [4, 3, 2]
    x = np.array([[0.2, 0.4, 0.6, 0.8]])
    t = np.array([[0.3, 0.7]])
    net = net_class(layers, seed=0, dtype="float64")
    before = net.loss(x, t)
    g = np.concatenate([a.ravel() for a in net.gradients(x, t)])
    # a Newton-like step along the gradient: E(w - s g) ~ E - s |g|^2
    net.params = net.params - (before / np.dot(g, g)) * g
    for _ in range(20):
        g = np.concatenate([a.ravel() for a in net.gradients(x, t)])
        e = net.loss(x, t)
        if e < 1e-12:
            break
        net.params = net.params - (e / np.dot(g, g)) * g
    assert before > 1e-3 and net.loss(x, t) < 1e-8


@nets("NpNet", "CyNet", "GpuNet", "FrontNet")
@pytest.mark.parametrize(
    "layers",
    [[784, 16, 16, 10], [784, 64, 784], [20, 8, 20], [5, 4, 3, 3, 2, 2]],
    ids=lambda l: "-".join(map(str, l)),
)
def test_float32_agrees_with_float64(net_class, layers):
    p = nnetlib.init_params(layers, seed=0, dtype="float64")
    x, t = problem(layers, 16)
    g64 = nnetlib.NpNet(layers, params=p, dtype="float64").gradients(x, t)
    net32 = net_class(layers, params=p, dtype="float32")
    g32 = net32.gradients(x.astype("float32"), t.astype("float32"))
    assert all(g.dtype == np.float32 for g in g32)
    assert net32.feedforward(x).dtype == np.float32
    assert rel_err(g32, g64) <= 1e-4


@nets("CyNet", "GpuNet", "FrontNet", "BackpropNet")
@pytest.mark.parametrize(
    "layers",
    [[6, 5, 4, 3], [784, 16, 16, 10], [20, 8, 20], [5, 4, 3, 2, 6, 3], [3, 1]],
    ids=lambda l: "-".join(map(str, l)),
)
def test_step_equals_npnet(net_class, layers):
    """SGD with momentum: the same losses, weights (and their layer views) and
    velocity as NpNet, while lr, momentum and the batch size change."""
    p = nnetlib.init_params(layers, seed=4, dtype="float64")
    ours, ref = (
        net_class(layers, params=p, dtype="float64"),
        nnetlib.NpNet(layers, params=p, dtype="float64"),
    )
    for i, (lr, mom) in enumerate([(3.0, 0.7), (10.0, 0.5), (0.5, 0.0), (2.0, 0.9)]):
        x, t = problem(layers, (1, 9, 4, 12)[i], seed=i)  # batch 1 too
        loss = ours.step(x, t, lr=lr, momentum=mom)
        assert isinstance(loss, float) and loss == pytest.approx(
            ref.step(x, t, lr=lr, momentum=mom), rel=1e-12
        )
    assert rel_err([ours.params], [ref.params]) <= 1e-12
    assert rel_err([ours.velocity], [ref.velocity]) <= 1e-12
    assert rel_err(ours.weights, ref.weights) <= 1e-12


def test_step_semantics_match_torch_sgd():
    layers = [6, 5, 4, 3]
    p = nnetlib.init_params(layers, seed=4, dtype="float64")
    x, t = problem(layers, 7)
    ours, ref = (
        nnetlib.NpNet(layers, params=p, dtype="float64"),
        nnetlib.TorchNet(layers, params=p, dtype="float64"),
    )
    for _ in range(5):
        l1, l2 = ours.step(x, t, lr=3.0, momentum=0.7), ref.step(x, t, lr=3.0, momentum=0.7)
        assert abs(l1 - l2) <= 1e-12
    assert rel_err([ours.params], [ref.params]) <= 1e-12


def test_init_distributions():
    layers = [400, 300, 10]
    w0 = slice(0, 401 * 300)  # the first layer: fan-in n = 400, n + 1 = 401 with the bias
    k = nnetlib.init_params(layers, "torch", seed=0, dtype="float64")[w0]
    assert np.abs(k).max() <= 1 / np.sqrt(400) and np.abs(k).max() > 0.99 / np.sqrt(400)
    u = nnetlib.init_params(layers, "article_uniform", seed=0, dtype="float64")[w0]
    bound = 0.5 * np.sqrt(3 / 401)  # 0.866 / sqrt(n + 1)
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.99 * bound
    assert abs(np.std(u) * np.sqrt(401) - 0.5) < 0.01  # U(-b, b) has sd b / sqrt(3)
    n = nnetlib.init_params(layers, "article_normal", seed=0, dtype="float64")[w0]
    assert abs(np.std(n) * np.sqrt(401) - 1) < 0.01 and abs(np.mean(n)) < 1e-3
    assert np.array_equal(nnetlib.init_params(layers, seed=5), nnetlib.init_params(layers, seed=5))
    assert not np.array_equal(
        nnetlib.init_params(layers, seed=5), nnetlib.init_params(layers, seed=6)
    )


def test_init_renamed():
    with pytest.raises(ValueError, match="'kaiming' is now called 'torch'"):
        nnetlib.init_params([3, 2], "kaiming")


def test_shapes_and_layout():
    net = nnetlib.NpNet([784, 16, 16, 10], seed=0)
    assert net.layers == (784, 16, 16, 10)
    assert [w.shape for w in net.weights] == [(785, 16), (17, 16), (17, 10)]
    assert np.array_equal(net.params, np.concatenate([w.ravel() for w in net.weights]))
    assert net.feedforward(np.zeros((1, 784))).shape == (1, 10)
    assert net.feedforward(np.zeros((1234, 784))).shape == (1234, 10)
    # the last row is the bias: with zero inputs, h^1 equals it
    x = np.zeros((1, 784), np.float32)
    h1 = np.log(net._forward(x)[1] / (1 - net._forward(x)[1]))
    assert np.allclose(h1[0], net.weights[0][-1], atol=1e-5)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_split_layers_gives_views_of_arrays_and_tensors(kind):
    from nnetlib.params import split_layers

    layers = (3, 4, 2)
    flat = nnetlib.init_params(layers, seed=0, dtype="float64")
    flat = torch.from_numpy(flat.copy()) if kind == "torch" else flat.copy()
    views = split_layers(flat, layers)
    assert [tuple(w.shape) for w in views] == [(4, 4), (5, 2)]
    assert np.array_equal(np.concatenate([np.ravel(w) for w in views]), np.asarray(flat))
    views[1][-1, 0] = 7.0  # a view: writing it writes the flat vector
    assert flat[-2] == 7.0


def test_load_reads_the_checkpoint_once(tmp_path, monkeypatch):
    import nnetlib.checkpoint as checkpoint

    net = nnetlib.NpNet([3, 4, 2], seed=0)
    net.save(tmp_path / "n.npz")
    reads, load_npz = [], checkpoint._load_npz
    monkeypatch.setattr(checkpoint, "_load_npz", lambda path: reads.append(path) or load_npz(path))
    back = nnetlib.NpNet.load(tmp_path / "n.npz")
    assert len(reads) == 1 and np.array_equal(back.params, net.params)


# -- the README's quickstart --------------------------------------------------


@pytest.mark.slow  # trains on MNIST
def test_readme_quickstart_runs(tmp_path, monkeypatch, capsys):
    import os
    import re

    if not os.environ.get("NNETLIB_DATA"):
        pytest.skip("NNETLIB_DATA is not set: the quickstart loads real MNIST")
    readme = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Quickstart", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md (Quickstart)", "exec"), {})
    out = capsys.readouterr().out
    assert (tmp_path / "classifier.npz").exists()
    assert len(re.findall(r"epoch \d accuracy 0\.\d+", out)) == 3
    diffs = [float(v) for v in re.findall(r"max \|difference\| (\S+)", out)]
    assert len(diffs) == 3 and max(diffs) < 1e-5
    value = re.search(r"da\^2_3/dw\^0_350,5 = (\S+)", out).group(1)
    assert float(value) != 0.0  # pixel 350 of sample 0 is lit
