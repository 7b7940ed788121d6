/**
 * @module
 * `cpan-bridge report`: the operations guide's `create_incident.sh`, built in. One text file
 * with a table of contents: version and build, configuration, the doctor's findings, health,
 * metrics, performance and recent errors, connections, the daemon process's memory and
 * descriptors, and the last lines of both logs. Every section is scrubbed of secrets; a daemon
 * that does not answer is reported as such and the rest is still written.
 */

import { type Config, defaultLogDir, operatorKeys } from "../../config.ts";
import { isSecretKey } from "../../log/format.ts";
import { BUILD_INFO } from "../../build_info.ts";
import { VERSION } from "../../version.ts";
import { formatFindings, runDoctor } from "../doctor/mod.ts";
import type { DoctorHost } from "../doctor/mod.ts";
import { daemonPid, processFacts } from "./process_facts.ts";
import { scrubSecrets } from "./scrub.ts";

/** Options of `buildReport`. */
export interface ReportOptions {
  readonly host: DoctorHost;
  /** Log lines per log (default 200). */
  readonly lines?: number;
  readonly now?: Date;
}

interface Section {
  readonly title: string;
  body(): Promise<string>;
}

/** The last `n` lines of a file, reading at most its last 4 MiB. */
export async function tailLines(path: string, n: number): Promise<string> {
  const f = await Deno.open(path, { read: true });
  try {
    const size = (await f.stat()).size;
    const take = Math.min(size, 4 * 1024 * 1024);
    await f.seek(size - take, Deno.SeekMode.Start);
    const buf = new Uint8Array(take);
    let off = 0;
    while (off < take) {
      const r = await f.read(buf.subarray(off));
      if (r === null) break;
      off += r;
    }
    const lines = new TextDecoder().decode(buf.subarray(0, off)).split("\n");
    if (lines.at(-1) === "") lines.pop();
    return n === 0 ? "" : lines.slice(-n).join("\n");
  } finally {
    f.close();
  }
}

function json(v: unknown): string {
  return JSON.stringify(v, null, 2);
}

function configText(config: Config, env: Readonly<Record<string, string>>): string {
  // The settings an operator sets; internal keys (CPAN_BRIDGE_SELF…) show among the others.
  const keys = operatorKeys();
  const rows = keys.map(([key, def]) => {
    const v = String(config[key]);
    const set = env[def.env] !== undefined ? "" : "  (default)";
    return `${def.env}=${isSecretKey(def.env) && v !== "" ? "[REDACTED]" : v}${set}`;
  });
  const other = Object.keys(env).filter((k) =>
    k.startsWith("CPAN_BRIDGE_") && !keys.some(([, d]) => d.env === k)
  ).map((k) => `${k}=${isSecretKey(k) ? "[REDACTED]" : env[k]}  (not a daemon setting)`);
  return [...rows, ...other].join("\n");
}

/** Builds the report text (already scrubbed of secrets). */
export async function buildReport(opts: ReportOptions): Promise<string> {
  const { host } = opts;
  const lines = opts.lines ?? 200;
  const socket = host.config.socketPath;
  const call = async (m: string, f: string) => {
    try {
      const env = await host.call(socket, m, f, 10_000);
      if (env.success !== true) return `not available: ${String(env.error ?? "no result")}`;
      const { success: _s, result: _r, ...rest } = (env.result ?? {}) as Record<string, unknown>;
      return json(rest);
    } catch (err) {
      return `unreachable: ${(err as Error).message}`;
    }
  };
  const logDir = host.config.logDir || defaultLogDir(host.env);
  const logPath = (own: string, name: string) =>
    own === "-" ? undefined : own || `${logDir}/${name}`;
  const tail = async (path: string | undefined) => {
    if (!path) return "written to stderr (not captured)";
    return await tailLines(path, lines).catch((err) => `cannot read ${path}: ${err.message}`);
  };
  const sections: Section[] = [
    {
      title: "Version and build",
      body: () =>
        Promise.resolve(
          `cpan-bridge ${VERSION} (${BUILD_INFO})\nDeno ${Deno.version.deno}, V8 ${Deno.version.v8}\n` +
            `host ${Deno.hostname()}, ${Deno.build.target}, uid ${host.uid}`,
        ),
    },
    { title: "Configuration", body: () => Promise.resolve(configText(host.config, host.env)) },
    { title: "Doctor", body: async () => formatFindings(await runDoctor(host)) },
    { title: "Health (system.health)", body: () => call("system", "health") },
    { title: "Metrics (system.metrics)", body: () => call("system", "metrics") },
    {
      title: "Performance and recent errors (system.performance)",
      body: () => call("system", "performance"),
    },
    { title: "Connections (system.connections)", body: () => call("system", "connections") },
    {
      title: "Daemon process",
      body: async () => {
        const pid = await daemonPid(socket, host.procDir);
        if (pid === undefined) return `no process listens on ${socket}`;
        const f = await processFacts(pid, host.procDir);
        return [
          `pid ${f.pid}, uid ${f.uid ?? "?"}`,
          `resident memory ${f.rssKb === undefined ? "?" : (f.rssKb / 1024).toFixed(1)} MB`,
          `threads ${f.threads ?? "?"}`,
          `open descriptors ${f.openFds ?? "?"} (limit soft / hard: ${f.fdLimit ?? "?"})`,
        ].join("\n");
      },
    },
    {
      title: `Daemon log (last ${lines} lines)`,
      body: () => tail(logPath(host.config.daemonLog, "cpan_daemon.log")),
    },
    {
      title: `Security log (last ${lines} lines)`,
      body: () => tail(logPath(host.config.securityLog, "cpan_security.log")),
    },
  ];
  const now = opts.now ?? new Date();
  const out = [
    `cpan-bridge incident report, ${now.toISOString()}`,
    `socket ${socket}`,
    "",
    "Contents",
    ...sections.map((s, i) => `  ${i + 1}. ${s.title}`),
  ];
  for (const [i, s] of sections.entries()) {
    const heading = `${i + 1}. ${s.title}`;
    out.push("", heading, "=".repeat(heading.length), await s.body());
  }
  return scrubSecrets(out.join("\n") + "\n");
}

/** Writes the report to `path` (mode 0600, never following a planted symlink). */
export async function writeReport(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { createNew: true, mode: 0o600 });
}

/** The default file name: cpan-bridge-report-<host>-<UTC timestamp>.txt. */
export function defaultReportPath(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `cpan-bridge-report-${Deno.hostname()}-${stamp}.txt`;
}
