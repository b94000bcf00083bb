"""CyNet: frontpropagation in a compiled Cython kernel (03-python-numpy-cython).

The arithmetic is NpNet's (forward Jacobians J^{l,k}, contracted with the
output error; see ``nnetlib/frontprop.py``); the kernel ``_frontprop.pyx``
runs it on row blocks of the batch in parallel (four per thread, handed out
one at a time by its own small C thread pool, not by OpenMP), with
single-threaded BLAS inside each block, and fuses the momentum update.
``steps`` runs many batches in one call, which ``nnetlib.train`` uses: the
threads go from step to step without Python, and a thread the OS deschedules
(a busy laptop) holds nothing up; see ``nnetlib/_ext/block_pool.h``.
``kernel_source_path()`` gives the kernel's source, to build it apart from
the package (``kernel=``).

Threads.  OpenMP only supplies the default thread count: ``num_threads=None``
(the default) asks it at every call (``omp_get_max_threads()``), so
``OMP_NUM_THREADS``, ``threadpoolctl``'s ``threadpool_limits(n,
user_api="openmp")`` and ``torch.set_num_threads`` (which shares the OpenMP
runtime) are honoured; an int fixes the count.  The gradient depends on the
number of row blocks only, so two runs with the same thread count are
bitwise identical.  While the kernel runs, the BLAS libraries are limited to
one thread each (through threadpoolctl), so OpenBLAS's own pool does not
compete with the kernel's; their settings are restored afterwards.
"""

import contextlib
import os

import numpy as np

from .._checks import check_batch, check_positive_int
from ..frontprop import JACOBIAN_BUDGET
from ..params import split, split_layers
from .base import NumpyNetwork
from .npnet import dadw_gradients, dadw_matrix, remember_activations

try:
    from .._ext import _frontprop
except ImportError as exc:  # not built: CyNet refuses to start, the rest works
    _frontprop = None
    _IMPORT_ERROR = exc
else:
    _IMPORT_ERROR = None

#: entries in each of a thread's two Jacobian buffers (a chunk of samples
#: times n_l n_{k+1}): ``frontprop.JACOBIAN_BUDGET / 128`` = 32 Ki entries,
#: 128 KiB in float32, so that a thread's buffers stay in its cache
JACOBIAN_CHUNK_BUDGET = JACOBIAN_BUDGET >> 7


def kernel_source_path():
    """Absolute path of ``_frontprop.pyx``, the Cython kernel's source."""
    return os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_ext", "_frontprop.pyx"
    )


def openmp_enabled():
    """True when the compiled kernel was built with OpenMP, which gives its default
    thread count (False if it is not built; built without, it runs one thread)."""
    return _frontprop is not None and _frontprop.openmp_enabled()


def available():
    """True when the compiled kernel is built, so that ``CyNet(...)`` works.

    Without a C compiler nnetlib installs without it; notebooks then fall back
    to NpNet, which computes the same gradients:
    ``Net = CyNet if cynet.available() else NpNet``.
    """
    return _frontprop is not None


class _BlasOneThread:
    """Context manager factory: every loaded BLAS at one thread during a call.

    One ``threadpoolctl.ThreadpoolController`` is made (lazily, after the
    kernel has loaded scipy's BLAS) and kept.  When every BLAS already runs
    one thread (an enclosing ``threadpool_limits``, or OPENBLAS_NUM_THREADS=1)
    the call costs a few microseconds; otherwise ``controller.limit`` (about
    30 us) sets and restores the limits.  Without threadpoolctl: a no-op.
    """

    def __init__(self):
        self._blas = None

    def _controller(self):
        if self._blas is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                self._blas = False
            else:
                self._blas = ThreadpoolController().select(user_api="blas")
        return self._blas

    def __call__(self):
        ctl = self._controller()
        if not ctl or all((lib.get_num_threads() or 1) == 1 for lib in ctl.lib_controllers):
            return contextlib.nullcontext()
        return ctl.limit(limits=1)


_blas_one_thread = _BlasOneThread()


