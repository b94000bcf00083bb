"""CyNet, the Cython + OpenMP kernel: exactness, threads, determinism, memory."""

import os
import tracemalloc

import numpy as np
import pytest
from helpers import net_class_named, problem, rel_err
from hypothesis import given, settings
from hypothesis import strategies as st

import nnetlib

CyNet = net_class_named("CyNet")  # skips the module when the kernel is not built
cynet = pytest.importorskip("nnetlib.nets.cynet")
_frontprop = cynet._frontprop

ARCHS = [
    [3, 4, 2],
    [2, 3, 3, 2],
    [3, 5, 4, 3, 2, 2],
    [2, 6, 1, 4, 2, 3, 2],
    [4, 3, 5, 2, 6, 3, 4, 2],  # depth >= 5
    [1, 1],
    [4, 1, 1, 3],
    [5, 1],
    [1, 3, 1],  # width 1
    [784, 16, 16, 10],
    [784, 64, 784],
]


def flat(grads):
    return np.concatenate([np.ravel(g) for g in grads])


def torch_gradients(layers, p, x, t):
    return nnetlib.TorchNet(layers, params=p, dtype="float64").gradients(x, t)


# -- exactness (float64) -----------------------------------------------------------


@pytest.mark.parametrize("layers", ARCHS, ids=lambda l: "-".join(map(str, l)))
@pytest.mark.parametrize("batch", [1, 2, 7])
def test_float64_gradients_equal_npnet_and_torch(layers, batch):
    p = nnetlib.init_params(layers, seed=len(layers) + batch, dtype="float64")
    x, t = problem(layers, batch, seed=batch)
    ref_np = nnetlib.NpNet(layers, params=p, dtype="float64").gradients(x, t)
    ref_torch = torch_gradients(layers, p, x, t)
    for threads in (1, 2, 3):
        net = CyNet(layers, params=p, dtype="float64", num_threads=threads)
        g = net.gradients(x, t)
        assert [a.shape for a in g] == [a.shape for a in ref_np]
        assert all(a.dtype == np.float64 for a in g)
        assert rel_err(g, ref_np) <= 1e-10, threads
        assert rel_err(g, ref_torch) <= 1e-10, threads
        assert (
            abs(net.loss(x, t) - nnetlib.NpNet(layers, params=p, dtype="float64").loss(x, t))
            <= 1e-14
        )


@pytest.mark.parametrize(
    "layers",
    [[784, 16, 16, 10], [784, 64, 784], [6, 9, 7, 8, 5, 3]],
    ids=lambda l: "-".join(map(str, l)),
)
def test_float64_large_batch_with_many_jacobian_chunks(layers, monkeypatch):
    """Batch larger than one Jacobian chunk, several blocks: still exact."""
    monkeypatch.setattr(cynet, "JACOBIAN_CHUNK_BUDGET", 200)
    p = nnetlib.init_params(layers, seed=3, dtype="float64")
    x, t = problem(layers, 123, seed=5)
    ref = torch_gradients(layers, p, x, t)
    for threads in (1, 2, 4):
        g = CyNet(layers, params=p, dtype="float64", num_threads=threads).gradients(x, t)
        assert rel_err(g, ref) <= 1e-10


def test_feedforward_and_dadw_like_npnet():
    layers = [3, 4, 3, 2]
    p = nnetlib.init_params(layers, seed=0, dtype="float64")
    x, _ = problem(layers, 5)
    cy, npn = (
        CyNet(layers, params=p, dtype="float64"),
        nnetlib.NpNet(layers, params=p, dtype="float64"),
    )
    assert np.max(np.abs(cy.feedforward(x) - npn.feedforward(x))) <= 1e-15
    for l, q, k in [(3, 1, 0), (2, 0, 1), (3, 0, 2), (1, 3, 0)]:
        assert np.max(np.abs(cy.DADW(l, q, k) - npn.DADW(l, q, k))) <= 1e-15
    assert (
        rel_err(cy.gradients_dadw(x, np.zeros((5, 2))), npn.gradients_dadw(x, np.zeros((5, 2))))
        <= 1e-12
    )


# -- float32 (float32 against float64: tests/test_networks.py) ----------------------


