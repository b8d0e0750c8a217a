#!/usr/bin/env bash
# The Debian package, as CI checks it (.ci/run; as root, not part of make test): builds it
# (make deb, from the last commit), runs lintian on it (errors fail, warnings are printed), installs
# it with dpkg -i, runs the installed /usr/sbin/rtmon (--version, a tracing command, ps) and
# `man rtmon`, then removes it and checks that nothing is left.
#
#   sudo tests/package.sh [BUILD]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

if dpkg-query -W -f='${Status}' rtmon 2>/dev/null | grep -q 'install ok installed'; then
	echo "package: the rtmon package is installed already; remove it first (dpkg -r rtmon)" >&2
	exit 1
fi
make --no-print-directory deb BUILD="$build"
debs=("$build"/deb/rtmon_*.deb)
echo "package: built ${debs[*]}"

echo "package: lintian"
lintian --fail-on error --suppress-tags running-with-root-privileges "$build"/deb/rtmon_*.changes |
	sed 's/^/  /'

dpkg -i "${debs[0]}" >/dev/null
trap 'dpkg -r rtmon >/dev/null 2>&1 || :' EXIT

fail() {
	echo "package: $*" >&2
	exit 1
}

want="rtmon $(head -n 1 VERSION) (commit $(git rev-parse --short HEAD))"
got=$(/usr/sbin/rtmon --version | head -n 1)
[ "$got" = "$want" ] || fail "installed rtmon --version says '$got', expected '$want'"
/usr/sbin/rtmon --version | grep -q '^libbpf v[0-9]' || fail "no libbpf line in --version"

out=$(/usr/sbin/rtmon thr --json -- /bin/true)
summary=$(printf '%s\n' "$out" | tail -n 1)
case $summary in
*'"type":"summary"'*'"target_exit":0'*) ;;
*) fail "installed rtmon thr -- /bin/true ended with: $summary" ;;
esac
/usr/sbin/rtmon ps >/dev/null || fail "installed rtmon ps failed"

man -w rtmon | grep -qx /usr/share/man/man8/rtmon.8.gz || fail "man -w rtmon: $(man -w rtmon 2>&1)"
warnings=$(MANWIDTH=80 man --warnings rtmon 2>&1 >/dev/null) || fail "man rtmon failed: $warnings"
[ -z "$warnings" ] || fail "man rtmon warns: $warnings"
MANWIDTH=80 man rtmon 2>/dev/null | grep -q '^OVERHEAD' || fail "man rtmon has no OVERHEAD section"
[ -f /usr/share/bash-completion/completions/rtmon ] || fail "no bash completion installed"

dpkg -r rtmon >/dev/null
trap - EXIT
for f in /usr/sbin/rtmon /usr/share/man/man8/rtmon.8.gz /usr/share/bash-completion/completions/rtmon \
	/usr/share/doc/rtmon; do
	[ ! -e "$f" ] || fail "$f is left after dpkg -r rtmon"
done
echo "package: built, installed, ran and removed ${debs[0]##*/}"
