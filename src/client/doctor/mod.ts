/**
 * @module
 * `cpan-bridge doctor`: checks the host as the unchanged `CPANBridge.pm` v2.00 will see it and
 * prints one line per finding (ok / warn / fail, with the fix). Exit code 0 when all is ok, 1
 * with warnings, 2 with a failure. The checks are a table, run in order.
 */

import { CONFIG_KEYS, loadConfig } from "../../config.ts";
import { callFunction } from "../bridge_client.ts";
import { launcherCheck, scriptsCheck } from "./client_checks.ts";
import { configCheck } from "./config_checks.ts";
import { descriptorsCheck, logsCheck, unpackCheck } from "./host_checks.ts";
import { daemonCheck, pythonDaemonCheck, socketCheck } from "./socket_checks.ts";
import type { Check, DoctorHost, Finding } from "./types.ts";

export type { DoctorHost, Finding } from "./types.ts";

/** Every check, in the order they are printed. */
export const CHECKS: readonly Check[] = [
  configCheck,
  socketCheck,
  daemonCheck,
  pythonDaemonCheck,
  scriptsCheck,
  launcherCheck,
  logsCheck,
  descriptorsCheck,
  unpackCheck,
];

/** Runs every check; a check that throws becomes a failure naming the bug. */
export async function runDoctor(host: DoctorHost): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const c of CHECKS) {
    try {
      out.push(...await c.run(host));
    } catch (err) {
      out.push({
        check: c.name,
        status: "fail",
        message: `the check itself failed: ${(err as Error).message}`,
        fix: "report this as a cpan-bridge bug, with cpan-bridge report",
      });
    }
  }
  return out;
}

/** 0 all ok, 1 a warning, 2 a failure. */
export function doctorExitCode(findings: readonly Finding[]): number {
  if (findings.some((f) => f.status === "fail")) return 2;
  return findings.some((f) => f.status === "warn") ? 1 : 0;
}

/** The human report: one line per finding, the fix indented below it. */
export function formatFindings(findings: readonly Finding[]): string {
  const width = Math.max(...findings.map((f) => f.check.length), 6);
  return findings.map((f) =>
    `${f.status.padEnd(4)} ${f.check.padEnd(width)}  ${f.message}` +
    (f.fix ? `\n     ${" ".repeat(width)}  fix: ${f.fix}` : "")
  ).join("\n");
}

/**
 * The host from the real environment. Invalid values are reported by the config check; the rest
 * of the checks use the defaults in their place.
 */
export function realHost(
  env: Readonly<Record<string, string>>,
  opts: { scriptDir?: string; selfPaths: readonly string[] },
): DoctorHost {
  const usable: Record<string, string> = {};
  for (const def of Object.values(CONFIG_KEYS)) {
    const v = env[def.env];
    if (v === undefined) continue;
    try {
      // The whole load, not the one key: it also holds the value to the cross-key limits.
      loadConfig({ [def.env]: v });
      usable[def.env] = v;
    } catch { /* reported by configCheck */ }
  }
  const cwd = Deno.cwd();
  return {
    env,
    config: loadConfig(usable),
    scriptDir: opts.scriptDir ?? cwd,
    cwd,
    uid: Deno.uid() ?? -1,
    procDir: "/proc",
    selfPaths: opts.selfPaths,
    call: (socket, module, fn, timeoutMs) => callFunction(socket, module, fn, {}, timeoutMs),
  };
}

/** The resolved paths by which this program can be started (binary, launcher, checkout script). */
export async function selfPaths(env: Readonly<Record<string, string>>): Promise<string[]> {
  const out: string[] = [];
  const add = async (p: string | undefined) => {
    if (!p) return;
    try {
      const r = await Deno.realPath(p);
      if (!out.includes(r)) out.push(r);
    } catch { /* not there */ }
  };
  await add(env.CPAN_BRIDGE_SELF);
  const exe = Deno.execPath();
  if (!/\/deno$/.test(exe)) await add(exe);
  if (Deno.mainModule.startsWith("file:")) {
    const main = decodeURIComponent(new URL(Deno.mainModule).pathname);
    await add(main.replace(/\/[^/]*$/, "/scripts/cpan-bridge"));
  }
  return out;
}
