#!/bin/sh
# perf/bench_lwps.sh BUILD SECONDS [MAXLWPS]: how uvmstress scales with
# its LWP count (each LWP its own process and address space): start-up
# time (to the first live status line on a terminal, and the set-up
# phase to the start barrier) and throughput (metrics.touches_per_s of
# --scenario touch) for --lwps 1, 2, 4, ..., MAXLWPS (1024) on 2 CPUs and
# 256 MiB of RAM.  At 256 LWPs and more the working set (256 pages an
# LWP) passes the RAM, and the run pages.
# Appends JSON Lines to perf/results/lwps.jsonl, prints a table, and draws
# docs/lwps.png with perf/lwps.gp when gnuplot is there (Debian:
# apt-get install -y gnuplot-nox).
# Aims (issue 12): the status line within 2 s at 1024 LWPs, and the run
# over within -t plus 5 s.
set -u
B=${1:-build}
SECS=${2:-5}
MAX=${3:-1024}
OUT=perf/results/lwps.jsonl
U=$B/release/uvmstress
mkdir -p perf/results
[ -x "$U" ] || { echo "bench: $U is not built (make release)"; exit 1; }
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
tmp=$(mktemp)
dat=$(mktemp)
trap 'rm -f "$tmp" "$dat"' EXIT

get() {	# file key.path: a value from the JSON report
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2"
}

printf '%6s %8s %8s %8s %8s %14s %6s\n' lwps status/s setup/s timed/s wall/s touches/s exit
n=1
while [ "$n" -le "$MAX" ]; do
	rm -f "$tmp"
	st=$(python3 perf/first_status.py "$U" --scenario touch --lwps "$n" \
	    --ncpu 2 --ram 256M -t "$SECS" --seed 1 --json "$tmp")
	rc=$(echo "$st" | python3 -c 'import json,sys; print(json.load(sys.stdin)["exit"])')
	if [ "$rc" != 0 ] || [ ! -s "$tmp" ]; then
		echo "bench: --lwps $n: exit $rc"
		echo "{\"bench\":\"lwps\",\"time\":\"$stamp\",\"rev\":\"$rev\",\"lwps\":$n,\"seconds\":$SECS,\"exit\":$rc,\"startup\":$st}" >>"$OUT"
		n=$((n * 2))
		continue
	fi
	fs=$(echo "$st" | python3 -c 'import json,sys; v=json.load(sys.stdin)["first_status_s"]; print("null" if v is None else v)')
	wall=$(echo "$st" | python3 -c 'import json,sys; print(json.load(sys.stdin)["wall_s"])')
	setup=$(get "$tmp" phases.setup_s)
	timed=$(get "$tmp" phases.timed_s)
	tps=$(get "$tmp" metrics.touches_per_s)
	printf '%6d %8s %8.2f %8.2f %8.2f %14.0f %6s\n' "$n" "$fs" "$setup" \
	    "$timed" "$wall" "$tps" "$rc"
	echo "{\"bench\":\"lwps\",\"time\":\"$stamp\",\"rev\":\"$rev\",\"lwps\":$n,\"seconds\":$SECS,\"exit\":$rc,\"first_status_s\":$fs,\"wall_s\":$wall,\"touches_per_s\":$tps,\"phases\":$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["phases"]))' "$tmp"),\"mmu\":$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["metrics"]["mmu"]; print(json.dumps({k: m[k] for k in ("peak","budget","evictions","max_map_count")}))' "$tmp")}" >>"$OUT"
	n=$((n * 2))
done
echo "results appended to $OUT"
if command -v gnuplot >/dev/null 2>&1; then
	python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows=[r for r in rows if r.get("bench")=="lwps" and r.get("rev")==sys.argv[2] and r.get("time")==sys.argv[3] and r.get("exit")==0]
for r in rows:
    fs=r["first_status_s"]
    print(r["lwps"], "nan" if fs is None else fs, r["phases"]["setup_s"], r["touches_per_s"], r["wall_s"]-r["seconds"])' \
	    "$OUT" "$rev" "$stamp" >"$dat"
	gnuplot -e "dat='$dat'; secs=$SECS" perf/lwps.gp &&
	    echo "plot: docs/lwps.png"
else
	echo "bench: no gnuplot: no plot (Debian: apt-get install -y gnuplot-nox)"
fi
