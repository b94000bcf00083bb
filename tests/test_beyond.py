"""Beyond the article (08-beyond): generalized frontprop, Adam, dropout,
backprop, forward gradients and the cost model, against torch autograd."""

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import nets, problem, rel_err
from hypothesis import given, settings
from hypothesis import strategies as st

import nnetlib
from nnetlib.costmodel import (
    backprop_breakdown,
    backprop_macs,
    frontprop_breakdown,
    frontprop_macs,
)
from nnetlib.nets.backprop import BackpropNet
from nnetlib.nets.forward_gradient import ForwardGradientNet, functional_loss
from nnetlib.nets.front import FrontNet

ACTS = ["sigmoid", "tanh", "relu"]
LOSSES = ["mse", "cross_entropy"]
ARCHS = [
    [3, 4, 2],
    [2, 3, 3, 2],
    [3, 5, 4, 3, 2, 2],
    [1, 1],
    [4, 1, 1, 3],
    [5, 3],
    [2, 6, 1, 4, 2, 3, 2],
]
TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def flat(grads):
    return np.concatenate([np.ravel(g) for g in grads])


def torch_reference(layers, flat_params, x, t, activation, loss, masks=None):
    """(E, grad E) by reverse-mode torch autograd, written independently of
    nnetlib (nn.functional losses, explicit layer loop)."""
    p = torch.tensor(flat_params, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(x, dtype=torch.float64)
    tt = torch.tensor(t, dtype=torch.float64)
    start, L = 0, len(layers) - 1
    for l in range(1, L + 1):
        n, m = layers[l - 1], layers[l]
        w = p[start : start + (n + 1) * m].reshape(n + 1, m)
        start += (n + 1) * m
        h = F.linear(a, w[:-1].T, w[-1])
        if l < L:
            a = TORCH_ACT[activation](h)
            if masks is not None:
                a = a * torch.tensor(masks[l - 1], dtype=torch.float64)
    if loss == "mse":
        E = F.mse_loss(torch.sigmoid(h), tt)
    else:
        E = F.cross_entropy(h, tt)  # probability ("soft") targets, mean over the batch
    (g,) = torch.autograd.grad(E, p)
    return float(E.detach()), g.numpy()


def ce_problem(layers, batch, seed=0):
    """Inputs and one-hot targets."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, layers[0]))
    t = np.eye(layers[-1])[rng.integers(0, layers[-1], batch)]
    return x, t


# -- gradients against autograd ----------------------------------------------------
@nets("FrontNet", "BackpropNet")
@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("layers", ARCHS)
def test_gradients_match_autograd(net_class, activation, loss, layers):
    p = nnetlib.init_params(layers, init="article_normal", seed=len(layers), dtype="float64")
    x, t = problem(layers, 5, seed=1)
    x = 2 * x - 1  # both signs, so ReLU is exercised
    E, ref = torch_reference(layers, p, x, t, activation, loss)
    net = net_class(layers, params=p, dtype="float64", activation=activation, loss=loss)
    assert rel_err([flat(net.gradients(x, t))], [ref]) <= 1e-10
    assert net.loss(x, t) == pytest.approx(E, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("activation", ACTS)
def test_cross_entropy_one_hot_targets(activation):
    layers = [4, 6, 5, 3]
    p = nnetlib.init_params(layers, seed=2, dtype="float64")
    x, t = ce_problem(layers, 7)
    _, ref = torch_reference(layers, p, x, t, activation, "cross_entropy")
    net = FrontNet(layers, params=p, dtype="float64", activation=activation, loss="cross_entropy")
    assert rel_err([flat(net.gradients(x, t))], [ref]) <= 1e-10
    out = net.feedforward(x)
    assert np.allclose(out.sum(axis=1), 1) and np.all(out > 0)


def test_relu_slope_at_zero_is_zero():
    # h^1 = 0 exactly for the first hidden unit: torch and FrontNet both use slope 0
    layers = [2, 2, 1]
    w0 = np.array([[0.0, 1.0], [0.0, -1.0], [0.0, 0.5]])
    w1 = np.array([[1.0], [2.0], [0.1]])
    p = np.concatenate([w0.ravel(), w1.ravel()])
    x, t = np.array([[0.3, 0.7]]), np.array([[1.0]])
    _, ref = torch_reference(layers, p, x, t, "relu", "mse")
    net = FrontNet(layers, params=p, dtype="float64", activation="relu")
    assert rel_err([flat(net.gradients(x, t))], [ref]) <= 1e-12
    assert net.gradients(x, t)[1][0, 0] == 0.0


def test_default_frontnet_is_the_article_net():
    layers = [3, 5, 4, 2]
    p = nnetlib.init_params(layers, seed=0, dtype="float64")
    x, t = problem(layers, 6)
    front = FrontNet(layers, params=p, dtype="float64")
    article_net = nnetlib.NpNet(layers, params=p, dtype="float64")
    assert rel_err(front.gradients(x, t), article_net.gradients(x, t)) <= 1e-12
    assert front.loss(x, t) == pytest.approx(article_net.loss(x, t), rel=1e-14)
    assert np.array_equal(front.feedforward(x), article_net.feedforward(x))
    for _ in range(3):
        assert front.step(x, t, lr=2.0, momentum=0.7) == pytest.approx(
            article_net.step(x, t, lr=2.0, momentum=0.7)
        )
    assert rel_err([front.params], [article_net.params]) <= 1e-12
    assert rel_err([front.velocity], [article_net.velocity]) <= 1e-12


@settings(max_examples=40, deadline=None)
@given(
    layers=st.lists(st.integers(1, 6), min_size=2, max_size=7),
    batch=st.integers(1, 5),
    activation=st.sampled_from(ACTS),
    loss=st.sampled_from(LOSSES),
    seed=st.integers(0, 2**16),
)
def test_backprop_equals_frontprop(layers, batch, activation, loss, seed):
    p = nnetlib.init_params(layers, init="article_normal", seed=seed, dtype="float64")
    x, t = problem(layers, batch, seed=seed)
    kw = dict(
        params=p, dtype="float64", activation=activation, loss=loss, dropout=0.3, dropout_seed=seed
    )
    front, back = FrontNet(layers, **kw), BackpropNet(layers, **kw)
    masks = front.draw_masks(batch)
    assert rel_err(back.gradients(x, t), front.gradients(x, t)) <= 1e-12
    assert rel_err(back.gradients(x, t, masks=masks), front.gradients(x, t, masks=masks)) <= 1e-12


def test_chunked_jacobians_agree():
    layers = [3, 5, 4, 4, 2]
    x, t = problem(layers, 9)
    net = FrontNet(layers, seed=1, dtype="float64", activation="tanh", loss="cross_entropy")
    whole = net.gradients(x, t)
    net.jacobian_budget = 1  # one sample per chunk
    assert rel_err(net.gradients(x, t), whole) <= 1e-13


@pytest.mark.parametrize("activation", ACTS)
def test_jacobian_is_forward_mode_ad(activation):
    """J^{l,k} = da^l/dh^{k+1} equals torch.func.jacfwd of h^{k+1} -> a^l."""
    layers = [3, 4, 5, 3, 2]
    x, _ = problem(layers, 3)
    net = FrontNet(layers, seed=0, dtype="float64", activation=activation)
    masks = FrontNet(layers, dropout=0.5, dropout_seed=3, dtype="float64").draw_masks(3)
    g = TORCH_ACT[activation]
    W = [torch.tensor(w) for w in net.weights]
    for use_masks in (None, masks):
        for k in range(3):
            for l in range(k + 1, 4):

                def tail(h, b=0, use_masks=use_masks, k=k, l=l):
                    a = g(h)
                    if use_masks is not None:
                        a = a * torch.tensor(use_masks[k][b])
                    for m in range(k + 1, l):
                        a = g(a @ W[m][:-1] + W[m][-1])
                        if use_masks is not None:
                            a = a * torch.tensor(use_masks[m][b])
                    return a

                acts = [torch.tensor(x)]
                for m in range(k + 1):
                    h = acts[-1] @ W[m][:-1] + W[m][-1]
                    a = g(h)
                    if use_masks is not None and m < k:
                        a = a * torch.tensor(use_masks[m])
                    acts.append(a)
                J = net.jacobian(x, l, k, masks=use_masks)
                for b in range(3):
                    ref = torch.func.jacfwd(lambda hh, b=b: tail(hh, b))(h[b]).numpy()
                    assert rel_err([J[b]], [ref]) <= 1e-12, (k, l, b)


# -- dropout -------------------------------------------------------------------------
@nets("FrontNet", "BackpropNet")
@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("loss", LOSSES)
def test_dropout_gradients_with_fixed_masks(net_class, activation, loss):
    layers = [4, 7, 6, 5, 3]
    p = nnetlib.init_params(layers, seed=5, dtype="float64")
    x, t = ce_problem(layers, 8, seed=2) if loss == "cross_entropy" else problem(layers, 8, seed=2)
    net = net_class(
        layers,
        params=p,
        dtype="float64",
        activation=activation,
        loss=loss,
        dropout=0.4,
        dropout_seed=11,
    )
    masks = net.draw_masks(8)
    E, ref = torch_reference(layers, p, x, t, activation, loss, masks)
    assert rel_err([flat(net.gradients(x, t, masks=masks))], [ref]) <= 1e-10
    assert net.loss(x, t, masks=masks) == pytest.approx(E, rel=1e-12)


def test_masks_are_inverted_dropout():
    net = FrontNet([10, 200, 300, 2], dropout=0.25, dropout_seed=0, dtype="float64")
    masks = net.draw_masks(400)
    assert [m.shape for m in masks] == [(400, 200), (400, 300)]
    for m in masks:
        assert set(np.unique(m)) == {0.0, 1 / 0.75}
        # fraction dropped: binomial, n = 8e4 or 1.2e5, sd < 0.0016; allow 5 sd
        assert abs(np.mean(m == 0) - 0.25) < 0.008
    assert all(np.array_equal(a, b) for a, b in zip(masks, net.draw_masks(400)))
    assert not np.array_equal(masks[0], net.draw_masks(400, step=1)[0])


def test_dropout_step_uses_masks_and_eval_is_deterministic():
    layers = [4, 6, 5, 3]
    p = nnetlib.init_params(layers, seed=1, dtype="float64")
    x, t = ce_problem(layers, 6)
    net = FrontNet(
        layers,
        params=p,
        dtype="float64",
        loss="cross_entropy",
        activation="relu",
        dropout=0.5,
        dropout_seed=7,
    )
    plain = FrontNet(layers, params=p, dtype="float64", loss="cross_entropy", activation="relu")
    assert np.array_equal(net.feedforward(x), plain.feedforward(x))
    assert net.loss(x, t) == plain.loss(x, t)
    assert rel_err(net.gradients(x, t), plain.gradients(x, t)) == 0
    for step in range(3):
        masks = net.draw_masks(6, step=step)
        g = flat(net.gradients(x, t, masks=masks))
        before = net.params
        loss = net.step(x, t, lr=0.5, momentum=0.0)
        at_before = FrontNet(
            layers, params=before, dtype="float64", loss="cross_entropy", activation="relu"
        )
        assert loss == pytest.approx(at_before.loss(x, t, masks=masks), rel=1e-12)
        assert rel_err([net.params], [before - 0.5 * g]) <= 1e-14
    assert net.n_steps == 3


# -- Adam --------------------------------------------------------------------------
@nets("FrontNet", "BackpropNet")
@pytest.mark.parametrize(
    "activation,loss", [("sigmoid", "mse"), ("tanh", "cross_entropy"), ("relu", "cross_entropy")]
)
def test_adam_matches_torch(net_class, activation, loss):
    layers = [5, 6, 4, 3]
    p0 = nnetlib.init_params(layers, seed=3, dtype="float64")
    net = net_class(
        layers, params=p0, dtype="float64", activation=activation, loss=loss, optimizer="adam"
    )
    ref = torch.tensor(p0, requires_grad=True)
    opt = torch.optim.Adam([ref], lr=0.01)
    lrs = [0.01, 0.01, 0.003, 0.02, 0.01, 0.001, 0.05]
    for i, lr in enumerate(lrs):
        x, t = (
            ce_problem(layers, 4, seed=i) if loss == "cross_entropy" else problem(layers, 4, seed=i)
        )
        E, g = torch_reference(layers, ref.detach().numpy(), x, t, activation, loss)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        ref.grad = torch.tensor(g)
        opt.step()
        got = net.step(x, t, lr=lr, momentum=0.9)  # momentum is ignored by Adam
        assert got == pytest.approx(E, rel=1e-12)
        assert rel_err([net.params], [ref.detach().numpy()]) <= 1e-10
    state = opt.state[ref]
    assert rel_err([net.optimizer.m], [state["exp_avg"].numpy()]) <= 1e-10
    assert rel_err([net.second_moment], [state["exp_avg_sq"].numpy()]) <= 1e-10
    assert net.n_steps == len(lrs)


def test_adam_custom_betas_and_default_lr():
    layers = [3, 4, 2]
    p0 = nnetlib.init_params(layers, seed=0, dtype="float64")
    net = FrontNet(layers, params=p0, dtype="float64", optimizer="adam", betas=(0.5, 0.9), eps=1e-6)
    ref = torch.tensor(p0, requires_grad=True)
    opt = torch.optim.Adam([ref], lr=1e-3, betas=(0.5, 0.9), eps=1e-6)
    for i in range(4):
        x, t = problem(layers, 3, seed=i)
        _, g = torch_reference(layers, ref.detach().numpy(), x, t, "sigmoid", "mse")
        opt.zero_grad()
        ref.grad = torch.tensor(g)
        opt.step()
        net.step(x, t)  # lr defaults to 1e-3 for Adam
    assert rel_err([net.params], [ref.detach().numpy()]) <= 1e-10


def test_train_drives_adam_and_resumes_exactly(tmp_path):
    layers = [6, 8, 8, 3]
    rng = np.random.default_rng(0)
    x = rng.random((60, 6)).astype("float32")
    y = (x[:, 0] * 3).astype(np.int64).clip(0, 2)
    kw = dict(seed=0, loss="cross_entropy", activation="relu", optimizer="adam", dropout=0.2)
    args = dict(batch_size=16, lr=0.01, shuffle=True, seed=1, progress=False)
    full = FrontNet(layers, **kw)
    h_full = nnetlib.train(full, (x, y), (x, y), epochs=4, **args)
    ck = tmp_path / "adam.npz"
    part = FrontNet(layers, **kw)
    nnetlib.train(part, (x, y), (x, y), epochs=2, checkpoint=ck, **args)
    resumed = FrontNet(layers, **kw)
    h_res = nnetlib.train(resumed, (x, y), (x, y), epochs=4, checkpoint=ck, **args)
    assert np.array_equal(resumed.params, full.params)
    assert np.array_equal(resumed.second_moment, full.second_moment)
    assert h_res.test_accuracy == h_full.test_accuracy
    loaded = FrontNet.load(ck)
    assert loaded.config == full.config and np.array_equal(loaded.params, full.params)
    assert loaded.n_steps == full.n_steps
    with pytest.raises(ValueError, match="activation"):
        nnetlib.train(
            FrontNet(layers, **{**kw, "activation": "tanh"}),
            (x, y),
            (x, y),
            epochs=5,
            checkpoint=ck,
            **args,
        )
    with pytest.raises(ValueError, match=r"optimizer state is 'adam'.*steps with 'sgd'"):
        nnetlib.train(
            FrontNet(layers, **{**kw, "optimizer": "sgd"}),
            (x, y),
            (x, y),
            epochs=5,
            checkpoint=ck,
            **args,
        )


def test_refused_step_changes_nothing():
    net = FrontNet([3, 4, 2], optimizer="adam", seed=0)
    before = (net.params, net.optimizer_state()["m"], net.second_moment, net.n_steps)
    with pytest.raises(ValueError, match=r"t must have shape \(batch >= 1, 2\), got \(2, 3\)"):
        net.step(np.zeros((2, 3)), np.zeros((2, 3)), lr=0.1)
    with pytest.raises(ValueError, match="lr must be > 0, got -1"):
        net.step(np.zeros((2, 3)), np.zeros((2, 2)), lr=-1)
    after = (net.params, net.optimizer_state()["m"], net.second_moment, net.n_steps)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_velocity_is_the_v_of_sgd_only():
    x, t = problem([3, 4, 2], 3)
    sgd = FrontNet([3, 4, 2], seed=0)
    sgd.step(x, t, lr=0.5)
    assert sgd.velocity.any() and np.array_equal(sgd.velocity, sgd.optimizer.v)
    adam = FrontNet([3, 4, 2], seed=0, optimizer="adam")
    with pytest.raises(AttributeError, match=r"'adam', which keeps no velocity v.*\(m, s\)"):
        _ = adam.velocity
    with pytest.raises(AttributeError, match=r"'torch-sgd', which keeps no velocity v.*\(b\)"):
        _ = nnetlib.TorchNet([3, 4, 2], seed=0).velocity


def test_checkpoints_store_the_state_under_its_old_names(tmp_path):
    """m, v and b are stored as opt_velocity, s as opt_second_moment, as before
    the state arrays were named after what they hold; reading gives the names back."""
    x, t = problem([3, 4, 2], 3)
    cases = (
        (FrontNet([3, 4, 2], seed=0, optimizer="adam"), {"m": "velocity", "s": "second_moment"}),
        (nnetlib.NpNet([3, 4, 2], seed=0), {"v": "velocity"}),
        (nnetlib.TorchNet([3, 4, 2], seed=0), {"b": "velocity"}),
    )
    for net, names in cases:
        net.step(x, t, lr=0.5)
        net.save(tmp_path / "c.npz")
        with np.load(tmp_path / "c.npz") as z:
            stored = {key[4:]: z[key] for key in z.files if key.startswith("opt_")}
        state = net.optimizer_state()
        assert sorted(stored) == sorted(names.values()) and sorted(state) == sorted(names)
        assert all(np.array_equal(stored[disk], state[name]) for name, disk in names.items())
        read = nnetlib.read_checkpoint(tmp_path / "c.npz")["optimizer_state"]
        assert all(np.array_equal(read[name], state[name]) for name in names)


# -- forward gradients ------------------------------------------------------------------
def along(net, x, t, v, masks, eps=1e-6):
    """(E(w + eps v) - E(w - eps v)) / (2 eps): the directional derivative by
    central differences of ``net.loss``, independent of the jvp."""
    w = net.params
    try:
        net.params = w + eps * v
        plus = net.loss(x, t, masks=masks)
        net.params = w - eps * v
        minus = net.loss(x, t, masks=masks)
    finally:
        net.params = w
    return (plus - minus) / (2 * eps)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("loss", LOSSES)
def test_jvp_is_the_directional_derivative(activation, loss):
    """d = grad E . v against frontprop's gradient and against central differences
    along v; g^ = d v against the finite-difference slope times v."""
    layers = [4, 6, 5, 3]
    x, t = problem(layers, 5, seed=3)
    net = ForwardGradientNet(
        layers, seed=2, dtype="float64", activation=activation, loss=loss, dropout=0.3
    )
    for masks in (None, net.draw_masks(5)):
        g = flat(net.gradients(x, t, masks=masks))
        for s in range(3):
            v = net.direction(step=s)
            E, d, est = net.estimate(x, t, v, masks=masks)
            slope = along(net, x, t, v, masks)
            assert d == pytest.approx(g @ v, rel=1e-10, abs=1e-14)
            assert d == pytest.approx(slope, rel=1e-6, abs=1e-9)
            assert E == pytest.approx(net.loss(x, t, masks=masks), rel=1e-12)
            np.testing.assert_allclose(est, slope * v, rtol=1e-6, atol=1e-9)


def test_functional_loss_matches_autograd():
    layers = [3, 4, 4, 2]
    p = nnetlib.init_params(layers, seed=9, dtype="float64")
    x, t = ce_problem(layers, 4)
    f = functional_loss(layers, "tanh", "cross_entropy")
    E, ref = torch_reference(layers, p, x, t, "tanh", "cross_entropy")
    g = torch.func.grad(f)(torch.tensor(p), torch.tensor(x), torch.tensor(t))
    assert rel_err([g.numpy()], [ref]) <= 1e-12
    assert float(f(torch.tensor(p), torch.tensor(x), torch.tensor(t))) == pytest.approx(
        E, rel=1e-14
    )


def test_forward_gradient_is_unbiased():
    """The mean of ``net.estimate`` over N of the net's own directions approaches
    grad E.  For v ~ N(0, I), g^ = (g.v) v has mean g and per-component variance
    |g|^2 + g_i^2, so a 5-sigma band per component (P = 23, N = 1000) fails by
    chance with p < 2e-5; its projection g^.g / |g|^2 = (g.v / |g|)^2 is
    chi-square with one degree of freedom: mean 1, sd sqrt(2 / N).  A wrong
    direction scale, sign or estimator moves both."""
    layers = [3, 4, 3]
    x, t = problem(layers, 4, seed=0)
    net = ForwardGradientNet(layers, seed=0, direction_seed=123, dtype="float64", activation="tanh")
    g = flat(net.gradients(x, t))
    N = 1000
    ests = np.stack([net.estimate(x, t, net.direction(step=s))[2] for s in range(N)])
    z = (ests.mean(axis=0) - g) / np.sqrt((g @ g + g * g) / N)
    assert np.max(np.abs(z)) < 5
    projection = ests @ g / (g @ g)
    assert abs(projection.mean() - 1) < 5 * np.sqrt(2 / N)
    # what makes it unbiased: E[v v^T] = I for the net's directions (diagonal sd
    # sqrt(2 / M), off-diagonal sd sqrt(1 / M)); a 10 % error in scale fails here
    M = 20000
    V = np.stack([net.direction(step=s) for s in range(M)])
    second = V.T @ V / M
    off = second[~np.eye(len(g), dtype=bool)]
    assert np.max(np.abs(np.diag(second) - 1)) < 5 * np.sqrt(2 / M) and np.max(
        np.abs(off)
    ) < 5 * np.sqrt(1 / M)


def test_forward_gradient_step_follows_the_estimate():
    layers = [4, 5, 3]
    x, t = problem(layers, 6)
    for opt in ("sgd", "adam"):
        net = ForwardGradientNet(layers, seed=1, dtype="float64", optimizer=opt)
        twin = FrontNet(layers, params=net.params, dtype="float64", optimizer=opt)
        for s in range(3):
            _, _, est = net.estimate(x, t, net.direction(step=s))
            net.step(x, t, lr=0.1, momentum=0.5)
            # replay the same update on a FrontNet through its optimizer hook
            twin._step_gradient = lambda xx, tt, e=est: (0.0, e)
            twin.step(x, t, lr=0.1, momentum=0.5)
        assert rel_err([net.params], [twin.params]) <= 1e-14


def test_forward_gradient_train_and_checkpoint(tmp_path):
    layers = [5, 6, 3]
    rng = np.random.default_rng(0)
    x = rng.random((40, 5)).astype("float32")
    y = rng.integers(0, 3, 40)
    kw = dict(seed=0, loss="cross_entropy", direction_seed=5)
    full = ForwardGradientNet(layers, **kw)
    nnetlib.train(full, (x, y), (x, y), epochs=3, batch_size=10, lr=0.01, progress=False)
    ck = tmp_path / "fg.npz"
    nnetlib.train(
        ForwardGradientNet(layers, **kw),
        (x, y),
        (x, y),
        epochs=1,
        batch_size=10,
        lr=0.01,
        progress=False,
        checkpoint=ck,
    )
    res = ForwardGradientNet(layers, **kw)
    nnetlib.train(
        res, (x, y), (x, y), epochs=3, batch_size=10, lr=0.01, progress=False, checkpoint=ck
    )
    assert np.array_equal(res.params, full.params)
    assert ForwardGradientNet.load(ck).direction_seed == 5


# -- cost model --------------------------------------------------------------------------
def test_cost_model_by_hand():
    # [3, 4]: forward and weight gradients 4*4 each, 4 for dE/dh^L, nothing else
    assert frontprop_macs([3, 4]) == backprop_macs([3, 4]) == 36
    # [2, 3, 2]: forward 3*3 + 4*2 = 17; output 2; u = 2*3, delta^0 = u*s: 3
    assert frontprop_breakdown([2, 3, 2]) == {
        "forward": 17,
        "output": 2,
        "jacobians": 0,
        "contraction": 9,
        "weights": 17,
    }
    assert backprop_breakdown([2, 3, 2]) == {
        "forward": 17,
        "output": 2,
        "backward": 9,
        "weights": 17,
    }
    # [2, 3, 4, 2]: J^{2,0} = diag(s2) W1^T diag(s1), 2*4*3 = 24;
    # contraction: u 2*4 = 8, delta^1 = u*s2: 4, delta^0 = u J^{2,0}: 4*3 = 12
    assert frontprop_breakdown([2, 3, 4, 2])["jacobians"] == 24
    assert frontprop_breakdown([2, 3, 4, 2])["contraction"] == 24
    assert frontprop_macs([2, 3, 4, 2]) == 35 + 2 + 24 + 24 + 35
    # backprop: delta^1: 2*4 + 4, delta^0: 4*3 + 3
    assert backprop_macs([2, 3, 4, 2]) == 35 + 2 + 12 + 15 + 35
    # [1, 2, 3, 4, 5]: k=0: 2*3*2 + (4*3*2 + 4*2); k=1: 2*4*3 -> 68
    # contraction 5*4 + 4 + 4*2 + 4*3 = 44; backward 24 + 15 + 8 = 47; maps 54
    assert frontprop_macs([1, 2, 3, 4, 5]) == 54 + 5 + 68 + 44 + 54
    assert backprop_macs([1, 2, 3, 4, 5]) == 54 + 5 + 47 + 54


def test_cost_model_asymptotics():
    # the cubic term: (L-2)(L-3)/2 products of w x w matrices per sample
    for d in range(1, 8):
        w = 1000
        layers = [w] * (d + 2)  # d hidden layers, L = d + 1
        cubic = (d - 1) * (d - 2) // 2 * w**3
        assert 0 <= frontprop_breakdown(layers)["jacobians"] - cubic < 3 * d * d * w * w
    assert frontprop_macs([784, 16, 10]) == backprop_macs([784, 16, 10])
    assert frontprop_macs([784] + [256] * 6 + [10]) > 100 * backprop_macs([784] + [256] * 6 + [10])


# -- validation -----------------------------------------------------------------------------
@nets("FrontNet", "BackpropNet", "ForwardGradientNet")
@pytest.mark.parametrize(
    "kwargs",
    [
        {"activation": "softplus"},
        {"activation": None},
        {"loss": "hinge"},
        {"loss": "MSE"},
        {"optimizer": "rmsprop"},
        {"optimizer": 1},
        {"dropout": -0.1},
        {"dropout": 1.0},
        {"dropout": 1.5},
        {"dropout": float("nan")},
        {"dropout": True},
        {"dropout": "0.5"},
        {"betas": (0.9, 1.0)},
        {"betas": 0.9},
        {"eps": 0},
        {"dropout_seed": -1},
    ],
)
def test_bad_options_raise(net_class, kwargs):
    with pytest.raises(ValueError, match=f"{next(iter(kwargs))} must be"):
        net_class([3, 4, 2], **kwargs)


def test_bad_masks_and_directions_raise():
    net = ForwardGradientNet([3, 4, 5, 2], seed=0, dtype="float64")
    x, t = problem([3, 4, 5, 2], 3)
    good = net.draw_masks(3)
    for masks, match in (
        ([good[0]], "masks must hold 2 arrays"),
        ([good[0], good[0]], r"masks\[1\] must have shape \(batch >= 1, 5\)"),
        ([good[0], good[1][:2]], r"masks\[1\] must have shape \(3, 5\)"),
        (5, "masks must be a list"),
        ([good[0], np.full((3, 5), np.nan)], r"masks\[1\] contains NaN"),
    ):
        with pytest.raises(ValueError, match=match):
            net.gradients(x, t, masks=masks)
    for v in (np.zeros(3), np.full(net.n_params, np.inf)):
        with pytest.raises(ValueError, match=f"v must be a finite vector of length {net.n_params}"):
            net.estimate(x, t, v)
    with pytest.raises(ValueError, match=r"k \+ 1 <= l <= 2, got l=1, k=1"):
        net.jacobian(x, 1, 1)
    with pytest.raises(ValueError, match="direction_seed must be an int >= 0, got -3"):
        ForwardGradientNet([3, 2], direction_seed=-3)


# -- defaults that fit the optimizer ----------------------------------------------


@pytest.mark.slow  # trains on MNIST
def test_adam_frontnet_with_default_arguments_learns_mnist():
    """FrontNet(ReLU, cross-entropy, Adam) and train's defaults (lr 1e-3,
    batches of 100, the net's own): >= 90 % test accuracy after 3 epochs on
    20,000 MNIST training images.  With lr 10 (train's old default) it stayed
    near chance."""
    if not os.environ.get("NNETLIB_DATA"):
        pytest.skip("NNETLIB_DATA is not set: this test trains on real MNIST")
    (x, y), test = nnetlib.mnist_task("classifier")
    net = FrontNet([784, 32, 10], seed=0, activation="relu", loss="cross_entropy", optimizer="adam")
    history = nnetlib.train(net, (x[:20000], y[:20000]), test, epochs=3, progress=False)
    assert history.test_accuracy[-1] >= 0.90
