#!/bin/bash
# tests/determinism.sh: does one command give one trace?
#
# Runs every scenario under each deterministic strategy RUNS times with
# the same seed and options, and counts the distinct trace hashes (the
# JSON's schedule.trace_hash) and outcomes: one of each is the promise of
# docs/sched.md.  Prints a line per (scenario, strategy) and appends one
# JSON line per run of the script to perf/results/determinism.jsonl.
# Exit 0 when every command gave one trace, 1 otherwise.
#
#   tests/determinism.sh [-n RUNS] [-f release|tsan|asan] [-s STEPS]
#                        [-t "random pct pos"] [BUILD]
set -euo pipefail

runs=100
flavour=release
steps=400000
strategies="random pct pos"
while getopts "n:f:s:t:h" o; do
	case $o in
	n) runs=$OPTARG ;;
	f) flavour=$OPTARG ;;
	s) steps=$OPTARG ;;
	t) strategies=$OPTARG ;;
	*) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
bin=$build/$flavour/uvmstress
[ -x "$bin" ] || { echo "no $bin: make build-$flavour first"; exit 2; }

# Each scenario with a machine small enough for many runs.
scenarios=(
	"touch --ram 64M"
	"segv --ram 32M"
	"pressure --ram 16M"
	"mix --ram 32M"
	"fork --ram 32M"
	"swapper --ram 32M"
)
out=$(mktemp -d "${TMPDIR:-/tmp}/uvmstress-det.XXXXXX")
trap 'rm -rf "$out"' EXIT
export TSAN_OPTIONS="halt_on_error=1 exitcode=66"
export LSAN_OPTIONS="suppressions=$top/mk/lsan.supp"
bad=0
rows=""
for sc in "${scenarios[@]}"; do
	for st in $strategies; do
		: > "$out/h"
		t0=$(date +%s.%N)
		for ((i = 0; i < runs; i++)); do
			set +e
			# shellcheck disable=SC2086
			timeout 900 "$bin" -q --scenario $sc --sched "$st" --steps "$steps" \
			    --seed 11 --json - > "$out/j" 2> "$out/e"
			rc=$?
			set -e
			h=$(sed -n 's/.*"trace_hash": "\([0-9a-f]*\)".*/\1/p' "$out/j")
			echo "$rc $h" >> "$out/h"
		done
		t1=$(date +%s.%N)
		n=$(sort -u "$out/h" | wc -l)
		first=$(head -1 "$out/h")
		name=${sc%% *}
		printf '%-9s %-7s %d runs, %d distinct (exit, trace): %s, %.0f s\n' \
		    "$name" "$st" "$runs" "$n" "$first" "$(echo "$t1 - $t0" | bc)"
		[ "$n" -eq 1 ] || { bad=1; sort "$out/h" | uniq -c; }
		rows="$rows{\"scenario\": \"$name\", \"sched\": \"$st\", \"runs\": $runs, \"distinct\": $n, \"first\": \"$first\"},"
	done
done
mkdir -p "$top/perf/results"
printf '{"date": "%s", "commit": "%s", "flavour": "%s", "steps": %s, "seed": 11, "results": [%s]}\n' \
    "$(date -u +%FT%TZ)" "$(git -C "$top" rev-parse --short HEAD)" \
    "$flavour" "$steps" "${rows%,}" >> "$top/perf/results/determinism.jsonl"
exit $bad
