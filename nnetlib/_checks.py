"""Input validation shared by every public entry point: the one home of the checks.

Each check raises ``ValueError`` naming the offending argument and leaves the
caller's state untouched: checks run before anything is written.
"""

import numbers
import warnings

import numpy as np

DTYPES = ("float32", "float64")


def _int_at_least(value, low):
    """True for an int (bools excluded) >= ``low``."""
    return (
        not isinstance(value, (bool, np.bool_))
        and isinstance(value, numbers.Integral)
        and value >= low
    )


def check_layers(layers):
    """Return ``layers`` as a tuple of >= 2 positive ints, or raise."""
    try:
        items = list(layers)
    except TypeError:
        raise ValueError(f"layers must be a sequence of positive ints, got {layers!r}") from None
    if len(items) < 2:
        raise ValueError(f"layers must list at least 2 layer widths, got {items!r}")
    out = []
    for n in items:
        if not _int_at_least(n, 1):
            raise ValueError(f"layers must be positive ints, got {items!r}")
        out.append(int(n))
    return tuple(out)


def check_dtype(dtype):
    """Return the numpy dtype for "float32"/"float64", or raise."""
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    return dt


def check_params(params, n_params, dtype):
    """Flat parameter vector of exactly ``n_params`` finite values."""
    arr = np.asarray(params)
    if arr.ndim != 1 or arr.size != n_params:
        raise ValueError(
            f"params must be a flat vector of length {n_params} for these layers, "
            f"got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"params must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(dtype)
    if not np.all(np.isfinite(arr)):
        raise ValueError("params contains NaN or inf")
    return arr


def check_batch_shape(shape, name, width):
    """A shape ``(B, width)`` with B >= 1 (of an array or a tensor)."""
    shape = tuple(shape)
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (batch, {width}), got shape {shape}")
    if shape[0] < 1 or shape[1] != width:
        raise ValueError(f"{name} must have shape (batch >= 1, {width}), got {shape}")


def check_array(value, name, width, dtype, finite=True):
    """A finite 2-D ``(B, width)`` array with B >= 1, cast to ``dtype``
    (``finite=False`` leaves the scan for NaN and inf to the caller)."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    check_batch_shape(arr.shape, name, width)
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


#: inputs whose largest value exceeds this are taken for unscaled images
UNSCALED_ABOVE = 10.0


#: rows that ``warn_if_unscaled(..., sample=True)`` looks at, spread over the array
UNSCALED_SAMPLE_ROWS = 512


def warn_if_unscaled(x, name, sample=False):
    """Warn when ``x`` looks like raw images: an integer dtype, or floats
    well above 1 (max > ``UNSCALED_ABOVE``).  The article's nets expect
    inputs in [0, 1] (``load_mnist`` scales them).  ``sample=True`` looks
    at about ``UNSCALED_SAMPLE_ROWS`` rows spread evenly over a 2-D ``x``
    (raw images are above 1 in nearly every row), not at all of it."""
    arr = np.asarray(x)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or arr.size == 0:
        return
    if sample and arr.ndim == 2:
        arr = arr[:: max(1, arr.shape[0] // UNSCALED_SAMPLE_ROWS)]
    integer = np.issubdtype(arr.dtype, np.integer)
    top = np.nanmax(arr) if np.issubdtype(arr.dtype, np.floating) else None
    # inf is refused as bad input by the checks that follow: no advice on scaling it
    if integer or (top is not None and UNSCALED_ABOVE < top < np.inf):
        what = f"integers ({arr.dtype})" if integer else f"values up to {float(top):g}"
        warnings.warn(
            f"{name} holds {what}: scale the inputs to [0, 1] (for 0-255 images, "
            f"x / 255, as nnetlib.load_mnist does); the article's nets expect that",
            UserWarning,
            stacklevel=3,
        )


def check_targets(t, width):
    """Refuse 1-D targets, naming ``nnetlib.one_hot``."""
    if np.ndim(t) == 1:
        raise ValueError(
            f"t must be 2-D targets (batch, {width}), got 1-D values (class labels?): "
            f"make one-hot targets with nnetlib.one_hot(labels, {width})"
        )


def check_batch(x, t, layers, dtype):
    """Validate an input batch ``x`` and its targets ``t`` together."""
    check_targets(t, layers[-1])
    if np.issubdtype(getattr(x, "dtype", np.float64), np.integer):
        warn_if_unscaled(x, "x")
    x = check_array(x, "x", layers[0], dtype)
    t = check_array(t, "t", layers[-1], dtype)
    return check_same_samples(x, t)


def check_same_samples(x, t):
    """``(x, t)`` when they hold as many samples (rows) as each other."""
    if t.shape[0] != x.shape[0]:
        raise ValueError(
            f"x and t must hold the same number of samples, got {x.shape[0]} and {t.shape[0]}"
        )
    return x, t


def check_count(value, name):
    """``int(value)`` for an integer >= 0, such as a number of epochs (bools refused)."""
    if not _int_at_least(value, 0):
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return int(value)


def check_positive_int(value, name, none_ok=False):
    """``int(value)`` for an integer >= 1 (bools refused); None too if ``none_ok``."""
    if none_ok and value is None:
        return None
    if not _int_at_least(value, 1):
        what = "None or a positive int" if none_ok else "a positive int"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def check_seed(value, name, fallback=None):
    """A seed, an int >= 0; None takes ``fallback``, or fresh entropy if that is None too."""
    if value is None:
        value = fallback if fallback is not None else int(np.random.SeedSequence().entropy)
    if not _int_at_least(value, 0):
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return int(value)


def check_choice(value, name, choices):
    """``value`` when it is one of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_dropout(p):
    """A dropout probability in [0, 1)."""
    if (
        isinstance(p, bool)
        or not isinstance(p, numbers.Real)
        or not np.isfinite(p)
        or not 0 <= p < 1
    ):
        raise ValueError(f"dropout must be a number in [0, 1), got {p!r}")
    return float(p)


def check_betas(betas):
    """A pair (b1, b2) of numbers in [0, 1)."""
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}") from None
    for b in (b1, b2):
        if isinstance(b, bool) or not isinstance(b, numbers.Real) or not 0 <= b < 1:
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
    return float(b1), float(b2)


def check_positive(value, name, allow_zero=False):
    """A finite real number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)
