/**
 * @module
 * Turns the `new` parameters of SFTPHelper.pm / OpenSSHHelper.pm into an `SshTarget`: `user@host`
 * and `host:port` forms, seconds to ms, key files relative to the caller's cwd or `~`, and the
 * `ssh` command-line options Net::SFTP::Foreign's `more` carries (`-i`, `-p`, `-l`, `-o Key=value`).
 */

import { str } from "../types.ts";

import { perlPath } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import type { SshTarget } from "./ssh.ts";

/** `-o` options that are honoured; the others are ignored with a debug line. */
const HONOURED = new Set([
  "identityfile",
  "port",
  "user",
  "stricthostkeychecking",
  "userknownhostsfile",
]);

/** Splits `more` (array or string) into `-o` pairs and `-i`/`-p`/`-l` values. */
function parseMore(more: unknown): { opts: Map<string, string[]>; ignored: string[] } {
  const words = Array.isArray(more)
    ? more.map(String)
    : typeof more === "string"
    ? more.trim().split(/\s+/).filter(Boolean)
    : [];
  const opts = new Map<string, string[]>();
  const ignored: string[] = [];
  const add = (k: string, v: string) => {
    const key = k.toLowerCase();
    if (!HONOURED.has(key)) return ignored.push(k);
    opts.set(key, [...(opts.get(key) ?? []), v]);
  };
  const rest = words.values(); // a flag without its value attached takes the next word
  for (const w of rest) {
    const [, letter, attached = ""] = /^-([iplo])(.*)$/.exec(w) ?? [];
    if (letter === undefined) {
      ignored.push(w);
      continue;
    }
    const value = attached !== "" ? attached : rest.next().value ?? "";
    if (letter === "i") add("IdentityFile", value);
    else if (letter === "p") add("Port", value);
    else if (letter === "l") add("User", value);
    else {
      const [, key, setting = ""] = /^([A-Za-z]+)\s*[= ]\s*(.*)$/.exec(value) ?? [];
      if (key !== undefined) add(key, setting);
      else ignored.push(value);
    }
  }
  return { opts, ignored };
}

/**
 * Expands `~/` with the caller's HOME and resolves relative paths against the caller's cwd, for
 * the file Perl would name (`perlPath`); undefined when its bytes are not UTF-8 (Deno cannot).
 */
async function localPath(name: string, ctx: CallContext): Promise<string | undefined> {
  let p = perlPath(name);
  if (p === undefined) return undefined;
  if (p === "~" || p.startsWith("~/")) {
    const home = await ctx.callerEnv("HOME");
    if (home) p = home + p.slice(1);
  }
  return await ctx.resolvePath(p);
}

const missing = async (p: string) => {
  try {
    return !(await Deno.stat(p)).isFile;
  } catch {
    return true;
  }
};

/** Builds the target from `new`'s parameters, or says what is wrong with them. */
export async function parseSshArgs(
  args: Args,
  ctx: CallContext,
  defaults: { port: number; timeoutS: number },
): Promise<{ target: Omit<SshTarget, "defaultKeys"> } | { error: string }> {
  let host = str(args.host)?.trim() ?? "";
  let user = str(args.user) || undefined;
  let port: number | undefined;
  const at = host.lastIndexOf("@");
  if (at >= 0) {
    user ??= host.slice(0, at);
    host = host.slice(at + 1);
  }
  const [, hpHost, hpPort] = /^\[?([^\]]+?)\]?:(\d+)$/.exec(host) ?? [];
  if (hpHost !== undefined && !hpHost.includes(":")) [host, port] = [hpHost, Number(hpPort)];
  if (!host) return { error: "no host given" };

  const { opts, ignored } = parseMore(args.more);
  if (ignored.length) ctx.log.debug(`ignoring ssh options: ${ignored.join(" ")}`);
  const last = (k: string) => opts.get(k)?.at(-1);
  user ??= last("user") ?? await ctx.callerEnv("USER") ?? await ctx.callerEnv("LOGNAME");
  if (!user) return { error: "no user given and the caller's USER is unknown" };

  const portArg = str(args.port) || last("port");
  port ??= portArg ? Number(portArg) : defaults.port;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    return { error: `invalid port: ${portArg}` };
  }

  const t = Number(str(args.timeout) ?? defaults.timeoutS);
  const timeoutMs = (Number.isFinite(t) && t > 0 ? t : defaults.timeoutS) * 1000;

  const keyFiles: string[] = [];
  const keyArg = str(args.key_path);
  for (
    const k of [...(keyArg && keyArg !== "0" ? [keyArg] : []), ...(opts.get("identityfile") ?? [])]
  ) {
    const p = await localPath(k, ctx);
    if (p === undefined) return { error: `Key file name is not UTF-8 bytes: ${JSON.stringify(k)}` };
    if (await missing(p)) return { error: `Key file not found: ${p}` };
    keyFiles.push(p);
  }
  let password = str(args.password);
  // SFTPHelper.pm passes "IdentityFile=…" through `password` in some set-ups (contract §3.12).
  if (password && /^identityfile/i.test(password)) password = undefined;
  const known = last("userknownhostsfile");
  const knownPath = known === undefined ? undefined : await localPath(known, ctx);
  if (known !== undefined && knownPath === undefined) {
    return { error: `UserKnownHostsFile name is not UTF-8 bytes: ${JSON.stringify(known)}` };
  }
  return {
    target: {
      host,
      port,
      user,
      timeoutMs,
      password,
      keyFiles,
      passphrase: str(args.passphrase),
      strictHostKeys: last("stricthostkeychecking")?.toLowerCase(),
      knownHostsFile: known ? knownPath : undefined,
    },
  };
}