@pytest.mark.parametrize(
    "layers",
    [[784, 16, 16, 10], [784, 64, 784], [7, 6, 5, 4, 3]],
    ids=lambda l: "-".join(map(str, l)),
)
def test_float32_one_and_two_threads_agree(layers):
    p = nnetlib.init_params(layers, seed=1, dtype="float32")
    x, t = problem(layers, 250, dtype="float32")
    g1 = CyNet(layers, params=p, num_threads=1).gradients(x, t)
    g2 = CyNet(layers, params=p, num_threads=2).gradients(x, t)
    assert rel_err(g1, g2) <= 1e-5


def test_kernel_sigmoid_is_accurate_and_stable():
    from scipy.special import expit

    for dtype in (np.float32, np.float64):
        eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
        h = np.concatenate(
            [
                np.linspace(-100, 100, 100000),
                [
                    0.0,
                    -0.0,
                    1e30,
                    -1e30,
                    np.inf,
                    -np.inf,
                    np.finfo(dtype).max,
                    -np.finfo(dtype).max,
                ],
            ]
        )
        h = h.astype(dtype)
        out = h.reshape(-1, 8).copy()  # rows of 8, zero bias
        _frontprop.bias_sigmoid(out, np.zeros(8, dtype))
        out = out.ravel()
        ref = expit(h.astype(np.float64))
        assert np.all((out >= 0) & (out <= 1))
        normal = ref > 1e3 * tiny
        assert np.max(np.abs(out[normal] - ref[normal]) / ref[normal]) <= 4 * eps
        assert np.max(np.abs(out - ref)) <= 2 * eps
        nan = np.array([[np.nan, 0.0, np.nan]], dtype)
        _frontprop.bias_sigmoid(nan, np.array([0.0, np.nan, 1.0], dtype))
        assert np.all(np.isnan(nan))


# -- threads and determinism ------------------------------------------------------------


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bitwise_determinism_for_fixed_thread_count(threads, dtype):
    layers = [784, 16, 16, 10]
    x, t = problem(layers, 300, seed=2, dtype=dtype)
    a = CyNet(layers, seed=7, dtype=dtype, num_threads=threads)
    b = CyNet(layers, seed=7, dtype=dtype, num_threads=threads)
    for _ in range(4):
        assert a.step(x, t) == b.step(x, t)
    assert np.array_equal(a.params, b.params) and np.array_equal(a.velocity, b.velocity)


def test_num_threads_none_follows_openmp_limits():
    from threadpoolctl import threadpool_limits

    net = CyNet([4, 3, 2])
    assert net.num_threads is None
    if not _frontprop.openmp_enabled():
        assert net.threads() == 1
        return
    assert net.threads() == _frontprop.max_threads()
    with threadpool_limits(limits=1, user_api="openmp"):
        assert net.threads() == 1
    assert CyNet([4, 3, 2], num_threads=3).threads() == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_num_threads(bad):
    with pytest.raises(ValueError, match="^num_threads must be None or a positive int, got"):
        CyNet([4, 3, 2], num_threads=bad)


