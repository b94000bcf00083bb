"""The HTML report: built from the stored notebooks, checked in headless Chromium.

The site is built once into a temporary folder (nothing executed). Without a
browser only the static checks run; with Debian's chromium every page is
opened from file:// with no network, and must have no broken link, its
equations typeset by the MathJax inside the folder, and every figure loaded.
"""

import json
import os
import pathlib
import re
import urllib.parse

import pytest
from _chromium import Browser, require_chromium

pytest.importorskip("nbconvert")
pytest.importorskip("jupyter_server_mathjax", reason="make venv installs jupyter-server-mathjax")

from nnetreport.site import build, headline, notebook_paths, read_page  # noqa: E402
from nnetreport.site.cli import main as cli_main  # noqa: E402
from nnetreport.site.execute import execute, execution_order  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
pytestmark = pytest.mark.skipif(not notebook_paths(NOTEBOOKS), reason="no notebooks/*.ipynb yet")

# Everything in a page's visible text that MathJax should have replaced.
PAGE_REPORT_JS = r"""
(() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .MathJax, .MathJax_Display, .MathJax_Preview, '
                         + '.MJX_Assistive_MathML, .MathJax_MathML').forEach(e => e.remove());
  const text = clone.textContent;
  return {
    raw_math: (text.match(/\$[^$\n]+\$|\\\(|\\\[/g) || []).slice(0, 5),
    sources: document.querySelectorAll('script[type^="math/tex"]').length,
    typeset: document.querySelectorAll('span.MathJax').length,   // one frame per equation
    errors: document.querySelectorAll('.MathJax_Error, .merror, .noError').length,
    // MathJax_Blank points at about:blank on purpose (MathJax's font-loading probe)
    bad_fonts: [...document.fonts].filter(f => f.status === 'error' && !f.family.includes('MathJax_Blank'))
                                  .map(f => f.family),
    broken_images: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                                       .map(i => i.src.slice(0, 80)),
    images: document.images.length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    resources: [...document.querySelectorAll('script[src], link[href], img[src], iframe[src]')]
                 .map(e => e.src || e.href),
    ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.name),
    nav: [...document.querySelectorAll('nav a')].map(a => a.getAttribute('rel') || a.textContent),
  };
})()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    build.build_site(out, notebooks=NOTEBOOKS, log=lambda *a: None)
    return out


def _pages(site):
    return [p.stem for p in notebook_paths(NOTEBOOKS)]


def _spanish_pages():
    return [p.stem for p in notebook_paths(NOTEBOOKS / "es")]


def _every_page(site):
    """Every HTML page of both editions, as paths relative to the site."""
    english = ["index.html"] + [f"{s}.html" for s in _pages(site)]
    return english + [f"es/{name}" for name in english]


# ---------------------------------------------------------------- static checks


def test_landing_page_lists_every_notebook_with_its_title(site):
    index = (site / "index.html").read_text()
    assert "Implementación Red Feedforward" in index and "github.com/mateosss/nnet" in index
    for path in notebook_paths(NOTEBOOKS):
        page = read_page(path)
        assert f'href="{page.html_name}">{page.title}</a>' in index.replace("&amp;", "&")
        assert page.title != path.stem and page.summary_md, f"{path.name}: no heading or summary"
    assert re.search(r"Built \d{4}-\d\d-\d\d \d\d:\d\d UTC on .+ from commit <code>\w+", index)


def test_site_loads_nothing_from_the_network(site):
    pages = list(site.glob("*.html")) + list(site.glob("es/*.html"))
    assert len(pages) == 2 * (len(_pages(site)) + 1)
    for page in pages:
        html = page.read_text()
        remote = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?:[^"]+)"', html)
        assert not remote, f"{page.name} loads {remote[:3]}"
        up = "../" if page.parent.name == "es" else ""
        assert f'src="{up}mathjax/MathJax.js' in html, f"{page.name} has no local MathJax"
    assert (site / "mathjax" / "MathJax.js").is_file()


def test_every_notebook_page_links_previous_contents_next(site):
    stems = _pages(site)
    for k, stem in enumerate(stems):
        html = (site / f"{stem}.html").read_text()
        assert 'href="index.html"' in html
        tags = re.findall(r"<a [^>]*>", html)
        if k:
            assert sum('rel="prev"' in t and f'href="{stems[k - 1]}.html"' in t for t in tags) == 2
        if k + 1 < len(stems):
            assert sum('rel="next"' in t and f'href="{stems[k + 1]}.html"' in t for t in tags) == 2


def _switches(html):
    """``(hreflang, href, text)`` of each language link of a page (top and bottom)."""
    found = []
    for tag, text in re.findall(r'(<a [^>]*class="nn-lang"[^>]*>)([^<]*)</a>', html):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        found.append((attrs["hreflang"], attrs["href"], text))
    return found


def test_every_page_links_to_the_same_page_in_the_other_edition(site):
    assert _spanish_pages() == _pages(site)
    for name in ["index.html"] + [f"{s}.html" for s in _pages(site)]:
        english, spanish = (site / name).read_text(), (site / "es" / name).read_text()
        assert _switches(english) == [("es", f"es/{name}", "Español")] * (
            1 if name == "index.html" else 2
        )
        assert _switches(spanish) == [("en", f"../{name}", "English")] * (
            1 if name == "index.html" else 2
        )
        assert '<html lang="es"' in spanish and '<html lang="es"' not in english


def test_the_spanish_landing_page_lists_every_spanish_notebook(site):
    index = (site / "es" / "index.html").read_text().replace("&amp;", "&")
    assert "De qué trata este informe" in index and "Implementación Red Feedforward" in index
    titles = 0
    for path in notebook_paths(NOTEBOOKS / "es"):
        page, english = read_page(path), read_page(NOTEBOOKS / path.name)
        assert f'href="{page.html_name}">{page.title}</a>' in index
        assert page.summary_md and page.summary_md != english.summary_md, path.name
        assert page.summary_md.count("**") % 2 == 0 and not page.summary_md.endswith("ec."), (
            page.summary_md  # never cut after "ec." (the Spanish "eq."), nor inside bold
        )
        titles += page.title != english.title
    assert titles >= len(_pages(site)) - 1  # "03 · Python, NumPy, Cython" reads the same
    assert 'href="../site.css"' in index and re.search(r"Generado el \d{4}-\d\d-\d\d", index)


def test_the_spanish_landing_page_is_html_not_escaped_html(site):
    index = (site / "es" / "index.html").read_text()
    assert "&lt;" not in index.split("<body", 1)[1], "markup escaped into the Spanish page's text"
    assert "<code>" in index and '<html lang="es">' in index


def test_the_headline_tables_in_spanish_carry_the_same_figures():
    results = headline.load_all(NOTEBOOKS / "results")
    pages = {p.stem: read_page(p) for p in notebook_paths(NOTEBOOKS / "es")}
    english, spanish = headline.tables(results, pages), headline.tables(results, pages, "es")
    assert len(spanish) == len(english)
    kept = {"notebook", "de Mayo (2021)", "÷ torch"}
    for en, es in zip(english, spanish):
        assert es["title"] != en["title"]
        assert all(e != n or n in kept for e, n in zip(es["header"], en["header"])), es["header"]
        for row_en, row_es in zip(en["rows"], es["rows"]):
            assert str(row_es[0]) != str(row_en[0]) or str(row_en[0]) in (
                "Nnet",
                "Nnet*",
                "PyTorch",
            )
            for cell_en, cell_es in zip(row_en[1:], row_es[1:]):  # the same numbers
                assert re.findall(r"[\d.]+", str(cell_es)) == re.findall(r"[\d.]+", str(cell_en))
    cells = [str(c) for t in spanish for row in t["rows"] for c in row]
    assert not any(" to " in c or "thread" in c or "not yet computed" in c for c in cells)
    empty = headline.tables({}, pages, "es")
    assert "todavía sin calcular" in str(empty[0]["rows"][0][1])


def test_a_site_without_the_spanish_notebooks_has_no_switch(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    path = notebook_paths(NOTEBOOKS)[0]
    (folder / path.name).write_bytes(path.read_bytes())
    build.build_site(tmp_path / "out", notebooks=folder, log=lambda *a: None)
    html = (tmp_path / "out" / f"{path.stem}.html").read_text()
    assert "nn-lang" not in html and not (tmp_path / "out" / "es").exists()


def test_missing_results_read_not_yet_computed(tmp_path):
    pages = [read_page(p) for p in notebook_paths(NOTEBOOKS)]
    html = build.render_landing(pages, {}, build.provenance("test"))
    assert html.count("not yet computed") >= 10
    assert "91 %" in html and "0.0547" in html  # the article's column is still there


def test_saved_results_reach_the_landing_page():
    pages = [read_page(p) for p in notebook_paths(NOTEBOOKS)]
    results = {
        "04-mnist-classifier": {
            "quick": False,
            "test_accuracy": {"Nnet": {"mean": 0.91234, "sd": 0.0021, "n": 5}},
        },
        "06-timing-table": {
            "quick": True,
            "classifier": {
                "batch_s": {
                    "np1": {"median": 0.5},
                    "tr1": {"median": 0.25},
                    "cy1": {"median": 0.125, "min": 0.1, "max": 0.2, "n": 7},
                }
            },
            "threads_N": 2,
        },
        "01-derivation": {"eq1_rel_vs_autograd": 3.2e-15},
    }
    html = build.render_landing(pages, results, build.provenance("test"))
    assert "91.2 % ± 0.2 % (n = 5)" in html
    assert "0.5 s" in html and "2×" in html and "cy, 2 threads" in html
    assert "0.125 s (0.1 s to 0.2 s, n = 7)" in html and "0.5×" in html
    assert "7.5 s" in html  # the same cy figure per epoch of 60 batches
    assert "3.2e-15" in html
    assert "06-timing-table were saved by a classroom run" in html


def test_load_all_skips_unreadable_files(tmp_path):
    (tmp_path / "04-mnist-classifier.json").write_text(json.dumps({"test_accuracy": {}}))
    (tmp_path / "broken.json").write_text("{not json")
    assert headline.load_all(tmp_path) == {"04-mnist-classifier": {"test_accuracy": {}}}
    assert headline.load_all(tmp_path / "absent") == {}


def test_links_to_notebooks_become_links_to_pages():
    html = '<a href="02-gradient-checks.ipynb#Eq-1">x</a><a href="other.ipynb">y</a>'
    assert (
        build.rewrite_notebook_links(html, {"02-gradient-checks"})
        == '<a href="02-gradient-checks.html#Eq-1">x</a><a href="other.ipynb">y</a>'
    )


def test_build_refuses_a_folder_without_notebooks(tmp_path):
    with pytest.raises(FileNotFoundError, match="no notebooks"):
        build.build_site(tmp_path / "out", notebooks=tmp_path)
    assert not (tmp_path / "out").exists()
    assert cli_main(["build", "--notebooks", str(tmp_path / "absent"), "--out", str(tmp_path)]) == 2


def test_summary_notebooks_execute_first_and_last():
    order = execution_order(
        ["notebooks/02-b.ipynb", "notebooks/00-overview.ipynb", "notebooks/01-a.ipynb"]
    )
    assert [p.name for p in order] == [
        "00-overview.ipynb",
        "01-a.ipynb",
        "02-b.ipynb",
        "00-overview.ipynb",
    ]
    assert [p.name for p in execution_order(["notebooks/00-overview.ipynb"])] == [
        "00-overview.ipynb"
    ]
    with pytest.raises(ValueError, match="timeout must be positive"):
        execute(["notebooks/01-a.ipynb"], timeout=0)


def _tiny_notebook(path):
    """A notebook that prints its run size and, in classroom mode only, saves a result."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Tiny\n\nRuns in a second: $x = 1$."),
        nbformat.v4.new_code_cell(
            "import os\nfrom nnetreport.results import quick, save_results\n"
            "print('NNETLIB_QUICK', os.environ.get('NNETLIB_QUICK'), quick())\n"
            "if quick():\n    save_results('99-tiny', {'x': 1})"
        ),
    ]
    nbformat.write(nb, path)
    return path


