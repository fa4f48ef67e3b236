#!/bin/sh
# perf/bench_hostmmu.sh BUILD: what this host charges for the MMU model's
# two calls (open a page: mmap of a memfd page; close it, a TLB shootdown:
# mmap PROT_NONE over it, or munmap it to a hole, the two --mmu-close
# ways), alone and with another thread of the process
# sleeping, spinning, or waiting in O_DIRECT reads or writes (the swap-in
# reader and the disk threads); and what a SIGSEGV round trip costs.  No anchor to beat: it says where the
# reclaim benchmark's time can go (docs/results.md).
# Appends JSON Lines to perf/results/hostmmu.jsonl; prints a table.
set -u
B=${1:-build}
OUT=perf/results/hostmmu.jsonl
HM=$B/release/perf_hostmmu
SCRATCH=${TMPDIR:-/tmp}/uvmstress-hostmmu.$$
mkdir -p perf/results "$B/release"
cc -std=c11 -O2 -Wall -Wextra -Werror -pthread -o "$HM" perf/hostmmu.c ||
    exit 1
trap 'rm -f "$SCRATCH"' EXIT
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
out=$("$HM" "$SCRATCH") || { echo "bench: perf/hostmmu failed"; exit 1; }
printf '%-8s %-8s %10s %10s\n' neighbour close open_us close_us
echo "$out" | python3 -c 'import json,sys
for l in sys.stdin:
    d=json.loads(l)
    if "trap_us" in d: print("a SIGSEGV round trip: %.2f us" % d["trap_us"])
    else: print("%-8s %-8s %10.2f %10.2f" % (d["case"], d["close"], d["open_us"], d["close_us"]))'
echo "$out" | sed "s/^{/{\"bench\":\"hostmmu\",\"time\":\"$stamp\",\"rev\":\"$rev\",/" >>"$OUT"
echo "results appended to $OUT"
