"""JupyterLab renders the notebooks, math included, offline.

Starts JupyterLab (``--allow-root`` where the user is root, as ``make lab``
does) on a free loopback port with a token, in a temporary Jupyter home with a
copy of notebook 01, opens the notebook in headless Chromium and checks that
its Markdown is rendered with the equations typeset by the MathJax inside
JupyterLab's own bundle, and that the page asked nothing of any other host.
The server and its kernels are always shut down.
"""

import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from _chromium import Browser, require_chromium

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK = "01-derivation.ipynb"
START_TIMEOUT = 90

# Rendered Markdown cells: how many equations MathJax 3 typeset, and any $...$ left as text.
MARKDOWN_JS = r"""
(() => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-MarkdownCell .jp-RenderedMarkdown')];
  const raw = [];
  for (const cell of cells) {
    const clone = cell.cloneNode(true);
    clone.querySelectorAll('mjx-container, code, pre, script, style').forEach(e => e.remove());
    raw.push(...(clone.textContent.match(/\$[^$\n]+\$|\\\(|\\\[/g) || []));
  }
  return {cells: cells.length, typeset: document.querySelectorAll('.jp-NotebookPanel mjx-container').length,
          raw: raw.slice(0, 5), errors: document.querySelectorAll('.jp-NotebookPanel mjx-merror').length,
          heading: (document.querySelector('.jp-NotebookPanel .jp-RenderedMarkdown h1') || {}).textContent};
})()
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


def _request(url, method):
    urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10).close()


def _wait_for_server(proc, base, token, log):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"JupyterLab exited with code {proc.returncode}:\n{log.read_text()[-2000:]}"
            )
        try:
            if _get(f"{base}/api/status?token={token}")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(
        f"JupyterLab did not answer in {START_TIMEOUT} s:\n{log.read_text()[-2000:]}"
    )


def _stop(proc, base, token):
    """Shut the kernels down through the API, then the server; kill what does not stop."""
    import json

    try:
        for kernel in json.loads(_get(f"{base}/api/kernels?token={token}")[1]):
            _request(f"{base}/api/kernels/{kernel['id']}?token={token}", "DELETE")
    except OSError:
        pass
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this test started
            proc.wait()


@pytest.fixture
def lab(tmp_path):
    """``(base_url, token)`` of a JupyterLab serving a copy of notebook 01, in English and,
    in ``es/``, in Spanish."""
    lab_bin = pathlib.Path(sys.executable).with_name("jupyter-lab")
    if not lab_bin.exists():
        pytest.skip("jupyter-lab is not installed in this environment (make venv installs it)")
    if not (ROOT / "notebooks" / NOTEBOOK).exists():
        pytest.skip(f"notebooks/{NOTEBOOK} is missing")
    (tmp_path / "nb" / "es").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / "nb")
    shutil.copy(ROOT / "notebooks" / "es" / NOTEBOOK, tmp_path / "nb" / "es")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        NNETLIB_PROGRESS="0",
    )
    env.pop("MPLBACKEND", None)
    args = [
        str(lab_bin),
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path / 'nb'}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    log = tmp_path / "lab.log"
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        _wait_for_server(proc, base, token, log)
        yield base, token
    finally:
        _stop(proc, base, token)


@pytest.mark.slow  # starts JupyterLab and a browser, ~11 s each
@pytest.mark.parametrize(
    "path, title", [(NOTEBOOK, "Deriving"), (f"es/{NOTEBOOK}", "Derivación")], ids=["en", "es"]
)
def test_jupyterlab_renders_notebook_math_offline(lab, tmp_path, path, title):
    require_chromium()
    base, token = lab
    with Browser(tmp_path / "profile", timeout=90) as browser:
        browser.goto(f"{base}/lab/tree/{path}?reset&token={token}")
        state = browser.wait_for(
            f"(() => {{ const r = {MARKDOWN_JS}; return r.cells > 0 && r.typeset >= 5 && !r.raw.length && r; }})()",
            timeout=90,
            what="the notebook's Markdown rendered with its math typeset",
        )
        requested = [
            e["params"]["request"]["url"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
    # waited for above: MathJax typesets the cells one by one, so asserting the
    # count at the first typeset equation was a race
    assert state["errors"] == 0, f"{state['errors']} MathJax errors in the notebook"
    assert state["typeset"] >= 5, state
    assert title in (state["heading"] or ""), state["heading"]
    elsewhere = [u for u in requested if not u.startswith((base, "data:", "blob:", "about:"))]
    assert not elsewhere, f"JupyterLab asked other hosts: {elsewhere[:5]}"
