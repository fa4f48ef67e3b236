#!/bin/sh
# perf/bench_cow.sh BUILD SECONDS: copy-on-write fault throughput of the
# fork scenario (`--cow-bench 64M`: a parent with 64 MiB of written
# private memory forks; each child writes every page once), as a ratio to
# the floor of a COW fault on the host MMU measured in this run (SIGSEGV
# + mmap(MAP_FIXED) of a memfd page + a 4 KiB copy: perf/floor.c cow),
# for each glue.  Appends JSON Lines to perf/results/cow.jsonl and prints
# a table.  Aim (issue 14): ratio >= 0.5.
set -u
B=${1:-build}
SECS=${2:-5}
OUT=perf/results/cow.jsonl
FLOOR=$B/release/perf_floor
U=$B/release/uvmstress
mkdir -p perf/results
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$FLOOR" perf/floor.c -pthread || exit 1
[ -x "$U" ] || { echo "bench: $U is not built (make release)"; exit 1; }
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%-8s %14s %14s %10s\n' glue cow-faults/s floor/s vs-floor
for glue in netbsd freebsd; do
	floor=$("$FLOOR" cow 1 "$SECS")
	"$U" -q --scenario fork --cow-bench 64M --glue "$glue" --lwps 1 \
	    --threads 1 --ncpu 1 --ram 256M -t "$SECS" --seed 1 \
	    --json "$tmp" >/dev/null 2>&1 || {
		echo "bench: uvmstress failed:"; cat "$tmp"; exit 1; }
	cps=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["scenario"]["cow_faults_per_s"])' "$tmp")
	fps=$(echo "$floor" | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults_per_s"])')
	r=$(python3 -c "print(round($cps/$fps, 3))")
	printf '%-8s %14.0f %14.0f %10s\n' "$glue" "$cps" "$fps" "$r"
	echo "{\"bench\":\"fork_cow\",\"time\":\"$stamp\",\"rev\":\"$rev\",\"glue\":\"$glue\",\"cow_mib\":64,\"uvmstress_cow_faults_per_s\":$cps,\"floor\":$floor,\"ratio_to_floor\":$r}" >>"$OUT"
done
echo "results appended to $OUT"
