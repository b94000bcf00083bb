"""The Spanish edition: built from the English notebooks and the translation files, never stale."""

import copy
import json
import pathlib
import re
import shutil

import pytest

from nnetreport import translation as tr
from nnetreport.__main__ import main as report_main

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ENGLISH = sorted(NOTEBOOKS.glob("*.ipynb"))


def _load(path):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def test_the_spanish_notebooks_are_up_to_date():
    assert ENGLISH, "no English notebooks"
    assert tr.build(NOTEBOOKS, check_only=True) == []


@pytest.mark.parametrize("path", ENGLISH, ids=[p.stem for p in ENGLISH])
def test_same_cells_same_code_same_outputs_spanish_prose(path):
    en, es = _load(path), _load(NOTEBOOKS / "es" / path.name)
    assert [c["id"] for c in es["cells"]] == [c["id"] for c in en["cells"]]
    assert [c["cell_type"] for c in es["cells"]] == [c["cell_type"] for c in en["cells"]]
    for a, b in zip(en["cells"], es["cells"]):
        if a["cell_type"] == "code":
            assert b == a, f"code cell {a['id']} differs"
        else:
            assert tr.cell_text(b) != tr.cell_text(a), f"cell {a['id']} is the English text"
            assert not tr.looks_english(tr.cell_text(b)), f"cell {a['id']} reads as English"
    assert es["metadata"]["language"] == "es"


@pytest.mark.parametrize("path", ENGLISH, ids=[p.stem for p in ENGLISH])
def test_equations_code_and_exercise_headings_survive_translation(path):
    en, es = _load(path), _load(NOTEBOOKS / "es" / path.name)
    for a, b in zip(en["cells"], es["cells"]):
        if a["cell_type"] != "markdown":
            continue
        english, spanish = tr.cell_text(a), tr.cell_text(b)
        display = re.compile(r"\$\$.*?\$\$", re.S)
        assert display.findall(spanish) == display.findall(english), f"cell {a['id']}: equations"
        for number in re.findall(r"^#+ Exercise (\d+\.\d+)", english, re.M):
            assert re.search(rf"^#+ Ejercicio {re.escape(number)}\b", spanish, re.M), number
        assert spanish.count("`") % 2 == 0, f"cell {a['id']}: unbalanced code marks"