def _stdout(path):
    import nbformat

    cell = nbformat.read(path, as_version=4).cells[1]
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


def test_quick_mode_runs_copies_and_full_mode_runs_in_place(tmp_path, monkeypatch):
    pytest.importorskip("nbclient")
    (tmp_path / "nb").mkdir()
    source = _tiny_notebook(tmp_path / "nb" / "99-tiny.ipynb")
    stored = source.read_bytes()
    quick_dir = tmp_path / "quick"
    monkeypatch.delenv("NNETLIB_QUICK", raising=False)
    times = execute([source], quick=True, out=quick_dir, log=lambda *a: None)
    assert (
        set(times) == {"99-tiny.ipynb"}
        and 0 < times["99-tiny.ipynb"][1] < times["99-tiny.ipynb"][0]
    )
    assert source.read_bytes() == stored  # never over the stored notebook
    assert "NNETLIB_QUICK 1 True" in _stdout(quick_dir / "99-tiny.ipynb")
    assert json.loads((quick_dir / "results" / "99-tiny.json").read_text()) == {
        "quick": True,
        "x": 1,
    }
    assert "NNETLIB_QUICK" not in os.environ  # the caller's environment is restored
    build.build_site(
        quick_dir,
        notebooks=quick_dir,
        results=quick_dir / "results",
        quick=True,
        log=lambda *a: None,
    )
    assert "Classroom run" in (quick_dir / "index.html").read_text()

    monkeypatch.setenv("NNETLIB_QUICK", "1")  # a leftover switch in the shell
    execute([source], quick=False, log=lambda *a: None)
    assert "NNETLIB_QUICK 0 False" in _stdout(source)  # full size, in place