def test_blas_thread_settings_are_restored():
    from threadpoolctl import threadpool_info

    layers = [20, 8, 20]
    before = [
        (i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"
    ]
    net = CyNet(layers, seed=0, num_threads=2)
    net.step(*problem(layers, 10, dtype="float32"))
    after = [
        (i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"
    ]
    assert before == after


# -- step --------------------------------------------------------------------------


def test_step_float32_matches_npnet_float32():
    layers = [784, 16, 16, 10]
    x, t = problem(layers, 64, dtype="float32")
    ours, ref = CyNet(layers, seed=1, num_threads=1), nnetlib.NpNet(layers, seed=1)
    for _ in range(3):
        assert abs(ours.step(x, t) - ref.step(x, t)) <= 1e-6
    assert ours.params.dtype == np.float32
    assert rel_err([ours.params], [ref.params]) <= 1e-5


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_non_finite_gradient_is_refused_and_changes_nothing(dtype):
    """Finite inputs whose gradient overflows: x near the float max, W^0 = 0
    (so h^1 = 0 whatever x is) and W^1 with opposite rows (so h^2 = 0 too,
    no saturation); grad W^0 = sum_b x_b delta^0_b is then about -6 x."""
    layers = [3, 2, 2]
    net = CyNet(layers, seed=0, dtype=dtype, num_threads=2)
    net.step(*problem(layers, 4, dtype=dtype), lr=0.1)  # some momentum to protect
    w0 = np.zeros((4, 2))
    w1 = np.array([[100.0, 100.0], [-100.0, -100.0], [0.0, 0.0]])
    net.params = np.concatenate([w0.ravel(), w1.ravel()])
    before, vel = net.params, net.velocity
    x = np.full((8, 3), np.finfo(dtype).max / 4, dtype)
    t = np.ones((8, 2), dtype)
    with pytest.raises(FloatingPointError, match="gradient is not finite; weights left unchanged"):
        net.step(x, t)
    assert np.array_equal(net.params, before) and np.array_equal(net.velocity, vel)
    with (
        pytest.raises(FloatingPointError, match="gradient is not finite"),
        np.errstate(over="ignore", invalid="ignore"),
    ):
        nnetlib.NpNet(layers, params=before, dtype=dtype).step(x, t)


@pytest.mark.parametrize("threads", [1, 2])
def test_steps_are_step_after_step(threads):
    layers = [40, 9, 7, 5]
    x, t = problem(layers, 5 * 60, seed=3, dtype="float32")
    a, b = (CyNet(layers, seed=2, num_threads=threads) for _ in range(2))
    losses = a.steps(x.reshape(5, 60, -1), t.reshape(5, 60, -1), lr=2.0, momentum=0.7)
    want = [b.step(x[i * 60 : (i + 1) * 60], t[i * 60 : (i + 1) * 60], 2.0, 0.7) for i in range(5)]
    assert np.array_equal(losses, want)
    assert np.array_equal(a.params, b.params) and np.array_equal(a.velocity, b.velocity)


def test_steps_refuse_a_bad_batch_and_keep_the_ones_before():
    layers = [10, 4, 3]
    x, t = problem(layers, 4 * 20, seed=4, dtype="float32")
    xs, ts = x.reshape(4, 20, -1).copy(), t.reshape(4, 20, -1)
    xs[1, 3, 0] = np.inf
    net, ref = CyNet(layers, seed=0, num_threads=2), CyNet(layers, seed=0, num_threads=2)
    ref.step(xs[0], ts[0])
    with pytest.raises(
        ValueError,
        match=r"batch 1 \(counting from 0\) of 4 contains NaN or inf: "
        "the 1 before it were applied",
    ):
        net.steps(xs, ts)
    assert np.array_equal(net.params, ref.params) and np.array_equal(net.velocity, ref.velocity)
    with pytest.raises(ValueError, match="steps takes xs of shape"):
        net.steps(x, t)
    with pytest.raises(ValueError, match="steps takes xs of shape"):
        net.steps(xs, ts[:2])
    assert net.steps(xs[:0], ts[:0]).shape == (0,)


def test_train_takes_stacks_and_matches_step_by_step():
    """train (shuffled, a last smaller batch) through CyNet.steps gives the
    weights and losses of the same batches fed to step one at a time."""
    layers = [12, 6, 3]
    x, t = problem(layers, 230, seed=5, dtype="float32")
    a, b = CyNet(layers, seed=1, num_threads=2), CyNet(layers, seed=1, num_threads=2)
    history = nnetlib.train(
        a, (x, t), epochs=2, batch_size=50, lr=1.0, shuffle=True, seed=9, progress=False
    )
    for epoch in range(2):
        running = 0.0
        for xb, tb in nnetlib.batches(x, t, 50, True, [9, epoch]):
            running += b.step(xb, tb, 1.0) * xb.shape[0]
        assert history.train_loss[epoch] == running / 230
    assert np.array_equal(a.params, b.params)


def test_save_and_load_with_num_threads(tmp_path):
    layers = [5, 4, 3]
    net = CyNet(layers, seed=1, dtype="float64", num_threads=1)
    x, t = problem(layers, 6)
    net.step(x, t, lr=2.0, momentum=0.9)
    net.save(tmp_path / "c.npz")
    back = CyNet.load(tmp_path / "c.npz", num_threads=2)
    assert back.num_threads == 2 and back.dtype == np.float64
    assert np.array_equal(back.params, net.params) and np.array_equal(back.velocity, net.velocity)
    assert back.step(x, t, lr=2.0, momentum=0.9) == net.step(x, t, lr=2.0, momentum=0.9)


# -- memory ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layers", [[784, 16, 16, 10], [784, 64, 784]], ids=lambda l: "-".join(map(str, l))
)
def test_training_memory_is_bounded(layers):
    """Peak extra memory (numpy allocations, workspace included) over a few
    steps of MNIST-sized batches stays far below 100 MB."""
    x, t = problem(layers, 1000, dtype="float32")
    net = CyNet(layers, seed=0, num_threads=2)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            net.step(x, t)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 100e6
    # no (B, n_L, n_{k+1}) or (B, n_k + 1, n_{k+1}) tensor: the workspace is one
    # output per block and thread, the gradient and W^T (P each), and per thread
    # the rows of one block (a, delta, u) and two Jacobian buffers
    blocks = _frontprop.block_count(2, 1000)
    rows = -(-1000 // blocks)
    assert net._buf.nbytes <= 4 * (
        (2 * blocks + 2) * net.n_params
        + 2 * (2 * rows * sum(layers[1:]) + rows * layers[-2] + 2 * cynet.JACOBIAN_CHUNK_BUDGET)
    )


# -- property test -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    layers=st.lists(st.integers(1, 7), min_size=2, max_size=7),
    batch=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.1, 3.0),
    threads=st.integers(1, 4),
)
def test_property_random_architectures(layers, batch, seed, scale, threads):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(nnetlib.n_params(layers)) * scale
    x = rng.standard_normal((batch, layers[0])) * scale
    t = rng.random((batch, layers[-1]))
    ref = flat(torch_gradients(layers, p, x, t))
    net = CyNet(layers, params=p, dtype="float64", num_threads=threads)
    g = flat(net.gradients(x, t))
    assert np.max(np.abs(g - ref)) <= 1e-10 * max(np.max(np.abs(ref)), 1e-300) + 1e-300
    npn = nnetlib.NpNet(layers, params=p, dtype="float64")
    assert abs(net.step(x, t, lr=1.5, momentum=0.3) - npn.step(x, t, lr=1.5, momentum=0.3)) <= 1e-12
    assert np.max(np.abs(net.params - npn.params)) <= 1e-10 * max(1.0, np.max(np.abs(npn.params)))


