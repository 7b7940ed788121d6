/**
 * @module
 * Opening the SSH connection of `sftp` and `openssh`: key and password authentication, legacy
 * algorithms appended for old servers, and the host key policy.
 *
 * Host key policy (helpers contract §2.6, a DEFECT-FIX of paramiko's AutoAddPolicy): the keys
 * listed for the host in the caller's `~/.ssh/known_hosts` and in `/etc/ssh/ssh_known_hosts` are
 * enforced (a different key is refused, as `ssh` does). A host listed nowhere is accepted with a
 * warning naming its fingerprint, unless the caller asked for `StrictHostKeyChecking=yes`.
 * Nothing is ever written to known_hosts.
 */

import { Buffer } from "node:buffer";
import { Client, utils } from "ssh2";
import type { CallContext } from "../types.ts";
import { algorithmsFor, fingerprint, lookupKnownHost } from "./known_hosts.ts";
import {
  describeNetError,
  type Sftp,
  type Ssh2Client,
  SshConnection,
  SshError,
  type SshTarget,
} from "./ssh.ts";

/** Key exchange and cipher algorithms older servers need, tried after all modern ones. */
const LEGACY = {
  kex: [
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
  ],
  cipher: ["aes128-cbc", "aes256-cbc", "3des-cbc"], // aes192-cbc: not in Deno's node:crypto
  serverHostKey: ["ssh-dss"],
};

/** Identity files OpenSSH's `ssh` tries by default, in its order. */
const DEFAULT_KEYS = ["id_rsa", "id_ecdsa", "id_ed25519"];

/** The caller's default identity files that exist. */
async function defaultKeyFiles(ctx: CallContext): Promise<string[]> {
  const home = await ctx.callerEnv("HOME");
  if (!home) return [];
  const found: string[] = [];
  for (const k of DEFAULT_KEYS) {
    try {
      // Through resolvePath like every other file: CPAN_BRIDGE_ALLOWED_PATHS applies to keys too.
      const path = await ctx.resolvePath(`${home}/.ssh/${k}`);
      if ((await Deno.stat(path)).isFile) found.push(path);
    } catch { /* absent, or not a path this caller may use */ }
  }
  return found;
}

/** Reads and parses a key file; a usable key or an explanation. */
async function loadKey(
  file: string,
  passphrase?: string,
): Promise<{ key: Buffer } | { error: string }> {
  let data: Uint8Array;
  try {
    data = await Deno.readFile(file);
  } catch (e) {
    return {
      error: `Cannot read key file ${file}: ${
        e instanceof Deno.errors.NotFound ? "No such file" : (e as Error).message
      }`,
    };
  }
  const parsed = utils.parseKey(Buffer.from(data), passphrase) as unknown;
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (first instanceof Error) {
    const hint = /encrypted|passphrase/i.test(first.message) ? " (is a passphrase needed?)" : "";
    return { error: `Cannot use key file ${file}: ${first.message}${hint}` };
  }
  return { key: Buffer.from(data) };
}

/**
 * Connects, authenticates and opens the SFTP channel. Throws `SshError` with an actionable text.
 * Passwords and key contents never reach the log.
 */
