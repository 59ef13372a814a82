#!/usr/bin/env python3
"""The station page in a real browser: Debian's headless chromium, driven over WebDriver by
Debian's chromedriver (plain HTTP + JSON, so nothing but the standard library is needed).

Starts a station whose 4 boards wait for a file (the virtual Pi's arrive-when=PATH), opens
the page, and only once the page has subscribed to the event stream (its first snapshot
arrived) creates the file: the boards then arrive 1 s apart, one failing. It reads the DOM
without reloading until 3 tiles say verified and one says failed with its reason, and checks
from the page's own record of the events it applied that every tile went through a busy
state to its end on this page load (waiting on state, never on a time window: a loaded
machine only makes it slower). Keeps screenshots in --out; checks that the JSON API agrees
with the inventory file (as `piprov inventory list --json` reads it) and that a board whose
metadata holds <script> shows it as text. Prints the time it took and the page's event
latency (event emitted -> DOM updated, measured in the page against the event's wall-clock
time).

  test_page.py --out DIR --piprov BIN --virtual SPEC...     `piprov station --virtual ...`
  test_page.py --out DIR --piprov BIN --fake-station BIN    the server over a fake source

Exit 77 (skipped) when chromium or chromedriver is not installed (scripts/deps/test-web.txt).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import (TILES, WebDriver, add_browser_options, fail, fresh_folder,  # noqa: E402
                       free_port, http, latency_summary, no_browser, wait_for)

# Generous: on a machine at load average 15+ everything is slower, and the test waits on
# what the page shows, so only a hang should reach these.
DEADLINE_S = 150
OPEN_S = 90
BOARDS = 4
BUSY = ("arrived", "flashing", "verifying")
ENDED = ("verified", "recorded", "failed", "abandoned")


def start_station(args, port, out, gate):
    inventory = os.path.join(out, "inventory.cfg")
    token = os.path.join(out, "token")
    if args.fake_station:
        cmd = [args.fake_station, "--listen", f"127.0.0.1:{port}", "--inventory", inventory,
               "--token-file", token, "--boards", str(BOARDS), "--interval-ms", "1000",
               "--arrive-when", gate]
    else:
        cmd = [args.piprov, "station", "--listen", f"127.0.0.1:{port}", "--preset", "network",
               "--inventory", inventory, "--token-file", token,
               "--ip-pool", "10.0.0.11-10.0.0.50", "--hostname-pattern", "node-%02d"]
        for spec in args.virtual:
            # Every board waits for the gate; arrive-after/-every count from it.
            cmd += ["--virtual", f"{spec},arrive-when={gate}"]
    log = open(os.path.join(out, "station.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    return proc, log, inventory


def retry_from_page(driver, args, base, board, inventory):
    serial, port = board["serial"], board["port"]
    before = len((driver.js("return window.pvStation.stateLog()") or {}).get(port, []))
    driver.js("document.querySelector(`.tile[data-serial='${arguments[0]}']`).click();"
              "return true", serial)
    wait_for("the failed board's details", lambda: driver.js(
        "return !document.getElementById('detail').hidden"), 30)
    driver.js("document.querySelector('.actions button[data-action=retry]').click();"
              "return true")
    wait_for("the token form", lambda: driver.js(
        "return !document.getElementById('token-form').hidden"), 30)
    with open(os.path.join(args.out, "token"), encoding="ascii") as f:
        token = f.read().strip()
    driver.js("document.getElementById('token').value = arguments[0];"
              "document.getElementById('token-form').requestSubmit(); return true", token)
    wait_for("'retry: accepted' on the page", lambda: driver.js(
        "return document.getElementById('action-result').textContent") == "retry: accepted",
        30)

    def verified_again():
        tiles = [t for t in (driver.js(TILES) or []) if t["port"] == port]
        states = (driver.js("return window.pvStation.stateLog()") or {}).get(port, [])[before:]
        if tiles and tiles[0]["state"] in ("verified", "recorded") and \
                any(st in BUSY for st in states):
            return states
        return None

    states = wait_for(f"board {serial} verified after the retry", verified_again, DEADLINE_S)
    listed = subprocess.run([args.piprov, "inventory", "list", "--json", "--inventory",
                             inventory], capture_output=True, text=True, check=False)
    if listed.returncode != 0 or serial not in [r["serial"] for r in json.loads(listed.stdout)]:
        fail(f"board {serial} verified after the retry but not in {inventory}: {listed.stdout}")
    status, api, _ = http("GET", f"{base}/api/boards/{serial}")
    if status != 200 or api.get("state") not in ("verified", "recorded"):
        fail(f"GET /api/boards/{serial} after the retry: {status} {api!r}")
    print(f"retry: from the page with the token, {port} went {'>'.join(states)} and is recorded")
    driver.screenshot(os.path.join(args.out, "retried.png"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--piprov", required=True)
    ap.add_argument("--fake-station")
    ap.add_argument("--virtual", action="append", default=[])
    add_browser_options(ap)
    args = ap.parse_args()
    if no_browser(args):
        return 77
    fresh_folder(args.out)
    t_start = time.monotonic()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The browser first: it takes seconds to start (the boards wait for the page anyway).
    driver = WebDriver(args.chromedriver, args.chromium, args.out)
    driver.warm_up()
    t_browser = time.monotonic() - t_start
    gate = os.path.join(args.out, "boards-may-arrive")
    station, station_log, inventory = start_station(args, port, args.out, gate)
    try:
        wait_for("the station's HTTP server", lambda: http("GET", base + "/api/boards")[0] == 200,
                 30)
        t_page = time.monotonic()
        driver.cmd("POST", "/url", {"url": base + "/"})
        # Marks this page load: if the page reloaded, the mark would be gone.
        driver.js("window.pvLoadMark = 'first-load'; return true")
        # The page is subscribed once the stream's first message (the snapshot) was applied.
        wait_for("the page's event stream", lambda: driver.js(
            "return window.pvStation && window.pvStation.counts().snapshots > 0"), OPEN_S, 0.1)
        t_loaded = time.monotonic() - t_page
        early = driver.js(TILES) or []
        if early:
            fail(f"boards on the page before the gate was opened: {early!r}")
        with open(gate, "w"):
            pass

        def settled():
            tiles = driver.js(TILES) or []
            done = [t for t in tiles if "verified" in t["text"].lower()
                    and t["state"] in ("verified", "recorded")]
            failed = [t for t in tiles if t["state"] == "failed" and t["reason"].strip()]
            return (tiles, done, failed) if len(done) == 3 and len(failed) == 1 else None

        tiles, done, failed = wait_for("3 tiles verified and 1 failed", settled, DEADLINE_S, 0.1)
        t_settled = time.monotonic() - t_page
        if driver.js("return window.pvLoadMark || null") != "first-load":
            fail("the page reloaded")
        # Live, not a snapshot of boards that were done: the page subscribed before any board
        # arrived, so every tile must have gone through a busy state to its end from events,
        # as the page itself recorded them (polling the DOM could miss a short state).
        log = driver.js("return window.pvStation.stateLog()") or {}
        for t in tiles:
            states = log.get(t["port"], [])
            busy = [s for s in states if s in BUSY]
            if not busy or states[-1] not in ENDED:
                fail(f"tile {t['port']} ({t['state']}): the page's events took it through"
                     f" {states!r}, wanted a busy state then its end")
        print(f"page: subscribed {t_loaded:.1f} s after opening; every board seen live: "
              + ", ".join(f"{p} {'>'.join(s)}" for p, s in sorted(log.items())))
        print(f"page: {len(done)} verified, failed {failed[0]['port']}: {failed[0]['reason']!r}"
              f" ({t_settled:.1f} s after load)")
        # Let the last inventory refresh land before the picture.
        wait_for("inventory rows on the page",
                 lambda: driver.js("return document.querySelectorAll('#inventory tbody tr')"
                                   ".length") >= 3, 30)
        driver.screenshot(os.path.join(args.out, "page.png"))

        # The JSON API agrees with the inventory file.
        status, boards, _ = http("GET", base + "/api/boards")
        if status != 200 or not isinstance(boards, list):
            fail(f"GET /api/boards: {status} {boards!r}")
        for b in boards:
            for key in ("serial", "port", "state", "reason"):
                if key not in b:
                    fail(f"board {b!r} has no {key!r}")
        listed = subprocess.run([args.piprov, "inventory", "list", "--json", "--inventory",
                                 inventory], capture_output=True, text=True, check=False)
        if listed.returncode != 0:
            fail(f"piprov inventory list: {listed.stderr}")
        records = {r["serial"]: r for r in json.loads(listed.stdout)}
        good = [b for b in boards if b["state"] in ("verified", "recorded")]
        if len(good) != 3:
            fail(f"API: {len(good)} boards verified, wanted 3: {boards!r}")
        for b in good:
            rec = records.get(b["serial"])
            if not rec:
                fail(f"board {b['serial']} verified but not in {inventory}")
            for key in ("mac", "ip", "hostname"):
                if b.get(key) and rec.get(key) != b[key]:
                    fail(f"board {b['serial']}: API {key}={b[key]!r}, inventory {rec.get(key)!r}")
        bad = [b for b in boards if b["state"] == "failed"]
        if len(bad) != 1 or not bad[0]["reason"] or bad[0]["serial"] in records:
            fail(f"the failed board must have a reason and no record: {bad!r}")
        status, api_inventory, _ = http("GET", base + "/api/inventory")
        if status != 200 or sorted(r["serial"] for r in api_inventory) != sorted(records):
            fail(f"GET /api/inventory disagrees with the file: {api_inventory!r}")
        print(f"api: {len(boards)} boards, {len(records)} records in the inventory, agreeing")

        # Changing anything needs the token.
        status, reply, _ = http("POST", f"{base}/api/boards/{bad[0]['serial']}/retry")
        if status not in (401, 403):
            fail(f"POST retry without a token answered {status} {reply!r}")
        status, reply, _ = http("POST", f"{base}/api/boards/{bad[0]['serial']}/retry",
                                headers={"Authorization": "Bearer wrong-token-0123456789"})
        if status != 403:
            fail(f"POST retry with a wrong token answered {status} {reply!r}")

        # A board whose metadata holds <script>: shown as text, never run.
        hostile = [b for b in boards
                   if "<script>" in json.dumps(http("GET", f"{base}/api/boards/{b['serial']}")[1])]
        if not hostile:
            fail("no board reports a <script> string (the station should have one)")
        serial = hostile[0]["serial"]
        driver.js("document.querySelector(`.tile[data-serial='${arguments[0]}']`).click();"
                  "return true", serial)
        shown = wait_for("the hostile board's details",
                         lambda: driver.js("const d = document.getElementById('detail');"
                                           "return d.hidden ? null : d.textContent.includes("
                                           "'<script>') ? d.textContent : null"), 30)
        injected = driver.js("return {ran: window.pvInjected || null,"
                             " scripts: document.scripts.length,"
                             " imgs: document.querySelectorAll('img:not([src=\"/favicon.svg\"])').length}")
        if injected["ran"] is not None or injected["scripts"] != 1 or injected["imgs"] != 0:
            fail(f"the <script> board's string became markup: {injected!r}")
        print("escaping: the <script> metadata is shown as text, nothing ran")
        driver.screenshot(os.path.join(args.out, "detail.png"))

        # Retry from the page, as a user does: the failed board's tile, its Retry button,
        # the token form (no token stored yet), then the station power-cycles the board
        # (its fault struck on the first plug only) and the tile goes live to verified.
        if not args.fake_station:
            retry_from_page(driver, args, base, bad[0], inventory)

        lat = driver.js("return window.pvStation.latencies()")
        if len(lat) < 10:
            fail(f"the page saw only {len(lat)} events live")
        print(f"page event latency (event -> DOM): {latency_summary(lat)}")
        print(f"browser test: {time.monotonic() - t_start:.1f} s in all (browser start"
              f" {t_browser:.1f} s); screenshots in {args.out}")
        return 0
    finally:
        driver.close()
        station.send_signal(signal.SIGTERM)
        try:
            station.wait(15)
        except subprocess.TimeoutExpired:
            station.kill()
            station.wait()
        station_log.close()


if __name__ == "__main__":
    sys.exit(main())