class CyNet(NumpyNetwork):
    """Frontprop in a Cython kernel run on its own thread pool; NpNet's
    interface, ``DADW`` and ``gradients_dadw`` included (``nets/npnet.py``).

    ``CyNet(layers, *, params=None, init="torch", seed=None,
    dtype="float32", num_threads=None, kernel=None)``.  ``kernel`` is a
    module compiled from ``kernel_source_path()`` (a build of one's own, e.g.
    with ``%%cython``); by default the package's ``nnetlib._ext._frontprop``.
    """

    DADW = dadw_matrix
    gradients_dadw = dadw_gradients

    def __init__(
        self,
        layers,
        *,
        params=None,
        init="torch",
        seed=None,
        dtype="float32",
        num_threads=None,
        kernel=None,
    ):
        if kernel is not None:
            missing = [
                name
                for name in (
                    "gradient_and_step",
                    "forward",
                    "make_plan",
                    "PLAN_FIELDS",
                    "openmp_enabled",
                )
                if not hasattr(kernel, name)
            ]
            if missing:
                raise ValueError(
                    f"kernel lacks {', '.join(missing)}: not a build of _frontprop.pyx"
                )
        elif _frontprop is None:
            raise ImportError(
                "CyNet needs its compiled Cython kernel, nnetlib._ext._frontprop, which is not "
                "built here (no working C compiler at install time, or NNETLIB_NO_EXT=1). Install "
                "a C compiler (gcc or clang; conda: c-compiler), then run 'pip install -e .' or "
                "'python setup.py build_ext --inplace' in the project folder. Meanwhile NpNet "
                "computes the same gradients; nnetlib.nets.cynet.available() says which to use. "
                f"(import error: {_IMPORT_ERROR})"
            )
        self.num_threads = check_positive_int(num_threads, "num_threads", none_ok=True)
        self._kernel = kernel if kernel is not None else _frontprop
        self._fields = self._kernel.PLAN_FIELDS
        super().__init__(layers, params=params, init=init, seed=seed, dtype=dtype)
        self._plan_key = None
        self._empty = np.empty(0, self.dtype)
        # a plan without a buffer: forward() reads only its layer part
        self._layer_plan = np.asarray(self._kernel.make_plan(self.layers, 1, 1, 1), dtype=np.intp)

    def __repr__(self):
        return (
            f"CyNet(layers={list(self.layers)}, dtype={self.dtype.name!r}, "
            f"num_threads={self.num_threads!r})"
        )

    # -- plumbing -------------------------------------------------------------
    def threads(self):
        """The number of threads (each with four row blocks, at most one per sample) the
        next call will use."""
        if not self._kernel.openmp_enabled():
            return 1
        n = self.num_threads if self.num_threads is not None else self._kernel.max_threads()
        return max(1, int(n))

    def _workspace(self, batch):
        """Plan and scratch buffer for ``batch`` samples, reused across calls."""
        key = (batch, self.threads())
        if key != self._plan_key:
            self._plan_key = self._plan = self._buf = None  # free the old buffer first
            plan = self._kernel.make_plan(self.layers, batch, key[1], JACOBIAN_CHUNK_BUDGET)
            self._plan = np.asarray(plan, dtype=np.intp)
            self._buf = np.empty(plan[self._fields["size"]], self.dtype)
            self._plan_key = key
        return self._plan, self._buf

    def _region(self, name, length):
        start = int(self._plan[self._fields[name]])
        return self._buf[start : start + length]

    def _batch(self, x, t):
        """``check_batch`` without its two full passes when the arrays are
        already right: the kernel checks finiteness itself, in parallel."""
        if (
            type(x) is np.ndarray
            and type(t) is np.ndarray
            and x.dtype == self.dtype
            and t.dtype == self.dtype
            and x.ndim == 2
            and t.ndim == 2
            and x.flags.c_contiguous
            and t.flags.c_contiguous
            and x.shape[0] >= 1
            and t.shape[0] == x.shape[0]
            and x.shape[1] == self.layers[0]
            and t.shape[1] == self.layers[-1]
        ):
            return x, t
        return check_batch(x, t, self.layers, self.dtype)

    def _train(self, x, t, v, lr, momentum):
        """Run the kernel; returns its loss and whether the gradient is finite."""
        plan, buf = self._workspace(x.shape[0])
        with _blas_one_thread():
            status, loss = self._kernel.gradient_and_step(
                self._flat, v, x, t, plan, buf, lr, momentum
            )
        if status == self._kernel.BAD_INPUT:
            check_batch(x, t, self.layers, self.dtype)  # raises, naming x or t
            raise ValueError("x or t contains NaN or inf")
        return loss, status == self._kernel.OK

    # -- forward ----------------------------------------------------------------
    def _forward(self, x):
        B = x.shape[0]
        flat = np.empty(B * sum(self.layers[1:]), self.dtype)
        with _blas_one_thread():
            self._kernel.forward(self._flat, x, self._layer_plan, flat, self.threads())
        return remember_activations(self, [x] + split(flat, [(B, n) for n in self.layers[1:]]))

    # -- gradients ------------------------------------------------------------
    def _loss_and_gradients(self, x, t):
        """Gradient of checked ``x``, ``t``.  A non-finite gradient is
        returned as it is (``step`` refuses it), like NpNet's."""
        loss, _ = self._train(x, t, self._empty, 0.0, 0.0)
        g = self._region("grad", self.n_params).copy()
        self._forward(x)  # the activations, kept for DADW like NpNet's
        return loss, split_layers(g, self.layers)

    def steps(self, xs, ts, lr=None, momentum=0.5):
        """``step`` on the batches ``xs[0], ts[0]``, then ``xs[1], ts[1]``, ...
        (arrays of shape (S, B, n_0) and (S, B, n_L)) in one kernel call.

        Bit for bit the weights and losses of S calls of ``step``, but the
        threads go from one step to the next without a return to Python, so
        a thread the OS deschedules (a busy machine) stalls nothing: another
        one redoes its block and steps on (``_ext/block_pool.h``).
        ``nnetlib.train`` uses it.  Returns the S losses, each before its step.
        A refused batch (NaN or inf in it, or a gradient that is not finite)
        raises, saying how many batches before it were applied; it and the
        ones after it were not.
        """
        lr, momentum = self.check_step(lr, momentum)
        xs, ts = np.asarray(xs), np.asarray(ts)
        if xs.ndim != 3 or ts.ndim != 3 or xs.shape[:2] != ts.shape[:2]:
            raise ValueError(
                "steps takes xs of shape (S, B, n_0) and ts of shape (S, B, n_L) with the same "
                f"S and B, got {xs.shape} and {ts.shape}"
            )
        S, B = xs.shape[:2]
        losses = np.zeros(S)
        if S == 0 or B == 0:
            return losses
        x, t = self._batch(xs.reshape(S * B, -1), ts.reshape(S * B, -1))
        x, t = x.reshape(S, B, -1), t.reshape(S, B, -1)
        plan, buf = self._workspace(B)
        k = self._kernel
        with _blas_one_thread():
            status, applied = k.gradient_and_steps(
                self._flat, self.optimizer.v, x, t, plan, buf, lr, momentum, losses
            )
        self._raise_refused(status, applied, S)
        return losses

    def _raise_refused(self, status, applied, S):
        """The error for a kernel status other than OK (batch ``applied`` of S refused)."""
        k = self._kernel
        if status == k.OK:
            return
        what = (
            "contains NaN or inf"
            if status == k.BAD_INPUT
            else "gives a gradient that is not finite"
        )
        error = ValueError if status == k.BAD_INPUT else FloatingPointError
        raise error(
            f"batch {applied} (counting from 0) of {S} {what}: the {applied} before it were "
            "applied, it and the ones after it were not"
        )

    #: the kernel refuses a batch with NaN or inf before it changes anything, so
    #: ``train`` need not scan the data first (it undoes the call on a refusal)
    refuses_bad_input = True

    def steps_in_order(self, x, t, order, lr=None, momentum=0.5):
        """``steps`` on the batches ``x[order[0]], t[order[0]]``, then
        ``x[order[1]], ...``: ``order`` is an (S, B) array of row indices of
        the (N, n_0) inputs ``x`` and (N, n_L) targets ``t``.

        Bit for bit ``steps(x[order], t[order])``, without the copy: the
        kernel's row blocks gather their own rows (``train`` shuffles this
        way).  Returns the S losses; a refused batch raises as in ``steps``.
        """
        lr, momentum = self.check_step(lr, momentum)
        order = np.asarray(order)
        if order.ndim != 2 or not np.issubdtype(order.dtype, np.integer):
            raise ValueError(f"order must be a 2-D (S, B) array of row indices, got {order.shape}")
        S, B = order.shape
        losses = np.zeros(S)
        if S == 0 or B == 0:
            return losses
        x, t = self._batch(x, t)
        plan, buf = self._workspace(B)
        k = self._kernel
        rows = np.ascontiguousarray(order.reshape(-1), dtype=np.intp)
        with _blas_one_thread():
            status, applied = k.gradient_and_steps_ordered(
                self._flat, self.optimizer.v, x, t, rows, plan, buf, lr, momentum, losses
            )
        self._raise_refused(status, applied, S)
        return losses

    def step(self, x, t, lr=None, momentum=0.5):
        """One SGD-with-momentum update, v <- momentum v - lr g; w <- w + v.

        NumpyNetwork.step's semantics and SGD's arithmetic (in the net's dtype), fused
        into the kernel: gradient into a reused buffer, then the update in
        place.  Returns the loss before the step; a refused call (bad input,
        or a gradient that is not finite) changes neither weights nor momentum.
        """
        lr, momentum = self.check_step(lr, momentum)
        x, t = self._batch(x, t)
        loss, ok = self._train(x, t, self.optimizer.v, lr, momentum)
        if not ok:
            raise FloatingPointError("gradient is not finite; weights left unchanged")
        return float(loss)
