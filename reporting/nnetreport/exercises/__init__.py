"""Exercises with self-checks: a checker per exercise, by its number ("4.2").

A notebook's exercise cell calls ``check("4.2", answer)``.  The checker
accepts every correct answer and, for a wrong one, says what is wrong and
gives a hint; it never raises on a wrong or missing answer (a student's
notebook still runs top to bottom).  ``check`` prints one line (and returns
nothing, so the cell shows that line alone); ``verdict`` gives the
``Verdict``.  The checkers live in ``nbXX`` modules, one per notebook,
each with ``CHECKS = {"N.M": function}``; a function takes the answer and
returns ``(ok, message)`` where the message of a wrong answer ends with a
hint.  Solutions are kept out of the notebooks, in ``solutions/nbXX.py``
(``SOLUTIONS`` and ``WRONG``, a plausible wrong answer per exercise), for
the teacher and for ``tests/test_exercises.py``.
"""

import dataclasses
import importlib
import pkgutil

#: what a notebook's exercise cell holds until the student answers
NO_ANSWER = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of one check: right or not, and the line printed."""

    number: str
    ok: bool
    message: str

    def __bool__(self):
        return self.ok


def all_checks():
    """``{"N.M": checker}`` over every ``nbXX`` module of this package."""
    out = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("nb"):
            out.update(importlib.import_module(f"{__name__}.{info.name}").CHECKS)
    return dict(sorted(out.items(), key=lambda kv: tuple(int(p) for p in kv[0].split("."))))


def verdict(number, answer):
    """The ``Verdict`` of ``answer`` to exercise ``number``, printing nothing."""
    checks = all_checks()
    if number not in checks:
        raise KeyError(f"no exercise {number!r}; there are {', '.join(checks)}")
    if answer is NO_ANSWER:
        return Verdict(number, False, "no answer yet: replace None with yours and run the cell")
    try:
        ok, message = checks[number](answer)
    except Exception as exc:  # a malformed answer is a wrong answer, said plainly
        ok, message = False, f"this answer could not be checked ({type(exc).__name__}: {exc})"
    return Verdict(number, bool(ok), message)


def check(number, answer):
    """Check ``answer`` to exercise ``number``: print ✓, or ✗ with what is wrong and a hint."""
    v = verdict(number, answer)
    print(f"Exercise {number}: {'✓' if v.ok else '✗'} {v.message}")
