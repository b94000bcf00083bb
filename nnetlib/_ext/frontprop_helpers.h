/* C helpers of the frontprop kernel (_frontprop.pyx): OpenMP queries, the
 * branch-free sigmoid, its row-block loop, the finiteness scans and the
 * gather of shuffled rows.
 *
 * Included by _frontprop.pyx as `cdef extern from "frontprop_helpers.h"`, so
 * a build needs this folder on the include path: setup.py adds it, and
 * IPython's %%cython takes it as `-I nnetlib/_ext` (notebook 03).        */
#ifndef NNETLIB_FRONTPROP_HELPERS_H
#define NNETLIB_FRONTPROP_HELPERS_H

#include <Python.h>   /* Py_ssize_t */
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
static int nnl_openmp_enabled(void) { return 1; }
static int nnl_max_threads(void) { return omp_get_max_threads(); }
#else
static int nnl_openmp_enabled(void) { return 0; }
static int nnl_max_threads(void) { return 1; }
#endif

#include "block_pool.h"       /* nnl_run_steps: the row blocks of the steps on a thread pool */

/* sigmoid(h), numerically stable and branch-free:
 *   z = exp(-|h|) in [0, 1],  a = (h >= 0 ? 1 : z) / (1 + z).
 * exp(x), -87 <= x <= 0 (float; -708 for double): x = n ln2 + r with
 * |r| <= ln2/2, n found by the round-to-nearest "magic number" addition
 * (its low mantissa bits are n: no float->int conversion), exp(r) by a
 * Taylor polynomial (error far below 1 ulp), 2^n built from its bits.
 * Beyond the clamp exp(-|h|) is below the smallest normal number and is
 * flushed to 0.  Every select is a bit mask on the integer patterns,
 * with no comparison at all: gcc then cannot split the loop body into
 * paths (float compares and ?: stay branches under the default
 * -ftrapping-math) and vectorises it.  NaN in, NaN out.                */
#define NNL_MASK32(d) (-(int32_t)((uint32_t)(d) >> 31))  /* d < 0 ? ~0 : 0 */
#define NNL_MASK64(d) (-(int64_t)((uint64_t)(d) >> 63))
static inline float nnl_sigmoid_f(float h)
{
    const float magic = 12582912.0f;               /* 1.5 * 2^23 */
    const int32_t clamp = 0x42AE0000;              /* bits of 87.0f */
    int32_t hb, mag, small, neg, nan, kb, sb, zb, nb, ab;
    float ax, kf, nf, r, p, s, z, num, a;
    memcpy(&hb, &h, sizeof hb);
    mag = hb & 0x7FFFFFFF;                         /* bits of |h| */
    small = NNL_MASK32(mag - clamp);               /* |h| < 87 */
    neg = NNL_MASK32(hb);                          /* sign bit of h */
    nan = NNL_MASK32(0x7F800000 - mag);            /* h is NaN */
    mag = (mag & small) | (clamp & ~small);        /* min(|h|, 87) */
    memcpy(&ax, &mag, sizeof ax);
    kf = -ax * 1.44269504088896341f + magic;       /* n + magic */
    nf = kf - magic;
    r = -ax - nf * 0.693359375f;                   /* ln2, high part */
    r = r - nf * -2.12194440e-4f;                  /* ln2, low part */
    p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    memcpy(&kb, &kf, sizeof kb);
    sb = (int32_t)((uint32_t)(kb - 0x4B400000 + 127) << 23);   /* 2^n */
    memcpy(&s, &sb, sizeof s);
    z = p * s;
    memcpy(&zb, &z, sizeof zb);
    zb &= small;                                   /* flush to +0 */
    nb = (zb & neg) | (0x3F800000 & ~neg);         /* h >= 0 ? 1 : z */
    memcpy(&z, &zb, sizeof z);
    memcpy(&num, &nb, sizeof num);
    a = num / (1.0f + z);
    memcpy(&ab, &a, sizeof ab);
    ab = (hb & nan) | (ab & ~nan);                 /* NaN */
    memcpy(&a, &ab, sizeof a);
    return a;
}

static inline double nnl_sigmoid_d(double h)
{
    const double magic = 6755399441055744.0;       /* 1.5 * 2^52 */
    const int64_t clamp = 0x4086200000000000LL;    /* bits of 708.0 */
    int64_t hb, mag, small, neg, nan, kb, sb, zb, nb, ab;
    double ax, kf, nf, r, p, s, z, num, a;
    memcpy(&hb, &h, sizeof hb);
    mag = hb & 0x7FFFFFFFFFFFFFFFLL;
    small = NNL_MASK64(mag - clamp);
    neg = NNL_MASK64(hb);
    nan = NNL_MASK64(0x7FF0000000000000LL - mag);
    mag = (mag & small) | (clamp & ~small);        /* min(|h|, 708) */
    memcpy(&ax, &mag, sizeof ax);
    kf = -ax * 1.4426950408889634074 + magic;
    nf = kf - magic;
    r = -ax - nf * 6.93147180369123816490e-01;
    r = r - nf * 1.90821492927058770002e-10;
    p = 1.0 / 6227020800.0;                        /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    memcpy(&kb, &kf, sizeof kb);
    sb = (int64_t)((uint64_t)(kb - 0x4338000000000000LL + 1023) << 52);
    memcpy(&s, &sb, sizeof s);
    z = p * s;
    memcpy(&zb, &z, sizeof zb);
    zb &= small;
    nb = (zb & neg) | (0x3FF0000000000000LL & ~neg);
    memcpy(&z, &zb, sizeof z);
    memcpy(&num, &nb, sizeof num);
    a = num / (1.0 + z);
    memcpy(&ab, &a, sizeof ab);
    ab = (hb & nan) | (ab & ~nan);
    memcpy(&a, &ab, sizeof a);
    return a;
}

