#!/usr/bin/env bash
# Prints the path of the pinned esbuild (tools/esbuild), installing it from the npm registry when
# missing. scripts/build_binary.sh uses it to bundle the npm packages of the single binary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
esbuild="$root/tools/esbuild/node_modules/.bin/esbuild"
if [ ! -x "$esbuild" ]; then
  (cd "$root/tools/esbuild" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
echo "$esbuild"
