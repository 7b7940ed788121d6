#!/usr/bin/env bash
# Builds dist/cpan-bridge, the single self-contained executable for Linux x86_64 (`deno task build`).
# docs/binary.md explains the two routes and their trade-offs:
#   - deno compile, when a real `denort` is at hand: DENORT_BIN=/path/to/denort (or
#     CPAN_BRIDGE_BUILD=compile to let deno download it from dl.deno.land);
#   - otherwise a self-extracting binary: a static C launcher (scripts/build/launcher.c) followed by
#     a zstd payload of the Deno runtime from npm, the program and its npm packages (bundled).
# Both bake in the same permission flags and need no network and no file beside them at run time.
#
# Environment:
#   CPAN_BRIDGE_BUILD      auto (default: compile if DENORT_BIN is set) | compile | self-extracting
#   DENORT_BIN             a denort binary of the pinned Deno version, for the compile route
#   CPAN_BRIDGE_ZSTD_LEVEL zstd level for the payload (default 19; decoding speed is the same)
#   CPAN_BRIDGE_BUILD_OUT  output path (default dist/cpan-bridge)
# Needs: gcc, the static C library and libzstd (Debian: gcc libc6-dev libzstd-dev), zstd, sha256sum;
# esbuild from the npm registry (pinned in tools/esbuild, installed on first use).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deno="$(bash scripts/ensure_deno.sh)"
out="${CPAN_BRIDGE_BUILD_OUT:-$root/dist/cpan-bridge}"
mode="${CPAN_BRIDGE_BUILD:-auto}"
level="${CPAN_BRIDGE_ZSTD_LEVEL:-19}"
if [ "$mode" = auto ]; then
  if [ -n "${DENORT_BIN:-}" ]; then mode=compile; else mode=self-extracting; fi
fi
case "$mode" in compile | self-extracting) ;; *)
  echo "build_binary: CPAN_BRIDGE_BUILD must be auto, compile or self-extracting, not '$mode'" >&2
  exit 64
  ;;
esac

# All permissions: Deno 2 grants paths under /proc/<pid>/ only with --allow-all, and the helpers
# must read the caller's cwd and environment there (helpers contract §2.4), write to its stdout
# (logging_helper) and check lock owners' PIDs (lockfile); setrlimit(RLIMIT_CORE) needs FFI
# (docs/binary.md). Remote imports stay off (--no-remote, --cached-only).
perms=(--allow-all)
# The daemon's runtime tuning, as in every launcher (DAEMON_V8_FLAGS and DAEMON_ENV in
# src/client/commands/daemon.ts say why; tests/src/client/commands/daemon_test.ts checks they agree).
# The environment part is set by the self-extracting binary's launcher; a deno-compiled binary
# cannot carry it.
v8flags=(--v8-flags=--max-semi-space-size=1,--expose-gc,--memory-pool-timeout=1)
runtime_env=(MALLOC_MMAP_THRESHOLD_=65536)

mkdir -p dist/.cache
exec 9>dist/.build.lock
flock 9
work="$(mktemp -d "$root/dist/.build-XXXXXX")"
trap 'rm -rf "$work"' EXIT

version="$(sed -n 's/^export const VERSION = "\(.*\)";/\1/p' src/version.ts)"
deno_version="$("$deno" --version | sed -n '1s/^deno \([^ ]*\).*/\1/p')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- main.ts src helpers deno.json deno.lock 2>/dev/null)" ]; then
  commit="$commit+dirty"
fi
built="$(date -u +%Y-%m-%dT%H:%MZ)"

# The program, as it will be packed: sources only (no tests), with build_info.ts rewritten.
stage="$work/payload/app"
mkdir -p "$stage"
cp -R main.ts src helpers deno.json deno.lock "$stage/"
stamp() {
  sed -i -e "s|^export const BUILD_INFO = .*|export const BUILD_INFO = \"$1\";|" \
    -e "s|^export const SELF_EXTRACTING: boolean = .*|export const SELF_EXTRACTING: boolean = $2;|" \
    "$stage/src/build_info.ts"
  grep -q "$1" "$stage/src/build_info.ts" || { echo "build_binary: cannot stamp build_info.ts" >&2; exit 1; }
}
(cd "$stage" && "$deno" install --frozen --quiet)

