/**
 * @module
 * OpenSSH known_hosts lookup for the SSH helpers' host key policy (helpers contract §2.6): the
 * keys listed for a host in the caller's `~/.ssh/known_hosts` (and `/etc/ssh/ssh_known_hosts`),
 * including hashed names (`|1|salt|hash`), `[host]:port` entries, patterns and `@revoked` keys.
 */

import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";

/** The known keys for one host, as base64 key blobs. */
export interface KnownHost {
  /** Key blobs accepted for the host (base64), by key type. */
  readonly keys: Map<string, Set<string>>;
  /** Key blobs marked `@revoked` (base64). */
  readonly revoked: Set<string>;
  /** Files that were read. */
  readonly files: string[];
}

/** Matches one host pattern (`*`, `?` wildcards) against a name. */
function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll(
    "?",
    ".",
  );
  return new RegExp(`^${re}$`, "i").test(name);
}

/** True when a known_hosts host field names `name` (`host` or `[host]:port`). */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (!salt || !hash) return false;
    const h = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return h === hash;
  }
  let matched = false;
  for (const p of field.split(",")) {
    if (p.startsWith("!")) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** Reads the keys for `host`:`port` from the given files (missing files are skipped). */
export async function lookupKnownHost(
  files: readonly string[],
  host: string,
  port: number,
): Promise<KnownHost> {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const keys = new Map<string, Set<string>>();
  const revoked = new Set<string>();
  const read: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch {
      continue;
    }
    read.push(file);
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      let fields = line.split(/\s+/);
      let marker = "";
      if (fields[0]?.startsWith("@")) [marker = "", ...fields] = fields;
      const [hosts = "", type = "", blob] = fields;
      if (blob === undefined || marker === "@cert-authority") continue; // fewer than 3 fields
      if (!hostFieldMatches(hosts, name)) continue;
      if (marker === "@revoked") revoked.add(blob);
      else {
        let blobs = keys.get(type);
        if (!blobs) keys.set(type, blobs = new Set());
        blobs.add(blob);
      }
    }
  }
  return { keys, revoked, files: read };
}

/** The OpenSSH fingerprint of a key blob: `SHA256:<base64 without padding>`. */
export function fingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The host key algorithms that can prove a key of known_hosts type `type`. */
export function algorithmsFor(type: string): string[] {
  return type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
}
