#!/usr/bin/env python3
"""Page event latency: how long a station event takes to reach the page's DOM.

Each event carries its wall-clock emission time (time_ms); the page records, after it
updated the DOM, now - time_ms (window.pvStation.latencies()). This opens the page in
Debian's headless chromium before the boards arrive (with its own stand-in station the
boards wait until the page has subscribed: --arrive-when), waits until every board has ended
(verified, recorded, failed or abandoned tile), and prints the latency distribution.

  page_latency.py --url http://127.0.0.1:PORT/ --boards N     a station that runs already
                                                              (bench/station starts it)
  page_latency.py --fake-station BIN --boards 128 --span-ms 10000
                                                              its own stand-in station

--goal-p95-ms MS fails the run when the 95th percentile is above MS. Exit 77 without a
browser (scripts/deps/test-web.txt).
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "browser"))
from webdriver import (TILES, WebDriver, add_browser_options, fail, fresh_folder,  # noqa: E402
                       free_port, http, latency_summary, no_browser, wait_for)

ENDED = ("verified", "recorded", "failed", "abandoned")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--fake-station")
    ap.add_argument("--boards", type=int, default=128)
    ap.add_argument("--span-ms", type=int, default=10000)
    ap.add_argument("--flash-ms", type=int, default=1500)
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--goal-p95-ms", type=float)
    ap.add_argument("--out", default="page-latency-out")
    add_browser_options(ap)
    args = ap.parse_args()
    if bool(args.url) == bool(args.fake_station):
        ap.error("give --url or --fake-station")
    if no_browser(args):
        return 77
    fresh_folder(args.out)

    driver = WebDriver(args.chromedriver, args.chromium, args.out)
    driver.warm_up()
    station = None
    url = args.url
    gate = os.path.join(args.out, "boards-may-arrive")
    try:
        if args.fake_station:
            port = free_port()
            url = f"http://127.0.0.1:{port}/"
            log = open(os.path.join(args.out, "station.log"), "w")
            interval = args.span_ms // max(1, args.boards - 1)
            station = subprocess.Popen(
                [args.fake_station, "--listen", f"127.0.0.1:{port}", "--inventory",
                 os.path.join(args.out, "inventory.cfg"), "--boards", str(args.boards),
                 "--interval-ms", str(interval), "--flash-ms", str(args.flash_ms),
                 "--arrive-when", gate],
                stdout=log, stderr=subprocess.STDOUT)
        wait_for("the station's HTTP server", lambda: http("GET", url + "api/boards")[0] == 200,
                 15)
        t0 = time.monotonic()
        driver.cmd("POST", "/url", {"url": url})
        if station:
            wait_for("the page's event stream", lambda: driver.js(
                "return window.pvStation && window.pvStation.counts().snapshots > 0"), 90)
            with open(gate, "w"):
                pass

        def ended():
            tiles = driver.js(TILES) or []
            done = [t for t in tiles if t["state"] in ENDED]
            return tiles if len(done) >= args.boards else None

        tiles = wait_for(f"{args.boards} boards ended on the page", ended, args.timeout, 0.5)
        wall = time.monotonic() - t0
        lat = driver.js("return window.pvStation.latencies()")
        driver.screenshot(os.path.join(args.out, "page.png"))
        if not lat:
            fail("the page recorded no event latency")
        states = {}
        for t in tiles:
            states[t["state"]] = states.get(t["state"], 0) + 1
        print(f"page: {len(tiles)} tiles {states} after {wall:.1f} s")
        for t in [t for t in tiles if t["state"] in ("failed", "abandoned")][:3]:
            print(f"  {t['port']} {t['state']}: {t['reason']}")
        counts = driver.js("return window.pvStation.counts()")
        print(f"page: {counts['events']} events received, {counts['snapshots']} snapshots,"
              f" {counts['opens']} stream openings")
        print(f"page event latency (event -> DOM): {latency_summary(lat)}")
        p95 = sorted(lat)[min(len(lat) - 1, int(0.95 * len(lat)))]
        if args.goal_p95_ms is not None and p95 > args.goal_p95_ms:
            fail(f"p95 {p95:.1f} ms is over the goal of {args.goal_p95_ms:.0f} ms")
        return 0
    finally:
        driver.close()
        if station:
            station.send_signal(signal.SIGTERM)
            try:
                station.wait(20)
            except subprocess.TimeoutExpired:
                station.kill()


if __name__ == "__main__":
    sys.exit(main())
