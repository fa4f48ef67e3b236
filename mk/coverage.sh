#!/usr/bin/env bash
# coverage.sh BUILD [SECONDS [uvmstress options...]]: what `make coverage`
# runs once BUILD/coverage is built (docs/coverage.md).
#  1. zero the .gcda counters, so only this run counts;
#  2. run BUILD/coverage/uvmstress with its default scenario for SECONDS
#     (default 60) and the options given (COVERAGE_ARGS), its JSON report
#     in BUILD/coverage/run.json;
#  3. lcov: vm/'s line, function and branch coverage (and host/'s, for
#     comparison) on the terminal and in BUILD/coverage/summary.txt, an
#     HTML report of vm/ in BUILD/coverage/html, every vm/ function never
#     called in BUILD/coverage/unreached.txt (file:function), and the seed
#     functions (../shared/seeds) this run did not reach in
#     BUILD/coverage/seeds-unreached.txt.
# Run from the project root.  Installs lcov as mk/deps.sh installs the
# build's packages (as root; otherwise names it and exits 3).  Exit 0 when
# the report is made and the run passed; 2 when the run found a failure
# (the report is still made, if the run left its counters); 1 when there
# is no report (bad options, no counters), 3 when lcov cannot be had.
set -euo pipefail

die() { echo "coverage: $*" >&2; exit 1; }
say() { echo "coverage: $*"; }

[ $# -ge 1 ] || die "usage: mk/coverage.sh BUILD [SECONDS [uvmstress options...]]"
B=$1
SECS=${2:-60}
shift $(($# >= 2 ? 2 : 1))
if [ ! -d vm ] || [ ! -d host ]; then
	die "run from the project root (no vm/ and host/ here)"
fi
ROOT=$(pwd -P)
C=$B/coverage
BIN=$C/uvmstress
[ -x "$BIN" ] || die "$BIN is missing: build it first (make coverage-build BUILD=$B)"
case $SECS in
'' | *[!0-9]* | 0) die "COVERAGE_SECONDS must be a positive number of seconds, not '$SECS'" ;;
esac
SEED_TOOL=${SEED_COVERAGE:-$ROOT/../shared/tools/seed-coverage}
RC=(--rc lcov_branch_coverage=1)	# lcov 1.16's spelling

# lcov, the way mk/deps.sh installs the build's packages.
if ! dpkg-query -W -f='${Status}' lcov 2>/dev/null | grep -q "install ok installed"; then
	if [ "$(id -u)" != 0 ]; then
		echo "coverage: lcov is missing (install it as root: apt-get install lcov)" >&2
		exit 3
	fi
	say "installing the missing Debian package: lcov"
	if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends lcov ||
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends lcov; }; } >&2; then
		echo "coverage: apt-get could not install lcov" >&2
		exit 3
	fi
fi
if ! command -v lcov >/dev/null || ! command -v genhtml >/dev/null; then
	die "lcov is installed but lcov/genhtml are not on PATH"
fi

# lcov_ ARGS: lcov, without the "Subroutine ... redefined at
# /usr/bin/geninfo" lines Debian 12's lcov 1.16 prints at every capture
# (harmless: geninfo's Perl module loads twice).
lcov_() {
	local rc=0
	lcov "$@" 2>"$C/lcov.err" || rc=$?
	grep -v '^Subroutine .* redefined at .*geninfo line' "$C/lcov.err" >&2 || true
	rm -f "$C/lcov.err"
	return "$rc"
}

# 1. Zero the counters; a baseline from the .gcno files alone, so that code
# the run never entered (even a whole file) counts as 0, not as absent.
rm -rf "$C/html" "$C"/*.info "$C/run.json" "$C/summary.txt" \
	"$C/unreached.txt" "$C/seeds-unreached.txt"
lcov_ --quiet --zerocounters --directory "$C/obj"
lcov_ --quiet "${RC[@]}" --capture --initial --directory "$C/obj" \
	--base-directory "$ROOT" --output-file "$C/base.info"

# 2. The run.
say "running $BIN -t $SECS --json $C/run.json $*"
t0=$SECONDS
run_rc=0
"$BIN" -t "$SECS" --json "$C/run.json" "$@" || run_rc=$?
t_run=$((SECONDS - t0))
if [ "$run_rc" -ne 1 ] && [ -z "$(find "$C/obj" -name '*.gcda' -print -quit)" ]; then
	echo "coverage: the run (exit $run_rc) left no .gcda counters: it ended by" \
	    "_exit (a panic, a hang, a host limit), so there is no report" >&2
	exit $((run_rc != 0 ? run_rc : 1))
fi
case $run_rc in
0) ;;
2) echo "coverage: uvmstress found a failure (exit 2): the report below is" \
	"of that run, cut short where it failed" >&2 ;;
*) die "uvmstress exited $run_rc (1: bad options or a harness error, 3: the" \
	"host lacks a resource): no report" ;;
esac

# 3. The report.  The scenario is the one the run's JSON report names.
SCEN=$(sed -n 's/^  "scenario": "\([^"]*\)".*/\1/p' "$C/run.json" 2>/dev/null | head -1)
WHAT="scenario ${SCEN:-(unknown)}, $SECS s"
lcov_ --quiet "${RC[@]}" --capture --directory "$C/obj" \
	--base-directory "$ROOT" --output-file "$C/run.info"
