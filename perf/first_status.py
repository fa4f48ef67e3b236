#!/usr/bin/env python3
# perf/first_status.py CMD...: run CMD with its stderr on a pseudo-terminal
# (uvmstress draws its live status line only on a terminal) and print, as
# one JSON object, the seconds from the start to the first status line
# ("[uvmstress]"; null if none was drawn), the wall time and the exit status.
import json, os, pty, select, subprocess, sys, time

t0 = time.monotonic()
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
first, tail = None, b""
while True:
    r, _, _ = select.select([master], [], [], 0.05)
    if r:
        try:
            d = os.read(master, 65536)
        except OSError:
            break
        if not d:
            break
        if first is None and b"[uvmstress]" in tail[-16:] + d:
            first = time.monotonic() - t0
        tail = (tail + d)[-4096:]
    elif p.poll() is not None:
        break
rc = p.wait()
print(json.dumps({"first_status_s": None if first is None else round(first, 3),
                  "wall_s": round(time.monotonic() - t0, 3), "exit": rc}))
