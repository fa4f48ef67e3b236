#!/bin/sh
# perf/bench_sched.sh BUILD [REPS] [SEED]: the cost of the deterministic
# scheduler (issue 15), `--sched random|pct|pos` against `--sched free`
# (real concurrency) on the same scenario, seed and work: every run of a
# scenario does the same --ops N (all LWPs together), so each mode makes
# the same touches.  Scenarios, with their N (on 2 shared cores a free
# run takes 1-7 s; random takes 4 to 30 times as long, which bounds N,
# so that the bench stays near 10 minutes):
#  - touch:    --ops 20000000 (4 LWPs on their own 256 pages, no paging)
#  - mix:      --ops 150000 (8 LWPs, the whole VM, beyond RAM)
#  - pressure: --ops 100000 (a working set of twice RAM, swap, pagedaemon)
# REPS repetitions (default 3), the modes interleaved within each
# (free, random, pct, pos, free, ...) so that the host's noise hits all
# alike; medians per mode.  SEED defaults to 1.
#
# Time is measured here, in wall-clock seconds: under a deterministic
# --sched the report's times and rates are VIRTUAL (phases.*, wall_s,
# touches_per_s), so they are not used.  Two wall times per run:
#  - run s: the whole process (boot, pressure's fill, the timed phase, the
#    final checks, the report).  steps/s is schedule.steps over it (the
#    trace runs from boot to the end of the scenario); touch/s is
#    metrics.touches (the timed phase's) over it, so the same work over
#    the time it took; "x free" is that over free's median; the aims are
#    judged on it.
#  - win s: from the start barrier to the last worker out, that is the
#    timed phase and the workers' final checks (the first live status
#    line to its wipe: uvmstress draws them on stderr when it is a
#    terminal, and the runs here have a pseudo-terminal for it, as
#    perf/first_status.py does; the report has no wall-clock time of the
#    timed phase alone under a deterministic --sched).  "touch/s win" and
#    "x win" are over it.
# Free mode has no steps.
# Aims (issue 15): PCT >= 0.5 and POS and random >= 0.25 of the free run.
# Appends one JSON Line per run of the bench to perf/results/sched.jsonl
# (commit, date, host; per scenario and mode the medians and every run)
# and prints a table.  A run that fails, or runs past LIMIT seconds
# (default 300) and is killed, is reported with its command and counts
# as no result (the bench then exits 1).
set -u
B=${1:-build}
REPS=${2:-3}
SEED=${3:-1}
LIMIT=${LIMIT:-300}
case $REPS in ''|*[!0-9]*|0)
	echo "bench: REPS must be a count, not '$REPS'"; exit 1;;
esac
OUT=${OUT:-perf/results/sched.jsonl}
U=$B/release/uvmstress
mkdir -p perf/results
[ -x "$U" ] || { echo "bench: $U is not built (make release)"; exit 1; }
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
case $(git status --porcelain --untracked-files=no 2>/dev/null) in
'') dirty=false;; *) dirty=true;;
esac

tmp=$(mktemp)
log=$(mktemp)
recs=$(mktemp)
runner=$(mktemp)
trap 'rm -f "$tmp" "$log" "$recs" "$runner"' EXIT
failed=0

# the runner: LIMIT LOG CMD...; stderr on a pseudo-terminal, the times of
# the first status line and of its wipe ("\r\033[K" alone: status_end),
# the whole run's wall and CPU seconds, as one JSON object
cat >"$runner" <<'EOF'
import json, os, pty, re, resource, select, signal, subprocess, sys, time
limit, logf, cmd = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
master, slave = pty.openpty()
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave,
    start_new_session=True)