def test_a_check_writes_no_results(tmp_path, monkeypatch, capsys):
    """save_results writes only where the run asks (NNETLIB_RESULTS): a check
    (nbval, a notebook opened by hand) leaves the stored figures alone."""
    from nnetreport import results

    monkeypatch.delenv("NNETLIB_RESULTS", raising=False)
    assert results.save_results("99-never", {"x": 1}) is None
    assert "not written" in capsys.readouterr().out
    assert not (results.FULL_DIR / "99-never.json").exists()
    monkeypatch.setenv("NNETLIB_RESULTS", str(tmp_path))
    path = results.save_results("99-asked", {"x": 2})
    assert path == tmp_path / "99-asked.json" and "saved 99-asked.json" in capsys.readouterr().out
    assert results.load_results("99-asked") == {"quick": False, "x": 2}


@pytest.mark.skipif(not os.path.exists("/usr/bin/make"), reason="needs make")
def test_nbval_runs_without_a_results_folder():
    import subprocess

    root = pathlib.Path(__file__).resolve().parent.parent
    recipe = subprocess.run(
        ["make", "-n", "nbval", "STAMP=/dev/null"], cwd=root, capture_output=True, text=True
    ).stdout
    (line,) = [ln for ln in recipe.splitlines() if "pytest --nbval " in ln]
    assert "env -u NNETLIB_RESULTS" in line and "NNETLIB_RESULTS=" not in line


