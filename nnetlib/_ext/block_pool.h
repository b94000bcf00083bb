/* nnl_run_steps: run nsteps steps of nblocks blocks each on up to nthreads
 * threads, the caller being one of them (tid 0).  Each block's output is
 * handed to reduce() in block order, then finish() ends the step; step s's
 * blocks start only after step s - 1 has finished.
 *
 * Why not an OpenMP parallel loop per step: a parallel region ends with a
 * barrier that every thread of the team must reach, so a step waits for its
 * slowest thread.  On a machine where another process wants the cores
 * (a laptop doing something else), the OS deschedules one of our threads for a time slice of a
 * few ms, longer than a whole step: CyNet at 2 threads ran at 0.1-0.9x its
 * one-thread speed beside one busy process.  Here nobody waits for a thread
 * the OS is not running:
 *
 *  - blocks are claimed one at a time from a ticket counter (step * nblocks
 *    + block); a helper that wakes late finds none left;
 *  - a block whose claimer has held it much longer than the fastest block
 *    so far (it is descheduled, or shares its core) is run again by an idle
 *    thread; the first run to finish is published (a compare-and-swap on
 *    the block's word), the other stops at its next nnl_lost() check or is
 *    ignored;
 *  - the published blocks are reduced in block order by whichever thread
 *    finds the next one ready (one at a time, a flag), overlapping the
 *    blocks still running, and the thread that reduces a step's last block
 *    finishes it and opens the next; so steps go on while the caller is
 *    descheduled: it has to be running only at the end of the job.
 *
 * Each thread writes its own output slot per block (tid), so a run that
 * lost and is still writing never touches a slot that is read: a thread
 * runs one block at a time, and its slot of block b is read only when it
 * won block b, in a step it is done with.  Block outputs are a pure
 * function of (step, block): which thread computed a block never changes a
 * bit of the result.
 *
 * At the end of a job the caller waits until every helper has left it (a
 * helper may still be inside a block it lost; the ctx must outlive it), so
 * a job should be many steps long (CyNet.steps).
 *
 * POSIX threads and C11 atomics; elsewhere (or with NNL_NO_POOL) the steps
 * run serially on the caller.  One job at a time: a second thread that
 * calls while a job runs does its steps alone.  After fork() the child
 * starts with no helpers (they do not survive a fork) and makes new ones. */
#ifndef NNETLIB_BLOCK_POOL_H
#define NNETLIB_BLOCK_POOL_H

#include <Python.h>   /* Py_ssize_t */

#define NNL_MAX_BLOCKS 256

typedef struct nnl_job nnl_job;
/* Run block `block` of step `step` on thread `tid`, into that thread's
 * output slot of the block.  Return 0 when done, nonzero when it stopped
 * early because nnl_lost(job, step, block). */
typedef int (*nnl_block_fn)(void *ctx, const nnl_job *job, Py_ssize_t step, Py_ssize_t block,
                            int tid);
/* Take block `block`'s output (in thread `tid`'s slot) into step `step`'s
 * result; called for block 0, 1, ... in order, one call at a time. */
typedef void (*nnl_reduce_fn)(void *ctx, Py_ssize_t step, Py_ssize_t block, int tid);
/* End step `step` after its last reduce.  Nonzero stops the job. */
typedef int (*nnl_finish_fn)(void *ctx, Py_ssize_t step);

#if (defined(__unix__) || defined(__APPLE__)) && !defined(NNL_NO_POOL) \
    && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_ATOMICS__)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define NNL_POOL_MAX 63            /* helper threads, at most */
#define NNL_SPIN 2000              /* polls before sleeping between jobs (about 0.1 ms) */
#define NNL_STALL_NS 30000         /* a block is stalled after 1.25 x the fastest + this */
#ifndef NNL_YIELD_NS
#define NNL_YIELD_NS 200000        /* idle this long inside a job: sched_yield() */
#endif
#if defined(__x86_64__) || defined(__i386__)
#define NNL_PAUSE() __builtin_ia32_pause()
#else
#define NNL_PAUSE() ((void)0)
#endif

