/* nnl_run_blocks: run fn(ctx, i, tid) for i = 0 .. nblocks-1 on up to
 * nthreads threads, the caller being one of them (tid 0).
 *
 * Why not an OpenMP parallel loop: a parallel region ends with a barrier
 * that every thread of the team must reach, so a step waits for the slowest
 * thread even when it has no work left.  On a machine where another process
 * wants the cores (issue 11), a helper thread that the OS has not scheduled
 * yet stalls the step for a whole time slice; CyNet at 2 threads ran at
 * 0.1-0.9x its one-thread speed beside one busy process.  Here the caller
 * never waits for a helper to arrive: blocks are claimed one at a time from
 * a counter, a helper that wakes late finds none left, and the caller waits
 * only for the blocks that a helper has actually started.
 *
 * A claim is a compare-and-swap on one 64-bit word, the job's generation
 * (high half) and the next block (low half), so a helper still holding an
 * old job can never claim a block of a newer one (whose ctx it has not
 * read).  Helpers spin briefly for new work, then sleep on a condition
 * variable; the caller sleeps on another until the last started block is
 * done.  Which thread runs which block is left to chance; callers make the
 * result independent of it (one output slot per block, reduced in block
 * order: see _frontprop.pyx, "Parallelism").
 *
 * POSIX threads; elsewhere (or with NNL_NO_POOL) an OpenMP dynamic loop, or a
 * plain loop without OpenMP.  One job at a time: a second thread that calls
 * while a job runs does its blocks alone.  After fork() the child starts
 * with no helpers (they do not survive a fork) and makes new ones.        */
#ifndef NNETLIB_BLOCK_POOL_H
#define NNETLIB_BLOCK_POOL_H

#include <Python.h>   /* Py_ssize_t */

typedef void (*nnl_task)(void *ctx, Py_ssize_t block, int tid);

#if (defined(__unix__) || defined(__APPLE__)) && !defined(NNL_NO_POOL) \
    && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_ATOMICS__)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#define NNL_POOL_MAX 63            /* helper threads, at most */
#define NNL_SPIN 2000              /* polls before sleeping (about 0.1 ms) */
#if defined(__x86_64__) || defined(__i386__)
#define NNL_PAUSE() __builtin_ia32_pause()
#else
#define NNL_PAUSE() ((void)0)
#endif

static struct {
    pthread_mutex_t mu;            /* guards the job fields and the sleep counters */
    pthread_cond_t work;           /* helpers wait here for a new generation */
    pthread_cond_t idle;           /* the caller waits here for the last block */
    pthread_mutex_t busy;          /* held by the caller of a job */
    int helpers;                   /* helper threads started */
    int want;                      /* helpers asked to join this job */
    nnl_task fn;
    void *ctx;
    _Atomic uint64_t claim;        /* generation << 32 | next block */
    _Atomic uint32_t gen;          /* generation of the current job */
    _Atomic Py_ssize_t done;       /* blocks finished in this generation */
    Py_ssize_t nblocks;
    int caller_sleeps;
} nnl_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
              PTHREAD_COND_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};

/* claim and run blocks of generation g until none is left */
static void nnl_pool_work(uint32_t g, nnl_task fn, void *ctx, Py_ssize_t nblocks, int tid)
{
    uint64_t v = atomic_load(&nnl_pool.claim);
    for (;;) {
        if ((uint32_t)(v >> 32) != g || (Py_ssize_t)(v & 0xFFFFFFFFu) >= nblocks)
            return;
        if (!atomic_compare_exchange_weak(&nnl_pool.claim, &v, v + 1))
            continue;                              /* v now holds the new value */
        fn(ctx, (Py_ssize_t)(v & 0xFFFFFFFFu), tid);
        if (atomic_fetch_add(&nnl_pool.done, 1) + 1 == nblocks) {
            pthread_mutex_lock(&nnl_pool.mu);      /* the last block: wake the caller */
            if (nnl_pool.caller_sleeps)
                pthread_cond_signal(&nnl_pool.idle);
            pthread_mutex_unlock(&nnl_pool.mu);
        }
        v = atomic_load(&nnl_pool.claim);
    }
}

