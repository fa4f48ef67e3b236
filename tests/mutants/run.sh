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
# Across the scheduler's modes (issue 15, `make mutants`):
#
#   tests/mutants/run.sh -m "free random pct pos" [-n SEEDS] [-b SECONDS]
#       [-S STEPS] [-r REPLAYS] [-t SECONDS] [-T SECONDS] [-o FILE]
#       [PATCH ...]
#
# Each mode runs seeds 1, 2, ... up to -n (default 10) until one fails or
# the mode has used -b seconds (default 60) on the mutant.  free: -t
# SECONDS a run (default 10) with --chaos 20 (unless the patch's Args has
# a --chaos); random/pct/pos: --sched MODE --steps STEPS (default
# 3000000), with the patch's `Args-det:` line if it has one, else its
# Args less any --chaos N (refused in a deterministic mode).  A failure
# found deterministically has its printed replay line run -r times
# (default 3): it reproduces when every run fails with the same kind at
# the same step.  One JSON line per mutant and mode is appended to -o
# (default $MUTANT_OUT, or perf/results/mutants.jsonl) with the date and
# commit, and a table is printed at the end.  Every run is bounded by
# -T seconds (default 200) of wall clock (a run killed there is recorded
# as "timeout", never as caught).  Exit as above.
#
# A patch's header may name the scenario that should catch it with a line
# `Args: --scenario fork` (added to UVMSTRESS_ARGS for that mutant), and
# the deterministic modes' own with `Args-det: ...`.
#
# Environment: UVMSTRESS_ARGS (extra options), MUTANT_FLAVOUR (the build:
# release, or tsan for a data race), MUTANT_WORK (scratch directory,
# default a new one under ${TMPDIR:-/tmp}, removed at exit), MUTANT_OUT,
# MUTANT_COMMIT (the commit to record, default git's), MUTANT_JOBS (make
# -j, default 2).
set -euo pipefail

secs=10
seeds="1 2 3"
modes=""
nseeds=10
budget=60
steps=3000000
replays=3
runcap=200
out=""
while getopts "t:s:m:n:b:S:r:o:T:h" o; do
	case $o in
	t) secs=$OPTARG ;;
	s) seeds=$OPTARG ;;
	m) modes=$OPTARG ;;
	n) nseeds=$OPTARG ;;
	b) budget=$OPTARG ;;
	S) steps=$OPTARG ;;
	r) replays=$OPTARG ;;
	o) out=$OPTARG ;;
	T) runcap=$OPTARG ;;
	*) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
for m in $modes; do
	case $m in
	free|random|pct|pos) ;;
	*) echo "run.sh: -m: unknown mode $m (free random pct pos)"; exit 2 ;;
	esac
done

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
out=${out:-${MUTANT_OUT:-$top/perf/results/mutants.jsonl}}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit+dirty"
commit=${MUTANT_COMMIT:-$commit}
today=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# The failure in a run's output: "KIND STEP MESSAGE" (STEP "-" when the
# run was not deterministic), or nothing.
failure_of() {
	local f=$1 kind step msg

	kind=$(grep -m1 -oE '^uvmstress: FAIL [a-z][a-z_-]*' "$f" |
	    cut -d' ' -f3 || true)
	[ -n "$kind" ] || return 0
	msg=$(grep -m1 -E "^uvmstress: FAIL $kind" "$f" |
	    sed "s/^uvmstress: FAIL $kind:\{0,1\} //" | cut -c1-110 || true)
	step=$(grep -m1 -oE "^  $kind at step [0-9]+" "$f" |
	    grep -oE '[0-9]+$' || true)
	[ -n "$step" ] || step=$(grep -m1 -oE 'panic came at step [0-9]+' \
	    "$f" | grep -oE '[0-9]+$' || true)
	echo "$kind ${step:--} $msg"
}

# The patch's Args for a mode.
mode_args() {
	local p=$1 m=$2 a

	a=$(sed -n 's/^Args: //p' "$p" | head -1)
	case $m in
	legacy) ;;
	free)
		case " $a " in
		*" --chaos "*) ;;
		*) a="$a --chaos 20" ;;
		esac ;;
	*)
		if grep -q '^Args-det: ' "$p"; then
			a=$(sed -n 's/^Args-det: //p' "$p" | head -1)
		else
			a=$(echo " $a " | sed -E 's/ --chaos [0-9]+ / /g')
		fi
		a="--sched $m --steps $steps $a" ;;
	esac
	echo "$a" | sed -E 's/  +/ /g; s/^ //; s/ $//'
}

# The legacy run (no -m): seeds as given, -t SECONDS each, the first
# failure is the verdict.
legacy() {
	local name=$1 p=$2 src=$3 s rc t0 t1 what margs

	read -r -a margs <<< "$(mode_args "$p" legacy)"
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
}

