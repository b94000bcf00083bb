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
3. **selection** of two parents per child: tournaments of
   ``tournament_size`` random individuals (the fittest wins), or truncation
   (uniformly among the best ``truncation`` fraction);
4. **crossover** with probability ``crossover_rate``: uniform (each gene from
   either parent) or one-point (a prefix from one parent, the rest from the
   other); otherwise the child copies its first parent;
5. **Gaussian mutation**: N(0, ``mutation_sigma``^2) noise is added to
   Binomial(children x genes, ``mutation_rate``) genes drawn at random (with
   replacement, so each gene mutates with probability ~``mutation_rate``).

All randomness comes from one ``numpy.random.Generator`` seeded by ``seed``,
so a run with a fixed number of generations is reproducible bit for bit; a
``time_limit_s`` stops the run before a generation that would overrun it.
"""
import dataclasses
import time

import numpy as np

from .._checks import check_array, check_layers, check_positive
from ..nets.base import layer_shapes, n_params

FITNESS = ("accuracy", "neg_loss")
SELECTION = ("tournament", "truncation")
CROSSOVER = ("uniform", "one_point")


@dataclasses.dataclass
class GAResult:
    """Outcome of ``run_ga``; the history lists hold one entry per generation."""

    layers: tuple
    best_params: np.ndarray
    best_fitness: float
    generations: int
    stopped_by: str                   # "generations" or "time_limit"
    seconds: float
    best: list = dataclasses.field(default_factory=list)            # best fitness
    mean: list = dataclasses.field(default_factory=list)            # mean fitness
    best_accuracy: list = dataclasses.field(default_factory=list)   # of the fittest
    best_loss: list = dataclasses.field(default_factory=list)       # of the fittest
    elapsed: list = dataclasses.field(default_factory=list)         # seconds so far
    config: dict = dataclasses.field(default_factory=dict)

    def network(self, cls=None, dtype="float32"):
        """The best individual as a network (``NpNet`` by default)."""
        if cls is None:
            from ..nets.npnet import NpNet as cls
        return cls(self.layers, params=self.best_params, dtype=dtype)

    def __repr__(self):
        return (f"GAResult({self.generations} generations in {self.seconds:.1f} s, "
                f"stopped by {self.stopped_by}, best fitness {self.best_fitness:.4f})")


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
            h = np.matmul(a, w[:, :-1])                 # (P, n, n_k) @ (P, n_k, n_{k+1})
        h += w[:, -1][:, None, :]
        np.negative(h, out=h)
        np.exp(h, out=h)
        h += 1
        np.reciprocal(h, out=h)                         # sigmoid; exp overflow gives 1/inf = 0
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
    """Every individual drawn like ``init_params(init="kaiming")``."""
    parts = []
    for rows, cols in layer_shapes(layers):
        bound = 1 / np.sqrt(rows - 1)
        parts.append(rng.uniform(-bound, bound, size=(population, rows * cols)))
    return np.concatenate(parts, axis=1).astype(dtype)


def _select(rng, fitness, n, selection, tournament_size, truncation):
    """Indices of ``n`` parents."""
    P = fitness.shape[0]
    if selection == "tournament":
        entrants = rng.integers(0, P, size=(n, tournament_size))
        winners = np.argmax(fitness[entrants], axis=1)
        return entrants[np.arange(n), winners]
    order = np.argsort(-fitness, kind="stable")
    top = order[:max(1, int(round(truncation * P)))]
    return top[rng.integers(0, top.size, size=n)]


def _check_int(value, name, lo):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    return int(value)


def _check_fraction(value, name):
    value = check_positive(value, name, allow_zero=True)
    if value > 1:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return value


def run_ga(layers, x, labels, generations=100, population=100, *, time_limit_s=None, seed=None,
           fitness="accuracy", batch_size=None, selection="tournament", tournament_size=3,
           truncation=0.2, crossover="uniform", crossover_rate=0.9, mutation_rate=0.05,
           mutation_sigma=0.1, elite=2, dtype="float32", progress=True):
    """Evolve a population of parameter vectors for ``layers`` on ``(x, labels)``.

    ``x`` is the training subset ``(n, layers[0])`` and ``labels`` its integer
    classes in ``[0, layers[-1])``.  ``batch_size`` (optional) evaluates each
    generation on a fresh random minibatch of that size instead of all of
    ``x``.  Runs ``generations`` generations or until ``time_limit_s`` seconds
    would be exceeded, whichever comes first.  See the module docstring for
    the operators.  Returns a ``GAResult``.
    """
    layers = check_layers(layers)
    if len(layers) < 2 or layers[-1] < 2:
        raise ValueError(f"the output layer must have at least 2 classes, got layers {list(layers)}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    x = check_array(x, "x", layers[0], dtype)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != x.shape[0]:
        raise ValueError(f"labels must be 1-D with one label per row of x ({x.shape[0]}), got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= layers[-1]:
        raise ValueError(f"labels must lie in [0, {layers[-1]}), got [{labels.min()}, {labels.max()}]")
    labels = labels.astype(np.int64)
    generations = _check_int(generations, "generations", 1)
    population = _check_int(population, "population", 2)
    elite = _check_int(elite, "elite", 0)
    if elite >= population:
        raise ValueError(f"elite ({elite}) must be smaller than population ({population})")
    tournament_size = _check_int(tournament_size, "tournament_size", 1)
    if time_limit_s is not None:
        time_limit_s = check_positive(time_limit_s, "time_limit_s")
    if batch_size is not None:
        batch_size = min(_check_int(batch_size, "batch_size", 1), x.shape[0])
    if fitness not in FITNESS:
        raise ValueError(f"fitness must be one of {FITNESS}, got {fitness!r}")
    if selection not in SELECTION:
        raise ValueError(f"selection must be one of {SELECTION}, got {selection!r}")
    if crossover not in CROSSOVER:
        raise ValueError(f"crossover must be one of {CROSSOVER}, got {crossover!r}")
    truncation = _check_fraction(truncation, "truncation")
    if truncation == 0:
        raise ValueError("truncation must be > 0")
    crossover_rate = _check_fraction(crossover_rate, "crossover_rate")
    mutation_rate = _check_fraction(mutation_rate, "mutation_rate")
    mutation_sigma = check_positive(mutation_sigma, "mutation_sigma", allow_zero=True)

    config = dict(population=population, fitness=fitness, batch_size=batch_size, selection=selection,
                  tournament_size=tournament_size, truncation=truncation, crossover=crossover,
                  crossover_rate=crossover_rate, mutation_rate=mutation_rate,
                  mutation_sigma=mutation_sigma, elite=elite, seed=seed, dtype=dtype,
                  time_limit_s=time_limit_s, max_generations=generations)
    rng = np.random.default_rng(seed)
    D = n_params(layers)
    pop = _init_population(rng, layers, population, dtype)
    n_children = population - elite
    sigma = np.dtype(dtype).type(mutation_sigma)
    targets = np.zeros((x.shape[0], layers[-1]), dtype=dtype)
    targets[np.arange(x.shape[0]), labels] = 1

    from .._progress import progress_enabled
    bar = None
    if progress_enabled(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=generations, desc="GA", unit="gen", leave=False, mininterval=1.0)

    result = GAResult(layers=layers, best_params=pop[0].copy(), best_fitness=-np.inf,
                      generations=0, stopped_by="generations", seconds=0.0, config=config)
    t0 = time.perf_counter()
    try:
        for g in range(generations):
            if batch_size is None:
                xb, lb, tb = x, labels, targets
            else:
                idx = rng.choice(x.shape[0], size=batch_size, replace=False)
                xb, lb, tb = x[idx], labels[idx], targets[idx]
            acc, loss = evaluate_population(pop, xb, lb, layers, tb)
            fit = acc if fitness == "accuracy" else -loss
            order = np.argsort(-fit, kind="stable")
            best = order[0]
            elapsed = time.perf_counter() - t0
            result.best.append(float(fit[best]))
            result.mean.append(float(np.mean(fit)))
            result.best_accuracy.append(float(acc[best]))
            result.best_loss.append(float(loss[best]))
            result.elapsed.append(elapsed)
            result.generations = g + 1
            result.best_params = pop[best].copy()
            result.best_fitness = float(fit[best])
            if bar is not None:
                bar.update(1)
                bar.set_postfix(best=f"{fit[best]:.4f}", acc=f"{acc[best]:.3f}", refresh=False)
            if g == generations - 1:
                break
            per_generation = elapsed / (g + 1)
            if time_limit_s is not None and elapsed + per_generation > time_limit_s:
                result.stopped_by = "time_limit"
                break

            # the next generation
            parents = _select(rng, fit, 2 * n_children, selection, tournament_size, truncation)
            p1, p2 = pop[parents[:n_children]], pop[parents[n_children:]]
            if crossover == "uniform":                 # one random bit per gene
                bits = np.frombuffer(rng.bytes(n_children * ((D + 7) // 8)), dtype=np.uint8)
                take2 = np.unpackbits(bits.reshape(n_children, -1), axis=1, count=D).astype(bool)
            else:
                cut = rng.integers(1, D, size=n_children)
                take2 = np.arange(D)[None, :] >= cut[:, None]
            take2 &= (rng.random(n_children) < crossover_rate)[:, None]
            children = np.where(take2, p2, p1)
            # mutation: Binomial(n_children D, rate) genes drawn with replacement
            n_mut = rng.binomial(n_children * D, mutation_rate)
            where = rng.integers(0, n_children * D, size=n_mut)
            noise = rng.standard_normal(n_mut, dtype=dtype) * sigma
            np.add.at(children.reshape(-1), where, noise)
            pop = np.concatenate([pop[order[:elite]], children], axis=0)
    finally:
        if bar is not None:
            bar.close()
    result.seconds = time.perf_counter() - t0
    return result
