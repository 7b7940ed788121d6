/**
 * @module
 * What a doctor check is: a name and a function of the host facts it may look at, returning one
 * finding per thing it checked (ok, warn or fail, with the fix for anything not ok).
 */

import type { Config } from "../../config.ts";

/** One line of the doctor's report. */
export interface Finding {
  readonly check: string;
  readonly status: "ok" | "warn" | "fail";
  readonly message: string;
  /** How to put it right (warn and fail only). */
  readonly fix?: string;
}

/** The host as the doctor sees it; tests pass their own. */
export interface DoctorHost {
  /** The environment the Perl scripts run with. */
  readonly env: Readonly<Record<string, string>>;
  /** The daemon configuration that environment gives (loaded without overrides). */
  readonly config: Config;
  /** The directory of the top-level Perl script (`$FindBin::Bin`), default: cwd. */
  readonly scriptDir: string;
  /** The working directory the scripts run in. */
  readonly cwd: string;
  readonly uid: number;
  /** Where process information lives (`/proc`). */
  readonly procDir: string;
  /** Paths that name this program (resolved), to tell whether a start would reach it. */
  readonly selfPaths: readonly string[];
  /** Calls `module.function` on a socket; rejects when nothing answers. */
  call(
    socket: string,
    module: string,
    fn: string,
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
}

/** A check: `run(host)` returns its findings. */
export interface Check {
  readonly name: string;
  run(host: DoctorHost): Promise<Finding[]>;
}

export function ok(check: string, message: string): Finding {
  return { check, status: "ok", message };
}

export function warn(check: string, message: string, fix: string): Finding {
  return { check, status: "warn", message, fix };
}

export function fail(check: string, message: string, fix: string): Finding {
  return { check, status: "fail", message, fix };
}