# One mode on one mutant: seeds until a failure, -n seeds or -b seconds;
# then its replay line, -r times.  Appends a JSON line and a table row.
one_mode() {
	local name=$1 p=$2 src=$3 m=$4 s=0 rc t0 t1 spent=0 tried=0 f
	local verdict=missed kind="" step="" msg="" seed="" took=0 rep="-"
	local replay="" cmd margs notes="" ok k st rest i

	read -r -a margs <<< "$(mode_args "$p" "$m")"
	while [ $s -lt "$nseeds" ] &&
	    [ "$(echo "$spent < $budget" | bc)" -eq 1 ]; do
		s=$((s + 1))
		f=$work/$name.$m.$s.out
		cmd=("$src/build/$flavour/uvmstress" -q --seed "$s")
		[ "$m" = free ] && cmd+=(-t "$secs")
		t0=$(date +%s.%N)
		set +e
		(cd "$src" && timeout -k 10 "$runcap" "${cmd[@]}" \
		    "${extra[@]}" "${margs[@]}") > "$f" 2>&1
		rc=$?
		set -e
		t1=$(date +%s.%N)
		took=$(echo "$t1 - $t0" | bc)
		spent=$(echo "$spent + $took" | bc)
		tried=$s
		if [ $rc -eq 2 ]; then
			read -r kind step msg <<< "$(failure_of "$f")"
			[ -n "$kind" ] || kind=unknown
			verdict=caught
			seed=$s
			replay=$(sed -n 's/^uvmstress: replay with: //p' "$f" |
			    head -1)
			break
		fi
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			notes="$notes seed $s: killed after $runcap s;"
		elif [ $rc -ne 0 ]; then
			notes="$notes seed $s: exit $rc;"
		fi
	done
	if [ $verdict = caught ] && [ "$m" != free ] && [ -n "$replay" ]; then
		ok=0
		for i in $(seq 1 "$replays"); do
			f=$work/$name.$m.replay$i.out
			set +e
			(cd "$src" && eval "timeout -k 10 $runcap $replay") \
			    > "$f" 2>&1
			rc=$?
			set -e
			read -r k st rest <<< "$(failure_of "$f")"
			if [ $rc -eq 2 ] && [ "$k" = "$kind" ] &&
			    [ "$st" = "$step" ]; then
				ok=$((ok + 1))
			else
				notes="$notes replay $i: exit $rc, ${k:-no failure} at step ${st:--};"
			fi
		done
		rep="$ok/$replays"
	fi
	case $verdict in
	caught) ncaught=$((ncaught + 1)) ;;
	*) nmissed=$((nmissed + 1)) ;;
	esac
	jq -nc --arg date "$today" --arg commit "$commit" --arg mutant "$name" \
	    --arg mode "$m" --arg verdict "$verdict" --arg oracle "$kind" \
	    --arg step "$step" --arg message "$msg" --arg seed "$seed" \
	    --argjson seeds_tried "$tried" \
	    --argjson seconds "$(printf '%.1f' "$spent")" \
	    --arg replay_reproduces "$rep" \
	    --arg replay "${replay/#$src\/build\/$flavour\//}" \
	    --arg args "$(mode_args "$p" "$m")" \
	    --arg budget "seeds $nseeds, ${budget} s, -t $secs, --steps $steps" \
	    --arg notes "${notes# }" \
	    '{date: $date, commit: $commit, mutant: $mutant, mode: $mode,
	      verdict: $verdict, oracle: $oracle,
	      step: (if $step == "" or $step == "-" then null
		     else ($step | tonumber) end),
	      message: $message,
	      seed: (if $seed == "" then null else ($seed | tonumber) end),
	      seeds_tried: $seeds_tried, seconds: $seconds,
	      replay_reproduces: $replay_reproduces, replay: $replay,
	      args: $args, budget: $budget, notes: $notes}' >> "$out"
	if [ $verdict = caught ]; then
		cell="$kind, seed $seed, $(printf '%.1f' "$spent") s"
		[ "$m" = free ] || cell="$cell, step $step, replay $rep"
	else
		cell="missed ($tried seeds, $(printf '%.0f' "$spent") s)"
	fi
	row="$row | $cell"
	echo "  $name [$m]: $cell${notes:+ (${notes% })}"
}

caught=0
missed=0
ncaught=0
nmissed=0
table=()
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
	if ! make -s -C "$src" -j"${MUTANT_JOBS:-2}" BUILD=build \
	    "build/$flavour/uvmstress" > "$work/$name.build.log" 2>&1; then
		echo "$name: does not build (see $work/$name.build.log)"
		exit 2
	fi
	if [ -z "$modes" ]; then
		legacy "$name" "$p" "$src"
	else
		row="| $name"
		for m in $modes; do
			one_mode "$name" "$p" "$src" "$m"
		done
		table+=("$row |")
	fi
	rm -rf "$src"
done
if [ -z "$modes" ]; then
	echo "mutants: $caught caught, $missed missed (uvmstress -t $secs" \
	    "${UVMSTRESS_ARGS:-}, seeds $seeds)"
	[ $missed -eq 0 ]
	exit
fi
echo
echo "| mutant | $(echo "$modes" | sed 's/ / | /g') |"
echo "|---$(for m in $modes; do printf '|---'; done)|"
printf '%s\n' "${table[@]}"
echo
echo "mutants: $ncaught caught, $nmissed missed (mutant x mode; seeds" \
    "1-$nseeds, $budget s a mode, free -t $secs --chaos 20, deterministic" \
    "--steps $steps; results appended to $out)"
[ $nmissed -eq 0 ]
