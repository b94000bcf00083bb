"""Build the HTML report from the notebooks' STORED outputs (``make html``).

Nothing is executed: each notebook becomes one page through nbconvert's
JupyterLab template (``templates/nnetlib``, with previous / contents / next
links and no network resources), and ``index.html`` is the landing page
(``templates/landing.html.j2``, figures from :mod:`.headline`). MathJax is
copied into the folder, so the folder can be zipped and opened anywhere. The
Spanish edition (``notebooks/es``, built by :mod:`nnetreport.translation`) goes
to ``es/`` beside it, each page linked to its twin (:mod:`.language`).
"""

import datetime
import os
import pathlib
import platform
import re
import shutil
import subprocess

import jinja2

from . import headline
from .language import FOLDER, ROOT, WORDS, other, switch_href
from .pages import notebook_paths, read_page

TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"
MATHJAX_DIR = "mathjax"
MATHJAX_URL = MATHJAX_DIR + "/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
CSS = "site.css"
TITLE = WORDS["en"]["title"]


def mathjax_source():
    """MathJax 2's folder from the pip package jupyter-server-mathjax."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise ImportError(
            "the HTML report ships MathJax from the pip package jupyter-server-mathjax: "
            "`pip install jupyter-server-mathjax` (make venv installs it with the "
            "report extra)"
        ) from None
    return pathlib.Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


def copy_mathjax(out):
    """Copy MathJax (all but its translations: English is built in) to ``out/mathjax``.

    Skipped when ``out/mathjax`` already holds a complete copy of the same
    release (its stamp file is written last).
    """
    from importlib.metadata import version

    source, target = mathjax_source(), pathlib.Path(out) / MATHJAX_DIR
    stamp, wanted = (
        target / ".copied-from",
        f"jupyter-server-mathjax {version('jupyter-server-mathjax')}\n",
    )
    if stamp.is_file() and stamp.read_text() == wanted:
        return target
    shutil.copytree(
        source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("localization")
    )
    stamp.write_text(wanted)
    return target


def provenance(command, repo=None):
    """When, where and from which commit the site was built (shown in the landing page's footer)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu
            )
    except OSError:
        pass
    machine = (
        f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "commit": git_commit(repo),
        "command": command,
    }


def git_commit(repo=None):
    """Short commit of ``repo`` (default: this checkout), marked when files differ from it."""
    repo = pathlib.Path(repo) if repo else TEMPLATES.parents[3]

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return commit + (" with uncommitted changes" if dirty else "")


def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="nnetlib", extra_template_basedirs=[str(TEMPLATES)])


def rewrite_notebook_links(html, stems):
    """Links to ``<stem>.ipynb`` (with an optional #anchor) point to ``<stem>.html``."""
    pattern = re.compile(r'href="(?:\./)?([^"/#]+)\.ipynb(#[^"]*)?"')

    def repl(match):
        stem, anchor = match.group(1), match.group(2) or ""
        return f'href="{stem}.html{anchor}"' if stem in stems else match.group(0)

    return pattern.sub(repl, html)


def _neighbour(page):
    return {"href": page.html_name, "title": page.title} if page else None


def _site(lang, twins, name):
    """What every page of edition ``lang`` needs: asset paths, its words, the other edition's twin."""
    return {
        "mathjax": ROOT[lang] + MATHJAX_URL,
        "css": ROOT[lang] + CSS,
        "lang": lang,
        "contents": WORDS[lang]["contents"],
        "switch": {
            "href": switch_href(lang, name),
            "lang": twins[0],
            "name": WORDS[twins[0]]["name"],
        }
        if name in twins[1]
        else None,
    }


def write_pages(pages, out, lang="en", twins=("es", frozenset())):
    """One HTML page per notebook, from its stored outputs; returns the paths written.

    ``twins`` is the other edition's language and the page names it has: a page with a
    twin links to it."""
    import nbformat

    exporter, stems, written = _exporter(), {p.stem for p in pages}, []
    for k, page in enumerate(pages):
        site = _site(lang, twins, page.html_name)
        site["prev"] = _neighbour(pages[k - 1]) if k else None
        site["next"] = _neighbour(pages[k + 1]) if k + 1 < len(pages) else None
        nb = nbformat.read(page.path, as_version=4)
        html, _ = exporter.from_notebook_node(
            nb, resources={"site": site, "metadata": {"name": page.title}}
        )
        if lang != "en":
            html = html.replace('<html lang="en">', f'<html lang="{lang}">', 1)
        target = out / page.html_name
        target.write_text(rewrite_notebook_links(html, stems), encoding="utf-8")
        written.append(target)
    return written


def render_landing(
    pages, results, built, quick=False, results_label="notebooks/results", lang="en", twin=False
):
    """The HTML of ``index.html`` in edition ``lang`` (``twin``: the other edition has one)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    by_stem = {p.stem: p for p in pages}
    words = WORDS[lang]
    return env.get_template("landing.html.j2").render(
        title=words["title"],
        words=words,
        quick=quick,
        quick_stems=headline.quick_stems(results),
        pages=pages,
        tables=headline.tables(results, by_stem, lang),
        built=built,
        code_url="https://github.com/mateosss/nnet",
        results_label=results_label,
        site=_site(lang, (other(lang), {"index.html"} if twin else set()), "index.html"),
    )


def build_site(
    out, notebooks="notebooks", results=None, quick=False, command="make html", log=print
):
    """Build the report in ``out`` from ``notebooks/*.ipynb`` and the JSON results in ``results``.

    ``results`` defaults to ``<notebooks>/results``. Returns the path of
    ``index.html``. Stale ``*.html`` pages of notebooks no longer there are
    removed; other files in ``out`` (``report/quick/``) are left alone.
    """
    out, notebooks = pathlib.Path(out), pathlib.Path(notebooks)
    results = pathlib.Path(results) if results is not None else notebooks / "results"
    paths = notebook_paths(notebooks)
    if not paths:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {str(notebooks)!r}: nothing to build")
    spanish = notebooks / "es"
    editions = {"en": paths, "es": notebook_paths(spanish) if spanish.is_dir() else []}
    names = {lang: {p.stem + ".html" for p in found} for lang, found in editions.items()}
    out.mkdir(parents=True, exist_ok=True)
    copy_mathjax(out)
    shutil.copyfile(TEMPLATES / CSS, out / CSS)
    built, loaded = provenance(command, notebooks), headline.load_all(results)
    for lang, found in editions.items():
        where = out / FOLDER[lang]
        if not found:
            if lang != "en" and (where / "index.html").exists():
                shutil.rmtree(where)  # an edition no longer there
            continue
        where.mkdir(exist_ok=True)
        twin = other(lang)
        pages = [read_page(p) for p in found]
        written = write_pages(pages, where, lang, (twin, frozenset(names[twin])))
        for stale in set(where.glob("*.html")) - set(written) - {where / "index.html"}:
            stale.unlink()
        (where / "index.html").write_text(
            render_landing(
                pages,
                loaded,
                built,
                quick=quick,
                results_label=_label(results),
                lang=lang,
                twin=bool(editions[twin]),
            ),
            encoding="utf-8",
        )
        log(f"report ({WORDS[lang]['name']}): {len(pages)} notebook pages and {where.resolve()}")
    return out / "index.html"


def _label(path):
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(pathlib.Path(path).resolve().relative_to(pathlib.Path.cwd()))
    except ValueError:
        return str(path)
