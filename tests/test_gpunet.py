"""GpuNet (frontprop in torch tensor ops) against autograd and NpNet.

Every test names its device: ``device="cpu"`` here, so the results are the same
on a CUDA host; the CUDA-graph path of ``train_epoch`` is tested at the end,
on ``device="cuda"``, by tests marked ``gpu`` (skipped without CUDA).
"""

import numpy as np
import pytest
import torch
from helpers import problem, rel_err

import nnetlib
from nnetlib import NpNet, TorchNet
from nnetlib.nets import gpunet as gpunet_module
from nnetlib.nets.gpunet import GpuNet

ARCHS = [
    (3, 2),  # no hidden layer
    (1, 1),  # width 1 everywhere
    (4, 1, 3),  # width-1 hidden layer
    (5, 4, 3, 2, 6, 3),  # depth 5
    (2, 7, 1, 1, 1, 4, 2),  # depth 6, width-1 chain
    (6, 5, 5, 5, 5, 5, 5, 4),  # depth 7
    (20, 16, 16, 10),  # the classifier's shape, narrow input
    (12, 9, 12),  # an autoencoder
]
BATCHES = [1, 3, 17]
TOL = 1e-10


def rel(a, b):
    """max |a - b| / max |b| of two arrays."""
    return rel_err([a], [b])


def assert_grads_close(got, want, tol=TOL):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, k
        assert rel(g, w) <= tol, (k, rel(g, w))


@pytest.mark.parametrize("layers", ARCHS)
@pytest.mark.parametrize("n", BATCHES)
def test_gradients_match_autograd_and_npnet(layers, n):
    x, t = problem(layers, n, seed=n)
    net = GpuNet(layers, seed=7, dtype="float64", init="article_normal", device="cpu")
    p = net.params
    got = net.gradients(x, t)
    assert all(g.dtype == np.float64 for g in got)
    assert_grads_close(got, TorchNet(layers, params=p, dtype="float64").gradients(x, t))
    assert_grads_close(got, NpNet(layers, params=p, dtype="float64").gradients(x, t))
    assert net.loss(x, t) == pytest.approx(
        NpNet(layers, params=p, dtype="float64").loss(x, t), rel=1e-12
    )
    np.testing.assert_allclose(
        net.feedforward(x),
        NpNet(layers, params=p, dtype="float64").feedforward(x),
        rtol=1e-12,
        atol=1e-14,
    )


def test_tensor_input_equals_numpy_input():
    layers = (5, 4, 3, 2, 6, 3)
    x, t = problem(layers, 9)
    net = GpuNet(layers, seed=1, dtype="float64", device="cpu")
    want = net.gradients(x, t)
    got = net.gradients(torch.from_numpy(x), torch.from_numpy(t).float())  # any real dtype is cast
    assert_grads_close(got, want, tol=1e-7)
    got = net.gradients(torch.from_numpy(x), torch.from_numpy(t))
    assert_grads_close(got, want, tol=0)


def test_chunked_jacobians_equal_unchunked():
    layers = (6, 5, 4, 3, 2)
    x, t = problem(layers, 23)
    net = GpuNet(layers, seed=3, dtype="float64", device="cpu")
    want = net.gradients(x, t)
    net.jacobian_budget = 50  # widest 5 x 5: chunks of 2
    assert nnetlib.frontprop.jacobian_chunk(layers, net.jacobian_budget) == 2
    assert_grads_close(net.gradients(x, t), want, tol=1e-14)


def test_layout_and_views():
    layers = (4, 3, 2)
    net = GpuNet(layers, seed=0, dtype="float64", device="cpu")
    assert net.device == torch.device("cpu")
    assert net.n_params == nnetlib.n_params(layers) == net.params_tensor.numel()
    assert [w.shape for w in net.weights] == [(5, 3), (4, 2)]
    np.testing.assert_array_equal(np.concatenate([w.ravel() for w in net.weights]), net.params)
    np.testing.assert_array_equal(net.params, nnetlib.init_params(layers, seed=0, dtype="float64"))
    # the layer views share the one flat tensor
    storage = net.params_tensor.untyped_storage().data_ptr()
    assert all(w.untyped_storage().data_ptr() == storage for w in net._w)
    # copies, not views
    net.weights[0][0, 0] = 99.0
    net.params[0] = 99.0
    assert net.params[0] != 99.0
    assert "GpuNet" in repr(net) and "cpu" in repr(net)


