#!/bin/sh
# perf/bench_fault.sh BUILD SECONDS: zero-fill fault throughput of
# `uvmstress --scenario touch --remap`, single and multi-LWP, as a ratio to
# the host-MMU floor (SIGSEGV + mmap(MAP_FIXED) of a memfd page, no VM
# work) and to native Linux anonymous faults, all measured in this run.
# Appends JSON Lines to perf/results/fault.jsonl and prints a table.
# Aim (issue 3): the VM's work adds less than the floor: ratio >= 0.5.
set -u
B=${1:-build}
SECS=${2:-5}
OUT=perf/results/fault.jsonl
FLOOR=$B/release/perf_floor
U=$B/release/uvmstress
mkdir -p perf/results
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$FLOOR" perf/floor.c -pthread || exit 1
[ -x "$U" ] || { echo "bench: $U is not built (make release)"; exit 1; }
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

json_get() {	# file key: a number from the metrics object
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["metrics"][sys.argv[2]])' "$1" "$2"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%-8s %-8s %14s %14s %10s %10s\n' threads what faults/s floor/s vs-floor vs-native
for n in 1 2; do
	floor=$("$FLOOR" floor "$n" "$SECS")
	native=$("$FLOOR" native "$n" "$SECS")
	"$U" -q --scenario touch --remap --lwps "$n" --ncpu "$n" --ram 256M \
	    -t "$SECS" --seed 1 --json "$tmp" >/dev/null 2>&1 || {
		echo "bench: uvmstress failed:"; cat "$tmp"; exit 1; }
	fps=$(json_get "$tmp" faults_per_s)
	ffps=$(echo "$floor" | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults_per_s"])')
	nfps=$(echo "$native" | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults_per_s"])')
	r1=$(python3 -c "print(round($fps/$ffps, 3))")
	r2=$(python3 -c "print(round($fps/$nfps, 3))")
	printf '%-8s %-8s %14.0f %14.0f %10s %10s\n' "$n" touch-remap "$fps" "$ffps" "$r1" "$r2"
	echo "{\"bench\":\"fault_zero_fill\",\"time\":\"$stamp\",\"rev\":\"$rev\",\"lwps\":$n,\"uvmstress_faults_per_s\":$fps,\"floor\":$floor,\"native\":$native,\"ratio_to_floor\":$r1,\"ratio_to_native\":$r2}" >>"$OUT"
done
echo "results appended to $OUT"
