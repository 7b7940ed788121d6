/**
 * @module
 * The messages between `WorkerHost` (main thread) and the helper Worker (`worker_entry.ts`), in
 * both directions: one union each, used by both sides, so a field renamed on one side fails to
 * compile on the other.
 */

import type { ErrorType } from "../errors.ts";
import type { LogFn } from "../helper_runtime.ts";
import type { HelperSettings } from "../../helpers/types.ts";
import type { HostCall } from "./types.ts";

/** Housekeeping requests the worker answers with an {@linkcode OpReply}. */
export type OpName = "sweep" | "cleanupStale" | "handleCounts" | "close" | "ping" | "trimHeap";

/** Main thread → worker. */
export type ToWorker =
  | {
    readonly kind: "init";
    readonly settings: HelperSettings;
    /** Results are ASCII-escaped JSON (encoding "repair"). */
    readonly ascii: boolean;
    /** URLs of test-only helper modules (each default-exports a helper definition). */
    readonly extraHelperModules: readonly string[];
  }
  | { readonly kind: "call"; readonly id: number; readonly call: HostCall }
  | { readonly kind: "abort"; readonly id: number }
  | { readonly kind: "op"; readonly id: number; readonly op: OpName };

/** The worker's answer to one housekeeping request. */
export interface OpReply {
  readonly kind: "op";
  readonly id: number;
  readonly ok: boolean;
  /** The op's value when `ok`, else the error's text. */
  readonly value: unknown;
}

/** The outcome of one call: the result's JSON bytes, or the error to raise on the main thread. */
export type CallReply =
  | { readonly kind: "result"; readonly id: number; readonly ok: true; readonly bytes: Uint8Array }
  | {
    readonly kind: "result";
    readonly id: number;
    readonly ok: false;
    readonly message: string;
    readonly errorType: ErrorType;
    readonly stack?: string;
  };

/** Worker → main thread. */
export type FromWorker =
  | {
    readonly kind: "ready";
    /** Wire module names (aliases included), in load order. */
    readonly modules: readonly string[];
    /** Wire module → function names. */
    readonly functions: ReadonlyArray<readonly [string, readonly string[]]>;
  }
  | { readonly kind: "fatal"; readonly message: string }
  | { readonly kind: "log"; readonly level: Parameters<LogFn>[0]; readonly message: string }
  | { readonly kind: "handle"; readonly event: "add" | "delete"; readonly id: string }
  | CallReply
  | OpReply;
