/**
 * @module
 * Lock and manager ids that survive a daemon restart. LockFile::Simple keeps no state outside
 * the lock file: a lock is a file holding its owner's PID. So a lock id carries what is needed
 * to find and verify that file again (its resolved path, the stamp written into it, the names
 * reported to Perl), and a manager id carries its configuration; a restarted daemon decodes
 * them instead of answering "Invalid lock ID". Nothing in an id is trusted beyond LockFile::Simple's
 * own rule: a file is unlinked only when it holds exactly the stamp of the PID asking.
 */

import type { LockConfig } from "./config.ts";
import { DEFAULTS } from "./config.ts";

/** What a lock id carries. */
export interface LockRef {
  /** The lock file, resolved against the caller's cwd (an OS path). */
  readonly path: string;
  /** The file's content without its newline: `<pid>` or `<pid>:<host>` (-nfs). */
  readonly stamp: string;
  /** As Perl passed it and as the lock file name was computed (Perl ordinals). */
  readonly filename: string;
  readonly lockfile: string;
  readonly managerId: string;
}

/** What a manager id carries. */
export interface ManagerRef {
  readonly config: LockConfig;
  readonly ownerPid: number;
}

const LOCK_PREFIX = "lock1.";
const MANAGER_PREFIX = "lockmgr1.";
/** Ids longer than this are not ours (a path is at most 4096 bytes). */
const MAX_ID = 16_384;

function encode(prefix: string, value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return prefix + btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decode(prefix: string, id: unknown): unknown {
  if (typeof id !== "string" || id.length > MAX_ID || !id.startsWith(prefix)) return undefined;
  const b64 = id.slice(prefix.length).replaceAll("-", "+").replaceAll("_", "/");
  try {
    const bin = atob(b64);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

/** A lock id: `lock1.<base64url JSON>`. */
export function lockId(ref: LockRef): string {
  return encode(LOCK_PREFIX, [ref.path, ref.stamp, ref.filename, ref.lockfile, ref.managerId]);
}

/** The lock a lock id names, or undefined when it is not one of ours. */
export function parseLockId(id: unknown): LockRef | undefined {
  const v = decode(LOCK_PREFIX, id);
  if (!Array.isArray(v) || v.length !== 5 || !v.every((x) => typeof x === "string")) {
    return undefined;
  }
  const [path, stamp, filename, lockfile, managerId] = v as string[];
  if (!path!.startsWith("/") || !/^\d+(:.*)?$/s.test(stamp!)) return undefined;
  return {
    path: path!,
    stamp: stamp!,
    filename: filename!,
    lockfile: lockfile!,
    managerId: managerId!,
  };
}

/** A manager id: `lockmgr1.<base64url JSON>` with a random part, so two makes differ. */
export function managerId(ref: ManagerRef): string {
  return encode(MANAGER_PREFIX, { c: ref.config, o: ref.ownerPid, r: crypto.randomUUID() });
}

/** The manager a manager id names, or undefined when it is not one of ours. */
export function parseManagerId(id: unknown): ManagerRef | undefined {
  const v = decode(MANAGER_PREFIX, id) as { c?: Record<string, unknown>; o?: unknown } | undefined;
  if (!v || typeof v !== "object" || typeof v.c !== "object" || v.c === null) return undefined;
  if (!Number.isInteger(v.o)) return undefined;
  const c = v.c;
  const config: LockConfig = { ...DEFAULTS };
  for (const k of ["max", "delay", "hold", "maxWait"] as const) {
    if (typeof c[k] === "number" && Number.isFinite(c[k]) && (c[k] as number) >= 0) {
      config[k] = c[k] as number;
    }
  }
  for (const k of ["nfs", "stale", "autoclean", "warn"] as const) {
    if (typeof c[k] === "boolean") config[k] = c[k] as boolean;
  }
  if (typeof c.ext === "string") config.ext = c.ext;
  if (typeof c.format === "string") config.format = c.format;
  return { config, ownerPid: v.o as number };
}