def loop_of_steps(net, x, t, batch_size, lr, momentum):
    losses = []
    for s in range(0, len(x), batch_size):
        losses.append(net.step(x[s : s + batch_size], t[s : s + batch_size], lr, momentum))
    return losses


@pytest.mark.parametrize(
    "layers,n,bs",
    [
        ((5, 4, 3, 2, 6, 3), 23, 5),  # partial last batch
        ((20, 16, 16, 10), 40, 10),  # full batches
        ((3, 2), 7, 100),  # one batch > n
        ((4, 1, 3), 5, 1),
    ],
)  # batch 1
def test_train_epoch_equals_loop_of_npnet_steps(layers, n, bs):
    x, t = problem(layers, n, seed=n)
    g = GpuNet(layers, seed=5, dtype="float64", device="cpu")
    ref = NpNet(layers, params=g.params, dtype="float64")
    for _epoch in range(2):
        losses = loop_of_steps(ref, x, t, bs, 10.0, 0.5)
        mean = g.train_epoch(x, t, bs, 10.0, 0.5)
        sizes = [min(bs, n - s) for s in range(0, n, bs)]
        assert mean == pytest.approx(np.dot(losses, sizes) / n, rel=1e-12)
        np.testing.assert_allclose(g.last_epoch_losses, losses, rtol=1e-12)
        assert rel(g.params, ref.params) <= TOL
        assert rel(g.velocity, ref.velocity) <= TOL


def test_train_epoch_equals_own_steps_bitwise_and_takes_tensors():
    layers = (6, 5, 4, 3)
    x, t = problem(layers, 19)
    a = GpuNet(layers, seed=6, dtype="float64", device="cpu")
    b = GpuNet(layers, params=a.params, dtype="float64", device="cpu")
    loop_of_steps(a, x, t, 4, 2.0, 0.9)
    b.train_epoch(torch.from_numpy(x), torch.from_numpy(t), 4, 2.0, 0.9, graph=False)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.velocity, b.velocity)


def test_save_load_round_trip_and_interchange(tmp_path):
    layers = (5, 4, 3, 2)
    x, t = problem(layers, 8)
    g = GpuNet(layers, seed=8, dtype="float64", device="cpu")
    g.step(x, t)
    g.step(x, t)
    g.save(tmp_path / "g.npz", extra={"epoch": 2})
    saved_p, saved_v = g.params, g.velocity
    back = GpuNet.load(tmp_path / "g.npz", device="cpu")
    assert_unchanged(back, saved_p, saved_v)
    assert back.step(x, t) == g.step(x, t)
    np.testing.assert_array_equal(back.params, g.params)
    np.testing.assert_array_equal(back.velocity, g.velocity)
    assert nnetlib.read_checkpoint(tmp_path / "g.npz")["meta"]["extra"] == {"epoch": 2}
    # the same "v" convention as NpNet: checkpoints go both ways
    n = NpNet.load(tmp_path / "g.npz")
    assert_unchanged(n, saved_p, saved_v)
    n.step(x, t)
    n.save(tmp_path / "n.npz")
    g2 = GpuNet.load(tmp_path / "n.npz", device="cpu")
    assert_unchanged(g2, n.params, n.velocity)
    assert rel(g2.step(x, t), n.step(x, t)) <= TOL
    assert rel(g2.params, n.params) <= TOL
    assert rel(g2.velocity, n.velocity) <= TOL
    # a TorchNet checkpoint keeps torch's buffer, which a GpuNet refuses
    tn = TorchNet(layers, params=g.params, dtype="float64")
    tn.step(x, t)
    tn.save(tmp_path / "t.npz")
    with pytest.raises(ValueError, match="torch-sgd.*weights_only=True"):
        GpuNet.load(tmp_path / "t.npz", device="cpu")
    with pytest.raises(ValueError, match="device must be a torch device or a name"):
        GpuNet.load(tmp_path / "g.npz", device="nonsense")


