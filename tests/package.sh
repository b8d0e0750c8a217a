#!/usr/bin/env bash
# The Debian package, as CI checks it (.ci/run; as root, not part of make test): builds it
# (make deb, from the last commit), runs lintian on it (errors fail, warnings are printed), installs
# it with dpkg -i, runs the installed /usr/sbin/rtmon (--version, a tracing command, ps) and
# `man rtmon`, then removes it and checks that nothing is left and that iproute2's own rtmon, which
# the package moves aside while installed (debian/rtmon.preinst), is back.
#
#   sudo tests/package.sh [BUILD]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

fail() {
	echo "package: $*" >&2
	exit 1
}

if dpkg-query -W -f='${Status}' rtmon 2>/dev/null | grep -q 'install ok installed'; then
	fail "the rtmon package is installed already; remove it first (dpkg --purge rtmon)"
fi
make --no-print-directory deb BUILD="$build"
debs=("$build"/deb/rtmon_*.deb)
echo "package: built ${debs[*]}"

# lintian: an error fails, the rest is printed
lint=$(lintian --fail-on error "$build"/deb/rtmon_*.changes 2>&1) || fail "lintian: $lint"
lint=$(printf '%s\n' "$lint" | grep -v '^running with root privileges' || :)
echo "package: lintian: ${lint:-no tags}"

dpkg -i "${debs[0]}" >/dev/null
trap 'dpkg --purge rtmon >/dev/null 2>&1 || :' EXIT

want="rtmon $(head -n 1 VERSION) (commit $(git rev-parse --short HEAD))"
got=$(/usr/sbin/rtmon --version | head -n 1)
[ "$got" = "$want" ] || fail "installed rtmon --version says '$got', expected '$want'"
/usr/sbin/rtmon --version | grep -q '^libbpf v[0-9]' || fail "no libbpf line in --version"

err=$build/deb/thr.err
summary=$(/usr/sbin/rtmon thr --json -- /bin/true 2>"$err" | tail -n 1) ||
	fail "installed rtmon thr failed: $(cat "$err")"
case $summary in
*'"type":"summary"'*'"target_exit":0'*) ;;
*) fail "installed rtmon thr -- /bin/true ended with: $summary" ;;
esac
/usr/sbin/rtmon ps >/dev/null || fail "installed rtmon ps failed"
readme=$(/usr/sbin/rtmon malloc --help | tr -s ' \n' '  ' | grep -o "in /[^ ]*README.md says" || :)
[ "$readme" = "in /usr/share/doc/rtmon/README.md says" ] || fail "--help names the README as '$readme'"
grep -q '^## Reporting bugs$' /usr/share/doc/rtmon/README.md || fail "no README.md with 'Reporting bugs'"

man -w rtmon | grep -qx /usr/share/man/man8/rtmon.8.gz || fail "man -w rtmon: $(man -w rtmon 2>&1)"
warnings=$(MANWIDTH=80 man --warnings rtmon 2>&1 >/dev/null) || fail "man rtmon failed: $warnings"
[ -z "$warnings" ] || fail "man rtmon warns: $warnings"
MANWIDTH=80 man rtmon 2>/dev/null | grep -q '^OVERHEAD' || fail "man rtmon has no OVERHEAD section"
[ -f /usr/share/bash-completion/completions/rtmon ] || fail "no bash completion installed"

# iproute2's rtmon (/sbin/rtmon, rtmon(8)) is moved aside while the package is installed
iproute2=$(dpkg-query -W -f='${Status}' iproute2 2>/dev/null | grep -c 'install ok installed' || :)
if [ "$iproute2" = 1 ]; then
	/sbin/rtmon.iproute2 -V | grep -q iproute2 || fail "iproute2's rtmon was not moved to rtmon.iproute2"
	man -w rtmon.iproute2 >/dev/null || fail "iproute2's rtmon(8) is not rtmon.iproute2(8)"
fi

dpkg --purge rtmon >/dev/null
trap - EXIT
for f in /usr/share/bash-completion/completions/rtmon /usr/share/doc/rtmon; do
	[ ! -e "$f" ] || fail "$f is left after dpkg --purge rtmon"
done
if /usr/sbin/rtmon --version 2>/dev/null | grep -q '^rtmon [0-9]'; then
	fail "/usr/sbin/rtmon is left after dpkg --purge rtmon"
fi
[ -z "$(dpkg-divert --list rtmon)" ] || fail "diversions left: $(dpkg-divert --list rtmon)"
if [ "$iproute2" = 1 ]; then
	/sbin/rtmon -V | grep -q iproute2 || fail "iproute2's rtmon is not back after dpkg --purge rtmon"
	[ "$(dpkg -S /usr/share/man/man8/rtmon.8.gz)" = "iproute2: /usr/share/man/man8/rtmon.8.gz" ] &&
		[ -f /usr/share/man/man8/rtmon.8.gz ] || fail "iproute2's rtmon(8) is not back"
fi
echo "package: built, installed, ran and removed ${debs[0]##*/}"
