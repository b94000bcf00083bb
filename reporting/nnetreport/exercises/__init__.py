"""Exercises with self-checks: a checker per exercise, by its number ("4.2").

A notebook's exercise cell calls ``check("4.2", answer)``.  The checker
accepts every correct answer and, for a wrong one, says what is wrong and
gives a hint; it never raises on a wrong or missing answer (a student's
notebook still runs top to bottom).  ``check`` prints its verdict in English
and in Spanish, a line each (the notebooks of both editions share the code
cell), and returns nothing, so the cell shows those lines alone;
``verdict`` gives the ``Verdict``.  The checkers live in ``nbXX`` modules,
one per notebook, each with ``CHECKS = {"N.M": function}``; a function
takes the answer and returns ``(ok, say(english, spanish))`` where the
message of a wrong answer holds a hint ("Hint:", "Pista:").  Solutions are
kept out of the notebooks, in ``solutions/nbXX.py`` (``SOLUTIONS`` and
``WRONG``, a plausible wrong answer per exercise), for the teacher and for
``tests/test_exercises.py``.
"""

import dataclasses
import importlib
import pkgutil

#: what a notebook's exercise cell holds until the student answers
NO_ANSWER = None


#: the languages ``check`` can print, and the word before the exercise number in each
HEADINGS = {"en": "Exercise", "es": "Ejercicio"}


@dataclasses.dataclass(frozen=True)
class Said:
    """A checker's message in English and in Spanish."""

    en: str
    es: str


def say(en, es):
    """A checker's message, ``en`` in English and ``es`` in Spanish."""
    return Said(en, es)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of one check: right or not, and what is said, in English and in Spanish."""

    number: str
    ok: bool
    message: str
    message_es: str = ""

    def __bool__(self):
        return self.ok

    def line(self, lang="en"):
        """The line ``check`` prints in ``lang`` ("en" or "es")."""
        text = self.message_es if lang == "es" else self.message
        return f"{HEADINGS[lang]} {self.number}: {'✓' if self.ok else '✗'} {text}"


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
        ok, message = (
            False,
            say(
                "no answer yet: replace None with yours and run the cell",
                "todavía no hay respuesta: reemplazá None por la tuya y ejecutá la celda",
            ),
        )
    else:
        try:
            ok, message = checks[number](answer)
        except Exception as exc:  # a malformed answer is a wrong answer, said plainly
            why = f"{type(exc).__name__}: {exc}"
            ok, message = (
                False,
                say(
                    f"this answer could not be checked ({why})",
                    f"esta respuesta no se pudo verificar ({why})",
                ),
            )
    return Verdict(number, bool(ok), message.en, message.es)


def not_a_function(answer, hint_en, hint_es):
    """The verdict on an answer that should have been a function: what came, and a hint."""
    kind = type(answer).__name__
    return False, say(
        f"the answer is a function, got {kind}. Hint: {hint_en}",
        f"la respuesta es una función, y llegó un {kind}. Pista: {hint_es}",
    )


def not_two_numbers(a, what_en, what_es):
    """The verdict on an answer that should have been two numbers, ``what`` they are."""
    return False, say(
        f"{a.size} numbers given. Hint: answer with two, {what_en}.",
        f"se dieron {a.size} números. Pista: respondé con dos, {what_es}.",
    )


def notes_then_hint(notes, hint):
    """One message from the notes on what is wrong (``Said``s), "; "-joined, then ``hint``."""
    return say("; ".join(n.en for n in notes) + hint.en, "; ".join(n.es for n in notes) + hint.es)


def check(number, answer, lang=None):
    """Check ``answer`` to exercise ``number``: print ✓, or ✗ with what is wrong and a hint,
    in English and in Spanish (``lang="en"`` or ``"es"``: in that language only)."""
    if lang is not None and lang not in HEADINGS:
        raise ValueError(f"lang must be one of {', '.join(HEADINGS)} or None, got {lang!r}")
    v = verdict(number, answer)
    for code in HEADINGS if lang is None else (lang,):
        print(v.line(code))
