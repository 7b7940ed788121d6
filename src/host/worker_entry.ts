/**
 * @module
 * The helper Worker: loads every helper and serves calls posted by `WorkerHost`. Log lines go
 * back to the main thread, which owns the log files.
 */

/// <reference lib="deno.worker" />

import { systemClock } from "../sdk/clock.ts";
import { WireError } from "../errors.ts";
import { InProcessHost } from "./in_process.ts";
import { collectedText, exposedGc, isolateHeapTrim } from "../heap_trim.ts";
import type { HelperDefinition } from "../../helpers/types.ts";
import type { CallReply, FromWorker, ToWorker } from "./messages.ts";

/** Results at least this large are transferred to the main thread instead of copied. */
const TRANSFER_MIN = 64 * 1024;

let host: InProcessHost | undefined;
const running = new Map<number, AbortController>();
/** This worker's heap trim (src/heap_trim.ts), run when the daemon's janitor asks (`trimHeap`). */
const gc = exposedGc();
/** Calls received, for the trim's "traffic stopped" collection. */
let calls = 0;
const trim = gc ? isolateHeapTrim(gc, () => systemClock.now(), () => calls) : undefined;

function post(m: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(m, transfer);
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.kind === "init") {
    try {
      const { REGISTRY } = await import("../../helpers/registry.ts");
      // Test-only helpers (WorkerHost extraHelperModules): each module default-exports one.
      const extra: HelperDefinition[] = [];
      for (const url of m.extraHelperModules) extra.push((await import(url)).default);
      host = new InProcessHost(
        [...REGISTRY, ...extra],
        m.settings,
        systemClock,
        (level, message) => post({ kind: "log", level, message }),
        m.ascii,
        (event, id) => post({ kind: "handle", event, id }),
        false, // WorkerHost times calls out and aborts them
      );
      post({ kind: "ready", modules: host.modules(), functions: [...host.functions()] });
    } catch (err) {
      post({
        kind: "fatal",
        message: err instanceof Error ? `${err.message}\n${err.stack}` : String(err),
      });
    }
    return;
  }
  if (!host) return;
  if (m.kind === "abort") {
    running.get(m.id)?.abort(new Error("call abandoned"));
    return;
  }
  if (m.kind === "call") {
    calls++;
    const ac = new AbortController();
    running.set(m.id, ac);
    try {
      const bytes = await host.call(m.call, ac.signal);
      // Small results are copied: transferring a buffer costs more than copying a few KiB
      // (a datetime_helper.now round trip 86-105 µs of CPU with transfer, 70-73 µs copied).
      post(
        { kind: "result", id: m.id, ok: true, bytes },
        bytes.length > TRANSFER_MIN ? [bytes.buffer] : [],
      );
    } catch (err) {
      const w = err instanceof WireError ? err : undefined;
      const stack = err instanceof Error
        ? String((err.cause instanceof Error ? err.cause.stack : undefined) ?? err.stack)
        : undefined;
      const reply: CallReply = {
        kind: "result",
        id: m.id,
        ok: false,
        message: w ? w.message : String(err instanceof Error ? err.message : err),
        errorType: w ? w.errorType : "RuntimeError",
        ...(stack === undefined ? {} : { stack }),
      };
      post(reply);
    } finally {
      running.delete(m.id);
    }
    return;
  }
  try {
    let value: unknown = null;
    if (m.op === "sweep") value = await host.sweep();
    else if (m.op === "cleanupStale") await host.cleanupStale();
    else if (m.op === "handleCounts") value = await host.handleCounts();
    else if (m.op === "trimHeap") {
      const r = trim?.tick();
      value = r?.collected === true;
      if (r?.collected) {
        post({
          kind: "log",
          level: "debug",
          message: `Helper worker heap collected: ${collectedText(r)}`,
        });
      }
    } else if (m.op === "close") {
      for (const ac of running.values()) ac.abort(new Error("daemon shutting down"));
      await host.close();
    }
    post({ kind: "op", id: m.id, ok: true, value });
  } catch (err) {
    post({ kind: "op", id: m.id, ok: false, value: String(err) });
  }
};