def test_kernel_source_path_is_the_source_of_the_built_kernel():
    """The .pyx sits next to the extension built from it, under the extension's
    name (that it compiles on its own is tests/test_kernel.py's job)."""
    path = cynet.kernel_source_path()
    assert os.path.isabs(path) and os.path.isfile(path)
    assert os.path.dirname(path) == os.path.dirname(os.path.abspath(_frontprop.__file__))
    assert os.path.basename(path) == _frontprop.__name__.rsplit(".", 1)[-1] + ".pyx"


def test_kernel_refuses_a_plan_that_does_not_fit():
    layers = [5, 4, 3, 2]
    net = CyNet(layers, seed=0, dtype="float64", num_threads=2)
    x, t = problem(layers, 6)
    plan, buf = net._workspace(6)
    v = np.zeros(net.n_params)
    for i in range(len(plan)):
        bad = plan.copy()
        bad[i] += 1
        with pytest.raises(ValueError, match="plan"):  # every message names the plan
            _frontprop.gradient_and_step(net._flat.copy(), v, x, t, bad, buf.copy(), 1.0, 0.5)
    with pytest.raises(ValueError, match=r"scratch buffer has \d+ entries, the plan needs \d+"):
        _frontprop.gradient_and_step(net._flat.copy(), v, x, t, plan, buf[:-1].copy(), 1.0, 0.5)
    with pytest.raises(ValueError, match="x has 5 rows, the plan is for 6"):
        _frontprop.gradient_and_step(net._flat.copy(), v, x[:5], t[:5], plan, buf.copy(), 1.0, 0.5)
    assert (
        _frontprop.gradient_and_step(net._flat.copy(), v, x, t, plan, buf.copy(), 1.0, 0.5)[0]
        == _frontprop.OK
    )


