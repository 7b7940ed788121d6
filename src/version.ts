/**
 * @module
 * Version facts. `PROTOCOL_VERSION` is what the wire reports as `daemon_version` (the Python
 * daemon's "1.0.0", which clients and dashboards print); `VERSION` is cpan-bridge's own.
 */

export const VERSION = "0.1.0";
export const PROTOCOL_VERSION = "1.0.0";
/** What process mode's `test.ping` reports as `version` (`cpan_bridge.py`'s, contract §2.8). */
export const PROCESS_MODE_VERSION = "1.0.1";

/** What the wire calls `python_version`: the runtime that serves the request. */
export function runtimeDescription(): string {
  return `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript}) cpan-bridge ${VERSION}`;
}

/** `sys.platform` names (contract §4.2). */
export function platformName(): string {
  const os = Deno.build.os;
  return os === "windows" ? "win32" : os;
}