struct nnl_job {
    nnl_block_fn fn;
    nnl_reduce_fn reduce;
    nnl_finish_fn finish;
    void *ctx;
    Py_ssize_t nblocks, nsteps;
    int nthreads;                              /* threads in the job, at most */
    int redo;                                  /* redundant runs allowed */
    _Atomic int64_t next;                      /* next ticket: step * nblocks + block */
    _Atomic int64_t finished;                  /* steps finished */
    _Atomic int64_t reduced;                   /* blocks reduced, all steps */
    _Atomic int reducing;                      /* a thread is reducing */
    _Atomic int stop;                          /* finish() asked to stop */
    _Atomic int64_t fastest;                   /* shortest block run so far (ns) */
    _Atomic uint64_t won[NNL_MAX_BLOCKS];      /* (last published step + 1) << 8 | tid */
    _Atomic int64_t redone[NNL_MAX_BLOCKS];    /* step + 1 of its last redundant run */
    _Atomic int64_t started[NNL_MAX_BLOCKS];   /* when its claimer started it (ns) */
    _Atomic int cpu[NNL_POOL_MAX + 1];         /* the CPU each thread last ran a block on */
};

/* since the module was loaded: redundant runs started, runs that lost (stopped
 * early or finished second), helper moves off a shared CPU (for tests and
 * diagnostics: nnl_pool_counters) */
static _Atomic long nnl_count_redone, nnl_count_lost, nnl_count_moves;

static void nnl_pool_counters(long *out)
{
    out[0] = atomic_load(&nnl_count_redone);
    out[1] = atomic_load(&nnl_count_lost);
    out[2] = atomic_load(&nnl_count_moves);
}

static inline int64_t nnl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* True once block `block` of step `step` has been published by another run:
 * a block function polls it between its phases and stops when it is set. */
static inline int nnl_lost(const nnl_job *job, Py_ssize_t step, Py_ssize_t block)
{
    return job != NULL
        && (atomic_load(&((nnl_job *)job)->won[block]) >> 8) > (uint64_t)step;
}

/* reduce every published block that is next in order, finishing steps */
static void nnl_drive(nnl_job *j)
{
    Py_ssize_t nb = j->nblocks;
    for (;;) {
        int64_t r = atomic_load(&j->reduced), s = r / nb, b = r % nb;
        int unlocked = 0;
        if (s >= j->nsteps || atomic_load(&j->stop))
            return;
        uint64_t w = atomic_load(&j->won[b]);
        if ((w >> 8) != (uint64_t)(s + 1))
            return;                                /* not published yet: its publisher drives */
        if (!atomic_compare_exchange_strong(&j->reducing, &unlocked, 1))
            return;                                /* the thread reducing will see it */
        if (atomic_load(&j->reduced) == r) {
            if (j->reduce != NULL)
                j->reduce(j->ctx, s, b, (int)(w & 0xFF));
            if (b == nb - 1) {
                if (j->finish != NULL && j->finish(j->ctx, s))
                    atomic_store(&j->stop, 1);
                atomic_store(&j->finished, s + 1);
            }
            atomic_store(&j->reduced, r + 1);
        }
        atomic_store(&j->reducing, 0);
    }
}

static void nnl_run_block(nnl_job *j, Py_ssize_t s, Py_ssize_t b, int redo, int tid)
{
    int64_t t0 = nnl_now(), d, f;
    uint64_t w;
    if (!redo)
        atomic_store(&j->started[b], t0);
    if (j->fn(j->ctx, j, s, b, tid) != 0) {
        atomic_fetch_add(&nnl_count_lost, 1);      /* lost, stopped early */
        return;
    }
    d = nnl_now() - t0;
    f = atomic_load(&j->fastest);
    while (d < f && !atomic_compare_exchange_weak(&j->fastest, &f, d))
        ;
    w = atomic_load(&j->won[b]);
    if ((w >> 8) == (uint64_t)s
        && atomic_compare_exchange_strong(&j->won[b], &w, ((uint64_t)(s + 1) << 8) | (uint64_t)tid))
        nnl_drive(j);
    else
        atomic_fetch_add(&nnl_count_lost, 1);      /* lost, finished second */
}

/* a block of step s held by its claimer for too long, now marked as redone; -1 if none */
static Py_ssize_t nnl_stalled(nnl_job *j, Py_ssize_t s)
{
    Py_ssize_t b;
    int64_t now = nnl_now(), fastest = atomic_load(&j->fastest), limit = fastest + fastest / 4 + NNL_STALL_NS;
    for (b = 0; b < j->nblocks; b++) {
        int64_t r = atomic_load(&j->redone[b]);
        if ((atomic_load(&j->won[b]) >> 8) == (uint64_t)s && r != s + 1
            && now - atomic_load(&j->started[b]) > limit
            && atomic_compare_exchange_strong(&j->redone[b], &r, s + 1)) {
            atomic_fetch_add(&nnl_count_redone, 1);
            return b;
        }
    }
    return -1;
}

