"""Headless Chromium driven over the DevTools protocol, for the browser tests.

Debian's ``chromium`` (``.ci/run`` installs it when missing) and the
``websocket-client`` package (a dependency of jupyter_server) are all it
needs: no driver binary, nothing fetched. Used by tests/test_site.py (the
HTML report) and tests/test_lab.py (JupyterLab).
"""

import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

#: flags for a machine with no network and, in CI, root: no sandbox, no GPU,
#: no background traffic to Google's services, a fresh profile every time
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]


def chromium_path():
    """The Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium():
    """Chromium's path, or skip the test saying how to get it."""
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no Chromium on this machine: `apt-get install chromium` (Debian; .ci/run does it "
            "when it can) to run the browser tests"
        )
    pytest.importorskip(
        "websocket", reason="websocket-client is missing: pip install websocket-client"
    )
    return path


class Browser:
    """One headless Chromium with one tab, driven over CDP (``with Browser(tmp) as b: ...``)."""

    def __init__(self, profile, timeout=30):
        import websocket

        self.timeout, self.events, self._ids = timeout, [], itertools.count(1)
        os.makedirs(profile, exist_ok=True)
        port_file = os.path.join(profile, "DevToolsActivePort")
        if os.path.exists(port_file):  # left by an earlier run with this profile
            os.remove(port_file)
        self.proc = subprocess.Popen(
            [
                chromium_path(),
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port = self._port(port_file)
            url = self._page_ws(port)
            self.ws = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
            for domain in ("Page", "Runtime", "Network", "Log"):
                self.send(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    def _port(self, path):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited at start-up with code {self.proc.returncode}")
            try:
                with open(path) as f:
                    return int(f.readline())
            except (OSError, ValueError):
                time.sleep(0.1)
        raise TimeoutError(f"chromium wrote no {path} in {self.timeout} s")

    def _page_ws(self, port):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
            except OSError:  # not listening yet
                pages = []
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise TimeoutError("chromium opened no tab")

    def send(self, method, **params):
        """Call a CDP method and return its result; events received meanwhile go to ``events``."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def goto(self, url):
        """Open ``url`` and wait for its load event; returns the events of that load."""
        self.events.clear()
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise RuntimeError(f"{url}: {result['errorText']}")
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load in {self.timeout} s")
            self.events.append(json.loads(self.ws.recv()))
        return self.events

    def evaluate(self, expression):
        """The JSON value of a JavaScript expression (promises awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=None, what="condition"):
        """Poll ``expression`` until it is truthy; returns its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not reached in {timeout or self.timeout} s")
            time.sleep(0.25)

    def failed_loads(self):
        """``"URL: error"`` for each request of the last page load that failed (about: pages aside)."""
        urls = {
            e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        }
        failed = [
            (urls.get(e["params"]["requestId"], "?"), e["params"].get("errorText"))
            for e in self.events
            if e.get("method") == "Network.loadingFailed"
        ]
        return [f"{url[:100]}: {error}" for url, error in failed if not url.startswith("about:")]

    def close(self):
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