os.close(slave)
begin = end = None
buf, text, killed = b"", b"", False
while True:
    if not killed and time.monotonic() - t0 > limit:
        os.killpg(p.pid, signal.SIGKILL)
        killed = True
    r, _, _ = select.select([master], [], [], 0.05)
    if r:
        try:
            d = os.read(master, 65536)
        except OSError:
            break
        if not d:
            break
        now = time.monotonic() - t0
        buf = (buf + d)[-8192:]
        if begin is None and b"[uvmstress]" in buf:
            begin = now
        # status_end's wipe: an erase that no status line follows
        i = buf.rfind(b"\r\x1b[K")
        rest = buf[i + 4:] if i >= 0 else None
        if begin is None or rest is None or \
            (rest and b"[uvmstress]".startswith(rest)):
            pass			# none yet, or a line cut in two
        elif rest.startswith(b"[uvmstress]"):
            end = None			# a status line after all
        elif end is None:
            end = now
        text = (text + d)[-65536:]
    elif p.poll() is not None:
        break
rc = p.wait()
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
open(logf, "wb").write(re.sub(rb"\r\x1b\[K(\[uvmstress\][^\r]*)?", b"", text))
print(json.dumps({"exit": -9 if killed else rc, "killed": killed,
    "wall_s": round(wall, 3), "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
    "window_wall_s": None if begin is None or end is None
        else round(end - begin, 3)}))
EOF

# run SCENARIO N MODE: one uvmstress run; prints its record as JSON
run() {
	rm -f "$tmp"
	t=$(python3 "$runner" "$LIMIT" "$log" "$U" --scenario "$1" \
	    --seed "$SEED" --ops "$2" --sched "$3" --json "$tmp")
	cmd="$U --scenario $1 --seed $SEED --ops $2 --sched $3"
	python3 - "$tmp" "$log" "$t" "$cmd" <<'EOF'
import json, sys
t = json.loads(sys.argv[3])
o = {"exit": t["exit"], "wall_s": t["wall_s"], "cpu_s": t["cpu_s"],
    "window_wall_s": t["window_wall_s"], "cmd": sys.argv[4]}
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    d = None
if d is not None:
    m, s = d["metrics"], d["schedule"]
    o["status"] = d["status"]
    o["ops"], o["touches"] = m["ops"], m["touches"]
    o["schedule"] = s
    o["phases_virtual" if s.get("sched") != "free" else "phases"] = d["phases"]
    if d["failures"]:
        o["failures"] = [f.get("kind") for f in d["failures"]][:4]
if t["exit"] != 0 or d is None or d["status"] != "pass":
    o["status"] = "fail"
    lines = open(sys.argv[2], "rb").read().decode(errors="replace")
    o["log_tail"] = [l for l in lines.splitlines() if l.strip()
        and not l.startswith("  thread ")][-6:]
    print("bench: failed (exit %d%s): %s" % (t["exit"],
        ", killed after the limit" if t["killed"] else "", sys.argv[4]),
        file=sys.stderr)
    for l in o["log_tail"]:
        print("  " + l, file=sys.stderr)
print(json.dumps(o))
EOF
}

SCENARIOS=${SCENARIOS:-"touch:20000000 mix:150000 pressure:100000"}
MODES="free random pct pos"
for sn in $SCENARIOS; do
	sc=${sn%%:*}
	n=${sn#*:}
	i=0
	while [ $i -lt "$REPS" ]; do
		i=$((i + 1))
		for mode in $MODES; do
			r=$(run "$sc" "$n" "$mode")
			case $r in *'"status": "fail"'*) failed=1;; esac
			printf '{"scenario":"%s","ops":%s,"mode":"%s",'\
'"rep":%d,"run":%s}\n' "$sc" "$n" "$mode" "$i" "$r" >>"$recs"
		done
	done
done

# medians per scenario and mode, the records appended, the table
python3 - "$recs" "$OUT" "$stamp" "$rev" "$dirty" "$SEED" "$REPS" <<'EOF'
import json, os, platform, statistics, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
out, stamp, rev, dirty, seed, reps = sys.argv[2:8]
def cpu_model():
    try:
        for l in open("/proc/cpuinfo"):
            if l.startswith("model name"):
                return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
host = {"name": platform.node(), "kernel": platform.release(),
    "cpu": cpu_model(), "ncpu": os.cpu_count(),
    "loadavg": [round(x, 2) for x in os.getloadavg()]}
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
def rate(a, b):
    return a / b if a is not None and b else None
groups = {}
for r in recs:
    groups.setdefault((r["scenario"], r["mode"]), []).append(r)
