"""Frontpropagation: eq. (1) and eq. (2) of 01-derivation, stated once here,
and the forward sweep of Jacobians that NpNet, FrontNet and GpuNet compute
(CyNet's kernel, ``_frontprop.pyx``, computes it in C).

Notation as in ``nnetlib.nets.base``: h^l_q = sum_i a^{l-1}_i w^{l-1}_iq, the
sum including the bias neuron a^{l-1}_{n_{l-1}} = 1; a^l_q = g(h^l_q); O = a^L.

Eq. (1), the gradient of E = 1/(B n_L) sum_b sum_q (O_bq - t_bq)^2:

    grad E^k_ij = 2/(B n_L) sum_b sum_q (O_bq - t_bq) da^L_q/dw^k_ij.

Eq. (2), the derivative of an activation by a weight:

    da^l_q/dw^k_ij = g'(h^l_q) * ( a^k_i                               if k = l - 1 and j = q
                                 ( sum_r w^{l-1}_rq da^{l-1}_r/dw^k_ij  if k < l - 1
                                 ( 0                                   otherwise,

"otherwise" being l = 0, q = n_l (the bias neuron, fixed at 1), k >= l, or
k = l - 1 with j != q; r runs over 0 .. n_{l-1} - 1 (the bias neuron's
derivative is 0).  For the sigmoid g'(h^l_q) = a^l_q (1 - a^l_q)
(``nnetlib.activations``).  For a fixed weight the recursion runs forward in
l, from k + 1 to L: hence frontpropagation.  PyNet evaluates it as written,
NpNet's ``DADW`` on whole (B, n_k + 1, n_{k+1}) arrays.

The fast arrangement.  For k < l the factor a^k_i comes out,
da^l_q/dw^k_ij = a^k_i J^{l,k}_qj, with J^{l,k} = da^l/dh^{k+1}, and eq. (2)
becomes a recursion on matrices:

    J^{k+1,k} = diag(s^{k+1})
    J^{l,k}   = diag(s^l) W^{l-1}^T J^{l-1,k}            (l > k + 1),

s^l = g'(h^l) being the slope of layer l (times the dropout mask, if any) and
W^{l-1} without its bias row.  Eq. (1) then reads
grad E^k = sum_b a~^k_b (delta^k_b)^T, with a~ the activations plus the bias
neuron and delta^k = dE/dh^L W^{L-1}^T J^{L-1,k}.

Everything here is written with operators only, so NumPy arrays and torch
tensors both work.  ``JACOBIAN_BUDGET`` bounds the Jacobian entries held at
once; a caller that wants another bound passes ``budget=`` explicitly
(GpuNet, whose device memory is larger, passes four times as much).
"""

from .activations import sigmoid_slope

#: largest number of Jacobian entries held at once (per chunk of samples)
JACOBIAN_BUDGET = 1 << 22


def sigmoid_slopes(acts):
    """[None, g'(h^1), ..., g'(h^L)] of sigmoid layers, from their activations."""
    return [None] + [sigmoid_slope(a) for a in acts[1:]]


def forward_jacobian(slopes, weights, k, stop, transposed=None):
    """J^{stop,k} = da^stop/dh^{k+1} for every sample, eq. (2) swept forward in l.

    ``slopes[l]`` is s^l = g'(h^l) (B, n_l), masks included where dropout
    applies; ``weights[l]`` is W^l, (n_l + 1, n_{l+1}); ``transposed[l]``, if
    given, is W^l without its bias row, transposed (a view made once).
    Returns the diagonal as a ``(B, n_{k+1})`` vector when stop == k + 1, else
    ``(B, n_stop, n_{k+1})``.
    """
    J = slopes[k + 1]
    for l in range(k + 2, stop + 1):
        wt = weights[l - 1][:-1].T if transposed is None else transposed[l - 1]  # (n_l, n_{l-1})
        if J.ndim == 2:  # diag(s) W^T diag(s)
            J = slopes[l][:, :, None] * wt * J[:, None, :]
        else:
            J = slopes[l][:, :, None] * (wt @ J)
    return J


