#!/bin/bash
# tests/mutants/run.sh: is each planted bug found by a stress run?
#
# For every mutant (tests/mutants/*.patch, or the ones named), the tree as
# it is (tracked and untracked files, the build directories left out) is
# copied, the patch applied, uvmstress built (MUTANT_FLAVOUR), and run with
# UVMSTRESS_ARGS (default: none, i.e. mix with its defaults) for each
# seed until one fails.  A mutant is "caught" when a run exits 2 (a
# failure of any oracle: integrity, auditor, panic...), "missed" when
# every seed passes.  Prints one line a mutant and a summary; exit 0 if
# all were caught, 1 if any was missed, 2 on a set-up error.
#
#   tests/mutants/run.sh [-t SECONDS] [-s "SEED ..."] [PATCH ...]
#
# A patch's header may name the scenario that should catch it with a line
# `Args: --scenario fork` (added to UVMSTRESS_ARGS for that mutant).
#
# Environment: UVMSTRESS_ARGS (extra options), MUTANT_FLAVOUR (the build:
# release, or tsan for a data race), MUTANT_WORK (scratch directory,
# default a new one under ${TMPDIR:-/tmp}, removed at exit).
set -euo pipefail

secs=10
seeds="1 2 3"
while getopts "t:s:h" o; do
	case $o in
	t) secs=$OPTARG ;;
	s) seeds=$OPTARG ;;
	*) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
if [ $# -gt 0 ]; then
	patches=("$@")
else
	patches=(tests/mutants/*.patch)
fi
work=${MUTANT_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/uvmstress-mutants.XXXXXX")}
[ -n "${MUTANT_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
read -r -a extra <<< "${UVMSTRESS_ARGS:-}"
flavour=${MUTANT_FLAVOUR:-release}

caught=0
missed=0
for p in "${patches[@]}"; do
	name=$(basename "$p" .patch)
	src=$work/$name
	rm -rf "$src"
	mkdir -p "$src"
	git ls-files -co --exclude-standard -z | grep -zv '^build' |
	    tar -c --null -T - | tar -x -C "$src"
	if ! patch -s -p1 -d "$src" < "$p" > "$work/$name.patch.log" 2>&1; then
		echo "$name: the patch does not apply (see $work/$name.patch.log)"
		exit 2
	fi
	if ! make -s -C "$src" -j2 BUILD=build "build/$flavour/uvmstress" \
	    > "$work/$name.build.log" 2>&1; then
		echo "$name: does not build (see $work/$name.build.log)"
		exit 2
	fi
	read -r -a margs <<< "$(sed -n 's/^Args: //p' "$p" | head -1)"
	verdict="missed"
	for s in $seeds; do
		t0=$(date +%s.%N)
		set +e
		"$src/build/$flavour/uvmstress" -q -t "$secs" --seed "$s" \
		    "${extra[@]}" "${margs[@]}" > "$work/$name.$s.out" 2>&1
		rc=$?
		set -e
		t1=$(date +%s.%N)
		if [ $rc -eq 2 ]; then
			what=$(grep -m1 -E '^(FAIL|uvmstress: (panic|FAIL))|failure' \
			    "$work/$name.$s.out" | cut -c1-110 || true)
			verdict=$(printf 'caught by seed %s in %.1f s: %s' "$s" \
			    "$(echo "$t1 - $t0" | bc)" "$what")
			break
		fi
		if [ $rc -ne 0 ]; then
			verdict="seed $s: exit $rc (not a finding)"
		fi
	done
	case $verdict in
	caught*) caught=$((caught + 1)) ;;
	*) missed=$((missed + 1)) ;;
	esac
	echo "$name: $verdict"
	rm -rf "$src"
done
echo "mutants: $caught caught, $missed missed (uvmstress -t $secs" \
    "${UVMSTRESS_ARGS:-}, seeds $seeds)"
[ $missed -eq 0 ]
