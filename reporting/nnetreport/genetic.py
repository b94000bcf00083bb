"""A genetic algorithm that trains a network without gradients (07-genetic-algorithm).

Individuals are flat parameter vectors in nnetlib's layout (``weights[k]`` of
shape ``(n_k + 1, n_{k+1})``, biases in the last row, sigmoid units), so the
best one drops straight into ``NpNet(layers, params=result.best_params)``.

One generation:

1. **fitness** of every individual on the training subset (or on a fresh
   minibatch of it): classification accuracy, or minus the MSE loss of the
   report (E = mean (O - t)^2 with one-hot t).  The whole population is
   evaluated at once with batched matrix products, ``(P, n, n_k)`` arrays;
2. **elitism**: the ``elite`` best individuals pass on unchanged;
3. **selection** of two parents per child, among the best ``parent_pool``
   fraction of the population (all of it by default): tournaments of
   ``tournament_size`` random individuals (the fittest wins), truncation
   (uniformly among the best ``truncation`` fraction), or roulette (chance
   proportional to the fitness, shifted so that the least fit has 0);
4. **crossover** with probability ``crossover_rate``: uniform (each gene from
   either parent) or one-point (a prefix from one parent, the rest from the
   other); otherwise the child copies its first parent;
5. **Gaussian mutation**: N(0, ``mutation_sigma``^2) noise is added to
   Binomial(children x genes, ``mutation_rate``) genes drawn at random (with
   replacement, so each gene mutates with probability ~``mutation_rate``);
6. **replacement**: ``"generational"`` keeps the elite and the children;
   ``"plus"`` scores ``offspring`` children on the same data as their
   parents and keeps the fittest ``population`` of parents and children.

The settings are a ``GAConfig``, whose defaults are de Mayo (2021)'s setting
(07-genetic-algorithm; ``ARTICLE_SETTING``): population 8, roulette selection
among the best half, crossover 0.7, mutation 5/1000, ``"plus"`` replacement
with 8 children (the best half breeds twice), accuracy on batches of 10 as
the fitness.  ``run_ga(layers, x, labels, config, seed=...)`` runs one.

All randomness comes from one ``numpy.random.Generator`` seeded by ``seed``,
so a run with a fixed number of generations is reproducible bit for bit; a
``time_limit_s`` stops the run before a generation that would overrun it.
"""

import contextlib
import dataclasses
import time

import numpy as np

from nnetlib._checks import check_array, check_layers, check_positive
from nnetlib._progress import progress_bar
from nnetlib.nets.base import layer_shapes

FITNESS = ("accuracy", "neg_loss")
SELECTION = ("tournament", "truncation", "roulette")
CROSSOVER = ("uniform", "one_point")
REPLACEMENT = ("generational", "plus")


@dataclasses.dataclass
class GAResult:
    """Outcome of ``run_ga``; the history lists hold one entry per generation."""

    layers: tuple
    best_params: np.ndarray
    best_fitness: float
    generations: int
    stopped_by: str  # "generations" or "time_limit"
    seconds: float
    best: list = dataclasses.field(default_factory=list)  # best fitness
    mean: list = dataclasses.field(default_factory=list)  # mean fitness
    best_accuracy: list = dataclasses.field(default_factory=list)  # of the fittest
    best_loss: list = dataclasses.field(default_factory=list)  # of the fittest
    elapsed: list = dataclasses.field(default_factory=list)  # seconds so far
    config: "GAConfig" = None  # the settings run, offspring and batch size resolved
    seed: object = None
    #: {generation: parameters of that generation's fittest}, for each of ``checkpoints``
    checkpoints: dict = dataclasses.field(default_factory=dict)

    def network(self, cls=None, dtype="float32"):
        """The best individual as a network (``NpNet`` by default)."""
        if cls is None:
            from nnetlib.nets.npnet import NpNet as cls
        return cls(self.layers, params=self.best_params, dtype=dtype)

    def network_at(self, generation, cls=None, dtype="float32"):
        """The fittest individual of checkpoint ``generation`` as a network: the
        same one a run stopped after ``generation`` generations returns."""
        if generation not in self.checkpoints:
            raise KeyError(
                f"no checkpoint at generation {generation!r}; have {sorted(self.checkpoints)}"
            )
        if cls is None:
            from nnetlib.nets.npnet import NpNet as cls
        return cls(self.layers, params=self.checkpoints[generation], dtype=dtype)

    def __repr__(self):
        return (
            f"GAResult({self.generations} generations in {self.seconds:.1f} s, "
            f"stopped by {self.stopped_by}, best fitness {self.best_fitness:.4f})"
        )