def frontprop_deltas(slopes, weights, d_out):
    """delta^k = dE/dh^L W^{L-1}^T J^{L-1,k}, k = 0 .. L-1, each (B, n_{k+1}).

    ``d_out`` is dE/dh^L up to a constant (e diag(g'(h^L)) for the squared
    error of eq. (1)).  The last step of the recursion is contracted with it
    at once, u = d_out W^{L-1}[:-1]^T, so no (B, n_L, n_{k+1}) array is formed.
    """
    L = len(weights)
    deltas = [None] * L
    deltas[L - 1] = d_out
    if L == 1:
        return deltas
    u = d_out @ weights[L - 1][:-1].T  # (B, n_{L-1})
    for k in range(L - 1):
        J = forward_jacobian(slopes, weights, k, L - 1)
        deltas[k] = u * J if J.ndim == 2 else (u[:, None, :] @ J)[:, 0, :]
    return deltas


def jacobian_chunk(layers, budget=JACOBIAN_BUDGET):
    """Samples per chunk so that no hidden Jacobian exceeds ``budget`` entries."""
    L = len(layers) - 1
    widest = max((layers[l] * layers[k + 1] for k in range(L) for l in range(k + 1, L)), default=1)
    return max(1, budget // widest)


def chunked_deltas(slopes, weights, d_out, layers, empty, budget=JACOBIAN_BUDGET):
    """``frontprop_deltas`` over chunks of samples, so that no chunk holds
    more than ``budget`` Jacobian entries.

    ``empty(shape)`` allocates an uninitialised array (or tensor) in the
    dtype of ``d_out``; it is called only when the batch needs more than one
    chunk.  Every sample's sweep is independent, so the chunk size changes
    the result only by BLAS rounding (a different budget is a different
    order of operations, which is why each caller's budget is kept).
    """
    B = d_out.shape[0]
    chunk = jacobian_chunk(layers, budget)
    if B <= chunk:
        return frontprop_deltas(slopes, weights, d_out)
    out = [empty((B, n)) for n in layers[1:]]
    for start in range(0, B, chunk):
        part = slice(start, start + chunk)
        sl = [None] + [s[part] for s in slopes[1:]]
        for k, d in enumerate(frontprop_deltas(sl, weights, d_out[part])):
            out[k][part] = d
    return out


def mse_gradients(acts, t, weights, layers, grads, empty, budget=JACOBIAN_BUDGET, cast=float):
    """Eq. (1) for the article's loss E = mean over the batch and outputs of
    (a^L - t)^2 with sigmoid units: grad W^k written into ``grads[k]``.

    ``acts`` is the forward sweep [a^0, ..., a^L] (NumPy arrays or torch
    tensors), ``empty`` and ``budget`` as in ``chunked_deltas``, ``cast``
    the scalar type of the factor 2/(B n_L).  Returns the output error
    e = a^L - t, from which the caller takes the loss.
    """
    e = acts[-1] - t
    slopes = sigmoid_slopes(acts)
    deltas = chunked_deltas(slopes, weights, e * slopes[-1], layers, empty, budget)
    assemble_gradients(acts, deltas, grads, cast(2 / (e.shape[0] * e.shape[1])))
    return e


def assemble_gradients(acts, deltas, grads, scale=None):
    """Eq. (1): grad W^k = [a^k, 1]^T (scale delta^k), written into ``grads[k]``.

    ``grads[k]`` has the shape of W^k, (n_k + 1, n_{k+1}); its last row (the
    bias neuron, a^k_{n_k} = 1) is the sum of the deltas over the batch.
    """
    for k, g in enumerate(grads):
        d = deltas[k] if scale is None else deltas[k] * scale
        g[:-1] = acts[k].T @ d
        g[-1] = d.sum(0)
    return grads