#if defined(__linux__) && defined(CPU_SET)
/* Move helper `tid` off a CPU another of our threads is on, when a CPU none
 * of them is on is allowed (the process's affinity mask is respected).  Two
 * threads of one job on one CPU run at the speed of one; the OS rarely
 * separates them when every CPU is busy (3 busy threads on 2
 * cores stay 2 + 1), so the helper leaves by itself: it narrows its
 * affinity, which moves it at once, then restores it.                    */
static void nnl_spread(nnl_job *j, int tid)
{
    cpu_set_t allowed, elsewhere;
    int here = sched_getcpu(), i, shared = 0;
    for (i = 0; i < j->nthreads; i++)
        shared |= i != tid && atomic_load(&j->cpu[i]) == here;
    if (here >= 0 && shared && sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        elsewhere = allowed;
        for (i = 0; i < j->nthreads; i++) {
            int c = atomic_load(&j->cpu[i]);
            if (i != tid && c >= 0 && c < CPU_SETSIZE)
                CPU_CLR(c, &elsewhere);
        }
        if (CPU_COUNT(&elsewhere) > 0 && sched_setaffinity(0, sizeof elsewhere, &elsewhere) == 0) {
            sched_setaffinity(0, sizeof allowed, &allowed);
            here = sched_getcpu();
            atomic_fetch_add(&nnl_count_moves, 1);
        }
    }
    atomic_store(&j->cpu[tid], here);
}
#define NNL_NOTE_CPU(j, tid) atomic_store(&(j)->cpu[tid], sched_getcpu())
#else
#define nnl_spread(j, tid) ((void)0)
#define NNL_NOTE_CPU(j, tid) ((void)0)
#endif

/* claim, redo and reduce blocks until the job is over */
static void nnl_job_work(nnl_job *j, int tid)
{
    Py_ssize_t nb = j->nblocks;
    int64_t idle_since = 0;
    for (;;) {
        int64_t f = atomic_load(&j->finished);
        if (f >= j->nsteps || atomic_load(&j->stop))
            return;
        int64_t t = atomic_load(&j->next);
        if (t < (f + 1) * nb) {                    /* a fresh block of the open step */
            if (atomic_compare_exchange_weak(&j->next, &t, t + 1)) {
                if (tid == 0)
                    NNL_NOTE_CPU(j, 0);
                else
                    nnl_spread(j, tid);
                nnl_run_block(j, t / nb, t % nb, 0, tid);
            }
            idle_since = 0;
            continue;
        }
        if (j->redo) {
            Py_ssize_t b = nnl_stalled(j, f);
            if (b >= 0) {
                nnl_run_block(j, f, b, 1, tid);
                idle_since = 0;
                continue;
            }
        }
        if (idle_since == 0)
            idle_since = nnl_now();
        else if (nnl_now() - idle_since > NNL_YIELD_NS)
            sched_yield();                         /* a long wait: let a thread on this core run */
        NNL_PAUSE();
    }
}

static struct {
    pthread_mutex_t mu;            /* guards the fields below */
    pthread_cond_t work;           /* helpers wait here for a new generation */
    pthread_cond_t left;           /* the caller waits here for helpers to leave a job */
    pthread_mutex_t busy;          /* held by the caller of a job */
    int helpers;                   /* helper threads started */
    int want;                      /* helpers asked to join this job */
    _Atomic int inside;            /* helpers inside the job now (changed under mu) */
    int caller_sleeps;
    nnl_job *job;                  /* the open job, or NULL */
    _Atomic uint32_t gen;          /* generation: one per job */
} nnl_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
              PTHREAD_COND_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};

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
        nnl_job *job = nnl_pool.job;
        int join = job != NULL && tid <= nnl_pool.want;
        if (join)
            nnl_pool.inside++;
        pthread_mutex_unlock(&nnl_pool.mu);
        if (join) {
            nnl_job_work(job, tid);
            pthread_mutex_lock(&nnl_pool.mu);
            if (--nnl_pool.inside == 0 && nnl_pool.caller_sleeps)
                pthread_cond_signal(&nnl_pool.left);
            pthread_mutex_unlock(&nnl_pool.mu);
        }
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
    nnl_pool.left = c2;
    nnl_pool.helpers = 0;
    nnl_pool.inside = 0;
    nnl_pool.caller_sleeps = 0;
    nnl_pool.job = NULL;
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