def test_params_setter_keeps_views_and_velocity():
    layers = (4, 3, 2)
    x, t = problem(layers, 5)
    net = GpuNet(layers, seed=0, dtype="float64", device="cpu")
    net.step(x, t)
    v, ptr = net.velocity, net.params_tensor.data_ptr()
    new = np.arange(net.n_params, dtype=np.float64) / 100
    net.params = new
    np.testing.assert_array_equal(net.params, new)
    np.testing.assert_array_equal(net.velocity, v)
    assert net.params_tensor.data_ptr() == ptr
    np.testing.assert_array_equal(net.weights[1], new[15:].reshape(4, 2))
    net.params = torch.from_numpy(new * 2)
    np.testing.assert_array_equal(net.params, new * 2)


def assert_unchanged(net, p, v):
    np.testing.assert_array_equal(net.params, p)
    np.testing.assert_array_equal(net.velocity, v)


BAD_XT = [
    (np.zeros((3, 4)), np.zeros((3, 2)), "x"),  # wrong width
    (np.zeros((3, 5)), np.zeros((3, 3)), "t"),
    (np.zeros(5), np.zeros((1, 2)), "x"),  # 1-D
    (np.zeros((0, 5)), np.zeros((0, 2)), "x"),  # empty batch
    (np.full((2, 5), np.nan), np.zeros((2, 2)), "x"),  # NaN
    (np.zeros((2, 5)), np.full((2, 2), np.inf), "t"),  # inf
    (np.zeros((3, 5)), np.zeros((2, 2)), "same number"),  # mismatched batch
    (np.array([["a"] * 5]), np.zeros((1, 2)), "x"),  # strings
    (torch.zeros(3, 4), torch.zeros(3, 2), "x"),  # tensors: wrong width
    (torch.zeros(2, 3, 5), torch.zeros(2, 2), "x"),  # 3-D
    (torch.zeros(0, 5), torch.zeros(0, 2), "x"),  # empty
    (torch.full((2, 5), float("nan")), torch.zeros(2, 2), "x"),
    (torch.zeros(2, 5), torch.full((2, 2), float("-inf")), "t"),
    (torch.zeros(2, 5, dtype=torch.complex64), torch.zeros(2, 2), "x"),
    (torch.zeros(3, 5), torch.zeros(2, 2), "same number"),
]


@pytest.mark.parametrize("x,t,match", BAD_XT)
def test_bad_inputs_raise_and_change_nothing(x, t, match):
    """The message starts with the argument at fault (or says the batches differ)."""
    named = {"x": r"^x (must|contains)", "t": r"^t (must|contains)"}.get(match, match)
    net = GpuNet((5, 4, 2), seed=0, device="cpu")
    p, v = net.params, net.velocity
    for call in (
        lambda: net.step(x, t),
        lambda: net.gradients(x, t),
        lambda: net.loss(x, t),
        lambda: net.train_epoch(x, t, 2),
    ):
        with pytest.raises(ValueError, match=named):
            call()
        assert_unchanged(net, p, v)
    if match == "x":
        with pytest.raises(ValueError, match=named):
            net.feedforward(x)


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"lr": 0}, "lr"),
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": True}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": "0.5"}, "momentum"),
    ],
)
def test_bad_step_args(kw, match):
    net = GpuNet((5, 4, 2), seed=0, device="cpu")
    x, t = problem((5, 4, 2), 3)
    p, v = net.params, net.velocity
    args = {"lr": 10.0, "momentum": 0.5, **kw}
    with pytest.raises(ValueError, match=rf"^{match} must"):
        net.step(x, t, **args)
    with pytest.raises(ValueError, match=rf"^{match} must"):
        net.train_epoch(x, t, 2, **args)
    assert_unchanged(net, p, v)


@pytest.mark.parametrize("bs", [0, -1, 1.5, True, "2", None])
def test_bad_batch_size(bs):
    net = GpuNet((5, 4, 2), seed=0, device="cpu")
    x, t = problem((5, 4, 2), 3)
    p, v = net.params, net.velocity
    with pytest.raises(ValueError, match="^batch_size must"):
        net.train_epoch(x, t, bs)
    assert_unchanged(net, p, v)


def test_bad_device_and_params():
    """Bad layers, dtype and params for every net: tests/test_reliability.py."""
    with pytest.raises(ValueError, match="device must be a torch device or a name"):
        GpuNet((2, 2), device="no-such-device")
    with pytest.raises(ValueError, match="device must be a torch device or a name"):
        GpuNet((2, 2), device=3.5)
    net = GpuNet((2, 2), seed=0, device="cpu")
    with pytest.raises(ValueError, match="params"):
        net.params = np.zeros(7)