export async function connectSsh(t: SshTarget, ctx: CallContext): Promise<SshConnection> {
  const methods: Record<string, unknown>[] = [];
  const tried: string[] = [];
  for (const file of t.keyFiles) {
    const k = await loadKey(file, t.passphrase);
    if ("error" in k) throw new SshError(k.error, "local");
    methods.push({ type: "publickey", username: t.user, key: k.key, passphrase: t.passphrase });
    tried.push(`publickey ${file}`);
  }
  if (t.defaultKeys && t.keyFiles.length === 0) {
    for (const file of await defaultKeyFiles(ctx)) {
      const k = await loadKey(file, t.passphrase);
      if ("error" in k) {
        ctx.log.debug(`skipping default key: ${k.error}`);
        continue;
      }
      methods.push({ type: "publickey", username: t.user, key: k.key, passphrase: t.passphrase });
      tried.push(`publickey ${file}`);
    }
  }
  if (t.password !== undefined && t.password !== "") {
    methods.push({ type: "password", username: t.user, password: t.password });
    tried.push("password");
  }
  if (methods.length === 0) {
    throw new SshError(
      "No authentication method provided: give a password or a key file (no ~/.ssh/id_* key found either)",
      "local",
    );
  }

  const home = await ctx.callerEnv("HOME");
  const files = [
    t.knownHostsFile ?? (home ? `${home}/.ssh/known_hosts` : ""),
    "/etc/ssh/ssh_known_hosts",
  ]
    .filter(Boolean);
  const known = await lookupKnownHost(files, t.host, t.port);
  const knownTypes = [...known.keys.keys()];
  let hostKeyProblem = "";
  const hostVerifier = (key: Buffer): boolean => {
    const blob = key.toString("base64");
    const fp = fingerprint(key);
    if (known.revoked.has(blob)) {
      hostKeyProblem = `Host key ${fp} of ${t.host}:${t.port} is marked @revoked in known_hosts`;
      return false;
    }
    if (knownTypes.length > 0) {
      for (const set of known.keys.values()) if (set.has(blob)) return true;
      hostKeyProblem = `Host key verification failed: the key of ${t.host}:${t.port} (${fp}) ` +
        `does not match ${known.files.join(" or ")}. If the server's key really changed, ` +
        `update known_hosts (ssh-keygen -R ${t.host}).`;
      return false;
    }
    if (t.strictHostKeys === "yes") {
      hostKeyProblem = `Host key verification failed: ${t.host}:${t.port} (${fp}) is not in ` +
        `known_hosts and StrictHostKeyChecking=yes`;
      return false;
    }
    ctx.log.warn(`${t.host}:${t.port} is not in known_hosts; accepting its host key ${fp}`);
    return true;
  };

  const client = new Client() as unknown as Ssh2Client;
  const sftp = await new Promise<Sftp>((resolve, reject) => {
    let settled = false;
    const fail = (e: SshError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      try {
        client.destroy();
      } catch { /* gone */ }
      reject(e);
    };
    const timer = setTimeout(
      () =>
        fail(
          new SshError(
            `Timed out after ${t.timeoutMs / 1000} s connecting to ${t.host}:${t.port}`,
            "timeout",
          ),
        ),
      t.timeoutMs,
    );
    const onAbort = () =>
      fail(new SshError("call aborted (daemon time limit or shutdown)", "timeout"));
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    client.on("error", (e: Error & { level?: string }) => {
      if (hostKeyProblem) return fail(new SshError(hostKeyProblem, "hostkey"));
      if (e.level === "client-authentication") {
        return fail(
          new SshError(
            `Authentication failed for ${t.user}@${t.host} (tried ${tried.join(", ")})`,
            "auth",
          ),
        );
      }
      fail(new SshError(`${t.host}:${t.port}: ${describeNetError(e)}`, "network"));
    });
    client.on(
      "close",
      () =>
        fail(
          new SshError(
            hostKeyProblem || `${t.host}:${t.port}: connection closed by the server`,
            hostKeyProblem ? "hostkey" : "network",
          ),
        ),
    );
    client.on("ready", () => {
      client.sftp((err, s) => {
        if (err) {
          return fail(
            new SshError(`SFTP subsystem unavailable on ${t.host}: ${err.message}`, "remote"),
          );
        }
        if (settled) return s.end();
        settled = true;
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onAbort);
        resolve(s);
      });
    });
    client.connect({
      host: t.host,
      port: t.port,
      username: t.user,
      readyTimeout: t.timeoutMs,
      authHandler: methods,
      hostVerifier,
      algorithms: {
        kex: { append: LEGACY.kex },
        cipher: { append: LEGACY.cipher },
        // Known keys first, so the negotiated key is one known_hosts can vouch for.
        serverHostKey: knownTypes.length > 0
          ? knownTypes.flatMap(algorithmsFor)
          : { append: LEGACY.serverHostKey },
        compress: ["none"], // zlib does not work on Deno (deno-compat 1a)
      },
    });
  });
  return new SshConnection(client, sftp, t);
}