scens = list(dict.fromkeys(r["scenario"] for r in recs))
modes = list(dict.fromkeys(r["mode"] for r in recs))
summ = {}
for (sc, mode), rs in groups.items():
    ok = [r["run"] for r in rs if r["run"].get("status") == "pass"]
    s = {"runs": len(rs), "passed": len(ok),
        "wall_s": med([x["wall_s"] for x in ok]),
        "window_wall_s": med([x["window_wall_s"] for x in ok]),
        "touches": med([x["touches"] for x in ok]),
        "touches_per_s_window": med([rate(x["touches"], x["window_wall_s"])
            for x in ok]),
        "touches_per_s": med([rate(x["touches"], x["wall_s"]) for x in ok]),
        "steps": med([x["schedule"].get("steps") for x in ok]),
        "switches": med([x["schedule"].get("switches") for x in ok]),
        "steps_per_s": med([rate(x["schedule"].get("steps"), x["wall_s"])
            for x in ok]),
        "cpu_s": med([x["cpu_s"] for x in ok])}
    summ[(sc, mode)] = s
aims = {"pct": 0.5, "pos": 0.25, "random": 0.25}
res = []
for sc in scens:
    fr = summ.get((sc, "free"), {})
    for mode in modes:
        if (sc, mode) not in summ:
            continue
        s = summ[(sc, mode)]
        if mode != "free":
            s["ratio_window"] = rate(s["touches_per_s_window"],
                fr.get("touches_per_s_window"))
            s["ratio"] = rate(s["touches_per_s"], fr.get("touches_per_s"))
            # each repetition against the free run of its own repetition
            s["ratio_paired"] = med([rate(
                rate(r["run"]["touches"], r["run"]["wall_s"]),
                rate(fp["run"]["touches"], fp["run"]["wall_s"]))
                for r in groups[(sc, mode)] for fp in groups.get((sc,
                "free"), []) if fp["rep"] == r["rep"] and "pass" ==
                r["run"].get("status") == fp["run"].get("status")])
            s["aim"] = aims.get(mode)
        rs = groups[(sc, mode)]
        res.append({"scenario": sc, "ops": rs[0]["ops"], "mode": mode,
            "median": {k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in s.items()}, "runs": [r["run"] for r in rs]})
with open(out, "a") as f:
    f.write(json.dumps({"bench": "sched", "time": stamp, "rev": rev,
        "dirty": dirty == "true", "host": host, "seed": int(seed),
        "reps": int(reps), "results": res}, separators=(",", ":")) + "\n")
def fmt(v, f):
    return f % v if v is not None else "-"
print("uvmstress --sched: %s medians of %s, seed %s, rev %s%s; %s (%d CPUs), "
    "load %s" % ("wall-clock", reps, seed, rev, " (dirty)" if dirty == "true"
    else "", host["cpu"], host["ncpu"], " ".join(map(str, host["loadavg"]))))
print("%-9s %-7s %9s %5s %7s %10s %10s %6s %5s  %7s %10s %6s" % (
    "scenario", "mode", "ops", "pass", "run s", "steps/s", "touch/s",
    "x free", "aim", "win s", "touch/s", "x win"))
for sc in scens:
    for mode in modes:
        if (sc, mode) not in summ:
            continue
        s, n = summ[(sc, mode)], groups[(sc, mode)][0]["ops"]
        aim = "-"
        if s.get("aim") is not None and s.get("ratio") is not None:
            aim = "met" if s["ratio"] >= s["aim"] else "no"
        print("%-9s %-7s %9d %2d/%-2d %7s %10s %10s %6s %5s  %7s %10s %6s" % (
            sc, mode, n, s["passed"], s["runs"], fmt(s["wall_s"], "%.2f"),
            fmt(s["steps_per_s"], "%.0f"), fmt(s["touches_per_s"], "%.0f"),
            fmt(s.get("ratio"), "%.3f"), aim,
            fmt(s["window_wall_s"], "%.2f"),
            fmt(s["touches_per_s_window"], "%.0f"),
            fmt(s.get("ratio_window"), "%.3f")))
EOF
echo "results appended to $OUT"
exit $failed
