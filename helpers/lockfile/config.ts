/**
 * @module
 * A lock manager's configuration: `LockFile::Simple->make` options as the wrapper sends them
 * (with or without dashes), LockFile::Simple 0.208's defaults, and the wrapper's `max_age`
 * (which overrides `hold`) and `max_wait` (a bound on a blocking `lock`).
 */

import { truthy } from "../types.ts";

import type { Args } from "../types.ts";

/** A manager's configuration (LockFile::Simple->make). */
export interface LockConfig {
  max: number;
  delay: number;
  hold: number;
  ext: string;
  nfs: boolean;
  stale: boolean;
  autoclean: boolean;
  format: string | undefined;
  warn: boolean;
  /** Upper bound of a blocking `lock`, seconds (the wrapper's -max_wait); 0 = none. */
  maxWait: number;
}

/** LockFile::Simple 0.208 `make()` defaults. */
export const DEFAULTS: Readonly<LockConfig> = {
  max: 30,
  delay: 2,
  hold: 3600,
  ext: ".lock",
  nfs: false,
  stale: false,
  autoclean: false,
  format: undefined,
  warn: true,
  maxWait: 0,
};

function numberOf(v: unknown, name: string): number | string {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : `Invalid value for -${name}: ${String(v)}`;
}

/** Builds a configuration from make()'s options; a string is the error for the caller. */
export function configOf(args: Args): LockConfig | string {
  const c: LockConfig = { ...DEFAULTS };
  let maxAge: unknown;
  for (const [rawKey, v] of Object.entries(args)) {
    if (v === undefined || v === null) continue;
    const key = rawKey.replace(/^-/, "");
    switch (key) {
      case "max":
      case "delay":
      case "hold":
      case "max_wait": {
        const n = numberOf(v, key);
        if (typeof n === "string") return n;
        if (key === "max_wait") c.maxWait = n;
        else c[key] = n;
        break;
      }
      case "max_age":
        maxAge = v;
        break;
      case "nfs":
      case "stale":
      case "autoclean":
      case "warn":
        c[key] = truthy(v);
        break;
      case "ext":
        c.ext = String(v);
        break;
      case "format":
        c.format = String(v);
        break;
      case "wmin":
      case "wafter":
      case "wfunc":
      case "efunc":
        break; // Warnings go to the daemon log; code refs cannot cross the wire.
      default:
        return `Unknown LockFile::Simple option: -${key}`;
    }
  }
  if (maxAge !== undefined) {
    const n = numberOf(maxAge, "max_age");
    if (typeof n === "string") return n;
    c.hold = n;
  }
  return c;
}
