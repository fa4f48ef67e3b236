#!/bin/sh
# perf/bench_reclaim.sh BUILD SECONDS [RUNS]: reclaim throughput,
# uvmstress against the Linux kernel's own reclaim on the same workload.
# Each run measures both sides back to back (Linux, then uvmstress, for
# each pattern); with RUNS > 1 the runs interleave and the median ratio
# per pattern is printed last (the host is noisy: a ratio from one pair
# can be off by a third).
#
# Workload: a 256 MiB working set touched by one process (each touch:
# check the page's signature, write a new generation), sequentially and
# randomly, with 64 MiB of RAM and a swap file on the same disk.
#  - Linux: perf/linux_touch in a memory cgroup (v1) limited to 64 MiB,
#    with a 1 GiB swap file (swapon), where the host allows both;
#    otherwise it says so and reports uvmstress alone.
#  - uvmstress: --scenario pressure --ws 256M --ram 64M --pattern P,
#    metrics.touches_per_s from its JSON.
#  - the host floor (random): perf/swapfloor, what a random swap-in must
#    cost uvmstress's host MMU model with no VM work (a trap, a 4 KiB
#    O_DIRECT read, an mmap to open the page, a munmap to close another, with
#    pageouts written by a thread beside them), as touches/s at 3 misses
#    in 4 touches (the share at best when the working set is 4 times
#    RAM).  Not a ceiling: the pagedaemon's plug keeps its closes away
#    from the writes, which the floor's are not (docs/results.md).
# Appends JSON Lines to perf/results/reclaim.jsonl; prints the ratios.
# Aim (issue 4): uvmstress/Linux >= 1.0 sequential, >= 0.7 random.
set -u
B=${1:-build}
SECS=${2:-10}
RUNS=${3:-1}
case $RUNS in ''|*[!0-9]*|0) echo "bench: RUNS must be a count, not '$RUNS'"; exit 1;; esac
OUT=perf/results/reclaim.jsonl
U=$B/release/uvmstress
LT=$B/release/perf_linux_touch
SF=$B/release/perf_swapfloor
WS=$((256 << 20))
CG=/sys/fs/cgroup/memory/uvmstress-bench.$$
SWAP=${TMPDIR:-/tmp}/uvmstress-bench-swap.$$
FLOORSWAP=${TMPDIR:-/tmp}/uvmstress-bench-floor.$$
mkdir -p perf/results
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$LT" perf/linux_touch.c || exit 1
cc -std=c11 -O2 -Wall -Wextra -Werror -pthread -o "$SF" perf/swapfloor.c ||
    exit 1
[ -x "$U" ] || { echo "bench: $U is not built (make release)"; exit 1; }
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

linux_ok=0
cleanup() {
	[ -d "$CG" ] && rmdir "$CG" 2>/dev/null
	swapoff "$SWAP" 2>/dev/null
	rm -f "$SWAP" "$FLOORSWAP" "$tmp" "$ratios"
}
tmp=$(mktemp)
ratios=$(mktemp)
trap cleanup EXIT
if [ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/memory ] &&
    fallocate -l 1G "$SWAP" 2>/dev/null && chmod 600 "$SWAP" &&
    mkswap "$SWAP" >/dev/null 2>&1 && swapon "$SWAP" 2>/dev/null &&
    mkdir "$CG" 2>/dev/null &&
    echo $((64 << 20)) > "$CG/memory.limit_in_bytes" 2>/dev/null; then
	linux_ok=1
else
	echo "bench: this host allows no memory cgroup v1 + swapon: Linux side skipped"
fi

num() {	# json key
	python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); k=sys.argv[1].split("."); [d:=d[x] for x in k]; print(d)' "$1"
}

printf '%-8s %16s %16s %8s %16s\n' pattern uvmstress/s linux/s ratio floor/s
run=0
while [ $run -lt "$RUNS" ]; do
run=$((run + 1))
for pat in seq random; do
	lin=0
	if [ $linux_ok = 1 ]; then
		out=$(sh -c "echo \$\$ > $CG/cgroup.procs && exec $LT $WS $pat $SECS 1")
		lin=$(echo "$out" | num touches_per_s 2>/dev/null)
		[ -n "$lin" ] || {
			echo "bench: the Linux side gave no result this run"
			lin=0
		}
	fi
	"$U" -q --scenario pressure --ws 256M --ram 64M --swap 1G --pattern "$pat" \
	    --lwps 1 --ncpu 2 -t "$SECS" --seed 1 --json "$tmp" >/dev/null 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "bench: uvmstress pressure failed (exit $rc)"; cat "$tmp"; exit 1
	fi
	uv=$(num metrics.touches_per_s < "$tmp")
	ratio=$(python3 -c "print(round($uv/$lin, 3) if $lin else 'n/a')")
	floor=0
	fdirect=false
	if [ "$pat" = random ]; then
		if out=$("$SF" "$FLOORSWAP" "$SECS"); then
			floor=$(echo "$out" | num misses_per_s)
			floor=$(python3 -c "print(round($floor / 0.75))")
			[ "$(echo "$out" | num direct)" = True ] && fdirect=true
			[ $fdirect = true ] || echo "bench: the floor read" \
			    "its swap file buffered: it flatters"
		else
			echo "bench: perf/swapfloor failed: no floor this run"
		fi
		rm -f "$FLOORSWAP"
	fi
	printf '%-8s %16.0f %16.0f %8s %16s\n' "$pat" "$uv" "$lin" "$ratio" \
	    "$( [ "$floor" = 0 ] && echo - || echo "$floor")"
	echo "$pat $ratio $uv $lin $floor" >>"$ratios"
	echo "{\"bench\":\"reclaim\",\"time\":\"$stamp\",\"rev\":\"$rev\",\"pattern\":\"$pat\",\"ws\":$WS,\"ram\":$((64 << 20)),\"uvmstress_touches_per_s\":$uv,\"linux_touches_per_s\":$lin,\"ratio\":\"$ratio\",\"host_floor_touches_per_s\":$floor,\"host_floor_direct\":$fdirect,\"uvmstress_metrics\":$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["metrics"]))' "$tmp")}" >>"$OUT"
done
done
if [ "$RUNS" -gt 1 ] && [ $linux_ok = 1 ]; then
	for pat in seq random; do
		python3 -c 'import sys,statistics
r=[float(l.split()[1]) for l in open(sys.argv[1]) if l.split()[0]==sys.argv[2] and l.split()[1]!="n/a"]
if r: print("median %-6s %.3f of %d runs (min %.3f, max %.3f)" % (sys.argv[2], statistics.median(r), len(r), min(r), max(r)))' "$ratios" "$pat"
	done
fi
# The floor: how far the VM is from it, and how far the floor is from Linux.
python3 -c 'import sys,statistics
rows=[l.split() for l in open(sys.argv[1]) if l.split()[0]=="random" and float(l.split()[4])>0]
if rows:
    u=statistics.median(float(r[2])/float(r[4]) for r in rows)
    msg="random: uvmstress reaches %.2f of the host floor" % u
    lin=[float(r[3])/float(r[4]) for r in rows if float(r[3])>0]
    if lin:
        msg+="; the floor itself is %.2f of Linux" % (1/statistics.median(lin))
    print(msg+" (medians)")' "$ratios"
echo "results appended to $OUT"
