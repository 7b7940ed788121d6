#!/usr/bin/env bash
# A/B of ping servers in alternating rounds, one driver (../shared/bench/bridge_bench.pl), one
# time window: every server is started once, then each round runs the driver on each of them in
# turn (the order rotates every round), so that a busy moment of the shared machine falls on all
# of them alike. Prints, per server, the daemon CPU µs per request (sequential `seq-wire` and at
# the most clients) and the sequential p50/p99 of every round, then the medians and minima and
# their ratio to the first server (on a busy machine the minimum is the steadier figure).
#
# With --interleave, the servers are driven by scripts/bench/interleave.pl instead (one request
# to each in turn, so machine load falls on all alike): its table is printed and nothing else.
#
# usage: scripts/bench/ab_ping.sh [--rounds N] [--out DIR] [--reply FILE] [--interleave]
#                                 [--] LABEL=COMMAND...
#   COMMAND is run with `bash -c "exec COMMAND"`, so its pid is the server's; {SOCK} and {REPLY}
#   in it are replaced by the server's socket path and a daemon's test.ping reply bytes (taken
#   from a fresh `scripts/cpan-bridge daemon` unless --reply names a file).
#   BENCH_OPTS (environment) replaces the driver's options
#   (default: --calls test.ping --seq 3000 --count 8000 --clients 1,32); INTERLEAVE_OPTS are
#   interleave.pl's (e.g. "--n 5000 --clients 32").
# e.g.
#   deno=tools/deno/node_modules/.bin/deno
#   scripts/bench/ab_ping.sh --rounds 4 \
#     "naive=$deno run -A scripts/bench_naive_deno.ts {SOCK} {REPLY}" \
#     "daemon=scripts/cpan-bridge daemon --socket {SOCK} --log-dir /tmp/ab-logs"
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bench="$root/../shared/bench/bridge_bench.pl"
rounds=3; out=/tmp/cpan-bridge-ab.$$; reply=; interleave=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --reply) reply=$2; shift 2 ;;
    --interleave) interleave=1; shift ;;
    --) shift; break ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--rounds N] [--out DIR] [--reply FILE] LABEL=COMMAND..." >&2; exit 2; }
read -r -a opts <<<"${BENCH_OPTS:---calls test.ping --seq 3000 --count 8000 --clients 1,32}"
mkdir -p "$out"
dir=$(mktemp -d /tmp/cpan-bridge-ab-run.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

wait_socket() { # path pid
  for _ in $(seq 1 300); do
    [ -S "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

if [ -z "$reply" ]; then
  reply="$dir/ping.reply"
  mkdir -p "$dir/ref"
  "$root/scripts/cpan-bridge" daemon --socket "$dir/ref/s" --log-dir "$dir/ref" >"$dir/ref/out" 2>&1 &
  ref=$!
  wait_socket "$dir/ref/s" "$ref" || { echo "reference daemon did not start" >&2; exit 1; }
  perl "$root/../shared/bench/bridge_call.pl" "$dir/ref/s" test ping '{}' 2>/dev/null >"$reply"
  kill -TERM "$ref"; wait "$ref" 2>/dev/null
fi

labels=()
for spec in "$@"; do
  label=${spec%%=*}; cmd=${spec#*=}
  sock="$dir/$label.sock"
  cmd=${cmd//\{SOCK\}/$sock}; cmd=${cmd//\{REPLY\}/$reply}
  bash -c "exec $cmd" >"$out/$label.log" 2>&1 </dev/null &
  pid=$!; pids+=("$pid")
  wait_socket "$sock" "$pid" || { echo "$label did not start: $(tail -3 "$out/$label.log")" >&2; exit 1; }
  perl "$root/../shared/bench/bridge_call.pl" "$sock" test ping '{}' >/dev/null 2>&1
  labels+=("$label"); echo "$label: pid $pid, $cmd" >&2
done

n=${#labels[@]}
if [ -n "$interleave" ]; then
  specs=()
  for i in $(seq 0 $((n - 1))); do specs+=("${labels[$i]}=$dir/${labels[$i]}.sock:${pids[$i]}"); done
  read -r -a iopts <<<"${INTERLEAVE_OPTS:-}"
  perl "$root/scripts/bench/interleave.pl" --rounds "$rounds" "${iopts[@]}" "${specs[@]}" | tee "$out/interleave.md"
  exit 0
fi
for r in $(seq 1 "$rounds"); do
  echo "round $r, $(uptime)" | tee -a "$out/uptime.txt" >&2
  for k in $(seq 0 $((n - 1))); do
    i=$(((k + r - 1) % n))
    label=${labels[$i]}
    timeout 900 perl "$bench" "$dir/$label.sock" --pid "${pids[$i]}" --label "$label" "${opts[@]}" \
      --no-oneliner --no-real-client --json "$out/$label.r$r.json" >"$out/$label.r$r.txt" 2>&1 ||
      echo "$label round $r: driver exited $? (see $out/$label.r$r.txt)" >&2
  done
done

python3 - "$out" "$rounds" "${labels[@]}" <<'PY'
import json, os, statistics, sys
out, rounds, labels = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def row(d, scenario, most=False):
    rs = [r for r in d["rows"] if r["scenario"] == scenario]
    if not rs:
        return None
    return max(rs, key=lambda r: r["clients"]) if most else rs[0]
res = {}
for label in labels:
    res[label] = []
    for r in range(1, rounds + 1):
        try:
            d = json.load(open(os.path.join(out, f"{label}.r{r}.json")))
        except Exception:
            continue
        s, t = row(d, "seq-wire"), row(d, "throughput", True)
        res[label].append({
            "seq": s["dcpu_us"], "most": t["dcpu_us"], "cl": t["clients"],
            "p50": s["p50"] * 1e3, "p99": s["p99"] * 1e3, "rps": t["rps"],
            "err": sum(x["err"] for x in d["rows"]),
        })
print("| server | round | seq CPU µs/req | CPU µs/req at most clients | seq p50 ms | seq p99 ms | req/s most clients | errors |")
print("|---|---|---|---|---|---|---|---|")
for label in labels:
    for i, x in enumerate(res[label], 1):
        print(f"| {label} | {i} | {x['seq']:.0f} | {x['most']:.0f} ({x['cl']} cl) | {x['p50']:.3f} | {x['p99']:.3f} | {x['rps']:,.0f} | {x['err']} |")
print()
print("| server | median seq CPU µs/req | × first | min | × first | median CPU µs/req most clients | × first | min | × first | median seq p50 ms | median seq p99 ms |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
base = None
for label in labels:
    xs = res[label]
    if not xs:
        print(f"| {label} | no result |")
        continue
    m = {k: statistics.median(x[k] for x in xs) for k in ("seq", "most", "p50", "p99")}
    m["seq_min"], m["most_min"] = min(x["seq"] for x in xs), min(x["most"] for x in xs)
    base = base or m
    print(f"| {label} | {m['seq']:.0f} | {m['seq'] / base['seq']:.2f} | {m['seq_min']:.0f} | {m['seq_min'] / base['seq_min']:.2f} | {m['most']:.0f} | {m['most'] / base['most']:.2f} | {m['most_min']:.0f} | {m['most_min'] / base['most_min']:.2f} | {m['p50']:.3f} | {m['p99']:.3f} |")
PY
