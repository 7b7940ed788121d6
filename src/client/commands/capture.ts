/**
 * @module
 * `proxy` (stand in front of the old daemon and capture every exchange) and `replay` (send a
 * capture to this daemon and compare the replies), the migration pair of docs/migration.md.
 */

import type { ConfiguredInput } from "./types.ts";

/** `proxy --upstream OLD.sock --capture FILE`: forwards until SIGTERM or SIGINT. */
export async function proxy({ io, values, config }: ConfiguredInput): Promise<number> {
  const { upstream, capture } = values;
  if (!upstream || !capture) {
    io.err("cpan-bridge: proxy needs --upstream SOCKET and --capture FILE; see --help");
    return 64;
  }
  const socket = config.socketPath;
  const { startProxy } = await import("../capture/proxy.ts");
  const running = await startProxy({
    upstream,
    socket,
    capture,
    socketMode: config.socketMode,
    log: (m) => io.err(m),
  });
  io.err(`cpan-bridge proxy: ${socket} -> ${upstream}, capturing to ${capture}`);
  const stopped = Promise.withResolvers<void>();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(sig, () => stopped.resolve());
  }
  await stopped.promise;
  await running.close();
  io.err(`cpan-bridge proxy: stopped after ${running.capture.written} exchanges`);
  return 0;
}

/** `replay FILE [--all] [--json]`: exit 1 when any reply differs, 66 when FILE is unreadable. */
export async function replay(
  { io, values, positionals, config }: ConfiguredInput,
): Promise<number> {
  const file = positionals[1];
  if (!file) {
    io.err("cpan-bridge: replay needs a capture FILE; see cpan-bridge --help");
    return 64;
  }
  const { replay, formatReplay } = await import("../capture/replay.ts");
  let r;
  try {
    r = await replay(file, config.socketPath, { all: values.all === true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied)) {
      throw err;
    }
    io.err(`cpan-bridge: Cannot read the capture ${file}: ${err.message}`);
    return 66;
  }
  if (values.json) {
    io.out(JSON.stringify({ ...r, byFunction: Object.fromEntries(r.byFunction) }, null, 2));
  } else io.out(formatReplay(r));
  return [...r.byFunction.values()].some((t) => t.different > 0) ? 1 : 0;
}