def test_cuda_refused_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a CPU-only host, anywhere
    assert GpuNet((2, 2)).device == torch.device("cpu")  # the default there
    with pytest.raises(ValueError, match="'cuda' requested, but CUDA is not available"):
        GpuNet((2, 2), device="cuda")
    with pytest.raises(ValueError, match="graph=True"):
        GpuNet((2, 2), device="cpu").train_epoch(np.zeros((2, 2)), np.zeros((2, 2)), 1, graph=True)


def nan_after(net, calls):
    """Make the gradient NaN from the ``calls``-th gradient evaluation on."""
    original = net._loss_and_grad_t
    count = [0]

    def patched(x, t):
        loss = original(x, t)
        count[0] += 1
        if count[0] > calls:
            net._grad[0] = float("nan")
        return loss

    net._loss_and_grad_t = patched


def test_step_refuses_non_finite_gradient():
    layers = (5, 4, 2)
    x, t = problem(layers, 3)
    net = GpuNet(layers, seed=0, dtype="float64", device="cpu")
    net.step(x, t)
    p, v = net.params, net.velocity
    nan_after(net, 0)
    with pytest.raises(FloatingPointError, match="gradient is not finite; weights left unchanged"):
        net.step(x, t)
    assert_unchanged(net, p, v)


@pytest.mark.parametrize(
    "run",
    [
        lambda g, x, t: g.train_epoch(x, t, 2, 10.0, 0.5),
        lambda g, x, t: nnetlib.train(g, (x, t), epochs=2, batch_size=2, lr=10.0, progress=False),
    ],
    ids=["train_epoch", "train"],
)
def test_an_epoch_stops_at_first_non_finite_gradient(run):
    layers = (5, 4, 2)
    x, t = problem(layers, 10)
    g = GpuNet(layers, seed=0, dtype="float64", device="cpu")
    ref = GpuNet(layers, params=g.params, dtype="float64", device="cpu")
    loop_of_steps(ref, x[:6], t[:6], 2, 10.0, 0.5)  # batches 0, 1, 2 applied
    nan_after(g, 3)  # batch 3 goes bad
    with pytest.raises(FloatingPointError, match="batch 3"):
        run(g, x, t)
    np.testing.assert_array_equal(g.params, ref.params)
    np.testing.assert_array_equal(g.velocity, ref.velocity)
    assert len(g.last_epoch_losses) == 3


def test_graph_replay_logic_with_a_stand_in_graph(monkeypatch):
    """``_replay`` (static buffers, lr/momentum as device scalars, the cache)
    with a stand-in for the CUDA graph that runs the epoch body eagerly."""
    captures = []

    def fake_capture(self, x, t, bounds, in_place=False):
        entry = gpunet_module._EpochGraph()
        entry.x, entry.t = x.clone(), t.clone()
        entry.lr = torch.zeros((), dtype=self.tdtype)
        entry.momentum = torch.zeros((), dtype=self.tdtype)
        entry.losses = torch.zeros(len(bounds), dtype=self.tdtype)
        entry.oks = torch.zeros(len(bounds), dtype=torch.bool)

        class Graph:
            def replay(_):
                self._epoch_body(
                    entry.x, entry.t, bounds, entry.lr, entry.momentum, entry.losses, entry.oks
                )

        entry.graph = Graph()
        captures.append((x.shape[0], bounds[0][1] - bounds[0][0]))
        return entry

    monkeypatch.setattr(GpuNet, "_capture", fake_capture)
    monkeypatch.setattr(GpuNet, "_use_graph", lambda self, graph: True)
    monkeypatch.setattr(gpunet_module, "MAX_GRAPHS", 2)
    layers = (6, 5, 4, 3)
    g = GpuNet(layers, seed=1, dtype="float64", device="cpu")
    ref = NpNet(layers, params=g.params, dtype="float64")
    for i, (n, bs, lr, m) in enumerate(
        [
            (23, 5, 10.0, 0.5),
            (23, 5, 2.0, 0.9),
            (23, 4, 1.0, 0.0),
            (30, 5, 10.0, 0.5),
            (23, 5, 10.0, 0.5),
        ]
    ):
        x, t = problem(layers, n, seed=i)  # new data every epoch
        losses = loop_of_steps(ref, x, t, bs, lr, m)
        g.train_epoch(torch.from_numpy(x), t, bs, lr, m)
        np.testing.assert_allclose(g.last_epoch_losses, losses, rtol=1e-12)
        assert rel(g.params, ref.params) <= TOL
        assert rel(g.velocity, ref.velocity) <= TOL
    # (23, 5) reused for new data and lr; evicted by (23, 4) and (30, 5), then captured again
    assert captures == [(23, 5), (23, 4), (30, 5), (23, 5)]
    assert list(g._graphs) == [(30, 5), (23, 5)]
    g.clear_graphs()
    assert g._graphs == {}


