"""Checkers of notebook 06-timing-table's exercise.

6.1  the article's printed cy figure, read per batch of 1000, in seconds per
     epoch, and divided by its printed PyTorch figure (per epoch) in like units.
"""

import numpy as np

from nnetreport import article

from . import not_two_numbers, notes_then_hint, say

#: the column of the exercise: the i7-7700HQ at one thread
COLUMN = article.TIMING_COLUMNS[0]


def _printed(version):
    return article.TIMING_TABLE[version][COLUMN]


def _check_epoch(answer):
    a = np.asarray(answer, dtype=float).ravel()
    if a.size != 2:
        return not_two_numbers(
            a, "(cy seconds per epoch, cy ÷ tr)", "(segundos por época de cy, cy ÷ tr)"
        )
    B, cy, tr = article.BATCHES_PER_EPOCH, _printed("cy"), _printed("tr")
    epoch, ratio = a
    right = (B * cy, B * cy / tr)
    close = lambda x, y: bool(np.isclose(x, y, rtol=2e-3))  # noqa: E731
    if close(epoch, right[0]) and close(ratio, right[1]):
        return True, say(
            f"{right[0]:g} s per epoch, {right[1]:,.0f} times PyTorch's epoch: thousands, "
            f"not the {cy / tr:.0f} the table seems to say.",
            f"{right[0]:g} s por época, {right[1]:,.0f} veces la época de PyTorch: miles, "
            f"no las {cy / tr:.0f} que la tabla parece decir.",
        )
    notes = []  # Said: what is wrong, in English and in Spanish
    if not close(epoch, right[0]):
        if close(epoch, cy / B):
            notes.append(
                say(
                    f"{epoch:.3g} s is {cy} ÷ {B}: an epoch is longer than a batch, not shorter",
                    f"{epoch:.3g} s es {cy} ÷ {B}: una época dura más que un batch, no menos",
                )
            )
        elif close(epoch, cy * 60_000):
            notes.append(
                say(
                    f"{epoch:.3g} s treats {cy} s as the time of one sample, not of a batch of 1000",
                    f"{epoch:.3g} s toma {cy} s como el tiempo de una muestra, no de un batch de 1000",
                )
            )
        else:
            notes.append(
                say(
                    f"{epoch:.4g} s per epoch is not {B} batches of {cy} s",
                    f"{epoch:.4g} s por época no son {B} batches de {cy} s",
                )
            )
    if not close(ratio, right[1]):
        if close(ratio, cy / tr):
            notes.append(
                say(
                    f"{ratio:.3g} divides the printed figures as they stand, a batch by an epoch",
                    f"{ratio:.3g} divide las cifras impresas tal como están, un batch por una época",
                )
            )
        elif close(ratio, epoch / tr) or close(ratio, cy / (tr / B)):
            notes.append(
                say(
                    f"the ratio {ratio:.4g} follows from a wrong epoch time",
                    f"el cociente {ratio:.4g} sale de un tiempo por época equivocado",
                )
            )
        else:
            notes.append(
                say(
                    f"the ratio {ratio:.4g} is not cy's epoch ÷ tr's epoch",
                    f"el cociente {ratio:.4g} no es la época de cy ÷ la época de tr",
                )
            )
    return False, notes_then_hint(
        notes,
        say(
            f". Hint: an epoch is {B} batches of 1000, so cy's epoch is {B} × {cy} s; "
            f"tr's {tr} s is already an epoch.",
            f". Pista: una época son {B} batches de 1000, así que la época de cy es {B} × {cy} s; "
            f"los {tr} s de tr ya son una época.",
        ),
    )


CHECKS = {"6.1": _check_epoch}
