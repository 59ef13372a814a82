#!/usr/bin/env python3
"""Per-board timeline of a `piprov usb flash --json` run (bench/e2e/run.sh).

    timeline.py COMMAND_LOG

COMMAND_LOG holds the command's output: the station's event lines (docs/station.md
"Events"; t_ms = ms since the station started) among other lines. Prints one line for the
run (start-up until the station waited for boards) and one per board: when each stage began
and how long the step before it took (ROM upload, re-enumeration, each file, metadata,
verification, recording). Exit 1 when no board event is found.
"""
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: timeline.py COMMAND_LOG")
    events = []
    with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
        for line in log:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    started = next((e["t_ms"] for e in events if e.get("event") == "started"), None)
    stopped = next((e["t_ms"] for e in events if e.get("event") == "stopped"), None)
    print("timeline: station started (waiting for boards) at %s ms, stopped at %s ms" %
          (started, stopped))
    boards = {}
    order = []
    for e in events:
        board = e.get("board")
        if not isinstance(board, dict) or "id" not in board:
            continue
        key = board["id"]
        if key not in boards:
            boards[key] = []
            order.append(key)
        boards[key].append(e)
    if not order:
        print("timeline: no board events found")
        return 1
    for key in order:
        steps = []
        serial = port = ""
        meta_first = meta_last = None
        for e in boards[key]:
            board = e["board"]
            serial = board.get("serial") or serial
            port = board.get("port") or port
            kind = e.get("event")
            t = e.get("t_ms")
            if kind == "metadata":
                meta_first = t if meta_first is None else meta_first
                meta_last = t
                continue
            if meta_first is not None and not any(s[0] == "metadata" for s in steps):
                steps.append(("metadata", meta_first))
                steps.append(("metadata end", meta_last))
            if kind == "stage":
                name = board.get("stage", "stage")
            elif kind == "file":
                name = e.get("file") or board.get("stage", "file")
            else:
                name = kind
            steps.append((name, t))
        parts = []
        previous = None
        for name, t in steps:
            if previous is None:
                parts.append("%s %d" % (name, t))
            else:
                parts.append("%s %d (+%d)" % (name, t, t - previous))
            previous = t
        total = steps[-1][1] - steps[0][1] if steps else 0
        print("timeline %s %s (ms since start; +ms since the step before): %s; arrived to "
              "last event %d ms" % (port, serial, ", ".join(parts), total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