# Checks that a built binary runs the program (and not, say, the Deno REPL).
smoke() {
  local got
  got="$(CPAN_BRIDGE_CACHE_DIR="$work/smoke" "$1" --version </dev/null 2>&1 || true)"
  case "$got" in "cpan-bridge $version "*) echo "$got" ;; *) return 1 ;; esac
}

# main.ts names the modules it loads (ENTRIES) at run time, so that `--version` and `--health`
# load only their own: neither deno compile nor esbuild sees them through main.ts.
entries=(src/cli.ts src/client/fast/version.ts src/client/fast/health.ts)

if [ "$mode" = compile ]; then
  stamp "deno compile, denort ${DENORT_BIN:+from DENORT_BIN}${DENORT_BIN:-from dl.deno.land}, git $commit, $built" false
  (cd "$stage" && "$deno" compile --quiet --frozen --no-check --output "$work/cpan-bridge" \
    "${perms[@]}" "${v8flags[@]}" --include src/host/worker_entry.ts \
    "${entries[@]/#/--include=}" main.ts)
  if ! smoke "$work/cpan-bridge" >/dev/null; then
    echo "build_binary: the compiled binary does not run the program. DENORT_BIN must be the denort" >&2
    echo "of Deno $deno_version, not the full deno CLI; unset DENORT_BIN to build the" >&2
    echo "self-extracting binary instead (docs/binary.md)." >&2
    exit 1
  fi
