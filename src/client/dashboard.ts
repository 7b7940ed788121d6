/**
 * @module
 * `cpan-bridge dashboard`: the operations guide's dashboard in the terminal, refreshed every N
 * seconds, coloured only on a TTY, ending cleanly on Ctrl+C.
 */

// deno-lint-ignore-file no-console

import { callFunction, UnreachableError } from "./bridge_client.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" ? v as Obj : {});
const num = (v: unknown): number => (typeof v === "number" ? v : Number(v) || 0);

/** Renders one frame of the dashboard from a system.metrics result. */
export function renderDashboard(m: Obj, color: boolean): string {
  const c = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const mark = (
    bad: boolean,
    warn: boolean,
    s: string,
  ) => (bad ? c("31", s) : warn ? c("33", s) : c("32", s));
  const info = obj(m.daemon_info), perf = obj(m.performance_metrics), res = obj(m.resource_status);
  const conn = obj(m.connection_summary),
    sec = obj(m.security_summary),
    mods = obj(m.module_status);
  const err = num(perf.error_rate) * 100, mem = num(res.memory_mb), cpu = num(res.cpu_percent);
  const lines = [
    c("1", "CPAN Bridge Daemon - Operational Dashboard"),
    "=".repeat(50),
    `Timestamp: ${m.timestamp}`,
    `Version: ${info.version}  Uptime: ${info.uptime_formatted}`,
    "",
    c("1", "PERFORMANCE"),
    `  Total Requests: ${num(perf.total_requests)}`,
    `  Requests/sec:   ${num(perf.requests_per_second).toFixed(2)}`,
    `  Avg Response:   ${(num(perf.avg_response_time) * 1000).toFixed(2)} ms`,
    `  P95 Response:   ${(num(perf.p95_response_time) * 1000).toFixed(2)} ms`,
    `  Error Rate:     ${mark(err > 10, err > 5, `${err.toFixed(1)}%`)}`,
    "",
    c("1", "RESOURCES"),
    `  Memory:         ${mark(mem > 1000, mem > 500, `${mem.toFixed(1)} MB`)}`,
    `  CPU:            ${mark(cpu > 95, cpu > 80, `${cpu.toFixed(1)}%`)}`,
    `  Requests/min:   ${num(res.requests_per_minute)}`,
    `  Concurrent:     ${num(res.concurrent_requests)}`,
    "",
    c("1", "CONNECTIONS"),
    `  Active:         ${
      mark(false, num(conn.active_connections) > 40, String(num(conn.active_connections)))
    }`,
    `  Stale:          ${
      mark(false, num(conn.stale_connections) > 5, String(num(conn.stale_connections)))
    }`,
    `  Total:          ${num(conn.total_connections)}`,
    "",
    c("1", "SECURITY"),
    `  Security Events:   ${
      mark(false, num(sec.total_security_events) > 0, String(num(sec.total_security_events)))
    }`,
    `  Rejected Requests: ${
      mark(false, num(sec.requests_rejected) > 0, String(num(sec.requests_rejected)))
    }`,
    `  Validation Fails:  ${
      mark(false, num(sec.validation_failures) > 0, String(num(sec.validation_failures)))
    }`,
    "",
    c("1", "MODULES"),
    `  Loaded: ${num(mods.loaded_modules)}  (${
      (mods.available_modules as string[] ?? []).join(", ")
    })`,
  ];
  return lines.join("\n");
}

/** Runs the dashboard; `count` frames (forever when undefined). Returns the exit code. */
export async function runDashboard(
  socket: string,
  intervalS: number,
  count?: number,
): Promise<number> {
  const tty = Deno.stdout.isTerminal();
  let stop = false;
  let wake: (() => void) | undefined;
  const onInt = () => {
    stop = true;
    wake?.();
  };
  Deno.addSignalListener("SIGINT", onInt);
  try {
    for (let frame = 0; !stop && (count === undefined || frame < count); frame++) {
      let text: string;
      try {
        const r = await callFunction(socket, "system", "metrics", {}, 5000);
        text = r.success === true
          ? renderDashboard(obj(r.result), tty)
          : `Error: ${String(r.error)}`;
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        text = `Daemon unreachable: ${err.message}`;
      }
      console.log(
        (tty ? "\x1b[2J\x1b[H" : "") + text +
          (tty ? `\n\nRefreshing every ${intervalS} s; Ctrl+C to quit` : ""),
      );
      if (count !== undefined && frame + 1 >= count) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, intervalS * 1000);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
  }
  return 0;
}