# ---------------------------------------------------------------- in the browser


def _local_targets(page, report):
    """``(problems, anchors)``: local links and resources that are missing, and the
    ``(page, target, #anchor)`` links to check once every page's ids are known.
    Remote links are not followed (the report is checked offline)."""
    problems, anchors = [], []
    for url in report["links"] + report["resources"]:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("http", "https", "mailto", "data"):
            continue
        target = pathlib.Path(urllib.parse.unquote(parts.path))
        if parts.scheme != "file" or not target.is_file():
            problems.append(f"{page}: broken link {url}")
        elif parts.fragment and target.suffix == ".html":
            anchors.append((page, target.as_posix(), parts.fragment))
    return problems, anchors


def _check_page(name, browser):
    """Open one page, wait for MathJax, assert what the issue asks; returns the page's report."""
    browser.wait_for(
        "document.documentElement.getAttribute('data-math') === 'done'",
        what=f"MathJax typesetting of {name}",
    )
    report = browser.evaluate(PAGE_REPORT_JS)
    failed = browser.failed_loads()
    assert not failed, f"{name}: failed loads {failed[:3]}"
    assert not report["raw_math"], f"{name}: raw math left in the text: {report['raw_math']}"
    assert report["typeset"] == report["sources"], (
        f"{name}: {report['sources']} equations, {report['typeset']} typeset"
    )
    assert report["errors"] == 0, f"{name}: {report['errors']} MathJax errors"
    assert not report["bad_fonts"], f"{name}: fonts failed {report['bad_fonts']}"
    assert not report["broken_images"], f"{name}: figures not loaded {report['broken_images']}"
    assert {"Contents", "Índice"} & set(report["nav"]) or name.endswith("index.html"), (
        f"{name}: no navigation"
    )
    return report


@pytest.mark.slow  # a headless browser, ~11 s
def test_site_in_headless_chromium(site, tmp_path):
    require_chromium()
    ids, problems, anchors, typeset, images = {}, [], [], 0, 0
    with Browser(tmp_path / "profile", timeout=45) as browser:
        for name in _every_page(site):
            browser.goto((site / name).as_uri())
            report = _check_page(name, browser)
            ids[(site / name).as_posix()] = set(report["ids"])
            typeset, images = typeset + report["typeset"], images + report["images"]
            missing, links = _local_targets(name, report)
            problems, anchors = problems + missing, anchors + links
    # as browsers do: the fragment as written, else percent-decoded
    problems += [
        f"{page}: no #{frag} in {target}"
        for page, target, frag in anchors
        if not {frag, urllib.parse.unquote(frag)} & ids.get(target, set())
    ]
    assert not problems, "\n".join(problems[:10])
    assert typeset > 0 and images > 0
