#!/usr/bin/env bash
# Prints the path of the project's pinned Deno, installing it from the npm registry when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deno="$root/tools/deno/node_modules/.bin/deno"
if [ ! -x "$deno" ]; then
  (cd "$root/tools/deno" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
if [ ! -d "$root/node_modules" ]; then
  (cd "$root" && "$deno" install --frozen --quiet >&2)
fi
echo "$deno"