def _slices(layers):
    out, start = [], 0
    for shape in layer_shapes(layers):
        size = shape[0] * shape[1]
        out.append((slice(start, start + size), shape))
        start += size
    return out


def population_forward(pop, x, layers):
    """Outputs of every individual on ``x``: ``(P, n, n_L)`` from ``pop`` (P, D)."""
    P = pop.shape[0]
    a = x
    with np.errstate(over="ignore"):
        return _forward_layers(pop, a, layers, P)


def _forward_layers(pop, a, layers, P):
    for sl, (rows, cols) in _slices(layers):
        w = pop[:, sl].reshape(P, rows, cols)
        if a.ndim == 2:
            # the input is shared: one GEMM (n, n_0) @ (n_0, P n_1), then (P, n, n_1)
            stacked = np.ascontiguousarray(w[:, :-1].transpose(1, 0, 2)).reshape(rows - 1, P * cols)
            h = (a @ stacked).reshape(a.shape[0], P, cols).transpose(1, 0, 2)
        else:
            h = np.matmul(a, w[:, :-1])  # (P, n, n_k) @ (P, n_k, n_{k+1})
        h += w[:, -1][:, None, :]
        np.negative(h, out=h)
        np.exp(h, out=h)
        h += 1
        np.reciprocal(h, out=h)  # sigmoid; exp overflow gives 1/inf = 0
        a = h
    return a


def evaluate_population(pop, x, labels, layers, targets=None):
    """(accuracy, loss) per individual, each of shape (P,)."""
    out = population_forward(pop, x, layers)
    acc = np.mean(np.argmax(out, axis=2) == labels[None, :], axis=1)
    if targets is None:
        targets = np.zeros((labels.shape[0], layers[-1]), dtype=pop.dtype)
        targets[np.arange(labels.shape[0]), labels] = 1
    out -= targets[None]
    loss = np.mean(np.square(out).reshape(pop.shape[0], -1), axis=1, dtype=np.float64)
    return acc, loss


def _init_population(rng, layers, population, dtype):
    """Every individual drawn like ``init_params(init="torch")``."""
    parts = []
    for rows, cols in layer_shapes(layers):
        bound = 1 / np.sqrt(rows - 1)
        parts.append(rng.uniform(-bound, bound, size=(population, rows * cols)))
    return np.concatenate(parts, axis=1).astype(dtype)


def _select(rng, fitness, n, selection, tournament_size, truncation, parent_pool=1.0):
    """Indices of ``n`` parents, drawn among the best ``parent_pool`` fraction."""
    pool = np.argsort(-fitness, kind="stable")[: max(1, int(round(parent_pool * fitness.shape[0])))]
    return pool[_select_in(rng, fitness[pool], n, selection, tournament_size, truncation)]


def _select_in(rng, fitness, n, selection, tournament_size, truncation):
    P = fitness.shape[0]
    if selection == "roulette":
        weight = fitness - fitness.min()
        total = weight.sum()
        p = weight / total if total > 0 else None  # all equal: uniform
        return rng.choice(P, size=n, p=p)
    if selection == "tournament":
        entrants = rng.integers(0, P, size=(n, tournament_size))
        winners = np.argmax(fitness[entrants], axis=1)
        return entrants[np.arange(n), winners]
    order = np.argsort(-fitness, kind="stable")
    top = order[: max(1, int(round(truncation * P)))]
    return top[rng.integers(0, top.size, size=n)]


def _check_int(value, name, lo):
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or value < lo
    ):
        raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    return int(value)


def _check_fraction(value, name):
    value = check_positive(value, name, allow_zero=True)
    if value > 1:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return value


