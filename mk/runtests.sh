#!/bin/sh
# runtests.sh BUILD: run the whole suite that `make test` promises.
#  1. Criterion unit tests, release build (gcc) and asan build (clang
#     ASan+UBSan);
#  2. command-line checks of the machine smoke driver (bad input gets a
#     one-line message and the documented exit status);
#  3. the multi-threaded machine smoke under the tsan build, and short
#     uvmstress jobs (mix, touch, segv, pressure with swap and the pagedaemon,
#     pressure with disk errors, fork and swapper with each glue): zero
#     ThreadSanitizer
#     reports, zero
#     lock-order inversions (witness is on in the tsan build); and
#  4. deterministic schedules under the tsan build: zero reports, and two
#     runs of one command with one trace hash.
# Ends with one line "make test: N passed, N failed"; exits 1 on failure.
B=${1:-build}
LOG=${TMPDIR:-/tmp}/uvmstress-test.$$
pass=0
fail=0
trap 'rm -f "$LOG"' EXIT

criterion() {	# flavour
	echo "== unit tests ($1)"
	LSAN_OPTIONS="suppressions=$(pwd)/mk/lsan.supp" \
		"$B/$1/unit" --jobs 2 >"$LOG" 2>&1
	rc=$?
	grep -E '^\[(FAIL|----)\]|Synthesis' "$LOG" | tail -40
	line=$(grep 'Synthesis' "$LOG" | tail -1)
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	if [ -z "$p" ]; then
		echo "unit tests ($1) did not finish (exit $rc):"
		tail -20 "$LOG"
		fail=$((fail + 1))
		return
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail=$((fail + 1)) &&
		echo "unit tests ($1) exited $rc"
}

expect_exit() {	# status words... -- command
	want=$1; shift
	"$@" >"$LOG" 2>&1
	rc=$?
	lines=$(grep -c . "$LOG")
	if [ "$rc" -eq "$want" ] && { [ "$want" -eq 0 ] || [ "$lines" -eq 1 ]; }; then
		pass=$((pass + 1))
		echo "  ok   exit $rc: $*"
	else
		fail=$((fail + 1))
		echo "  FAIL exit $rc (want $want, $lines lines): $*"
		head -5 "$LOG"
	fi
}

criterion release
criterion asan

echo "== bad input (release smoke driver)"
S=$B/release/smoke_machine
expect_exit 1 "$S" --ram 0
expect_exit 1 "$S" --ram 64M1
expect_exit 1 "$S" --ram 1000001
expect_exit 3 "$S" --ram 64T
expect_exit 1 "$S" --ncpu 0
expect_exit 1 "$S" --lwps -3
expect_exit 1 "$S" --timeout 5x
expect_exit 1 "$S" --bogus
expect_exit 0 "$S" --help

echo "== machine smoke under ThreadSanitizer"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 exitcode=66" \
	timeout 300 "$B/tsan/smoke_machine" --ram 64M --ncpu 2 --lwps 8 -t 5 >"$LOG" 2>&1
rc=$?
cat "$LOG" | grep -v '^  ok' | tail -40
line=$(grep '^smoke: ' "$LOG" | tail -1)
p=$(echo "$line" | sed -n 's/smoke: \([0-9]*\) passed.*/\1/p')
f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
if grep -q 'WARNING: ThreadSanitizer' "$LOG"; then
	echo "ThreadSanitizer reported a problem (see above)"
	fail=$((fail + 1))
elif [ "$rc" -ne 0 ] || [ -z "$p" ]; then
	echo "the tsan smoke exited $rc"
	fail=$((fail + 1))
fi
pass=$((pass + ${p:-0}))
fail=$((fail + ${f:-0}))

tsan_uvmstress() {	# label args...
	label=$1; shift
	echo "== uvmstress $label under ThreadSanitizer"
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 exitcode=66" \
		timeout 300 "$B/tsan/uvmstress" -q "$@" >"$LOG" 2>&1
	rc=$?
	if grep -q 'WARNING: ThreadSanitizer' "$LOG" || [ "$rc" -ne 0 ]; then
		tail -60 "$LOG"
		echo "uvmstress $label under tsan: exit $rc"
		fail=$((fail + 1))
	else
		tail -3 "$LOG"
		pass=$((pass + 1))
	fi
}