/* The sigmoid loops are the elementwise work big enough to matter (B n_L
 * exponentials per step), plus the finiteness scans.  Baseline x86-64
 * code has 128-bit SSE2 only, so with GCC on glibc they are also compiled
 * for x86-64-v3 (AVX2+FMA) and x86-64-v4 (AVX-512), and the best clone is
 * picked once at load time (ifunc): a portable binary (no -march), 3-6x
 * faster where the CPU allows.  FMA contraction makes the clones differ
 * in the last bit, never between runs on one machine.  Define
 * NNL_NO_CLONES to turn this off.                                       */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 \
    && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) \
    && !defined(NNL_NO_CLONES)
#define NNL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NNL_CLONES
#endif

/* h[i, j] <- sigmoid(h[i, j] + bias[j]) on a (rows, cols) row-major block */
NNL_CLONES static void nnl_bias_sigmoid_f(float *h, const float *bias,
                               Py_ssize_t rows, Py_ssize_t cols)
{
    for (Py_ssize_t i = 0; i < rows; i++) {
        float *restrict hi = h + i * cols;
        for (Py_ssize_t j = 0; j < cols; j++)
            hi[j] = nnl_sigmoid_f(hi[j] + bias[j]);
    }
}

/* 1 when no entry is inf or NaN: exponent bits all ones means non-finite;
 * an integer OR-reduction, which vectorises.                            */
NNL_CLONES static int nnl_all_finite_f(const float *a, Py_ssize_t n)
{
    int32_t bad = 0, b;
    for (Py_ssize_t i = 0; i < n; i++) {
        memcpy(&b, a + i, sizeof b);
        bad |= (b & 0x7F800000) == 0x7F800000;
    }
    return !bad;
}

NNL_CLONES static int nnl_all_finite_d(const double *a, Py_ssize_t n)
{
    int64_t bad = 0, b;
    for (Py_ssize_t i = 0; i < n; i++) {
        memcpy(&b, a + i, sizeof b);
        bad |= (b & 0x7FF0000000000000LL) == 0x7FF0000000000000LL;
    }
    return !bad;
}

NNL_CLONES static void nnl_bias_sigmoid_d(double *h, const double *bias,
                               Py_ssize_t rows, Py_ssize_t cols)
{
    for (Py_ssize_t i = 0; i < rows; i++) {
        double *restrict hi = h + i * cols;
        for (Py_ssize_t j = 0; j < cols; j++)
            hi[j] = nnl_sigmoid_d(hi[j] + bias[j]);
    }
}

/* dst[r] = src[order[r]] for r < rows, rows of row_bytes bytes (the rows of
 * a shuffled block).  One memcpy per row waits on memory at the start of
 * every row, which lies anywhere in the data set; here NNL_GATHER rows are
 * copied side by side, a 64-byte line of each in turn, while the lines of
 * the next NNL_GATHER rows are prefetched: several rows are in flight at
 * once.  Measured on 2 cores (MNIST rows, 3136 bytes): 15 ms per epoch of
 * 60,000 rows against 21 ms for a memcpy per row.  The copy is exact, so
 * the gathered block is bit for bit the same either way.              */
#define NNL_GATHER 8
#define NNL_LINE 64
#if defined(__GNUC__) || defined(__clang__)
#define NNL_PREFETCH(p) __builtin_prefetch((p), 0, 0)
#else
#define NNL_PREFETCH(p) ((void)0)
#endif
static void nnl_gather_rows(char *dst, const char *src, const Py_ssize_t *order,
                            Py_ssize_t rows, Py_ssize_t row_bytes)
{
    Py_ssize_t r, k, c, m, lines = row_bytes / NNL_LINE, rest = row_bytes % NNL_LINE;
    for (r = 0; r < rows; r += NNL_GATHER) {
        m = rows - r < NNL_GATHER ? rows - r : NNL_GATHER;
        Py_ssize_t ahead = rows - r - m < NNL_GATHER ? rows - r - m : NNL_GATHER;
        for (c = 0; c < lines * NNL_LINE; c += NNL_LINE) {
            for (k = 0; k < m; k++)
                memcpy(dst + (r + k) * row_bytes + c, src + order[r + k] * row_bytes + c, NNL_LINE);
            for (k = 0; k < ahead; k++)
                NNL_PREFETCH(src + order[r + m + k] * row_bytes + c);
        }
        if (rest)
            for (k = 0; k < m; k++)
                memcpy(dst + (r + k) * row_bytes + c, src + order[r + k] * row_bytes + c, rest);
    }
}

#endif /* NNETLIB_FRONTPROP_HELPERS_H */