# -- CUDA (marked gpu: skipped without CUDA, see conftest.py) --------------------------


@pytest.mark.gpu
def test_cuda_gradients_and_graph_epoch():
    layers = (20, 16, 16, 10)
    x, t = problem(layers, 53)
    g = GpuNet(layers, seed=9, dtype="float64", device="cuda")
    assert g.device.type == "cuda" and GpuNet((2, 2)).device.type == "cuda"  # the default here
    ref = NpNet(layers, params=g.params, dtype="float64")
    assert_grads_close(g.gradients(x, t), ref.gradients(x, t))
    xd, td = torch.from_numpy(x).cuda(), torch.from_numpy(t).cuda()
    for _epoch in range(3):  # capture once, replay after
        losses = loop_of_steps(ref, x, t, 10, 10.0, 0.5)
        mean = g.train_epoch(xd, td, 10, 10.0, 0.5)  # graph=True by default
        np.testing.assert_allclose(g.last_epoch_losses, losses, rtol=1e-10)
        assert mean == pytest.approx(np.dot(losses, [10] * 5 + [3]) / 53, rel=1e-10)
        assert rel(g.params, ref.params) <= TOL
        assert rel(g.velocity, ref.velocity) <= TOL
    assert len(g._graphs) == 1
    # new lr/momentum reuse the graph; the loop path agrees
    h = GpuNet(layers, params=g.params, dtype="float64", device="cuda")
    h.params = g.params
    h.optimizer.load({"v": g.velocity})
    g.train_epoch(xd, td, 10, 3.0, 0.9)
    h.train_epoch(xd, td, 10, 3.0, 0.9, graph=False)
    assert rel(g.params, h.params) <= 1e-12
    assert len(g._graphs) == 1


@pytest.mark.gpu
def test_cuda_graph_float32_runs_and_checkpoints(tmp_path):
    layers = (784, 16, 16, 10)
    x, t = problem(layers, 2500, dtype="float32")
    g = GpuNet(layers, seed=0, device="cuda")
    first = g.train_epoch(x, t, 1000)
    second = g.train_epoch(x, t, 1000)
    assert np.isfinite(first) and second < first
    g.save(tmp_path / "c.npz")
    n = NpNet.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(n.params, g.params)


# -- nnetlib.train on a GpuNet: whole epochs through run_epoch ------------------


def steps_by_hand(net, x, t, batch_size, epochs, lr, momentum, shuffle, seed):
    """The loop ``train`` promises: ``step`` per batch, in the order it documents."""
    means = []
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(x)) if shuffle else None
        xs, ts = (x, t) if order is None else (x[order], t[order])
        running = 0.0
        for s in range(0, len(x), batch_size):
            xb = xs[s : s + batch_size]
            running += float(net.step(xb, ts[s : s + batch_size], lr, momentum)) * len(xb)
        means.append(running / len(x))
    return means