def _tiny():
    return {
        "cells": [
            {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# The title\n"]},
            {
                "cell_type": "code",
                "id": "c1",
                "metadata": {},
                "execution_count": 1,
                "outputs": [{"name": "stdout", "output_type": "stream", "text": ["2\n"]}],
                "source": ["print(1 + 1)"],
            },
            {
                "cell_type": "markdown",
                "id": "m2",
                "metadata": {},
                "source": ["This is what the cell prints, and it is the sum of the two numbers.\n"],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _blocks(nb, **spanish):
    return {
        c["id"]: (tr.english_hash(tr.cell_text(c)), spanish[c["id"]])
        for c in nb["cells"]
        if c["cell_type"] == "markdown" and c["id"] in spanish
    }


GOOD = {
    "m1": "# El título",
    "m2": "Esto es lo que imprime la celda, y es la suma de los dos números.",
}


def test_a_translation_replaces_the_prose_and_nothing_else():
    nb = _tiny()
    blocks = _blocks(nb, **GOOD)
    assert tr.problems(nb, blocks) == []
    es = tr.translate(nb, blocks)
    assert tr.cell_text(es["cells"][0]) == "# El título" and es["cells"][1] == nb["cells"][1]
    assert nb["cells"][0]["source"] == ["# The title\n"]  # the English is untouched


def test_missing_stale_english_empty_and_unknown_blocks_are_named():
    nb = _tiny()
    assert tr.problems(nb, _blocks(nb, m1=GOOD["m1"])) == ["cell m2: no translation"]
    blocks = _blocks(nb, **GOOD)
    changed = copy.deepcopy(nb)
    changed["cells"][2]["source"] = ["This is what the cell prints: the sum of two numbers.\n"]
    (line,) = tr.problems(changed, blocks)
    assert line.startswith("cell m2: the English changed since it was translated")
    english = dict(GOOD, m2="This is what the cell prints, and it is the sum of the numbers.")
    assert tr.problems(nb, _blocks(nb, **english)) == ["cell m2: the translation is still English"]
    assert tr.problems(nb, _blocks(nb, **dict(GOOD, m1="  "))) == [
        "cell m1: the translation is empty"
    ]
    blocks["zz"] = ("0" * 12, "otra celda")
    assert tr.problems(nb, blocks) == [
        "cell zz: translated, but no such prose cell in the English notebook"
    ]


def test_the_file_format_round_trips_and_refuses_a_cell_twice():
    rows = [("m1", "a" * 12, "# El título"), ("m2", "b" * 12, "Línea uno.\n\nLínea dos.")]
    text = tr.render(rows, "x.ipynb")
    assert tr.parse(text) == {i: (h, s) for i, h, s in rows}
    with pytest.raises(ValueError, match="translated twice"):
        tr.parse(text + text.split("\n", 1)[1])


@pytest.mark.parametrize(
    "text, english",
    [
        ("The gradient of the loss is the sum over the samples of the error.", True),
        ("El gradiente del error es la suma sobre las muestras del término de error.", False),
        ("`for k in range(L)` and $\\sum_q$", False),  # no prose: nothing to call English
        ("Los pesos de `the weights of the net` y la suma $the and of$.", False),
    ],
)
def test_what_reads_as_english(text, english):
    assert tr.looks_english(text) is english


def _copy_tree(tmp_path):
    """A notebooks folder holding the first two English notebooks and their translations."""
    folder = tmp_path / "notebooks"
    (folder / "es" / "translations").mkdir(parents=True)
    for path in ENGLISH[:2]:
        shutil.copy(path, folder / path.name)
        shutil.copy(tr.translation_path(path), folder / "es" / "translations" / f"{path.stem}.md")
    return folder


def test_the_command_builds_checks_and_names_a_stale_cell(tmp_path, capsys):
    folder = _copy_tree(tmp_path)
    assert report_main(["translate", "--notebooks", str(folder), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert report_main(["translate", "--notebooks", str(folder)]) == 0
    assert report_main(["translate", "--notebooks", str(folder), "--check"]) == 0
    nb = _load(folder / ENGLISH[1].name)
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    cell["source"] = tr.cell_text(cell).replace("the", "this", 1).splitlines(keepends=True)
    (folder / ENGLISH[1].name).write_text(tr.dumps(nb), encoding="utf-8")
    assert report_main(["translate", "--notebooks", str(folder), "--check"]) == 1
    assert f"cell {cell['id']}: the English changed" in capsys.readouterr().err


def test_the_command_reads_translations_from_elsewhere(tmp_path):
    folder = _copy_tree(tmp_path)
    moved = tmp_path / "elsewhere"
    shutil.move(folder / "es" / "translations", moved)
    assert report_main(["translate", "--notebooks", str(folder)]) == 1  # none where it looks
    assert report_main(["translate", "--notebooks", str(folder), "--translations", str(moved)]) == 0
    assert sorted(p.name for p in (folder / "es").glob("*.ipynb")) == [p.name for p in ENGLISH[:2]]


@pytest.mark.slow  # a kernel start-up, ~5 s
def test_a_spanish_notebook_runs(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    path = NOTEBOOKS / "es" / "00-overview.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    shown = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "rows:" in shown


def _fences(text):
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)


def _plan(text, heading):
    """The rows (minutes, notebook) of a README's 90-minute plan, under ``heading``."""
    section = text.split(heading, 1)[1]
    return re.findall(r"^\| (\d+–\d+) \| (\d\d-[a-z-]+) \|", section, re.M)


def test_the_spanish_readme_gives_the_commands_quickstart_plan_and_glossary(capsys):
    from nnetreport import exercises

    english, spanish = (ROOT / "README.md").read_text(), (ROOT / "README.es.md").read_text()
    for heading in ("## Los dos comandos", "## Inicio rápido", "## Enseñar con este informe",
                    "## Glosario inglés ↔ español"):  # fmt: skip
        assert f"\n{heading}\n" in spanish, heading
    english_blocks = _fences(english)
    assert english_blocks[0] in _fences(spanish)  # the two commands
    quickstart = english.split("## Quickstart", 1)[1]
    assert _fences(quickstart)[0] in _fences(spanish), "the quickstart's code differs"
    assert _plan(spanish, "## Enseñar") == _plan(english, "## Teaching") != []
    glossary = spanish.split("## Glosario", 1)[1]
    rows = [
        r for r in re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|", glossary, re.M) if r[0] != "English"
    ]
    assert len(rows) >= 30
    terms = {en.strip().lower() for en, _ in rows}
    assert {"frontpropagation (frontprop)", "learning rate", "epoch", "seed"} <= terms
    assert "[README.md](README.md)" in spanish and "[README.es.md](README.es.md)" in english
    exercises.check("4.2", None)  # the output the Spanish README shows, as check prints it
    assert capsys.readouterr().out in [b for b in _fences(spanish) if "Ejercicio" in b]


def test_make_report_asks_for_current_translations_before_it_runs_the_notebooks(tmp_path, capsys):
    import subprocess

    folder = _copy_tree(tmp_path)
    assert report_main(["translate", "--notebooks", str(folder), "--prose"]) == 0
    assert not (folder / "es" / ENGLISH[0].name).exists()  # --prose writes nothing
    nb = _load(folder / ENGLISH[0].name)
    nb["cells"].append({"cell_type": "markdown", "id": "new1", "metadata": {}, "source": ["New."]})
    (folder / ENGLISH[0].name).write_text(tr.dumps(nb), encoding="utf-8")
    assert report_main(["translate", "--notebooks", str(folder), "--prose"]) == 1
    assert "cell new1: no translation" in capsys.readouterr().err
    recipe = subprocess.run(
        ["make", "-n", "report", "STAMP=/dev/null", "NOTEBOOKS=notebooks/00-overview.ipynb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    steps = [i for i, line in enumerate(recipe) if "nnetreport" in line]
    lines = [recipe[i] for i in steps]
    assert (
        "translate --prose" in lines[0] and "site" in lines[1] and "execute" in recipe[steps[1] + 1]
    )
    assert "translate" in lines[2] and "--prose" not in lines[2]
