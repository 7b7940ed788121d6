/**
 * @module
 * `doctor` and `report`, the commands that look at this host as `CPANBridge.pm` will see it.
 * They run before the configuration is loaded: a bad setting is one of the things they report,
 * not a reason to stop. Flags (`--socket`, `--log-dir`…) count as the variables they stand for.
 */

import { CONFIG_KEYS } from "../../config.ts";
import type { DoctorHost } from "../doctor/mod.ts";
import { type CommandInput, FLAG_TO_KEY } from "./types.ts";

/** The environment with each setting flag written as its variable. */
function withFlags(input: CommandInput): Record<string, string> {
  const out: Record<string, string> = { ...input.env };
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const val = (input.values as Record<string, unknown>)[flag];
    if (typeof val === "string") out[CONFIG_KEYS[key].env] = val;
  }
  return out;
}

async function hostOf(input: CommandInput): Promise<DoctorHost> {
  const doctor = await import("../doctor/mod.ts");
  const scriptDir = input.values["script-dir"];
  return doctor.realHost(withFlags(input), {
    ...(scriptDir ? { scriptDir } : {}),
    selfPaths: await doctor.selfPaths(input.env),
  });
}

/** `doctor [--json] [--script-dir DIR]`: one line per finding; exit 0 ok, 1 warnings, 2 a failure. */
export async function doctor(input: CommandInput): Promise<number> {
  const host = await hostOf(input);
  const { runDoctor, formatFindings, doctorExitCode } = await import("../doctor/mod.ts");
  const findings = await runDoctor(host);
  input.io.out(input.values.json ? JSON.stringify(findings, null, 2) : formatFindings(findings));
  return doctorExitCode(findings);
}

/** `report [--output FILE] [--lines N]`: writes the incident report; exit 73 if FILE exists. */
export async function report(input: CommandInput): Promise<number> {
  const host = await hostOf(input);
  const report = await import("../report/mod.ts");
  const lines = Number(input.values.lines ?? "200");
  if (!Number.isInteger(lines) || lines < 0) {
    input.io.err("cpan-bridge: --lines needs a whole number; see cpan-bridge --help");
    return 64;
  }
  const path = input.values.output ?? report.defaultReportPath();
  try {
    await report.writeReport(path, await report.buildReport({ host, lines }));
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    input.io.err(`cpan-bridge: Cannot write the report: ${path} exists (choose --output)`);
    return 73;
  }
  input.io.out(`Report written to ${path}`);
  return 0;
}