@pytest.mark.parametrize("shuffle", [False, True])
def test_train_runs_whole_epochs_equal_to_a_loop_of_steps(shuffle, monkeypatch):
    layers, n, bs = (6, 5, 4, 3), 23, 5
    x, t = problem(layers, n, seed=2)
    a = GpuNet(layers, seed=1, dtype="float64", device="cpu")
    b = GpuNet(layers, params=a.params, dtype="float64", device="cpu")
    calls = {"run_epoch": 0, "step": 0}
    for name in calls:
        original = getattr(GpuNet, name)

        def counted(self, *args, _name=name, _original=original, **kw):
            calls[_name] += 1
            return _original(self, *args, **kw)

        monkeypatch.setattr(GpuNet, name, counted)
    seen = []
    history = nnetlib.train(a, (x, t), epochs=3, batch_size=bs, lr=2.0, momentum=0.9,
                            shuffle=shuffle, seed=7, progress=False,
                            callback=lambda net, h: seen.append(h.epoch[-1]))  # fmt: skip
    assert calls == {"run_epoch": 3, "step": 0} and seen == [1, 2, 3]
    means = steps_by_hand(b, x, t, bs, 3, 2.0, 0.9, shuffle, 7)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.velocity, b.velocity)
    assert history.train_loss == means


def test_train_resumes_a_gpunet_bitwise(tmp_path):
    layers, n = (5, 4, 3), 17
    x, t = problem(layers, n, seed=3)
    whole = GpuNet(layers, seed=2, device="cpu")
    part = GpuNet(layers, params=whole.params, device="cpu")
    kw = dict(batch_size=4, shuffle=True, seed=1, progress=False)
    nnetlib.train(whole, (x, t), epochs=4, **kw)
    nnetlib.train(part, (x, t), epochs=2, checkpoint=tmp_path / "c.npz", **kw)
    resumed = GpuNet(layers, seed=99, device="cpu")
    history = nnetlib.train(resumed, (x, t), epochs=4, checkpoint=tmp_path / "c.npz", **kw)
    assert history.epoch == [1, 2, 3, 4]
    np.testing.assert_array_equal(resumed.params, whole.params)


def test_ctrl_c_stops_a_gpunet_at_the_end_of_the_epoch(monkeypatch):
    import signal

    layers = (5, 4, 2)
    x, t = problem(layers, 12)
    net = GpuNet(layers, seed=0, device="cpu")
    original = GpuNet.run_epoch

    def interrupted(self, *args, **kw):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C during the first epoch
        return original(self, *args, **kw)

    monkeypatch.setattr(GpuNet, "run_epoch", interrupted)
    history = nnetlib.train(net, (x, t), epochs=5, batch_size=4, progress=False)
    assert history.interrupted and history.epoch == [1]  # the epoch it was in, complete


def test_read_only_arrays_raise_no_torch_warning():
    import warnings

    layers = (5, 4, 2)
    x, t = problem(layers, 6, dtype="float32")
    x.flags.writeable = t.flags.writeable = False
    net = GpuNet(layers, seed=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.step(x, t)
        net.train_epoch(x, t, 3)
        nnetlib.train(net, (x, t), epochs=1, batch_size=3, progress=False)


def torch_ops_per_step(run, steps):
    """Torch ops dispatched while ``run()`` makes ``steps`` steps, per step."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Count.n += 1
            return func(*args, **(kwargs or {}))

    with Count():
        run()
    return Count.n / steps


@pytest.mark.parametrize("layers", [(784, 16, 16, 10), (784, 64, 784)])
def test_a_gpunet_step_dispatches_fewer_ops_than_torch_autograd_and_sgd(layers):
    """The article's two nets: GpuNet's epoch body against PyTorch's own step
    (nn.Linear + Sigmoid, MSE, autograd, torch.optim.SGD with momentum)."""
    B, steps = 50, 4
    x, t = problem(layers, B * steps, dtype="float32")
    x, t = torch.from_numpy(x), torch.from_numpy(t)
    net = GpuNet(layers, seed=0, device="cpu")
    net.train_epoch(x, t, B, 10.0, 0.5, graph=False)  # warm
    ours = torch_ops_per_step(lambda: net.train_epoch(x, t, B, 10.0, 0.5, graph=False), steps)
    mods = [
        m for a, b in zip(layers, layers[1:]) for m in (torch.nn.Linear(a, b), torch.nn.Sigmoid())
    ]
    model = torch.nn.Sequential(*mods)
    opt = torch.optim.SGD(model.parameters(), lr=10.0, momentum=0.5)

    def torch_epoch():
        for s in range(0, B * steps, B):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x[s : s + B]), t[s : s + B])
            loss.backward()
            opt.step()

    torch_epoch()  # the momentum buffers exist from here on, as in training
    theirs = torch_ops_per_step(torch_epoch, steps)
    assert ours <= theirs, (ours, theirs)