else
  stamp "self-extracting: static launcher + zstd payload, runtime from npm deno@$deno_version, git $commit, $built" true
  # Smaller payload, far fewer files to unpack: node_modules (about 50 MB in 6,000 files) becomes
  # one esbuild bundle per npm package the program imports (scripts/build/bundle_npm.ts), with the
  # same names and versions, so Deno resolves and runs them as npm packages as before.
  esbuild="$(bash scripts/build/ensure_esbuild.sh)"
  "$deno" run --quiet --allow-all scripts/build/bundle_npm.ts --esbuild "$esbuild" --deno "$deno" "$stage"
  # The program itself: main.ts and the helper worker's entry bundled to JavaScript, with each
  # lazily imported module (each helper, imported by helpers/registry.ts) in a chunk of its own
  # that is still loaded on first use. No TypeScript is left to transpile on the first run, and a start reads ~40 files
  # instead of ~300. npm packages (the deno.json imports) and node: built-ins stay imports. The
  # worker is found beside its host (new URL in src/host/worker_host.ts): all outputs share one
  # directory, and the URL is pointed at the bundled name.
  worker_url='new URL("./worker_entry.ts", import.meta.url)'
  grep -qF "$worker_url" "$stage/src/host/worker_host.ts" ||
    { echo "build_binary: src/host/worker_host.ts no longer has $worker_url" >&2; exit 1; }
  sed -i "s|new URL(\"./worker_entry.ts\", import.meta.url)|new URL(\"./worker_entry.js\", import.meta.url)|" \
    "$stage/src/host/worker_host.ts"
  externals=()
  while IFS= read -r spec; do externals+=("--external:$spec"); done < <(
    "$deno" eval 'for (const k of Object.keys(JSON.parse(Deno.readTextFileSync(Deno.args[0])).imports ?? {})) console.log(k)' \
      "$stage/deno.json"
  )
  # Each of main.ts's ENTRIES is an entry point of the bundle, and ENTRIES is pointed at the
  # bundled names.
  for e in "${entries[@]}"; do
    grep -qF "\"./$e\"," "$stage/main.ts" ||
      { echo "build_binary: main.ts ENTRIES no longer names ./$e" >&2; exit 1; }
    sed -i "s|\"\./$e\",|\"./$(basename "$e" .ts).js\",|" "$stage/main.ts"
  done
  (cd "$stage" && "$esbuild" main.ts src/host/worker_entry.ts "${entries[@]}" --bundle --splitting --format=esm \
    --platform=neutral --target=esnext "--external:node:*" "${externals[@]}" --outdir=.bundled \
    --entry-names='[name]' --chunk-names='chunk-[hash]' --log-level=warning)
  rm -rf "$stage/main.ts" "$stage/src" "$stage/helpers" "$stage/deno.lock"
  mv "$stage/.bundled/"* "$stage/" && rmdir "$stage/.bundled"

  # The runtime's compressed part does not change between builds: keep it in dist/.cache.
  runtime="$(readlink -f "$deno")"
  rsum="$(sha256sum "$runtime" | cut -c1-16)"
  rzst="dist/.cache/runtime-$deno_version-$rsum-zstd$level.zst"
  if [ ! -s "$rzst" ]; then
    mkdir -p "$work/payload/runtime"
    cp "$runtime" "$work/payload/runtime/deno"
    "$deno" run --quiet --allow-read scripts/build/pack.ts --magic "$work/payload" runtime |
      zstd -q -T0 --long=27 --ultra "-$level" --check >"$rzst.tmp"
    mv "$rzst.tmp" "$rzst"
  fi
  "$deno" run --quiet --allow-read scripts/build/pack.ts --end "$work/payload" app |
    zstd -q -T0 --long=27 --ultra "-$level" --check >"$work/app.zst"
  cat "$rzst" "$work/app.zst" >"$work/payload.zst"
  size="$(stat -c %s "$work/payload.zst")"
  id="$(sha256sum "$work/payload.zst" | cut -c1-16)"

  # The launcher's baked-in command: {DIR} is the unpacked directory. --node-modules-dir=manual
  # and --cached-only keep Deno off the network; an explicit --config and DENO_NO_PACKAGE_JSON keep
  # the caller's deno.json/package.json out of it; DENO_DIR holds the analysis and V8 code caches.
  args=(run --quiet --no-prompt --cached-only --no-remote --no-lock --node-modules-dir=manual
    "--config={DIR}/app/deno.json" "${perms[@]}" "${v8flags[@]}" "{DIR}/app/main.js")
  {
    echo "/* Generated by scripts/build_binary.sh. */"
    echo "#define CB_VERSION \"$version\""
    echo "#define CB_ID \"$id\""
    echo "#define CB_PAYLOAD_SIZE ${size}ULL"
    echo "#define CB_RUNTIME \"runtime/deno\""
    printf 'static const char *const CB_ARGS[] = {'
    printf '"%s", ' "${args[@]}"
    echo '};'
    printf 'static const char *const CB_ENV[] = {"DENO_DIR={DIR}/cache", "DENO_NO_UPDATE_CHECK=1", "DENO_NO_PACKAGE_JSON=1"'
    printf ', "%s"' "${runtime_env[@]}"
    echo '};'
  } >"$work/launch_config.h"
  gcc -static -Os -s -Wall -Wextra -I"$work" -o "$work/launcher" scripts/build/launcher.c -lzstd
  cat "$work/launcher" "$work/payload.zst" >"$work/cpan-bridge"
  chmod 755 "$work/cpan-bridge"
  if ! smoke "$work/cpan-bridge" >/dev/null; then
    echo "build_binary: the built binary does not run:" >&2
    CPAN_BRIDGE_CACHE_DIR="$work/smoke" "$work/cpan-bridge" --version </dev/null >&2 || true
    exit 1
  fi
fi

mkdir -p "$(dirname "$out")"
cp "$work/cpan-bridge" "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
echo "Built $out ($(stat -c %s "$out") bytes): $(smoke "$out")"
