#!/bin/sh
# deps.sh: make sure the Debian packages the build needs are installed.
# As root it installs what is missing (apt-get); otherwise it names the
# packages and fails.  Exit 0 when everything is present, 3 when not.
PKGS="clang libclang-rt-14-dev liburcu-dev libcriterion-dev libhwloc-dev libbsd-dev pkg-config make gcc"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "uvmstress: missing Debian packages:$missing (install them as root: apt-get install$missing)" >&2
	exit 3
fi
echo "uvmstress: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >&2; then
	echo "uvmstress: apt-get could not install:$missing" >&2
	exit 3
fi
exit 0