if [ -x "$B/tsan/uvmstress" ]; then
	tsan_uvmstress touch --scenario touch --lwps 6 --ncpu 2 --ram 64M -t 4
	tsan_uvmstress "touch --remap" --scenario touch --remap --lwps 4 --ncpu 2 --ram 64M -t 3
	tsan_uvmstress segv --scenario segv --lwps 4 --ncpu 2 --ram 32M -t 2
	tsan_uvmstress pressure --scenario pressure --ram 16M --ws 40M --swap 128M --lwps 2 --ncpu 2 -t 4
	tsan_uvmstress "pressure --fail-io" --scenario pressure --ram 16M --ws 40M --lwps 2 --ncpu 2 --pattern hotcold --fail-io 1% -t 3
	tsan_uvmstress mix --ncpu 2 --ram 32M -t 8
	tsan_uvmstress "mix --threads 2" --threads 2 --lwps 6 --ncpu 2 --ram 32M --lose-io 2% -t 5
	tsan_uvmstress "fork (netbsd glue)" --scenario fork --ncpu 2 --ram 32M --fork-pct 20 -t 6
	tsan_uvmstress "fork (freebsd glue)" --scenario fork --glue freebsd --ncpu 2 --ram 32M --fork-pct 20 --mlock-pct 10 -t 6
	tsan_uvmstress "swapper (netbsd)" --scenario swapper --swapper netbsd -t 8
	tsan_uvmstress "swapper (freebsd)" --scenario swapper --swapper freebsd -t 8
fi

# The TSan oracle reaches the verdict: a planted race (--inject race) is
# a failure of kind "tsan", exit 2, in the JSON, with the replay line,
# whether TSan halts at its first report or not.
tsan_expect_race() {	# halt_on_error
	echo "== uvmstress --inject race under ThreadSanitizer (halt_on_error=$1)"
	J=${TMPDIR:-/tmp}/uvmstress-race.$$.json
	rm -f "$J"
	TSAN_OPTIONS="halt_on_error=$1 history_size=4 exitcode=66" \
		timeout 300 "$B/tsan/uvmstress" -q --scenario touch --inject race --lwps 3 \
		--ram 32M --pages 64 -t 4 --json "$J" >"$LOG" 2>&1
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q 'WARNING: ThreadSanitizer' "$LOG" &&
	    grep -q '^uvmstress: replay with: ' "$LOG" &&
	    grep -q '"kind": "tsan"' "$J" && grep -q '"exit_status": 2' "$J"; then
		pass=$((pass + 1))
		grep '^uvmstress: FAIL tsan' "$LOG" | head -1
	else
		fail=$((fail + 1))
		tail -20 "$LOG"
		echo "the planted race did not end as a tsan failure (exit $rc)"
	fi
	rm -f "$J"
}

if [ -x "$B/tsan/uvmstress" ]; then
	tsan_expect_race 0
	tsan_expect_race 1
fi

# Deterministic schedules under the tsan build: zero reports, and the
# same trace hash from two runs of one command.
tsan_det() {	# label args...
	label=$1; shift
	echo "== uvmstress $label under ThreadSanitizer, twice: one trace"
	h=""
	for k in 1 2; do
		TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 exitcode=66" \
			timeout 300 "$B/tsan/uvmstress" -q "$@" --json - >"$LOG" 2>&1
		rc=$?
		t=$(sed -n 's/.*"trace_hash": "\([0-9a-f]*\)".*/\1/p' "$LOG")
		if grep -q 'WARNING: ThreadSanitizer' "$LOG" || [ "$rc" -ne 0 ] ||
		    [ -z "$t" ]; then
			tail -60 "$LOG"
			echo "uvmstress $label under tsan: exit $rc"
			fail=$((fail + 1))
			return
		fi
		h="$h $t"
	done
	set -- $h
	if [ "$1" = "$2" ]; then
		echo "trace $1 twice"
		pass=$((pass + 1))
	else
		echo "uvmstress $label under tsan: two traces: $1 $2"
		fail=$((fail + 1))
	fi
}

if [ -x "$B/tsan/uvmstress" ]; then
	tsan_det "mix --sched pos" --ram 32M --sched pos --steps 400000 --seed 3
	tsan_det "pressure --sched pct" --scenario pressure --ram 16M --sched pct --steps 400000 --seed 2
	tsan_det "swapper --sched random" --scenario swapper --sched random --steps 400000 --seed 1
	tsan_det "fork --sched random" --scenario fork --ram 32M --sched random --steps 400000 --seed 4
fi

echo "make test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
