"""Checkers of notebook 07-genetic-algorithm's exercise.

7.1  single-image forward passes per generation of the article's GA setting and
     of ours (population 30, batch 500, generational replacement).
"""

import numpy as np

from nnetreport import genetic

from . import not_two_numbers, notes_then_hint, say

#: our setting in notebook 07 (only what the count depends on)
OURS = genetic.GAConfig(population=30, batch_size=500, elite=3, replacement="generational")


def passes_per_generation(config):
    """Single-image forward passes that one generation of ``config`` makes (not the last).

    Every individual is scored on the generation's batch; with ``"plus"``
    replacement the children are also scored on it before they compete with
    their parents, with ``"generational"`` they are scored in the next generation.
    """
    c = config.for_data(10**9)
    scored = c.population + (c.offspring if c.replacement == "plus" else 0)
    return scored * c.batch_size


def _check_passes(answer):
    a = np.asarray(answer, dtype=float).ravel()
    if a.size != 2:
        return not_two_numbers(
            a, "(article's setting, ours)", "(configuración del artículo, la nuestra)"
        )
    art, ours = genetic.ARTICLE_SETTING, OURS
    right = (passes_per_generation(art), passes_per_generation(ours))
    if np.array_equal(a, right):
        return True, say(
            f"{right[0]} and {right[1]:,}: the article's GA scores its {art.for_data(10**9).offspring} "
            f"children as well as its {art.population} parents, ours only its {ours.population}.",
            f"{right[0]} y {right[1]:,}: el GA del artículo evalúa a sus {art.for_data(10**9).offspring} "
            f"hijos además de a sus {art.population} padres, el nuestro solo a sus {ours.population}.",
        )
    notes = []  # Said: what is wrong, in English and in Spanish
    if a[0] != right[0]:
        if a[0] == art.population * art.batch_size:
            notes.append(
                say(
                    f"{a[0]:g} scores only the {art.population} parents: with 'plus' replacement the "
                    "children compete with their parents on the same batch, so they are scored too",
                    f"{a[0]:g} evalúa solo a los {art.population} padres: con reemplazo 'plus' los "
                    "hijos compiten con sus padres sobre el mismo batch, así que también se evalúan",
                )
            )
        elif a[0] in (art.population, 2 * art.population):
            notes.append(
                say(
                    f"{a[0]:g} counts individuals, not images",
                    f"{a[0]:g} cuenta individuos, no imágenes",
                )
            )
        else:
            notes.append(
                say(
                    f"{a[0]:g} for the article's setting",
                    f"{a[0]:g} para la configuración del artículo",
                )
            )
    if a[1] != right[1]:
        if a[1] == (ours.population - ours.elite) * ours.batch_size:
            notes.append(
                say(
                    f"{a[1]:g} leaves out the {ours.elite} elite: they are scored again on every "
                    "generation's fresh batch",
                    f"{a[1]:g} deja afuera a los {ours.elite} de la élite: se vuelven a evaluar sobre el "
                    "batch nuevo de cada generación",
                )
            )
        elif a[1] == 2 * right[1]:
            notes.append(
                say(
                    f"{a[1]:g} scores the children twice: with generational replacement they are the population",
                    f"{a[1]:g} evalúa dos veces a los hijos: con reemplazo generacional ellos son la población",
                )
            )
        elif a[1] == ours.population:
            notes.append(
                say(
                    f"{a[1]:g} counts individuals, not images",
                    f"{a[1]:g} cuenta individuos, no imágenes",
                )
            )
        else:
            notes.append(say(f"{a[1]:g} for ours", f"{a[1]:g} para la nuestra"))
    return False, notes_then_hint(
        notes,
        say(
            ". Hint: count how many individuals are scored in one generation, times the images of "
            "the fitness batch (10 for the article's setting, 500 for ours).",
            ". Pista: contá cuántos individuos se evalúan en una generación y multiplicá por las "
            "imágenes del batch de aptitud (10 en la configuración del artículo, 500 en la nuestra).",
        ),
    )


CHECKS = {"7.1": _check_passes}
