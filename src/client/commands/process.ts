/**
 * @module
 * `process` (and the drop-in `<binary> …/cpan_bridge.py`): one request on stdin, its reply on
 * stdout, as the Python `cpan_bridge.py` does when `CPANBridge.pm` falls back to process mode.
 */

import { runProcessMode } from "../../process_mode.ts";
import type { ConfiguredInput } from "./types.ts";

/** `process < request.json`: exit 0 on success, 1 with an error reply. */
export async function processMode({ env, config }: ConfiguredInput): Promise<number> {
  const input = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
  // The client's size cap, CPAN_BRIDGE_MAX_SIZE (characters); not a daemon setting.
  const out = await runProcessMode(input, config, Number(env.CPAN_BRIDGE_MAX_SIZE) || 10_000_000);
  await Deno.stdout.write(new TextEncoder().encode(out.stdout));
  return out.code;
}
