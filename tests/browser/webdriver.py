"""WebDriver (W3C, over Debian's chromedriver) for the station page: the browser test
(tests/browser/test_page.py) and the page-latency bench (bench/web/page_latency.py).
Only the Python standard library: WebDriver is plain HTTP + JSON."""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

CHROMIUM_FLAGS = [
    # As root (CI) the sandbox cannot start; the browser only ever sees our own page.
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1440,1000", "--force-device-scale-factor=1",
]
TILES = "return window.pvStation ? window.pvStation.tiles() : null"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=10):
    """(status, parsed JSON or raw bytes, headers) of one request; HTTP errors included."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw, status, hdrs = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    try:
        return status, json.loads(raw), hdrs
    except ValueError:
        return status, raw, hdrs


def wait_for(what, check, timeout, interval=0.1):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = check()
            if last:
                return last
        except (OSError, urllib.error.URLError) as e:
            last = e
        time.sleep(interval)
    fail(f"{what}: not within {timeout} s (last: {last!r})")


class WebDriver:
    def __init__(self, driver_bin, chromium_bin, out):
        self.port = free_port()
        self.log = open(os.path.join(out, "chromedriver.log"), "w")
        self.proc = subprocess.Popen([driver_bin, f"--port={self.port}"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_for("chromedriver", lambda: http("GET", self.base + "/status")[1]["value"]["ready"],
                 60)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium_bin,
                "args": CHROMIUM_FLAGS + [f"--user-data-dir={os.path.join(out, 'profile')}"],
            },
        }}}
        status, reply, _ = http("POST", self.base + "/session", caps, timeout=120)
        if status != 200:
            fail(f"chromedriver would not start chromium: {reply}")
        self.session = f"{self.base}/session/{reply['value']['sessionId']}"

    def warm_up(self):
        """Open a blank page: the first navigation starts the renderer, seconds on a loaded
        machine; done before the station starts, the station page then opens in about 1 s."""
        self.cmd("POST", "/url", {"url": "data:text/html,<title>warm-up</title>"})

    def cmd(self, method, path, body=None):
        status, reply, _ = http(method, self.session + path, body, timeout=90)
        if status != 200:
            fail(f"webdriver {path}: {status} {reply}")
        return reply["value"]

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))

    def close(self):
        try:
            http("DELETE", self.session, timeout=10)
        except OSError:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def add_browser_options(ap):
    """--chromium and --chromedriver (Debian's paths unless $PIPROV_CHROMIUM/_CHROMEDRIVER)."""
    ap.add_argument("--chromium", default=os.environ.get("PIPROV_CHROMIUM", "/usr/bin/chromium"))
    ap.add_argument("--chromedriver",
                    default=os.environ.get("PIPROV_CHROMEDRIVER", "/usr/bin/chromedriver"))


def no_browser(args):
    """True (after saying why: the caller exits 77) when chromium or chromedriver is missing."""
    for name, path in (("chromium", args.chromium), ("chromedriver", args.chromedriver)):
        if not os.access(path, os.X_OK):
            print(f"SKIP: {name} not found at {path} (install chromium chromium-driver: "
                  "scripts/deps/test-web.txt)")
            return True
    return False


def fresh_folder(path):
    """An empty output folder (what a previous run left is removed)."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def latency_summary(lat):
    """'N events, median X ms, p95 Y ms, max Z ms' of a list of milliseconds."""
    lat = sorted(lat)
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    return (f"{len(lat)} events, median {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms,"
            f" p99 {pct(0.99):.1f} ms, max {lat[-1]:.1f} ms")