static void *nnl_pool_helper(void *arg)
{
    int tid = (int)(intptr_t)arg;                  /* 1 .. NNL_POOL_MAX */
    uint32_t seen = atomic_load(&nnl_pool.gen);
    for (;;) {
        int spin;
        for (spin = 0; spin < NNL_SPIN && atomic_load(&nnl_pool.gen) == seen; spin++)
            NNL_PAUSE();
        pthread_mutex_lock(&nnl_pool.mu);
        while (atomic_load(&nnl_pool.gen) == seen)
            pthread_cond_wait(&nnl_pool.work, &nnl_pool.mu);
        seen = atomic_load(&nnl_pool.gen);
        nnl_task fn = nnl_pool.fn;
        void *ctx = nnl_pool.ctx;
        Py_ssize_t nblocks = nnl_pool.nblocks;
        int join = tid <= nnl_pool.want;
        pthread_mutex_unlock(&nnl_pool.mu);
        if (join)
            nnl_pool_work(seen, fn, ctx, nblocks, tid);
    }
    return NULL;
}

static void nnl_pool_after_fork(void)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER, busy = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c1 = PTHREAD_COND_INITIALIZER, c2 = PTHREAD_COND_INITIALIZER;
    nnl_pool.mu = mu;
    nnl_pool.busy = busy;
    nnl_pool.work = c1;
    nnl_pool.idle = c2;
    nnl_pool.helpers = 0;
    nnl_pool.caller_sleeps = 0;
}

/* start helpers up to n (called with mu held); returns how many run */
static int nnl_pool_grow(int n)
{
    static int atfork = 0;
    if (!atfork) {
        pthread_atfork(NULL, NULL, nnl_pool_after_fork);
        atfork = 1;
    }
    if (n > NNL_POOL_MAX)
        n = NNL_POOL_MAX;
    while (nnl_pool.helpers < n) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int err = pthread_create(&th, &attr, nnl_pool_helper, (void *)(intptr_t)(nnl_pool.helpers + 1));
        pthread_attr_destroy(&attr);
        if (err)
            break;
        nnl_pool.helpers++;
    }
    return nnl_pool.helpers;
}

static void nnl_run_blocks(nnl_task fn, void *ctx, Py_ssize_t nblocks, int nthreads)
{
    Py_ssize_t i;
    if (nthreads <= 1 || nblocks <= 1 || pthread_mutex_trylock(&nnl_pool.busy) != 0) {
        for (i = 0; i < nblocks; i++)              /* alone (or another job runs) */
            fn(ctx, i, 0);
        return;
    }
    pthread_mutex_lock(&nnl_pool.mu);
    nnl_pool.want = nnl_pool_grow(nthreads - 1) < nthreads - 1 ? nnl_pool.helpers : nthreads - 1;
    nnl_pool.fn = fn;
    nnl_pool.ctx = ctx;
    nnl_pool.nblocks = nblocks;
    atomic_store(&nnl_pool.done, 0);
    uint32_t g = atomic_load(&nnl_pool.gen) + 1;
    atomic_store(&nnl_pool.claim, (uint64_t)g << 32);
    atomic_store(&nnl_pool.gen, g);
    pthread_cond_broadcast(&nnl_pool.work);
    pthread_mutex_unlock(&nnl_pool.mu);

    nnl_pool_work(g, fn, ctx, nblocks, 0);
    for (i = 0; i < NNL_SPIN && atomic_load(&nnl_pool.done) < nblocks; i++)
        NNL_PAUSE();
    if (atomic_load(&nnl_pool.done) < nblocks) {
        pthread_mutex_lock(&nnl_pool.mu);
        nnl_pool.caller_sleeps = 1;
        while (atomic_load(&nnl_pool.done) < nblocks)
            pthread_cond_wait(&nnl_pool.idle, &nnl_pool.mu);
        nnl_pool.caller_sleeps = 0;
        pthread_mutex_unlock(&nnl_pool.mu);
    }
    pthread_mutex_unlock(&nnl_pool.busy);
}

#else   /* no POSIX threads pool */

static void nnl_run_blocks(nnl_task fn, void *ctx, Py_ssize_t nblocks, int nthreads)
{
    Py_ssize_t i;
#ifdef _OPENMP
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads > 1 ? nthreads : 1)
    for (i = 0; i < nblocks; i++)
        fn(ctx, i, omp_get_thread_num());
#else
    (void)nthreads;
    for (i = 0; i < nblocks; i++)
        fn(ctx, i, 0);
#endif
}

#endif
#endif /* NNETLIB_BLOCK_POOL_H */