/* Returns the number of steps finished (the last one may be the one whose
 * finish() stopped the job). */
static Py_ssize_t nnl_run_steps(nnl_block_fn fn, nnl_reduce_fn reduce, nnl_finish_fn finish,
                                void *ctx, Py_ssize_t nblocks, Py_ssize_t nsteps, int nthreads,
                                int redo)
{
    Py_ssize_t b;
    nnl_job job;
    job.fn = fn;
    job.reduce = reduce;
    job.finish = finish;
    job.ctx = ctx;
    job.nblocks = nblocks;
    job.nsteps = nsteps;
    job.redo = redo;
    job.nthreads = nthreads < 1 ? 1 : nthreads > NNL_POOL_MAX + 1 ? NNL_POOL_MAX + 1 : nthreads;
    for (b = 0; b <= NNL_POOL_MAX; b++)
        atomic_init(&job.cpu[b], -1);
    atomic_init(&job.next, 0);
    atomic_init(&job.finished, 0);
    atomic_init(&job.reduced, 0);
    atomic_init(&job.reducing, 0);
    atomic_init(&job.stop, 0);
    atomic_init(&job.fastest, INT64_MAX / 4);
    for (b = 0; b < nblocks && b < NNL_MAX_BLOCKS; b++) {
        atomic_init(&job.won[b], 0);
        atomic_init(&job.redone[b], 0);
        atomic_init(&job.started[b], 0);
    }
    if (nsteps < 1 || nblocks < 1 || nblocks > NNL_MAX_BLOCKS)
        return 0;
    if (nthreads <= 1 || pthread_mutex_trylock(&nnl_pool.busy) != 0) {
        job.redo = 0;                              /* alone (or another job runs) */
        nnl_job_work(&job, 0);
        return (Py_ssize_t)atomic_load(&job.finished);
    }
    pthread_mutex_lock(&nnl_pool.mu);
    nnl_pool.want = nnl_pool_grow(nthreads - 1) < nthreads - 1 ? nnl_pool.helpers : nthreads - 1;
    nnl_pool.job = &job;
    atomic_store(&nnl_pool.gen, atomic_load(&nnl_pool.gen) + 1);
    pthread_cond_broadcast(&nnl_pool.work);
    pthread_mutex_unlock(&nnl_pool.mu);

    nnl_job_work(&job, 0);

    pthread_mutex_lock(&nnl_pool.mu);              /* close the job: no helper joins now */
    nnl_pool.job = NULL;
    pthread_mutex_unlock(&nnl_pool.mu);
    for (b = 0; b < NNL_SPIN && atomic_load(&nnl_pool.inside) > 0; b++)
        NNL_PAUSE();                               /* wait for helpers to leave: spin, then sleep */
    pthread_mutex_lock(&nnl_pool.mu);
    nnl_pool.caller_sleeps = 1;
    while (atomic_load(&nnl_pool.inside) > 0)
        pthread_cond_wait(&nnl_pool.left, &nnl_pool.mu);
    nnl_pool.caller_sleeps = 0;
    pthread_mutex_unlock(&nnl_pool.mu);
    pthread_mutex_unlock(&nnl_pool.busy);
    return (Py_ssize_t)atomic_load(&job.finished);
}

#else   /* no POSIX threads pool: the steps run serially on the caller */

static void nnl_pool_counters(long *out)
{
    out[0] = out[1] = out[2] = 0;
}

struct nnl_job {
    int unused;
};

static inline int nnl_lost(const nnl_job *job, Py_ssize_t step, Py_ssize_t block)
{
    (void)job;
    (void)step;
    (void)block;
    return 0;
}

static Py_ssize_t nnl_run_steps(nnl_block_fn fn, nnl_reduce_fn reduce, nnl_finish_fn finish,
                                void *ctx, Py_ssize_t nblocks, Py_ssize_t nsteps, int nthreads,
                                int redo)
{
    Py_ssize_t s, b;
    (void)nthreads;
    (void)redo;
    for (s = 0; s < nsteps; s++) {
        for (b = 0; b < nblocks; b++) {
            fn(ctx, NULL, s, b, 0);
            if (reduce != NULL)
                reduce(ctx, s, b, 0);
        }
        if (finish != NULL && finish(ctx, s))
            return s + 1;
    }
    return nsteps;
}

#endif
#endif /* NNETLIB_BLOCK_POOL_H */
