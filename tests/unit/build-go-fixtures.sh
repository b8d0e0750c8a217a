#!/usr/bin/env bash
# Builds the Go fixtures testprog/go/goroutines, gcprog, golines, gostart, gcheap, gostack, goparked
# and goheap
# with older Go toolchains, for the cross-version checks in tests/unit/test_goelf.c,
# tests/unit/test_go_lines.c, tests/integration/test_gc.py,
# tests/integration/test_go_start.py and the go-inspect tests.
#
#   tests/unit/build-go-fixtures.sh BUILD_DIR [goX.Y.Z ...]
#
# For each version V (default: the list below, one or more per goid-offset
# era) it writes BUILD_DIR/testprog/go/vers/NAME-V, -V-stripped
# (-ldflags='-s -w') and -V-pie (-buildmode=pie) for each fixture NAME
# (goroutines, gcprog, golines, gostart, gcheap, gostack, goparked, goheap; FIXTURES="a b" builds only those),
# all CGO_ENABLED=0, using
# GOTOOLCHAIN=V (the go command downloads golang.org/toolchain@...-V into the
# module cache the first time: needs network access once). A toolchain that
# cannot be had is reported and skipped; the script still exits 0, and the
# unit test skips what is missing. Set GO to choose the go command. A version
# given as VERSION=GOCMD is built by that go command (GOTOOLCHAIN=local): by
# default, each Debian Go in /usr/lib/go-1.*/bin/go (go1.19 from golang-1.19-go).
set -uo pipefail

build=${1:?usage: $0 BUILD_DIR [goX.Y.Z ...]}
shift
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  # go1.19.13 is left out: its toolchain module downloads but cannot build
  # here ("import of unknown directory"); Debian's go1.19 stands in for it.
  versions=(go1.17.13 go1.18.10 go1.20.14 go1.21.13 go1.22.12
            go1.23.12 go1.24.13 go1.25.0)
  # Debian's own Go releases (golang-1.19-go, from .ci/install-deps) fill the gap: VERSION=GOCMD.
  for g in /usr/lib/go-1.*/bin/go; do
    [ -x "$g" ] || continue
    gv=$(GOTOOLCHAIN=local "$g" env GOVERSION 2>/dev/null) && versions+=("$gv=$g")
  done
fi

here=$(cd "$(dirname "$0")/../.." && pwd)
read -r -a fixtures <<<"${FIXTURES:-goroutines gcprog golines gostart gcheap gostack goparked goheap}"
GO=${GO:-go}
command -v "$GO" >/dev/null 2>&1 || GO=/usr/local/go/bin/go
out=$build/testprog/go/vers
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Build outside the git work tree: no VCS stamping questions for any version.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "${fixtures[@]}"; do
  mkdir -p "$tmp/$f"
  cp "$here/testprog/go/$f/main.go" "$here/testprog/go/$f/go.mod" "$tmp/$f/"
done

built=() skipped=()
for v in "${versions[@]}"; do
  gocmd=$GO toolchain=${v%%=*}
  if [ "$v" != "${v#*=}" ]; then gocmd=${v#*=} toolchain=local; fi
  v=${v%%=*}
  minor=$(echo "$v" | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  # The user's go env file may say GOFLAGS=-buildvcs=false, a flag Go 1.17
  # does not know: the environment overrides it.
  flags=-mod=mod
  [ "${minor:-0}" -ge 18 ] && flags="$flags -buildvcs=false"
  ok=1
  if ! (cd "$tmp/${fixtures[0]}" && GOTOOLCHAIN=$toolchain GOFLAGS=$flags "$gocmd" version >/dev/null 2>"$tmp/err"); then
    echo "build-go-fixtures: skipping $v: toolchain not available: $(head -c 300 "$tmp/err" | tr '\n' ' ')" >&2
    skipped+=("$v")
    continue
  fi
  for f in "${fixtures[@]}"; do
    src=$here/testprog/go/$f
    for variant in plain stripped pie; do
      case $variant in
        plain)    dst=$out/$f-$v;          args=() ;;
        stripped) dst=$out/$f-$v-stripped; args=("-ldflags=-s -w") ;;
        pie)      dst=$out/$f-$v-pie;      args=(-buildmode=pie) ;;
      esac
      if [ -x "$dst" ] && [ "$dst" -nt "$src/main.go" ] && [ "$dst" -nt "$src/go.mod" ]; then
        continue
      fi
      if ! (cd "$tmp/$f" && CGO_ENABLED=0 GOTOOLCHAIN=$toolchain GOFLAGS=$flags \
            "$gocmd" build "${args[@]}" -o "$dst.tmp" . 2>"$tmp/err" && mv "$dst.tmp" "$dst"); then
        echo "build-go-fixtures: $v $f $variant build failed: $(head -c 300 "$tmp/err" | tr '\n' ' ')" >&2
        ok=0
      fi
    done
  done
  if [ $ok -eq 1 ]; then built+=("$v"); else skipped+=("$v"); fi
done
echo "build-go-fixtures: built ${built[*]:-nothing}${skipped:+; skipped ${skipped[*]}} in $out" >&2
exit 0
