"""The Cython kernel nnetlib/_ext/_frontprop.pyx as a source: it builds on its
own, outside the package, as ``%%cython -I nnetlib/_ext`` would build it."""

import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXT = os.path.join(ROOT, "nnetlib", "_ext")
PYX = os.path.join(EXT, "_frontprop.pyx")


@pytest.fixture(scope="module")
def kernel_c(tmp_path_factory):
    """The kernel translated to C by Cython, outside the package folder (as
    %%cython does), so the C compiler cannot find the header next to it."""
    out = tmp_path_factory.mktemp("kernel") / "kernel.c"
    proc = subprocess.run(
        [sys.executable, "-m", "cython", "-3", PYX, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def _syntax_check(c_file, *include):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    args = [cc, "-fsyntax-only", "-fopenmp", f"-I{sysconfig.get_paths()['include']}"]
    args += [f"-I{d}" for d in include] + [str(c_file)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def test_pyx_compiles_with_the_ext_folder_on_the_include_path(kernel_c):
    proc = _syntax_check(kernel_c, EXT)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_pyx_needs_the_header_of_its_folder(kernel_c):
    proc = _syntax_check(kernel_c)
    assert proc.returncode != 0
    assert "frontprop_helpers.h" in proc.stderr


# -- the row blocks and the thread pool (block_pool.h) -------------------------------

kernel = pytest.importorskip("nnetlib._ext._frontprop")
np = pytest.importorskip("numpy")


def _problem(layers, batch, seed=0, dtype="float32"):
    from nnetlib.nets.base import init_params

    rng = np.random.default_rng(seed)
    x = rng.random((batch, layers[0])).astype(dtype)
    t = rng.random((batch, layers[-1])).astype(dtype)
    return init_params(layers, seed=seed, dtype=dtype), x, t


def _step(layers, w, x, t, nthreads, per=None, lr=1.0):
    """(status, loss, new weights, gradient) of one kernel call."""
    plan = np.asarray(kernel.make_plan(layers, x.shape[0], nthreads, 1 << 15, per), np.intp)
    buf = np.empty(plan[kernel.PLAN_FIELDS["size"]], w.dtype)
    w, v = w.copy(), np.zeros_like(w)
    status, loss = kernel.gradient_and_step(w, v, x, t, plan, buf, lr, 0.5)
    g0 = plan[kernel.PLAN_FIELDS["grad"]]
    return status, loss, w, buf[g0 : g0 + w.shape[0]].copy()


def test_block_count():
    assert kernel.block_count(1, 1000) == 1  # one thread: one block, as before
    assert kernel.block_count(2, 1000) == 2 * kernel.BLOCKS_PER_THREAD
    assert kernel.block_count(2, 1000, 3) == 6
    assert kernel.block_count(4, 5) == 5  # at most one block per sample
    with pytest.raises(ValueError, match="blocks_per_thread"):
        kernel.block_count(2, 10, 0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_result_depends_on_the_block_count_only(dtype):
    """8 blocks on 8, 2 or 1 helper-claimed threads: bit for bit the same step,
    whichever thread runs which block."""
    layers = (30, 7, 6, 5)
    w, x, t = _problem(layers, 203, seed=3, dtype=dtype)
    ref = _step(layers, w, x, t, 8, 1)
    for nthreads, per in ((2, 4), (4, 2), (2, 4), (8, 1)):
        got = _step(layers, w, x, t, nthreads, per)
        assert got[0] == kernel.OK and got[1] == ref[1]
        assert np.array_equal(got[2], ref[2]) and np.array_equal(got[3], ref[3])


def test_blocks_change_the_gradient_only_by_rounding():
    layers = (40, 9, 8, 6)
    w, x, t = _problem(layers, 300, seed=4, dtype="float64")
    one = _step(layers, w, x, t, 1)[3]
    for nthreads in (2, 3, 8):
        many = _step(layers, w, x, t, nthreads)[3]
        assert np.max(np.abs(many - one)) <= 1e-13 * np.max(np.abs(one))


def test_concurrent_callers_each_get_their_own_result():
    """Two Python threads in the kernel at once: one runs on the pool, the
    other does its blocks alone; both results are the serial ones."""
    import threading

    layers = (50, 12, 10, 4)
    jobs = [_problem(layers, 400, seed=s, dtype="float64") for s in range(4)]
    want = [_step(layers, *job, 1)[3] for job in jobs]
    got = [None] * len(jobs)

    def run(k):
        for _ in range(20):
            got[k] = _step(layers, *jobs[k], 2)[3]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(jobs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    for k in range(len(jobs)):
        assert np.allclose(got[k], want[k], rtol=1e-12, atol=0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_works_in_a_forked_child():
    layers = (20, 6, 5, 3)
    w, x, t = _problem(layers, 64, seed=5, dtype="float64")
    ref = _step(layers, w, x, t, 2)  # the parent's pool is running
    code = f"""
import sys; sys.path.insert(0, {ROOT!r})
import os, numpy as np
from tests.test_kernel import _problem, _step
layers = {layers!r}
w, x, t = _problem(layers, 64, seed=5, dtype="float64")
ref = _step(layers, w, x, t, 2)
pid = os.fork()
if pid == 0:
    got = _step(layers, w, x, t, 2)
    os._exit(0 if np.array_equal(got[3], ref[3]) else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert ref[0] == kernel.OK


# -- many steps in one call: gradient_and_steps, CyNet.steps --------------------------


def _steps(layers, w, xs, ts, nthreads, lr=1.0):
    """(status, applied, losses, new weights) of one gradient_and_steps call."""
    plan = np.asarray(kernel.make_plan(layers, xs.shape[1], nthreads, 1 << 15), np.intp)
    buf = np.empty(plan[kernel.PLAN_FIELDS["size"]], w.dtype)
    w, v, losses = w.copy(), np.zeros_like(w), np.zeros(xs.shape[0])
    status, applied = kernel.gradient_and_steps(w, v, xs, ts, plan, buf, lr, 0.5, losses)
    return status, applied, losses, w


def _one_by_one(layers, w, xs, ts, nthreads, lr=1.0):
    plan = np.asarray(kernel.make_plan(layers, xs.shape[1], nthreads, 1 << 15), np.intp)
    buf = np.empty(plan[kernel.PLAN_FIELDS["size"]], w.dtype)
    w, v, losses = w.copy(), np.zeros_like(w), []
    for x, t in zip(xs, ts):
        status, loss = kernel.gradient_and_step(w, v, x, t, plan, buf, lr, 0.5)
        assert status == kernel.OK
        losses.append(loss)
    return np.array(losses), w


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_many_steps_in_one_call_are_the_steps_one_by_one(dtype, nthreads):
    layers = (30, 7, 6, 5)
    w, x, t = _problem(layers, 6 * 97, seed=6, dtype=dtype)
    xs, ts = x.reshape(6, 97, -1), t.reshape(6, 97, -1)
    status, applied, losses, got = _steps(layers, w, xs, ts, nthreads)
    want_losses, want = _one_by_one(layers, w, xs, ts, nthreads)
    assert (status, applied) == (kernel.OK, 6)
    assert np.array_equal(losses, want_losses) and np.array_equal(got, want)


def test_blocks_redone_for_a_stalled_helper_give_the_same_bits():
    """Helpers sleep 3 ms before every block they claim: the caller finds
    those blocks stalled and runs them again, and the run that finishes
    first is used.  The result is bit for bit the undisturbed one."""
    layers = (100, 30, 20, 5)  # 40 steps, long enough for sleeping helpers to join
    w, x, t = _problem(layers, 40 * 400, seed=7, dtype="float64")
    xs, ts = x.reshape(40, 400, -1), t.reshape(40, 400, -1)
    want = _steps(layers, w, xs, ts, 2)
    before = kernel.pool_counters()
    kernel.set_test_delay(3000)
    try:
        got = _steps(layers, w, xs, ts, 2)
    finally:
        kernel.set_test_delay(0)
    after = kernel.pool_counters()
    assert after["redone"] > before["redone"]  # the redundant path did run
    assert after["lost"] > before["lost"]  # and the helpers' runs lost
    assert got[:2] == want[:2] == (kernel.OK, 40)
    assert np.array_equal(got[2], want[2]) and np.array_equal(got[3], want[3])


def test_a_bad_batch_stops_the_steps_after_the_good_ones():
    layers = (20, 6, 5, 3)
    w, x, t = _problem(layers, 4 * 50, seed=8, dtype="float64")
    xs, ts = x.reshape(4, 50, -1).copy(), t.reshape(4, 50, -1)
    xs[2, 7, 3] = np.nan
    status, applied, losses, got = _steps(layers, w, xs, ts, 2)
    assert (status, applied) == (kernel.BAD_INPUT, 2)
    _, want = _one_by_one(layers, w, xs[:2], ts[:2], 2)
    assert np.array_equal(got, want)  # the two good steps, and nothing of the bad one


def test_gradient_and_steps_checks_its_arrays():
    layers = (20, 6, 3)
    w, x, t = _problem(layers, 100, dtype="float64")
    plan = np.asarray(kernel.make_plan(layers, 50, 2, 1 << 15), np.intp)
    buf = np.empty(plan[kernel.PLAN_FIELDS["size"]])
    v = np.zeros_like(w)
    xs, ts = x.reshape(2, 50, -1), t.reshape(2, 50, -1)
    with pytest.raises(ValueError, match="same number of batches"):
        kernel.gradient_and_steps(w, v, xs, ts[:1], plan, buf, 1.0, 0.5, np.zeros(2))
    with pytest.raises(ValueError, match="one entry per batch"):
        kernel.gradient_and_steps(w, v, xs, ts, plan, buf, 1.0, 0.5, np.zeros(3))
    with pytest.raises(ValueError, match="as long as w"):
        kernel.gradient_and_steps(w, v[:-1], xs, ts, plan, buf, 1.0, 0.5, np.zeros(2))