lcov_ --quiet "${RC[@]}" --add-tracefile "$C/base.info" \
	--add-tracefile "$C/run.info" --output-file "$C/all.info"
lcov_ --quiet "${RC[@]}" --extract "$C/all.info" "$ROOT/vm/*" \
	--output-file "$C/vm.info"
lcov_ --quiet "${RC[@]}" --extract "$C/all.info" "$ROOT/host/*" \
	--output-file "$C/host.info"
genhtml --quiet "${RC[@]}" --branch-coverage --prefix "$ROOT" \
	--title "uvmstress vm/: $WHAT" \
	--output-directory "$C/html" "$C/vm.info" >/dev/null

# summary TRACEFILE: lcov's three rates, one a line, indented.
summary() {
	lcov_ "${RC[@]}" --summary "$1" 2>&1 |
		sed -n 's/^ *\(lines\|functions\|branches\)\.*: \(.*\)/\1: \2/p' |
		awk '{ printf "  %-11s%s\n", $1, substr($0, length($1) + 2) }'
}

# fns TRACEFILE: "count file line function" for every function.
fns() {
	awk -v root="$ROOT/" '
	/^SF:/ { f = substr($0, 4); if (index(f, root) == 1) f = substr(f, length(root) + 1) }
	/^FN:/ { split(substr($0, 4), a, ","); line[a[2]] = a[1] }
	/^FNDA:/ { split(substr($0, 6), a, ","); n[a[2]] = a[1] }
	/^end_of_record/ {
		for (fn in line) print (fn in n ? n[fn] : 0), f, line[fn], fn
		delete line; delete n
	}' "$1"
}

{
	echo "vm/ coverage, $WHAT (uvmstress exit $run_rc):"
	summary "$C/vm.info"
	echo "host/ coverage, same run:"
	summary "$C/host.info"
} | tee "$C/summary.txt"

fns "$C/vm.info" | awk '$1 == 0' | sort -k2,2 -k3,3n |
	awk '{ print $2 ":" $4 }' >"$C/unreached.txt"
nfn=$(fns "$C/vm.info" | wc -l)
nzero=$(wc -l <"$C/unreached.txt")
echo
echo "vm/ functions never called: $nzero of $nfn ($C/unreached.txt):"
sed 's/^/  /' "$C/unreached.txt"

# The seed functions (../shared/seeds, by ../shared/tools/seed-coverage):
# those defined in vm/ or host/ that the run never called, and those not
# defined at all.
echo
if [ ! -r "$SEED_TOOL" ]; then
	say "no seed-coverage tool at $SEED_TOOL (SEED_COVERAGE=...): seed functions skipped"
else
	fns "$C/all.info" | awk '{ print $4, $2, $1 }' >"$C/fns.txt"
	PROJECT_ROOT=$ROOT bash "$SEED_TOOL" | awk -v fns="$C/fns.txt" -v root="$ROOT/" '
	BEGIN {
		while ((getline l < fns) > 0) {
			split(l, a, " ")
			calls[a[1]] += a[3]; where[a[1]] = where[a[1]] " " a[2]
		}
	}
	/^0[0-9]*_[0-9a-f]*\.txt / {
		seed = $1; fn = $2; def = $3; tot++
		if (!(seed in undef)) { seeds[++nseed] = seed; undef[seed] = "" }
		if (def == "NOT") {
			nodef++; undef[seed] = undef[seed] " " fn
		} else if (calls[fn] > 0) {
			reached[++hit] = fn
		} else {
			if (index(def, root) == 1)
				def = substr(def, length(root) + 1)
			missed[++nmiss] = sprintf("  %-24s %-26s %s", fn, def,
			    fn in where ? "0 calls" : "not compiled (no such function in the build)")
		}
	}
	END {
		printf "seed functions: %d; defined in vm/ or host/: %d, reached by this run: %d\n",
		    tot, tot - nodef, hit
		l = " "
		for (i = 1; i <= hit; i++) {
			if (length(l) + length(reached[i]) > 76) { print l; l = " " }
			l = l " " reached[i]
		}
		if (hit > 0)
			print l
		printf "seed functions defined but not reached: %d\n", nmiss
		for (i = 1; i <= nmiss; i++) print missed[i]
		printf "seed functions not defined in vm/ or host/ (so not reached): %d\n", nodef
		for (j = 1; j <= nseed; j++) {
			s = seeds[j]
			if (undef[s] == "")
				continue
			printf "  %s:\n", s
			n = split(undef[s], w, " "); l = "   "
			for (i = 1; i <= n; i++) {
				if (length(l) + length(w[i]) > 76) { print l; l = "   " }
				l = l " " w[i]
			}
			print l
		}
	}' | tee "$C/seeds-unreached.txt"
	rm -f "$C/fns.txt"
fi

echo
say "HTML report: $C/html/index.html"
say "the run took ${t_run} s, the whole script $SECONDS s"
if [ "$run_rc" -ne 0 ]; then
	echo "coverage: the uvmstress run did not pass (exit $run_rc): see its output above" >&2
	exit "$run_rc"
fi
