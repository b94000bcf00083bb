"""Every exercise: its solution passes its checker, a plausible wrong answer fails
with a hint, and a missing answer neither raises nor passes."""

import importlib
import pkgutil

import pytest

from nnetreport import exercises
from nnetreport.exercises import solutions


def _answers(name):
    out = {}
    for info in pkgutil.iter_modules(solutions.__path__):
        out.update(getattr(importlib.import_module(f"{solutions.__name__}.{info.name}"), name))
    return out


SOLUTIONS, WRONG = _answers("SOLUTIONS"), _answers("WRONG")
NUMBERS = list(exercises.all_checks())


def test_every_exercise_has_a_solution_and_a_wrong_answer():
    assert len(NUMBERS) >= 12
    assert set(SOLUTIONS) == set(NUMBERS) == set(WRONG)
    notebooks = {n.split(".")[0] for n in NUMBERS}
    assert {"1", "2", "3", "4", "5", "8"} <= notebooks


@pytest.mark.parametrize("number", NUMBERS)
def test_the_solution_passes(number, capsys):
    v = exercises.verdict(number, SOLUTIONS[number])
    assert v.ok, v.message
    assert exercises.check(number, SOLUTIONS[number]) is None
    assert capsys.readouterr().out.startswith(f"Exercise {number}: ✓")


@pytest.mark.parametrize("number", NUMBERS)
def test_a_wrong_answer_fails_with_a_hint(number, capsys):
    v = exercises.verdict(number, WRONG[number])
    assert not v.ok and "hint" in v.message.lower(), v.message
    exercises.check(number, WRONG[number])
    assert capsys.readouterr().out.startswith(f"Exercise {number}: ✗")


@pytest.mark.parametrize("number", NUMBERS)
def test_no_answer_yet_is_not_an_error(number):
    v = exercises.verdict(number, None)
    assert not v.ok and "no answer yet" in v.message


@pytest.mark.parametrize("number", NUMBERS)
def test_every_verdict_is_said_in_spanish_too(number, capsys):
    from nnetreport.translation import looks_english

    right, wrong = (
        exercises.verdict(number, SOLUTIONS[number]),
        exercises.verdict(number, WRONG[number]),
    )
    for v in (right, wrong, exercises.verdict(number, None)):
        assert v.message_es and not looks_english(v.message_es), v.message_es
    assert "Pista:" in wrong.message_es and "Pista:" not in right.message_es
    exercises.check(number, WRONG[number])
    english, spanish = capsys.readouterr().out.splitlines()
    assert english == wrong.line("en") and spanish == f"Ejercicio {number}: ✗ {wrong.message_es}"
    exercises.check(number, SOLUTIONS[number], lang="es")
    assert capsys.readouterr().out == f"Ejercicio {number}: ✓ {right.message_es}\n"


def test_check_takes_english_spanish_or_both():
    with pytest.raises(ValueError, match="lang must be one of en, es"):
        exercises.check("1.1", None, lang="fr")


def test_an_unknown_exercise_is_a_clear_error():
    with pytest.raises(KeyError, match="no exercise"):
        exercises.check("99.9", 1)


def test_the_teacher_prints_the_solutions(capsys):
    from nnetreport.__main__ import main

    first = NUMBERS[0]
    assert main(["solutions", first]) == 0
    out = capsys.readouterr().out
    assert f"--- Exercise {first}" in out and f"Exercise {first}: ✓" in out
    assert main(["solutions", "99.9"]) == 2