def _check_data(layers, x, labels, dtype):
    layers = check_layers(layers)
    if len(layers) < 2 or layers[-1] < 2:
        raise ValueError(
            f"the output layer must have at least 2 classes, got layers {list(layers)}"
        )
    x = check_array(x, "x", layers[0], dtype)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != x.shape[0]:
        raise ValueError(
            f"labels must be 1-D with one label per row of x ({x.shape[0]}), got shape {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= layers[-1]:
        raise ValueError(
            f"labels must lie in [0, {layers[-1]}), got [{labels.min()}, {labels.max()}]"
        )
    return layers, x, labels.astype(np.int64)


def _default_offspring(c):
    """Children per generation when ``offspring`` is None."""
    return c["population"] - c["elite"] if c["replacement"] == "generational" else c["population"]


def _check_config(c):
    """The fields of a ``GAConfig`` (a dict, changed in place), checked and normalised."""
    c["generations"] = _check_int(c["generations"], "generations", 1)
    if c["dtype"] not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {c['dtype']!r}")
    c["population"] = _check_int(c["population"], "population", 2)
    c["elite"] = _check_int(c["elite"], "elite", 0)
    if c["elite"] >= c["population"]:
        raise ValueError(
            f"elite ({c['elite']}) must be smaller than population ({c['population']})"
        )
    c["tournament_size"] = _check_int(c["tournament_size"], "tournament_size", 1)
    if c["time_limit_s"] is not None:
        c["time_limit_s"] = check_positive(c["time_limit_s"], "time_limit_s")
    if c["batch_size"] is not None:
        c["batch_size"] = _check_int(c["batch_size"], "batch_size", 1)
    for key, allowed in (
        ("fitness", FITNESS),
        ("selection", SELECTION),
        ("crossover", CROSSOVER),
        ("replacement", REPLACEMENT),
    ):
        if c[key] not in allowed:
            raise ValueError(f"{key} must be one of {allowed}, got {c[key]!r}")
    for key in ("truncation", "parent_pool", "crossover_rate", "mutation_rate"):
        c[key] = _check_fraction(c[key], key)
    for key in ("truncation", "parent_pool"):
        if c[key] == 0:
            raise ValueError(f"{key} must be > 0")
    c["mutation_sigma"] = check_positive(c["mutation_sigma"], "mutation_sigma", allow_zero=True)
    offspring = _check_int(
        c["offspring"] if c["offspring"] is not None else _default_offspring(c), "offspring", 1
    )
    if c["replacement"] == "generational" and offspring != c["population"] - c["elite"]:
        raise ValueError(
            f"with replacement='generational', offspring must be population - elite "
            f"({c['population'] - c['elite']}); use replacement='plus' for another count"
        )
    if c["offspring"] is not None:
        c["offspring"] = offspring
    return c


@dataclasses.dataclass(frozen=True)
class GAConfig:
    """The settings of a ``run_ga`` run, checked when made; the defaults are de Mayo (2021)'s."""

    generations: int = 100  # ours: the article states none
    population: int = 8
    fitness: str = "accuracy"  # or "neg_loss"
    batch_size: int | None = 10  # fitness on a fresh batch of this many; None: on all of x
    selection: str = "roulette"  # or "tournament", "truncation"
    tournament_size: int = 3
    truncation: float = 0.2  # the fraction that "truncation" draws from
    parent_pool: float = 0.5  # parents come from this best fraction
    crossover: str = "uniform"  # or "one_point"
    crossover_rate: float = 0.7
    mutation_rate: float = 0.005
    mutation_sigma: float = 0.1  # ours: the article states none
    elite: int = 0
    replacement: str = "plus"  # or "generational"
    offspring: int | None = None  # None: population - elite (generational), population (plus)
    time_limit_s: float | None = None  # stop before a generation that would end past it
    dtype: str = "float32"

    def __post_init__(self):
        for name, value in _check_config(dataclasses.asdict(self)).items():
            object.__setattr__(self, name, value)

    def for_data(self, n_samples):
        """This config with its offspring count set and its batch no larger than ``n_samples``."""
        batch = None if self.batch_size is None else min(self.batch_size, n_samples)
        offspring = _default_offspring(vars(self)) if self.offspring is None else self.offspring
        return dataclasses.replace(self, batch_size=batch, offspring=offspring)


#: de Mayo (2021)'s genetic algorithm (``nnetreport.article.GA_SETTINGS``), with 100
#: generations; mutation_sigma and the number of generations are ours (not stated there)
ARTICLE_SETTING = GAConfig()


def _children(rng, pop, fit, c):
    """``c.offspring`` new individuals: selection, crossover and mutation (steps 3-5)."""
    n, D = c.offspring, pop.shape[1]
    parents = _select(rng, fit, 2 * n, c.selection, c.tournament_size, c.truncation, c.parent_pool)
    p1, p2 = pop[parents[:n]], pop[parents[n:]]
    if c.crossover == "uniform":  # one random bit per gene
        bits = np.frombuffer(rng.bytes(n * ((D + 7) // 8)), dtype=np.uint8)
        take2 = np.unpackbits(bits.reshape(n, -1), axis=1, count=D).astype(bool)
    else:
        cut = rng.integers(1, D, size=n)
        take2 = np.arange(D)[None, :] >= cut[:, None]
    take2 &= (rng.random(n) < c.crossover_rate)[:, None]
    children = np.where(take2, p2, p1)
    # mutation: Binomial(n D, rate) genes drawn with replacement
    n_mut = rng.binomial(n * D, c.mutation_rate)
    where = rng.integers(0, n * D, size=n_mut)
    noise = rng.standard_normal(n_mut, dtype=pop.dtype) * pop.dtype.type(c.mutation_sigma)
    np.add.at(children.reshape(-1), where, noise)
    return children


def _fitness(pop, batch, layers, c):
    xb, lb, tb = batch
    acc, loss = evaluate_population(pop, xb, lb, layers, tb)
    return (acc if c.fitness == "accuracy" else -loss), acc, loss


def _record(result, fit, acc, loss, pop, elapsed):
    best = int(np.argmax(fit))
    result.best.append(float(fit[best]))
    result.mean.append(float(np.mean(fit)))
    result.best_accuracy.append(float(acc[best]))
    result.best_loss.append(float(loss[best]))
    result.elapsed.append(elapsed)
    result.generations += 1
    result.best_params = pop[best].copy()
    result.best_fitness = float(fit[best])
    return best


def _blas_limit(threads):
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(threads, user_api="blas")


def _evolve(rng, pop, data, layers, c, marks, result, bar, t0):
    """The generations of ``run_ga`` on ``data`` (x, labels, one-hot targets); fills ``result``."""
    x, labels, targets = data
    generations = c.generations
    for g in range(generations):
        idx = (
            slice(None)
            if c.batch_size is None
            else rng.choice(x.shape[0], size=c.batch_size, replace=False)
        )
        batch = (x[idx], labels[idx], targets[idx])
        fit, acc, loss = _fitness(pop, batch, layers, c)
        best = _record(result, fit, acc, loss, pop, time.perf_counter() - t0)
        if result.generations in marks:
            result.checkpoints[result.generations] = result.best_params.copy()
        if bar is not None:
            bar.update(1)
            bar.set_postfix(best=f"{fit[best]:.4f}", acc=f"{acc[best]:.3f}", refresh=False)
        elapsed = result.elapsed[-1]
        if g == generations - 1:
            return
        if c.time_limit_s is not None and elapsed + elapsed / (g + 1) > c.time_limit_s:
            result.stopped_by = "time_limit"
            return
        children = _children(rng, pop, fit, c)
        if c.replacement == "generational":
            pop = np.concatenate([pop[np.argsort(-fit, kind="stable")[: c.elite]], children])
        else:  # parents and children compete on this batch
            merged = np.concatenate([pop, children])
            merged_fit = np.concatenate([fit, _fitness(children, batch, layers, c)[0]])
            pop = merged[np.argsort(-merged_fit, kind="stable")[: c.population]]


def _check_checkpoints(checkpoints, generations):
    if isinstance(checkpoints, (int, np.integer)):
        checkpoints = (checkpoints,)
    out = tuple(sorted({_check_int(g, "checkpoint", 1) for g in checkpoints}))
    if out and out[-1] > generations:
        raise ValueError(f"checkpoints must be <= generations ({generations}), got {out[-1]}")
    return out


def run_ga(layers, x, labels, config, *, seed=None, checkpoints=(), progress=True, blas_threads=1):
    """Evolve a population of parameter vectors for ``layers`` on ``(x, labels)``.

    ``x`` is the training subset ``(n, layers[0])`` and ``labels`` its integer
    classes in ``[0, layers[-1])``.  ``config`` is a ``GAConfig``: the
    operators (see the module docstring), ``config.generations`` generations
    or until ``config.time_limit_s`` seconds would be exceeded, whichever comes
    first.  ``blas_threads`` limits BLAS while the GA runs (default 1: its
    matrix products are small, and on a busy machine a multi-threaded BLAS
    waits for descheduled threads at every product, measured 12x slower here;
    None leaves BLAS alone).  ``checkpoints`` (generation counts in
    ``[1, config.generations]``) keeps a copy of the fittest individual after
    each of them in ``result.checkpoints``; it draws no random numbers, so the
    run is the same bit for bit with or without them, and checkpoint ``g`` is
    what a run of ``g`` generations returns.  ``progress`` shows a bar over the
    generations (``False`` or ``NNETLIB_PROGRESS=0`` turns it off; it draws no
    random numbers either).  Returns a ``GAResult``.
    """
    if not isinstance(config, GAConfig):
        raise TypeError(f"config must be a GAConfig, got {type(config).__name__}")
    layers, x, labels = _check_data(layers, x, labels, config.dtype)
    if blas_threads is not None:
        blas_threads = _check_int(blas_threads, "blas_threads", 1)
    c = config.for_data(x.shape[0])
    marks = _check_checkpoints(checkpoints, c.generations)
    rng = np.random.default_rng(seed)
    pop = _init_population(rng, layers, c.population, c.dtype)
    targets = np.zeros((x.shape[0], layers[-1]), dtype=c.dtype)
    targets[np.arange(x.shape[0]), labels] = 1
    result = GAResult(
        layers=layers,
        best_params=pop[0].copy(),
        best_fitness=-np.inf,
        generations=0,
        stopped_by="generations",
        seconds=0.0,
        config=c,
        seed=seed,
    )
    own = not hasattr(progress, "update")  # else a bar lent by run_ga_seeds, closed there
    bar = _generation_bar(progress, c.generations, "GA") if own else progress
    t0 = time.perf_counter()
    try:
        with _blas_limit(blas_threads):
            _evolve(rng, pop, (x, labels, targets), layers, c, marks, result, bar, t0)
    finally:
        if own and bar is not None:
            bar.close()
    result.seconds = time.perf_counter() - t0
    return result


def _generation_bar(progress, total, desc):
    """A progress bar over generations (None when bars are off); it draws no random numbers."""
    return progress_bar(progress, total=total, desc=desc, unit="gen", leave=False, mininterval=1.0)


def run_ga_seeds(
    layers,
    x,
    labels,
    config,
    seeds,
    *,
    checkpoints=(),
    progress=True,
    desc="GA seeds",
    blas_threads=1,
):
    """``run_ga(layers, x, labels, config, seed=s, ...)`` for each of ``seeds``, as a list
    of ``GAResult``, with one progress bar over the generations of all the runs (the
    library's rule: ``progress=False`` or ``NNETLIB_PROGRESS=0`` turns it off).  The
    bar draws no random numbers: the runs are the same bit for bit with or without it."""
    seeds = list(seeds)
    bar = _generation_bar(progress, len(seeds) * config.generations, desc)
    per_run = dict(
        checkpoints=checkpoints, progress=False if bar is None else bar, blas_threads=blas_threads
    )
    runs = []
    try:
        for i, s in enumerate(seeds):
            if bar is not None:
                bar.set_description(f"{desc} (seed {i + 1}/{len(seeds)})", refresh=False)
            runs.append(run_ga(layers, x, labels, config, seed=s, **per_run))
    finally:
        if bar is not None:
            bar.close()
    return runs