def test_kernel_argument_takes_a_build_of_the_pyx():
    import types

    import nnetlib._ext._frontprop as package_kernel
    from nnetlib import CyNet, NpNet

    layers = [5, 4, 3]
    x = np.random.default_rng(0).random((7, 5))
    t = np.random.default_rng(1).random((7, 3))
    p = NpNet(layers, seed=0, dtype="float64").params
    a = CyNet(layers, params=p, dtype="float64", kernel=package_kernel).gradients(x, t)
    b = CyNet(layers, params=p, dtype="float64").gradients(x, t)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    with pytest.raises(ValueError, match="kernel lacks"):
        CyNet(layers, kernel=types.SimpleNamespace(gradient_and_step=None))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
# rows of 36 or 72 bytes, and of 6.25 or 12.5 cache lines: the gather copies 64-byte lines
# of 8 rows side by side, then each row's remainder
@pytest.mark.parametrize("layers", [[9, 5, 4, 3], [100, 7, 3]], ids=["9-wide", "100-wide"])
def test_steps_in_order_are_steps_on_the_gathered_rows(dtype, threads, layers):
    x, t = problem(layers, 200, seed=6, dtype=dtype)
    order = np.random.default_rng(2).permutation(200)[:180].reshape(6, 30)
    a, b = (CyNet(layers, seed=3, dtype=dtype, num_threads=threads) for _ in range(2))
    la = a.steps(x[order], t[order], lr=2.0, momentum=0.7)
    lb = b.steps_in_order(x, t, order, lr=2.0, momentum=0.7)
    assert np.array_equal(la, lb)
    assert np.array_equal(a.params, b.params) and np.array_equal(a.velocity, b.velocity)


def test_steps_in_order_refuse_bad_rows_and_bad_batches():
    layers = [6, 4, 2]
    x, t = problem(layers, 40, seed=7, dtype="float32")
    net = CyNet(layers, seed=0, num_threads=2)
    before = net.params
    with pytest.raises(ValueError, match=r"order\[3\] = 40 is not a row of x \(40 rows\)"):
        net.steps_in_order(x, t, np.array([[0, 1, 2, 40]]))
    with pytest.raises(ValueError, match=r"order must be a 2-D \(S, B\) array"):
        net.steps_in_order(x, t, np.arange(4))
    x = x.copy()
    x[25, 1] = np.nan
    with pytest.raises(ValueError, match=r"batch 1 \(counting from 0\) of 2 contains NaN or inf"):
        net.steps_in_order(x, t, np.array([[0, 1, 2, 3], [4, 25, 6, 7]]))
    assert not np.array_equal(net.params, before)  # batch 0 was applied, as steps does


@pytest.mark.parametrize("shuffle", [False, True])
def test_train_refuses_bad_data_once_and_loses_nothing(shuffle):
    """train spares a CyNet the scan of its data (the kernel refuses NaN and inf), and
    still refuses bad data with the usual message, leaving weights and momentum as they were."""
    layers = [8, 5, 3]
    x, t = problem(layers, 300, seed=8, dtype="float32")
    net = CyNet(layers, seed=2, num_threads=2)
    nnetlib.train(net, (x, t), epochs=1, batch_size=20, progress=False)
    params, velocity = net.params, net.velocity
    bad = x.copy()
    bad[287, 4] = np.inf  # in the last stack of steps
    with pytest.raises(ValueError, match="data x contains NaN or inf"):
        nnetlib.train(net, (bad, t), epochs=3, batch_size=20, shuffle=shuffle, progress=False)
    assert np.array_equal(net.params, params) and np.array_equal(net.velocity, velocity)
    bad_t = t.copy()
    bad_t[150, 0] = np.nan
    with pytest.raises(ValueError, match="data targets contains NaN or inf"):
        nnetlib.train(net, (x, bad_t), epochs=1, batch_size=20, shuffle=shuffle, progress=False)
    assert np.array_equal(net.params, params) and np.array_equal(net.velocity, velocity)
