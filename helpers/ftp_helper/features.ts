/**
 * @module
 * Net::FTP's `supported($cmd)`: whether the server implements a command, from FEAT (asked once
 * per session) and else `HELP <cmd>`, cached per session exactly as libnet 3.14 parses them.
 * Replies update message(), as in Net::FTP.
 */

import { type FtpSession, is2xx } from "./session.ts";

/** The FEAT lines (`/^\s+(.*\S)/` of each reply line), asked once. */
async function features(s: FtpSession): Promise<string[]> {
  if (s.features) return s.features;
  const r = await s.client.command("FEAT");
  s.lastMessage = r.message;
  const lines = is2xx(r.code) ? r.message.split("\n") : [];
  s.features = lines.flatMap((l) => {
    const [, feature] = /^\s+(.*\S)/.exec(l) ?? [];
    return feature === undefined ? [] : [feature];
  });
  return s.features;
}

/** Net::FTP's `supported`: FEAT, else the text of `HELP <cmd>`. */
export async function supported(s: FtpSession, command: string): Promise<boolean> {
  const cmd = command.toUpperCase();
  const known = s.supported.get(cmd);
  if (known !== undefined) return known;
  const word = new RegExp(`^${cmd.replace(/[^A-Z0-9]/g, "")}\\b`, "i");
  if ((await features(s)).some((f) => word.test(f))) {
    s.supported.set(cmd, true);
    return true;
  }
  const h = await s.client.command(`HELP ${cmd}`);
  s.lastMessage = h.message;
  if (!is2xx(h.code)) {
    s.supported.set(cmd, false);
    return false;
  }
  if (/following.+commands/i.test(h.message)) {
    const rest = h.message.replace(/^.*\n/, "");
    for (const [, before = "", name = "", after = ""] of rest.matchAll(/(\*?)(\w+)(\*?)/g)) {
      s.supported.set(name.toUpperCase(), (before + after).length === 0);
    }
  } else {
    s.supported.set(cmd, !/unimplemented/i.test(h.message));
  }
  const v = s.supported.get(cmd) ?? false;
  s.supported.set(cmd, v);
  return v;
}
