"""The Spanish edition: each notebook built from its English notebook and a translation file.

Design (one source of truth):

A. Code cells and their stored outputs come from the English notebook, unchanged; only the
   prose (markdown cells) is replaced. Nothing is computed twice.
B. A translation file, ``notebooks/es/translations/<stem>.md``, holds the Spanish prose of one
   notebook, one block per markdown cell (and one for the notebook's ``summary`` metadata, the
   landing page's line, under the id ``metadata.summary``), each opened by a marker line
   ``<!-- cell <id> · en <hash> -->``. The hash is the first 12 hex digits of the SHA-256 of the
   English cell's text when it was translated: when the English changes, the block is stale.
C. ``build`` refuses a notebook with a missing, stale, unknown or still-English block, so an
   out-of-date Spanish edition cannot be built silently; ``check`` also compares the built
   notebook with the one on disk.
"""

import copy
import hashlib
import json
import re
from pathlib import Path

LANG = "es"
MARKER = re.compile(r"^<!-- cell (\S+) · en ([0-9a-f]{12}) -->[ \t]*$", re.MULTILINE)
HEADER = "<!-- nnetlib, edición en español: the Spanish prose of {name}, one block per markdown cell -->\n"

# Common function words. A prose cell whose English words outnumber its Spanish ones is untranslated.
_EN = frozenset(
    "the and of to is are was were this that these those with which what we you it its from "
    "for by be have has not but when where each every than then".split()
)
_ES = frozenset(
    "el la los las de del que y en con una un es son por para se su sus lo al como más pero "
    "cuando donde cada este esta estos estas ese esa".split()
)


def english_hash(text):
    """The 12-hex-digit fingerprint of an English cell's text (a translation's ``en`` stamp)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def cell_text(cell):
    """A cell's source as one string."""
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _words(text):
    """The lower-case words of prose, without code, math, links' targets or HTML tags."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)|<[^>]+>|https?://\S+", " ", text)
    return re.findall(r"[a-záéíóúüñ]+", text.lower())


def looks_english(text):
    """Whether prose reads as English: more English function words than Spanish ones (3 or more)."""
    words = _words(text)
    en = sum(w in _EN for w in words)
    es = sum(w in _ES for w in words)
    return en >= 3 and en > es


def parse(text):
    """``{cell id: (english hash, spanish text)}`` from a translation file's text."""
    blocks = {}
    marks = list(MARKER.finditer(text))
    for mark, after in zip(marks, marks[1:] + [None]):
        cell_id, stamp = mark.group(1), mark.group(2)
        if cell_id in blocks:
            raise ValueError(f"cell {cell_id} is translated twice")
        end = after.start() if after else len(text)
        blocks[cell_id] = (stamp, text[mark.end() : end].strip("\n"))
    return blocks


def render(blocks, name):
    """A translation file's text from ``[(cell id, english hash, spanish text)]``."""
    parts = [HEADER.format(name=name)]
    for cell_id, stamp, text in blocks:
        parts.append(f"\n<!-- cell {cell_id} · en {stamp} -->\n{text.strip(chr(10))}\n")
    return "".join(parts)


def translation_path(notebook, folder=None):
    """Where the translation of ``notebooks/<stem>.ipynb`` lives."""
    notebook = Path(notebook)
    folder = Path(folder) if folder else notebook.parent / LANG / "translations"
    return folder / f"{notebook.stem}.md"


#: the id of the block that translates the notebook's ``summary`` metadata
SUMMARY = "metadata.summary"


def prose_of(notebook):
    """``{id: English text}`` of everything a translation replaces, in order."""
    prose = {c["id"]: cell_text(c) for c in notebook["cells"] if c["cell_type"] == "markdown"}
    if notebook.get("metadata", {}).get("summary"):
        prose[SUMMARY] = notebook["metadata"]["summary"]
    return prose


def problems(english, blocks):
    """What stops ``blocks`` from translating the notebook ``english`` (a dict): a list of lines."""
    found = []
    prose = prose_of(english)
    for cell_id, text in prose.items():
        if cell_id not in blocks:
            found.append(f"cell {cell_id}: no translation")
            continue
        stamp, spanish = blocks[cell_id]
        if stamp != english_hash(text):
            found.append(
                f"cell {cell_id}: the English changed since it was translated "
                f"(stamp {stamp}, now {english_hash(text)}): update the Spanish, then the stamp"
            )
        if not spanish.strip():
            found.append(f"cell {cell_id}: the translation is empty")
        elif looks_english(spanish):
            found.append(f"cell {cell_id}: the translation is still English")
    for cell_id in blocks.keys() - prose.keys():
        found.append(f"cell {cell_id}: translated, but no such prose cell in the English notebook")
    return found


def translate(english, blocks):
    """The Spanish notebook (a dict) from the English one and its translation blocks."""
    spanish = copy.deepcopy(english)
    for cell in spanish["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = blocks[cell["id"]][1].splitlines(keepends=True)
    spanish.setdefault("metadata", {})["language"] = LANG
    if SUMMARY in blocks:
        spanish["metadata"]["summary"] = blocks[SUMMARY][1]
    return spanish


def dumps(notebook):
    """A notebook's JSON text, written as the English notebooks are."""
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def load_blocks(path):
    """The translation blocks of one file; ``{}`` when there is none."""
    path = Path(path)
    return parse(path.read_text(encoding="utf-8")) if path.exists() else {}


def build(notebooks="notebooks", translations=None, check_only=False, prose_only=False):
    """Write (or, with ``check_only``, compare) ``<notebooks>/es/*.ipynb`` from
    ``<notebooks>/*.ipynb`` and the files in ``translations`` (default
    ``<notebooks>/es/translations``); return the problems found, one line each.
    ``prose_only``: only whether every prose cell has a current translation, writing
    nothing (``make report`` asks this before it runs the notebooks)."""
    notebooks = Path(notebooks)
    out = notebooks / LANG
    found = []
    english_notebooks = sorted(notebooks.glob("*.ipynb"))
    if not english_notebooks:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {str(notebooks)!r}")
    for path in english_notebooks:
        source = translation_path(path, translations)
        english = json.loads(path.read_text(encoding="utf-8"))
        blocks = load_blocks(source)
        wrong = problems(english, blocks)
        if wrong or prose_only:
            found += [f"{source.name}: {line}" for line in wrong]
            continue
        text = dumps(translate(english, blocks))
        target = out / path.name
        if check_only:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                found.append(f"{LANG}/{path.name}: out of date (python -m nnetreport translate)")
        else:
            out.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return found


def skeleton(notebook):
    """A translation file for ``notebook`` whose blocks still hold the English (to be translated)."""
    english = json.loads(Path(notebook).read_text(encoding="utf-8"))
    old = load_blocks(translation_path(notebook))
    blocks = []
    for cell_id, text in prose_of(english).items():
        stamp, spanish = old.get(cell_id, (english_hash(text), text))
        blocks.append((cell_id, stamp, spanish))
    return render(blocks, Path(notebook).name)
