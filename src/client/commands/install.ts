/**
 * @module
 * `install` and `install --uninstall`: put the single binary, its systemd units and logrotate
 * file in place (`src/client/install/`), or take them away. Exit 1 on a refusal, 64 when run
 * from source.
 */

import { SELF_EXTRACTING } from "../../build_info.ts";
import type { ConfiguredInput } from "./types.ts";

/** The binary to install: the launcher's path, the compiled binary, or none from source. */
function installedBinary(selfBinary: string): string | undefined {
  if (SELF_EXTRACTING) return selfBinary || undefined;
  const exe = Deno.execPath();
  return /\/deno$/.test(exe) ? undefined : exe;
}

/** `install [--prefix P] [--systemd …] [--logrotate] [--uninstall]`. */
export async function install({ io, values: v, config }: ConfiguredInput): Promise<number> {
  const { install, uninstall, InstallError } = await import("../install/mod.ts");
  const prefix = v.prefix ?? "/usr/local";
  const log = (line: string) => io.out(line);
  const enable = v["no-enable"] ? false : undefined;
  try {
    if (v.uninstall) {
      await uninstall({ prefix, log, ...(enable === undefined ? {} : { enable }) });
      return 0;
    }
    const binary = installedBinary(config.selfBinary);
    if (!binary) {
      io.err(
        "cpan-bridge: install needs the single binary: build it (deno task build), then run dist/cpan-bridge install",
      );
      return 64;
    }
    await install({
      prefix,
      binary,
      selfExtracting: SELF_EXTRACTING,
      systemd: v.systemd === true,
      logrotate: v.logrotate === true,
      log,
      ...(v["systemd-dir"] ? { systemdDir: v["systemd-dir"] } : {}),
      ...(v["logrotate-dir"] ? { logrotateDir: v["logrotate-dir"] } : {}),
      ...(v.user ? { user: v.user } : {}),
      ...(v.socket ? { socket: v.socket } : {}),
      ...(enable === undefined ? {} : { enable }),
    });
    return 0;
  } catch (err) {
    if (!(err instanceof InstallError) && !(err instanceof Deno.errors.PermissionDenied)) {
      throw err;
    }
    io.err(`cpan-bridge: ${err.message}`);
    return 1;
  }
}
