# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Frontpropagation kernel for CyNet: loss, exact gradient and SGD step.

Compiles on its own (``python setup.py build_ext --inplace``, ``cythonize``
or IPython's ``%%cython -I nnetlib/_ext``): it cimports nothing but Cython's
own modules and ``scipy.linalg.cython_blas``, and includes one C header,
``frontprop_helpers.h`` (and the ``block_pool.h`` it includes) from its
own folder (hence ``-I``).  The row blocks of the steps run on a small POSIX
thread pool (``block_pool.h``); OpenMP, when built with ``-fopenmp``, gives
the default thread count (``max_threads()``, which CyNet follows).  Built
without it, ``openmp_enabled()`` returns False and CyNet runs one thread.
"""
# Design
# ======
#
# The arithmetic is NpNet's: forward sweep, then for every weight layer k the
# forward-mode Jacobians J^{l,k}, l = k+2 .. L-1, of eq. (2), as stated in
# nnetlib.frontprop, contracted with u = (e * g'(h^L)) W^{L-1}[:-1]^T into
# delta^k = u^T J^{L-1,k} (delta^{L-2} = u * g'(h^{L-1}) since J^{L-1,L-2} is
# diagonal), and grad W^k = c [a^k, 1]^T delta^k with c = 2/(B n_L).  The
# factor c is put into e * g'(h^L) once; every delta^k is linear in it, and
# the deltas are then scaled before the gemm, as NpNet does.  Nothing of shape
# (B, n_L, n_{k+1}) or (B, n_k + 1, n_{k+1}) is ever formed.
#
# Parallelism.  A call takes S batches (``gradient_and_steps``; S = 1 for
# ``gradient_and_step``) and cuts each into ``nblocks`` contiguous row
# blocks: one block on one thread, else ``BLOCKS_PER_THREAD`` per thread.
# ``nnl_run_steps`` (block_pool.h) hands the blocks out one at a time to the
# caller and the pool's helpers, runs again a block whose thread the OS has
# descheduled, and moves a helper off a core another of our threads is on;
# the steps follow one another without a return to Python.  The earlier
# kernel (one static OpenMP block per thread, then a barrier, one step per
# call) ran at 0.17-0.9x its one-thread speed at 2 threads beside one busy
# process; the pool's comment says what each part
# of it is for.
# A block runs the whole step for its rows with no synchronisation: it checks
# its inputs are finite, then forward gemms, output error, u, the Jacobian
# sweeps and its *partial* weight gradient [a^k, 1]^T delta^k over its rows,
# in the scratch of its thread and into its (block, thread) output slot.
# Between phases it asks ``nnl_lost`` whether another run of the block was
# published first, and stops if so.  The published outputs are reduced in
# block order, grad = block 0 + block 1 + ... (``_reduce``), while later
# blocks still run; after the last one ``_finish`` checks loss and gradient
# are finite and only then takes the momentum step.  The summation order
# depends on the number of blocks only, never on which thread ran which
# block: a fixed thread count gives bitwise reproducible results, and S
# steps in one call are bit for bit S calls of one step.
#
# BLAS.  Every large product is one single-threaded ?gemm call per block
# (scipy.linalg.cython_blas, called from the pool's threads).  The caller
# must limit the BLAS to one thread while the kernel runs (CyNet does, with
# threadpoolctl): scipy's OpenBLAS has its own pool, which would fight ours.
#
# Jacobians.  Only the hidden Jacobians J^{l,k}, k + 2 <= l <= L - 1, are
# materialised, block by block, for a chunk of S samples at a time:
# the chunk is stored as an n_l x (S n_{k+1}) row-major matrix (sample s's
# J^{l,k} is column block s), so one gemm with the shared W^{l-1}[:-1]^T
# advances the recursion for all S samples.  Scratch per thread (a thread
# runs one block at a time): two such buffers (``jsize`` entries each,
# ping-pong), a few hundred KiB at most.
#
# Elementwise work.  The sigmoid is evaluated branch-free with a hand-written
# exp (Cody-Waite reduction, Taylor polynomial: <= 2 ulp in both precisions),
# g'(h) = a (1 - a) as in NpNet, so gcc -O3 vectorises every elementwise loop.
# Each dtype has its own path (fused type ``floating``): float32 nets compute
# in float32 throughout.  Only the scalar loss is accumulated in double.
#
# Memory.  ``make_plan`` lays out one scratch buffer per (layers, batch,
# threads): W^k[:-1]^T (P), one output slot per (block, thread)
# (nblocks x nthreads x P: a thread that lost a block and is still writing
# never touches a slot that is read), the gradient (P), then per thread its
# scratch for the R rows of one block (R = ceil(B / nblocks)): a^1 .. a^L
# and delta^0 .. delta^{L-1} (R sum_l n_l entries each; delta^k has the
# shape of a^{k+1}), u (R n_{L-1}) and the two Jacobian buffers.  Within a
# thread's ``acts`` a^l is the (R, n_l) block at ``R * aoff[l]``, delta^k
# the one at ``R * aoff[k + 1]`` of its ``deltas``; W^k is the
# (n_k + 1, n_{k+1}) block of ``w`` at ``woff[k]``, and ``wt`` holds
# W^k[:-1]^T at the same offset for the layers that start a Jacobian
# sweep.  The caller allocates once and reuses it.

cimport cython
from libc.stdlib cimport malloc, free
from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm


cdef extern from "frontprop_helpers.h":
    int nnl_openmp_enabled() noexcept nogil
    int nnl_max_threads() noexcept nogil
    void nnl_bias_sigmoid_f(float *h, const float *bias, Py_ssize_t rows, Py_ssize_t cols) noexcept nogil
    void nnl_bias_sigmoid_d(double *h, const double *bias, Py_ssize_t rows, Py_ssize_t cols) noexcept nogil
    int nnl_all_finite_f(const float *a, Py_ssize_t n) noexcept nogil
    int nnl_all_finite_d(const double *a, Py_ssize_t n) noexcept nogil
    void nnl_gather_rows(char *dst, const char *src, const Py_ssize_t *order,
                         Py_ssize_t rows, Py_ssize_t row_bytes) noexcept nogil
    ctypedef struct nnl_job:
        pass
    ctypedef int (*nnl_block_fn)(void *ctx, const nnl_job *job, Py_ssize_t step,
                                 Py_ssize_t block, int tid) noexcept nogil
    ctypedef void (*nnl_reduce_fn)(void *ctx, Py_ssize_t step, Py_ssize_t block,
                                   int tid) noexcept nogil
    ctypedef int (*nnl_finish_fn)(void *ctx, Py_ssize_t step) noexcept nogil
    bint nnl_lost(const nnl_job *job, Py_ssize_t step, Py_ssize_t block) noexcept nogil
    void nnl_pool_counters(long *out) noexcept nogil
    Py_ssize_t nnl_run_steps(nnl_block_fn fn, nnl_reduce_fn reduce, nnl_finish_fn finish,
                             void *ctx, Py_ssize_t nblocks, Py_ssize_t nsteps, int nthreads,
                             int redo) noexcept nogil


def openmp_enabled():
    """True when this module was compiled with OpenMP (-fopenmp)."""
    return bool(nnl_openmp_enabled())


def max_threads():
    """omp_get_max_threads() now: OMP_NUM_THREADS, threadpoolctl limits or
    the number of cores; 1 without OpenMP."""
    return nnl_max_threads()


# ---------------------------------------------------------------------------
# small helpers (row-major view of BLAS, elementwise loops)
# ---------------------------------------------------------------------------

cdef inline void _gemm(char transa, char transb, int m, int n, int k,
                       floating alpha, const floating *a, int lda,
                       const floating *b, int ldb,
                       floating beta, floating *c, int ldc) noexcept nogil:
    """Row-major c (m x n) = alpha op(a) op(b) + beta c, single BLAS call.

    A row-major matrix is its own transpose in column-major storage, so this
    is the column-major product c^T = op(b)^T op(a)^T with the same flags.
    """
    if floating is float:
        sgemm(&transb, &transa, &n, &m, &k, &alpha, <float *> b, &ldb,
              <float *> a, &lda, &beta, c, &ldc)
    else:
        dgemm(&transb, &transa, &n, &m, &k, &alpha, <double *> b, &ldb,
              <double *> a, &lda, &beta, c, &ldc)


cdef inline void _bias_sigmoid(floating *h, const floating *bias,
                               Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    if floating is float:
        nnl_bias_sigmoid_f(h, bias, rows, cols)
    else:
        nnl_bias_sigmoid_d(h, bias, rows, cols)


cdef double _output_error(const floating *o,      # IN  outputs O, n entries
                          const floating *t,      # IN  targets, n entries
                          floating *es,           # OUT c e * g'(h^L)
                          Py_ssize_t n, floating c) noexcept nogil:
    """es = ((O - t) * O (1 - O)) * c; returns sum (O - t)^2 (in double).

    Eight interleaved double accumulators (a fixed order, so deterministic)
    let gcc vectorise the reduction without reassociating anything itself.
    """
    cdef Py_ssize_t i, q, n8 = n - n % 8
    cdef floating e, one = 1
    cdef double acc[8]
    cdef double total = 0
    for q in range(8):
        acc[q] = 0
    for i in range(0, n8, 8):
        for q in range(8):
            e = o[i + q] - t[i + q]
            acc[q] += e * e
            es[i + q] = (e * (o[i + q] * (one - o[i + q]))) * c
    for i in range(n8, n):
        e = o[i] - t[i]
        total += e * e
        es[i] = (e * (o[i] * (one - o[i]))) * c
    for q in range(8):
        total += acc[q]
    return total


cdef void _scale_by_gprime(floating *d,            # OUT u * g'(h)
                           const floating *u,      # IN
                           const floating *a,      # IN  activations, g' = a (1 - a)
                           Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating one = 1
    for i in range(n):
        d[i] = u[i] * (a[i] * (one - a[i]))


cdef void _column_sums(floating *out,              # OUT (cols,) sum over rows
                       const floating *d,          # IN  (rows, cols)
                       Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef const floating *di
    for j in range(cols):
        out[j] = 0
    for i in range(rows):
        di = d + i * cols
        for j in range(cols):
            out[j] += di[j]


# ---------------------------------------------------------------------------
# one row block
# ---------------------------------------------------------------------------

cdef void _forward_block(const floating *w,        # IN  flat parameters
                         const Py_ssize_t *woff,   # IN  offsets of W^k in w
                         const Py_ssize_t *n, Py_ssize_t L,   # IN  n_0 .. n_L
                         const floating *x,        # IN  (B, n_0)
                         floating *acts,           # OUT a^1 .. a^L
                         const Py_ssize_t *aoff, Py_ssize_t B,
                         Py_ssize_t r0, Py_ssize_t rows) noexcept nogil:
    """a^l[r0:r0+rows] = sigmoid(a^{l-1} W^{l-1}[:-1] + W^{l-1}[-1]), l = 1..L."""
    cdef Py_ssize_t l
    cdef const floating *prev
    cdef floating *cur
    cdef const floating *wl
    for l in range(1, L + 1):
        if l == 1:
            prev = x + r0 * n[0]
        else:
            prev = acts + aoff[l - 1] * B + r0 * n[l - 1]
        cur = acts + aoff[l] * B + r0 * n[l]
        wl = w + woff[l - 1]
        _gemm(c'N', c'N', <int> rows, <int> n[l], <int> n[l - 1],
              <floating> 1, prev, <int> n[l - 1], wl, <int> n[l],
              <floating> 0, cur, <int> n[l])
        _bias_sigmoid(cur, wl + n[l - 1] * n[l], rows, n[l])


cdef void _jacobian_deltas(const floating *w,      # IN  flat parameters
                           const floating *wt,     # IN  W^{k+1}[:-1]^T at woff[k+1]
                           const Py_ssize_t *woff, const Py_ssize_t *n,
                           Py_ssize_t L, Py_ssize_t k,
                           const floating *acts,   # IN  a^1 .. a^L
                           const Py_ssize_t *aoff, Py_ssize_t B,
                           const floating *u,      # IN  (B, n_{L-1})
                           floating *delta,        # OUT delta^k, (B, n_{k+1})
                           floating *jbuf,         # scratch, 2 * jsize
                           Py_ssize_t jsize, Py_ssize_t chunk,
                           Py_ssize_t r0, Py_ssize_t rows) noexcept nogil:
    """delta^k_b = u_b^T J^{L-1,k}_b for rows r0 .. r0+rows-1, k <= L - 3.

    Chunks of S <= chunk samples: J^{l,k} of the chunk is an
    n_l x (S n_{k+1}) row-major matrix, entry [r, s n_{k+1} + j] = J^{l,k}_{rj}
    of sample s.
    """
    cdef Py_ssize_t m = n[k + 1]                  # columns of every J^{l,k}
    cdef Py_ssize_t s0, S, s, b, r, j, l, nl, ld
    cdef floating one = 1
    cdef floating gr, ur
    cdef floating *jcur
    cdef floating *jnext
    cdef floating *tmp
    cdef floating *row
    cdef floating *db
    cdef const floating *a1
    cdef const floating *a2
    cdef const floating *al
    cdef const floating *wtr
    cdef const floating *ub
    s0 = r0
    while s0 < r0 + rows:
        S = min(chunk, r0 + rows - s0)
        ld = S * m
        jcur = jbuf
        jnext = jbuf + jsize
        # J^{k+2,k} = diag(g'(h^{k+2})) W^{k+1}[:-1]^T diag(g'(h^{k+1}))
        nl = n[k + 2]
        for s in range(S):
            b = s0 + s
            a1 = acts + aoff[k + 1] * B + b * m
            a2 = acts + aoff[k + 2] * B + b * nl
            for r in range(nl):
                gr = a2[r] * (one - a2[r])
                wtr = wt + woff[k + 1] + r * m
                row = jcur + r * ld + s * m
                for j in range(m):
                    row[j] = (gr * wtr[j]) * (a1[j] * (one - a1[j]))
        # J^{l,k} = diag(g'(h^l)) W^{l-1}[:-1]^T J^{l-1,k}, one gemm per chunk
        for l in range(k + 3, L):
            nl = n[l]
            _gemm(c'T', c'N', <int> nl, <int> ld, <int> n[l - 1],
                  <floating> 1, w + woff[l - 1], <int> nl, jcur, <int> ld,
                  <floating> 0, jnext, <int> ld)
            for r in range(nl):
                for s in range(S):
                    al = acts + aoff[l] * B + (s0 + s) * nl
                    gr = al[r] * (one - al[r])
                    row = jnext + r * ld + s * m
                    for j in range(m):
                        row[j] = gr * row[j]
            tmp = jcur
            jcur = jnext
            jnext = tmp
        # delta^k_b = u_b^T J^{L-1,k}_b
        nl = n[L - 1]
        for s in range(S):
            b = s0 + s
            db = delta + b * m
            ub = u + b * nl
            for j in range(m):
                db[j] = 0
            for r in range(nl):
                ur = ub[r]
                row = jcur + r * ld + s * m
                for j in range(m):
                    db[j] += ur * row[j]
        s0 += S


cdef int _gradient_block(const floating *w,     # IN  flat parameters
                         const floating *wt,    # IN  transposed weights
                         const Py_ssize_t *woff, const Py_ssize_t *n,
                         Py_ssize_t L,
                         const floating *x,    # IN  (B, n_0)
                         const floating *t,    # IN  (B, n_L)
                         floating *acts,       # OUT a^1 .. a^L
                         floating *deltas,     # OUT delta^0 .. delta^{L-1}
                         const Py_ssize_t *aoff, Py_ssize_t B,
                         floating *u,          # OUT (B, n_{L-1})
                         floating *jbuf, Py_ssize_t jsize, Py_ssize_t chunk,
                         floating *g,          # OUT this block's gradient
                         floating c, Py_ssize_t r0, Py_ssize_t rows,
                         double *sse_out,      # OUT the block's sum of squared errors
                         const nnl_job *pj, Py_ssize_t step, Py_ssize_t block) noexcept nogil:
    """Forward, frontprop and the block's share of [a^k, 1]^T (c delta^k).

    Returns 1 when it stopped early because another run of the same block
    was published (``nnl_lost``, polled between phases), else 0.
    """
    cdef Py_ssize_t k, nL = n[L]
    cdef double sse
    cdef const floating *ak
    cdef floating *es
    cdef floating *dk
    _forward_block(w, woff, n, L, x, acts, aoff, B, r0, rows)
    if nnl_lost(pj, step, block):
        return 1
    # output error; delta^{L-1} = c e * g'(h^L).  Every delta^k is linear in
    # it, so all of them carry the factor c = 2/(B n_L) from here on (as
    # NpNet scales the deltas before its gemm: no overflow NpNet avoids).
    es = deltas + aoff[L] * B + r0 * nL
    sse = _output_error(acts + aoff[L] * B + r0 * nL, t + r0 * nL, es, rows * nL, c)
    if L >= 2:
        # u = (e * g'(h^L)) W^{L-1}[:-1]^T, shared by every k < L - 1
        _gemm(c'N', c'T', <int> rows, <int> n[L - 1], <int> nL,
              <floating> 1, es, <int> nL, w + woff[L - 1], <int> nL,
              <floating> 0, u + r0 * n[L - 1], <int> n[L - 1])
        # k = L - 2: J^{L-1,L-2} = diag(g'(h^{L-1})) is diagonal
        _scale_by_gprime(deltas + aoff[L - 1] * B + r0 * n[L - 1],
                         u + r0 * n[L - 1],
                         acts + aoff[L - 1] * B + r0 * n[L - 1], rows * n[L - 1])
        for k in range(L - 2):
            if nnl_lost(pj, step, block):
                return 1
            _jacobian_deltas(w, wt, woff, n, L, k, acts, aoff, B, u,
                             deltas + aoff[k + 1] * B, jbuf, jsize, chunk,
                             r0, rows)
    if nnl_lost(pj, step, block):
        return 1
    # grad W^k[:-1] = a^k^T (c delta^k),  grad W^k[-1] = sum_b (c delta^k_b)
    for k in range(L):
        if k == 0:
            ak = x + r0 * n[0]
        else:
            ak = acts + aoff[k] * B + r0 * n[k]
        dk = deltas + aoff[k + 1] * B + r0 * n[k + 1]
        _gemm(c'T', c'N', <int> n[k], <int> n[k + 1], <int> rows,
              <floating> 1, ak, <int> n[k], dk, <int> n[k + 1],
              <floating> 0, g + woff[k], <int> n[k + 1])
        _column_sums(g + woff[k] + n[k] * n[k + 1], dk, rows, n[k + 1])
    sse_out[0] = sse
    return 0


# ---------------------------------------------------------------------------
# the plan: sizes and offsets of one configuration (layers, batch, blocks)
# ---------------------------------------------------------------------------

cdef enum:
    MAX_BLOCKS = 256     # row blocks per call, at most (NNL_MAX_BLOCKS)

cdef enum:
    PL_L = 0             # number of weight layers L
    PL_B                 # batch size B
    PL_NBLOCKS           # row blocks (<= B, <= MAX_BLOCKS)
    PL_NTHREADS          # threads, each with its own scratch (<= PL_NBLOCKS)
    PL_CHUNK             # samples per Jacobian chunk
    PL_JSIZE             # entries of one Jacobian buffer
    PL_P                 # number of parameters
    PL_ROWS              # rows of the largest block
    PL_TSIZE             # entries of one thread's scratch
    PL_WT                # offsets into the scratch buffer ``buf`` (entries):
    PL_SLOTS             #   W^k[:-1]^T (P); block outputs, one per (block, thread) (P each)
    PL_GRAD              #   the gradient (P)
    PL_SCRATCH           #   per thread: a, delta (ROWS sum n_l each), u, 2 jsize
    PL_SIZE              # entries of ``buf``
    PL_HEAD              # then n_0..n_L, woff_0..woff_{L-1}, aoff_0..aoff_L

PLAN_FIELDS = {"L": PL_L, "batch": PL_B, "nblocks": PL_NBLOCKS, "nthreads": PL_NTHREADS,
               "chunk": PL_CHUNK, "jsize": PL_JSIZE, "n_params": PL_P, "rows": PL_ROWS,
               "thread_size": PL_TSIZE, "wt": PL_WT, "slots": PL_SLOTS, "grad": PL_GRAD,
               "scratch": PL_SCRATCH, "size": PL_SIZE, "head": PL_HEAD}


#: row blocks per thread when more than one thread runs (see "Parallelism")
BLOCKS_PER_THREAD = 4


def block_count(Py_ssize_t nthreads, Py_ssize_t batch, blocks_per_thread=None):
    """Row blocks of a batch of ``batch`` samples on ``nthreads`` threads:
    1 for one thread, else ``blocks_per_thread`` (default
    ``BLOCKS_PER_THREAD``) per thread, at most one per sample."""
    per = BLOCKS_PER_THREAD if blocks_per_thread is None else int(blocks_per_thread)
    if nthreads < 1 or batch < 1 or per < 1:
        raise ValueError("nthreads, batch and blocks_per_thread must be >= 1")
    return min(1 if nthreads == 1 else nthreads * per, batch, <Py_ssize_t> MAX_BLOCKS)


def _layout(n, Py_ssize_t batch, Py_ssize_t nblocks, Py_ssize_t nthreads, Py_ssize_t jsize):
    """[(field, entries)] of ``buf`` in order, and one thread's scratch size."""
    cdef Py_ssize_t L = len(n) - 1, k
    P = sum((n[k] + 1) * n[k + 1] for k in range(L))
    rows = (batch + nblocks - 1) // nblocks
    tsize = 2 * rows * sum(n[1:]) + (rows * n[L - 1] if L >= 2 else 0) + 2 * jsize
    return [(PL_WT, P), (PL_SLOTS, nblocks * nthreads * P), (PL_GRAD, P),
            (PL_SCRATCH, nthreads * tsize)], rows, tsize


def make_plan(layers, Py_ssize_t batch, Py_ssize_t nthreads, Py_ssize_t jbudget,
              blocks_per_thread=None):
    """The plan (a list of ints) for ``layers``, ``batch`` samples on at most
    ``nthreads`` threads, in ``block_count(nthreads, batch,
    blocks_per_thread)`` row blocks, and Jacobian buffers of about
    ``jbudget`` entries.

    Pass it to ``gradient_and_step`` as an intp array with a scratch buffer of
    ``plan[PLAN_FIELDS["size"]]`` entries of the net's dtype.
    """
    n = [int(v) for v in layers]
    cdef Py_ssize_t L = len(n) - 1, k, l, widest = 0, rows, chunk = 1, jsize = 0, nblocks
    if L < 1 or min(n) < 1 or batch < 1 or nthreads < 1 or jbudget < 1:
        raise ValueError("bad plan request")
    nblocks = block_count(nthreads, batch, blocks_per_thread)
    nthreads = min(nthreads, nblocks)
    woff = [0] * L
    aoff = [0] * (L + 1)
    P = 0
    for k in range(L):
        woff[k] = P
        P += (n[k] + 1) * n[k + 1]
    for l in range(2, L + 1):
        aoff[l] = aoff[l - 1] + n[l - 1]
    for k in range(L - 2):
        for l in range(k + 2, L):
            widest = max(widest, n[l] * n[k + 1])
    if widest:
        rows = (batch + nblocks - 1) // nblocks
        chunk = max(1, min(rows, jbudget // widest))
        jsize = chunk * widest
    fields, rows, tsize = _layout(n, batch, nblocks, nthreads, jsize)
    plan = [0] * PL_HEAD
    plan[PL_L], plan[PL_B], plan[PL_NBLOCKS], plan[PL_NTHREADS] = L, batch, nblocks, nthreads
    plan[PL_CHUNK], plan[PL_JSIZE], plan[PL_P] = chunk, jsize, P
    plan[PL_ROWS], plan[PL_TSIZE] = rows, tsize
    off = 0
    for field, size in fields:
        plan[field] = off
        off += size
    plan[PL_SIZE] = off
    return plan + n + woff + aoff


cdef int _check_plan(const Py_ssize_t[::1] plan, Py_ssize_t P, Py_ssize_t B,
                     Py_ssize_t n0, Py_ssize_t nbuf) except -1:
    """Refuse a plan that is not make_plan's for these arrays (B < 0: any
    batch, layer part only).  Cheap: O(L), so every call can afford it."""
    cdef Py_ssize_t L, k, total = 0, acc = 0, nb, nt, expect
    cdef const Py_ssize_t *n
    if plan.shape[0] < PL_HEAD + 4:
        raise ValueError("plan too short")
    L = plan[PL_L]
    if L < 1 or plan.shape[0] != PL_HEAD + 3 * L + 2:
        raise ValueError("plan does not match its layer count")
    n = &plan[PL_HEAD]
    for k in range(L + 1):
        if n[k] < 1:
            raise ValueError("plan has a layer of width < 1")
    for k in range(L):
        if n[L + 1 + k] != total:
            raise ValueError("plan's weight offsets do not match its layers")
        total += (n[k] + 1) * n[k + 1]
    for k in range(L + 1):
        if n[2 * L + 1 + k] != (acc if k >= 1 else 0):
            raise ValueError("plan's activation offsets do not match its layers")
        if k >= 1:
            acc += n[k]
    if total != P:
        raise ValueError("w has %d entries, the plan's layers need %d" % (P, total))
    if plan[PL_P] != P:
        raise ValueError("plan records %d parameters, its layers need %d" % (plan[PL_P], P))
    if n0 != n[0]:
        raise ValueError("x has %d columns, the plan's layers %d" % (n0, n[0]))
    if B < 0:
        return 0
    nb = plan[PL_NBLOCKS]
    nt = plan[PL_NTHREADS]
    if B != plan[PL_B]:
        raise ValueError("x has %d rows, the plan is for %d" % (B, plan[PL_B]))
    if (not 1 <= nb <= min(B, <Py_ssize_t> MAX_BLOCKS) or not 1 <= nt <= nb
            or plan[PL_CHUNK] < 1 or plan[PL_JSIZE] < 0):
        raise ValueError("bad block or chunk sizes in plan")
    for k in range(L - 2):
        for acc in range(k + 2, L):
            if min(plan[PL_CHUNK], B) * n[acc] * n[k + 1] > plan[PL_JSIZE]:
                raise ValueError("plan's Jacobian buffers are too small")
    fields, rows, tsize = _layout([n[k] for k in range(L + 1)], B, nb, nt, plan[PL_JSIZE])
    if plan[PL_ROWS] != rows or plan[PL_TSIZE] != tsize:
        raise ValueError("plan's block rows or thread scratch do not match its batch")
    expect = 0
    for k, total in fields:
        if plan[k] != expect:
            raise ValueError("plan's buffer layout is not make_plan's")
        expect += total
    if plan[PL_SIZE] != expect:
        raise ValueError("plan records a scratch size of %d, its layout needs %d"
                         % (plan[PL_SIZE], expect))
    if nbuf < expect:
        raise ValueError("scratch buffer has %d entries, the plan needs %d" % (nbuf, expect))
    return 0


# ---------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t _block_start(Py_ssize_t i, Py_ssize_t nblocks, Py_ssize_t B) noexcept nogil:
    return (i * B) // nblocks


cdef enum:
    ST_OK = 0            # ``gradient_and_step`` status codes
    ST_BAD_INPUT = 1     # x or t holds NaN or inf: nothing was changed
    ST_BAD_GRADIENT = 2  # the loss or the gradient is not finite: nothing was changed

OK, BAD_INPUT, BAD_GRADIENT = ST_OK, ST_BAD_INPUT, ST_BAD_GRADIENT


cdef struct StepJob:
    # What every block of one call shares (the dtype's pointers as void *:
    # nnl_run_steps takes one C callback per dtype).  Step s reads batch s,
    # x + s B n_0 and t + s B n_L; with ``order``, the rows order[s B + r]
    # of x and t instead, gathered block by block into ``gather``.
    void *w                          # flat parameters (updated by finish)
    void *v                          # momentum buffer, or NULL: no update
    void *wt                         # W^{k+1}[:-1]^T
    const void *x                    # (S, B, n_0)
    const void *t                    # (S, B, n_L) (gradient only)
    void *acts                       # forward only: a^1 .. a^L of the batch
    void *grad                       # the gradient of the step
    void *slots                      # block outputs, slot b * nthreads + tid
    void *scratch                    # per thread: a, delta, u, Jacobian buffers
    const Py_ssize_t *order          # NULL, or the sample of each of the S B rows
    void *gather                     # with order, per thread: rows x (n_0 + n_L)
    const Py_ssize_t *n
    const Py_ssize_t *woff
    const Py_ssize_t *aoff
    Py_ssize_t L, B, P, nblocks, nthreads, jsize, chunk, rows, tsize
    double c                         # 2 / (B n_L)
    double lr, momentum
    double *losses                   # OUT per step
    int status                       # OUT ST_* of the last finished step
    double *sse                      # per slot: sum of squared errors
    int *bad_in                      # per slot: x or t not finite
    double step_sse                  # the step's, summed in block order
    int step_bad
    int step_first                   # the thread whose slot holds block 0


cdef inline floating *_slot(StepJob *job, Py_ssize_t b, int tid, const floating *kind) noexcept nogil:
    return <floating *> job.slots + (b * job.nthreads + tid) * job.P


cdef int _forward_run(StepJob *job, Py_ssize_t i, const floating *kind) noexcept nogil:
    """Row block i of ``forward``."""
    cdef Py_ssize_t r0 = _block_start(i, job.nblocks, job.B)
    cdef Py_ssize_t r1 = _block_start(i + 1, job.nblocks, job.B)
    _forward_block(<const floating *> job.w, job.woff, job.n, job.L, <const floating *> job.x,
                   <floating *> job.acts, job.aoff, job.B, r0, r1 - r0)
    return 0


cdef int _gradient_run(StepJob *job, const nnl_job *pj, Py_ssize_t s, Py_ssize_t i,
                       int tid, const floating *kind) noexcept nogil:
    """Row block i of step s: check its inputs, then the whole step for its
    rows, in thread ``tid``'s scratch, its gradient into its (i, tid) slot."""
    cdef const Py_ssize_t *n = job.n
    cdef Py_ssize_t nL = n[job.L], R = job.rows
    cdef Py_ssize_t r0 = _block_start(i, job.nblocks, job.B)
    cdef Py_ssize_t rows = _block_start(i + 1, job.nblocks, job.B) - r0
    cdef const floating *x = <const floating *> job.x + (s * job.B + r0) * n[0]
    cdef const floating *t = <const floating *> job.t + (s * job.B + r0) * nL
    cdef floating *own = <floating *> job.scratch + tid * job.tsize
    cdef Py_ssize_t per = job.aoff[job.L] + nL                 # sum of n_1 .. n_L
    cdef Py_ssize_t k = i * job.nthreads + tid
    cdef floating *gx
    cdef floating *gt
    if job.order != NULL:  # the block's rows, gathered into this thread's space
        gx = <floating *> job.gather + tid * R * (n[0] + nL)
        gt = gx + R * n[0]
        nnl_gather_rows(<char *> gx, <const char *> job.x, job.order + s * job.B + r0,
                        rows, n[0] * sizeof(floating))
        nnl_gather_rows(<char *> gt, <const char *> job.t, job.order + s * job.B + r0,
                        rows, nL * sizeof(floating))
        x, t = gx, gt
    job.sse[k] = 0
    job.bad_in[k] = not (_all_finite(x, rows * n[0]) and _all_finite(t, rows * nL))
    if job.bad_in[k]:
        return 0
    return _gradient_block(
        <const floating *> job.w, <const floating *> job.wt, job.woff, n, job.L, x, t,
        own, own + R * per, job.aoff, R, own + 2 * R * per,
        own + 2 * R * per + (R * n[job.L - 1] if job.L >= 2 else 0), job.jsize, job.chunk,
        _slot(job, i, tid, kind), <floating> job.c, 0, rows,
        &job.sse[k], pj, s, i)


cdef void _transpose_weights(StepJob *job, const floating *kind) noexcept nogil:
    """W^{k+1}[:-1]^T for the layers that start a Jacobian sweep."""
    cdef Py_ssize_t i, j, q
    cdef const Py_ssize_t *n = job.n
    cdef const Py_ssize_t *woff = job.woff
    cdef const floating *w = <const floating *> job.w
    cdef floating *wt = <floating *> job.wt
    for i in range(job.L - 2):
        for j in range(n[i + 2]):
            for q in range(n[i + 1]):
                wt[woff[i + 1] + j * n[i + 1] + q] = w[woff[i + 1] + q * n[i + 2] + j]


cdef void _reduce(StepJob *job, Py_ssize_t s, Py_ssize_t b, int tid,
                  const floating *kind) noexcept nogil:
    """Block b of step s into the step's result, blocks in order: loss
    terms, input flags and grad = block 0 + block 1 + ... (the first add
    writes grad; one block: a copy)."""
    cdef Py_ssize_t k = b * job.nthreads + tid
    if b == 0:
        job.step_sse = 0
        job.step_bad = 0
    job.step_sse += job.sse[k]
    job.step_bad = job.step_bad or job.bad_in[k]
    if job.step_bad:
        return
    if job.nblocks == 1:
        _copy_into(<floating *> job.grad, _slot(job, 0, tid, kind), job.P)
    elif b == 0:
        job.step_first = tid
    elif b == 1:
        _sum_into(<floating *> job.grad, _slot(job, 0, job.step_first, kind),
                  _slot(job, 1, tid, kind), job.P)
    else:
        _add_into(<floating *> job.grad, _slot(job, b, tid, kind), job.P)


cdef int _finish(StepJob *job, Py_ssize_t s, const floating *kind) noexcept nogil:
    """Step s's serial end, after its last block is reduced: loss, checks,
    the momentum step, then W^T for the next step.  Nonzero (a refused
    step, which changed nothing) stops the job."""
    cdef double loss = job.step_sse / (job.B * job.n[job.L])
    job.losses[s] = loss
    if job.step_bad:
        job.status = ST_BAD_INPUT
        return 1
    if not (_all_finite(<floating *> job.grad, job.P) and loss - loss == 0):
        job.status = ST_BAD_GRADIENT
        return 1
    if job.v != NULL:
        _momentum_step(<floating *> job.w, <floating *> job.v, <floating *> job.grad, job.P,
                       <floating> job.momentum, <floating> job.lr)
        _transpose_weights(job, kind)
    return 0


cdef extern from "<unistd.h>" nogil:
    int usleep(unsigned int usec)


cdef int _test_delay_us = 0


cdef inline void _sleep_us(int us) noexcept nogil:
    usleep(<unsigned int> us)


cdef int _forward_f(void *job, const nnl_job *pj, Py_ssize_t s, Py_ssize_t i, int tid) noexcept nogil:
    return _forward_run(<StepJob *> job, i, <const float *> NULL)


cdef int _forward_d(void *job, const nnl_job *pj, Py_ssize_t s, Py_ssize_t i, int tid) noexcept nogil:
    return _forward_run(<StepJob *> job, i, <const double *> NULL)


cdef int _gradient_f(void *job, const nnl_job *pj, Py_ssize_t s, Py_ssize_t i, int tid) noexcept nogil:
    if tid > 0 and _test_delay_us > 0:
        _sleep_us(_test_delay_us)
    return _gradient_run(<StepJob *> job, pj, s, i, tid, <const float *> NULL)


cdef int _gradient_d(void *job, const nnl_job *pj, Py_ssize_t s, Py_ssize_t i, int tid) noexcept nogil:
    if tid > 0 and _test_delay_us > 0:
        _sleep_us(_test_delay_us)
    return _gradient_run(<StepJob *> job, pj, s, i, tid, <const double *> NULL)


cdef void _reduce_f(void *job, Py_ssize_t s, Py_ssize_t b, int tid) noexcept nogil:
    _reduce(<StepJob *> job, s, b, tid, <const float *> NULL)


cdef void _reduce_d(void *job, Py_ssize_t s, Py_ssize_t b, int tid) noexcept nogil:
    _reduce(<StepJob *> job, s, b, tid, <const double *> NULL)


cdef int _finish_f(void *job, Py_ssize_t s) noexcept nogil:
    return _finish(<StepJob *> job, s, <const float *> NULL)


cdef int _finish_d(void *job, Py_ssize_t s) noexcept nogil:
    return _finish(<StepJob *> job, s, <const double *> NULL)


def pool_counters():
    """Counts since import: ``redone`` (blocks run again because their
    claimer stalled), ``lost`` (runs that another run of the same block
    beat) and ``moves`` (helpers that left a CPU another thread of the job
    was on); see block_pool.h."""
    cdef long out[3]
    nnl_pool_counters(out)
    return {"redone": out[0], "lost": out[1], "moves": out[2]}


def set_test_delay(int microseconds):
    """Tests only: helper threads sleep this long before each block they
    claim, so that the other threads redo their blocks (0: off)."""
    global _test_delay_us
    _test_delay_us = max(0, microseconds)


def forward(const floating[::1] w,            # IN  flat parameters
            const floating[:, ::1] x,         # IN  (B, n_0), any B
            const Py_ssize_t[::1] plan,       # IN  any plan for these layers
            floating[::1] acts,               # OUT a^1 .. a^L, (B sum n_l,)
            int num_threads):
    """Feedforward of ``x`` into ``acts`` (a^l at ``B * aoff[l]``)."""
    cdef Py_ssize_t B = x.shape[0], L
    _check_plan(plan, w.shape[0], -1, x.shape[1], 0)
    L = plan[PL_L]
    cdef const Py_ssize_t *n = &plan[PL_HEAD]
    cdef const Py_ssize_t *woff = n + L + 1
    cdef const Py_ssize_t *aoff = woff + L
    if acts.shape[0] < B * (aoff[L] + n[L]):
        raise ValueError("acts too small")
    if B == 0:
        return
    num_threads = max(1, num_threads)
    cdef StepJob job
    job.w, job.x, job.acts = <void *> &w[0], <const void *> &x[0, 0], <void *> &acts[0]
    job.n, job.woff, job.aoff, job.L, job.B = n, woff, aoff, L, B
    job.nblocks = block_count(num_threads, B)
    cdef nnl_block_fn fn = _forward_f if floating is float else _forward_d
    with nogil:
        nnl_run_steps(fn, NULL, NULL, &job, job.nblocks, 1,
                      <int> min(<Py_ssize_t> num_threads, job.nblocks), 0)


cdef object _steps(floating *wp, floating *vp, Py_ssize_t P, const floating *x,
                   const floating *t, Py_ssize_t S, Py_ssize_t B, Py_ssize_t n0,
                   Py_ssize_t nL, const Py_ssize_t[::1] plan, floating *base,
                   Py_ssize_t nbuf, double lr, double momentum, double *losses,
                   const Py_ssize_t *order=NULL):
    """S steps on batches x[s], t[s] (with ``order``: on the rows
    order[s B : (s + 1) B] of x and t); returns (status, steps applied)."""
    cdef Py_ssize_t L, done
    _check_plan(plan, P, B, n0, nbuf)
    L = plan[PL_L]
    cdef const Py_ssize_t *n = &plan[PL_HEAD]
    if nL != n[L]:
        raise ValueError("t must have shape (%d, %d)" % (B, n[L]))
    cdef StepJob job
    job.w, job.v, job.wt = <void *> wp, <void *> vp, <void *> (base + plan[PL_WT])
    job.x, job.t = <const void *> x, <const void *> t
    job.grad, job.slots = <void *> (base + plan[PL_GRAD]), <void *> (base + plan[PL_SLOTS])
    job.scratch = <void *> (base + plan[PL_SCRATCH])
    job.order, job.gather = order, NULL
    job.n, job.woff, job.aoff = n, n + L + 1, n + 2 * L + 1
    job.L, job.B, job.P, job.nblocks, job.nthreads = L, B, P, plan[PL_NBLOCKS], plan[PL_NTHREADS]
    job.jsize, job.chunk, job.rows, job.tsize = plan[PL_JSIZE], plan[PL_CHUNK], plan[PL_ROWS], plan[PL_TSIZE]
    job.c, job.lr, job.momentum = 2.0 / (B * nL), lr, momentum
    job.losses, job.status = losses, ST_OK
    cdef nnl_block_fn fn = _gradient_f if floating is float else _gradient_d
    cdef nnl_reduce_fn red = _reduce_f if floating is float else _reduce_d
    cdef nnl_finish_fn fin = _finish_f if floating is float else _finish_d
    cdef Py_ssize_t nslots = job.nblocks * job.nthreads
    job.sse = <double *> malloc(nslots * sizeof(double))
    job.bad_in = <int *> malloc(nslots * sizeof(int))
    if order != NULL:
        job.gather = malloc(job.nthreads * job.rows * (n0 + nL) * sizeof(floating))
    if job.sse == NULL or job.bad_in == NULL or (order != NULL and job.gather == NULL):
        free(job.sse)
        free(job.bad_in)
        free(job.gather)
        raise MemoryError()
    with nogil:
        _transpose_weights(&job, wp)
        done = nnl_run_steps(fn, red, fin, &job, job.nblocks, S, <int> job.nthreads, 1)
    free(job.sse)
    free(job.bad_in)
    free(job.gather)
    return job.status, done - (job.status != ST_OK)


def gradient_and_step(floating[::1] w,                 # IN/OUT flat parameters (OUT: update only)
          floating[::1] v,                 # IN/OUT momentum buffer; empty: no update
          const floating[:, ::1] x,        # IN  (B, n_0)
          const floating[:, ::1] t,        # IN  (B, n_L)
          const Py_ssize_t[::1] plan,      # IN  from make_plan(layers, B, ...)
          floating[::1] buf,               # OUT scratch; gradient at plan[PL_GRAD]
          double lr, double momentum):     # IN  step size and momentum
    """Loss, exact gradient and (if ``v`` is not empty) the SGD step
    v <- momentum v - lr g; w <- w + v, all in the dtype of ``w``.

    Returns ``(status, loss)``.  The step is applied only when the inputs,
    the loss and every gradient entry are finite (status OK); otherwise
    ``w`` and ``v`` are untouched.  The work is split into
    ``plan[PL_NBLOCKS]`` row blocks, handed out one at a time to at most
    ``plan[PL_NTHREADS]`` threads, and the result is bit for bit the same
    whenever the number of blocks is.
    """
    cdef Py_ssize_t P = w.shape[0]
    cdef double loss = 0
    if t.shape[0] != x.shape[0]:
        raise ValueError("t has %d rows, x has %d" % (t.shape[0], x.shape[0]))
    if v.shape[0] != 0 and v.shape[0] != P:
        raise ValueError("v must be empty or as long as w")
    status, _ = _steps(&w[0], &v[0] if v.shape[0] else NULL, P, &x[0, 0], &t[0, 0], 1,
                       x.shape[0], x.shape[1], t.shape[1], plan, &buf[0], buf.shape[0],
                       lr, momentum, &loss)
    return status, loss


def gradient_and_steps(floating[::1] w,               # IN/OUT flat parameters
                       floating[::1] v,               # IN/OUT momentum buffer (as long as w)
                       const floating[:, :, ::1] xs,  # IN  (S, B, n_0): S batches
                       const floating[:, :, ::1] ts,  # IN  (S, B, n_L)
                       const Py_ssize_t[::1] plan,    # IN  from make_plan(layers, B, ...)
                       floating[::1] buf,             # OUT scratch
                       double lr, double momentum,
                       double[::1] losses):           # OUT (S,) loss of each step
    """``gradient_and_step`` on batches xs[0], ts[0], then xs[1], ts[1], ...
    in one call, bit for bit as S separate calls, but the threads go from one
    step to the next without returning to Python (see block_pool.h).

    Returns ``(status, applied)``: the steps before ``applied`` were taken;
    with status OK that is all S, otherwise step ``applied`` was refused
    (bad input or gradient, as ``gradient_and_step``) and the rest not run.
    """
    cdef Py_ssize_t P = w.shape[0], S = xs.shape[0]
    if ts.shape[0] != S or ts.shape[1] != xs.shape[1]:
        raise ValueError("xs and ts must hold the same number of batches of the same size")
    if v.shape[0] != P:
        raise ValueError("v must be as long as w")
    if losses.shape[0] != S:
        raise ValueError("losses must have one entry per batch")
    if S == 0:
        return ST_OK, 0
    return _steps(&w[0], &v[0], P, &xs[0, 0, 0], &ts[0, 0, 0], S, xs.shape[1], xs.shape[2],
                  ts.shape[2], plan, &buf[0], buf.shape[0], lr, momentum, &losses[0])


def gradient_and_steps_ordered(floating[::1] w,             # IN/OUT flat parameters
                               floating[::1] v,             # IN/OUT momentum buffer
                               const floating[:, ::1] x,    # IN  (N, n_0): all samples
                               const floating[:, ::1] t,    # IN  (N, n_L)
                               const Py_ssize_t[::1] order, # IN  (S B,): rows of x and t
                               const Py_ssize_t[::1] plan,  # IN  from make_plan(layers, B, ...)
                               floating[::1] buf,           # OUT scratch
                               double lr, double momentum,
                               double[::1] losses):         # OUT (S,) loss of each step
    """``gradient_and_steps`` on the batches x[order[s B : (s + 1) B]] (and
    the same rows of t), s = 0 .. S-1, S = len(losses), without copying them
    first: each row block gathers its own rows.  Bit for bit the same as
    ``gradient_and_steps`` on the gathered stack.  Returns ``(status, applied)``.
    """
    cdef Py_ssize_t P = w.shape[0], S = losses.shape[0], N = x.shape[0], i, bad = -1
    if t.shape[0] != N:
        raise ValueError("t has %d rows, x has %d" % (t.shape[0], N))
    if v.shape[0] != P:
        raise ValueError("v must be as long as w")
    if S == 0:
        return ST_OK, 0
    if order.shape[0] == 0 or order.shape[0] % S:
        raise ValueError("order must hold len(losses) batches of one size, got %d rows for %d"
                         % (order.shape[0], S))
    with nogil:
        for i in range(order.shape[0]):
            if order[i] < 0 or order[i] >= N:
                bad = i
                break
    if bad >= 0:
        raise ValueError("order[%d] = %d is not a row of x (%d rows)" % (bad, order[bad], N))
    return _steps(&w[0], &v[0], P, &x[0, 0], &t[0, 0], S, order.shape[0] // S, x.shape[1],
                  t.shape[1], plan, &buf[0], buf.shape[0], lr, momentum, &losses[0], &order[0])


cdef void _add_into(floating *out, const floating *a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = out[i] + a[i]


cdef void _copy_into(floating *out, const floating *a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = a[i]


cdef void _sum_into(floating *out, const floating *a, const floating *b, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = a[i] + b[i]


cdef void _momentum_step(floating *w, floating *v, const floating *g, Py_ssize_t n,
                         floating mom, floating rate) noexcept nogil:
    """Network.step's update: v <- mom v - rate g; w <- w + v."""
    cdef Py_ssize_t i
    for i in range(n):
        v[i] = mom * v[i] - rate * g[i]
        w[i] = w[i] + v[i]


cdef inline bint _all_finite(const floating *a, Py_ssize_t n) noexcept nogil:
    if floating is float:
        return nnl_all_finite_f(a, n)
    else:
        return nnl_all_finite_d(a, n)


def all_finite(const floating[::1] a):
    """True when every entry of ``a`` is finite (no temporary array)."""
    cdef bint ok = True
    if a.shape[0] > 0:
        with nogil:
            ok = _all_finite(&a[0], a.shape[0])
    return ok


def bias_sigmoid(floating[:, ::1] h,              # IN/OUT (rows, cols)
                 const floating[::1] bias):       # IN  (cols,)
    """h <- sigmoid(h + bias), in place: the kernel's activation, for tests."""
    if bias.shape[0] != h.shape[1]:
        raise ValueError("bias must have h.shape[1] entries")
    if h.shape[0] == 0 or h.shape[1] == 0:
        return
    with nogil:
        _bias_sigmoid(&h[0, 0], &bias[0], h.shape[0], h.shape[1])
