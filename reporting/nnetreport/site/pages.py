"""The notebooks of the report as pages: order, title and one-line summary.

A page's title is the notebook's first Markdown heading ("01 · Deriving
frontpropagation"); its summary is the notebook metadata ``summary`` if set,
else the first paragraph after that heading that is not the citation of the
article (every notebook opens with it), cut to about one line.
"""

import dataclasses
import pathlib
import re

import nbformat
from markupsafe import Markup

#: summaries longer than this are cut at a sentence end (or a word) before it
SUMMARY_CHARS = 260

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_CITATION = re.compile(r"github\.com/mateosss/nnet|Implementaci[oó]n Red Feedforward")
# a sentence ends at ". " before a capital, except after "eq." / "ec." (Spanish) / "e.g." / "i.e."
_SENTENCE_END = re.compile(r"(?<!\beq)(?<!\bec)(?<!\be\.g)(?<!\bi\.e)[.:]\s+(?=[A-Z(*`$])")


@dataclasses.dataclass(frozen=True)
class Page:
    """One notebook of the report."""

    path: pathlib.Path
    title: str
    summary_md: str

    @property
    def stem(self):
        return self.path.stem

    @property
    def html_name(self):
        return self.stem + ".html"

    @property
    def summary_html(self):
        """The summary as inline HTML; math stays as $...$ for MathJax."""
        from nbconvert.filters.markdown_mistune import markdown2html_mistune

        html = markdown2html_mistune(self.summary_md).strip()
        html = re.sub(r"^<p>(.*)</p>$", r"\1", html, flags=re.S)
        return Markup(html)


def notebook_paths(folder):
    """``folder/*.ipynb`` in name order (``00-overview`` first); checkpoints left out."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"notebooks folder {str(folder)!r} does not exist")
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def _plain_heading(text):
    """Heading text without Markdown emphasis, code marks or a trailing anchor."""
    return re.sub(r"[*_`]+", "", text).strip()


def _paragraphs(source):
    """Blocks of a Markdown cell, each joined into one line; a heading is a block of its own."""
    blocks, current = [], []
    for line in source.splitlines() + [""]:
        if not line.strip() or _HEADING.match(line):
            if current:
                blocks.append(" ".join(current))
            current = []
            if line.strip():
                blocks.append(line.strip())
        else:
            current.append(line.strip())
    return blocks


def _shorten(text, limit=SUMMARY_CHARS):
    """``text`` cut at the last sentence end before ``limit`` (else at a word, with an ellipsis)."""
    if len(text) <= limit:
        return re.sub(r":$", ".", text)  # a lead-in to a list reads as a sentence
    ends = [m.start() + 1 for m in _SENTENCE_END.finditer(text) if m.start() < limit]
    if ends:
        return text[: ends[-1]].rstrip(":").rstrip() + ("." if text[ends[-1] - 1] == ":" else "")
    cut = text[:limit].rsplit(" ", 1)[0]
    if cut.count("$") % 2:  # never cut inside inline math
        cut = cut[: cut.rfind("$")].rstrip()
    return cut + " …"


def _is_prose(paragraph):
    """A paragraph that can summarise: not a heading, table, list, quote, fence or citation."""
    if _CITATION.search(paragraph):
        return False
    return not re.match(r"\s*([#|>`]|[-*+] |\d+\. |\$\$|<)", paragraph)


def read_page(path):
    """The :class:`Page` of the notebook at ``path`` (its stored outputs are not touched)."""
    path = pathlib.Path(path)
    nb = nbformat.read(path, as_version=4)
    title, summary = None, nb.metadata.get("summary")
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for paragraph in _paragraphs(cell.source):
            match = _HEADING.match(paragraph) if title is None else None
            if match:
                title = _plain_heading(match.group(2))
            elif title is not None and summary is None and _is_prose(paragraph):
                summary = _shorten(paragraph)
        if title is not None and summary is not None:
            break
    return Page(path=path, title=title or path.stem, summary_md=summary or "")
