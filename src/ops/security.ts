/**
 * @module
 * Security events (contract §5.7): each event is written to the security log as one JSON line,
 * counted, and checked against the rolling-hour alert thresholds, which write `SECURITY ALERT:`
 * lines. DEFECT-FIX V5: event details are redacted at any depth. DEFECT-FIX V6: once a threshold
 * is crossed an alert is written once per crossing, not on every later event.
 *
 * Memory (issue #17 item 3): only what `system.stats` shows is kept, the fixed fields of the last
 * 10 events and the count of the last 1000 (`total_events`); details stay in the log. Each alert
 * type keeps the times of its last `threshold` events, which is all the rolling-hour check needs
 * (the count is at least the threshold exactly when the threshold-th newest is within the hour).
 */

import type { LineLogger } from "../log/mod.ts";
import { localIso, pyJsonDumps, pyListRepr, redact } from "../log/format.ts";
import { keptText, Ring } from "./ring.ts";

export type Severity = "info" | "warning" | "error" | "critical";

/**
 * The injection patterns logged as `injection_attempt` (never blocking), by the source text the
 * security log shows. They were regular expressions (`<[a-z][^>]*\son\w+\s*=`,
 * `\$\{[^}]*\}`, …) whose backtracking made one 64 KiB string of `"<a"` cost 3 s on the socket
 * thread; {@linkcode findInjection} matches exactly the same strings in one linear pass each.
 */
export const INJECTION_PATTERNS = [
  "<script[^>]*>",
  "javascript:",
  "<tag on\\w+=",
  "\\$\\{.*\\}",
  "\\#\\{.*\\}",
  "\\.\\./",
] as const;

const isSpace = (c: string) => {
  const n = c.charCodeAt(0);
  return n === 32 || (n >= 9 && n <= 13) || (n > 127 && /\s/.test(c));
};
const isWord = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** `<[a-z][^>]*\son\w+\s*=` (case-insensitive), in linear time. */
function tagWithHandler(s: string): boolean {
  let i = s.indexOf("<");
  while (i >= 0 && i + 1 < s.length) {
    if (!isLetter(s.charCodeAt(i + 1))) {
      i = s.indexOf("<", i + 1);
      continue;
    }
    // The tag body runs to the next '>'; a later '<x' inside it has a suffix of this body, so
    // one pass over it covers them too.
    const start = i + 2;
    let end = s.indexOf(">", start);
    if (end < 0) end = s.length;
    for (let j = start; j + 3 < end; j++) {
      if (!isSpace(s[j]!)) continue;
      const o = s.charCodeAt(j + 1) | 0x20, n = s.charCodeAt(j + 2) | 0x20;
      if (o !== 111 || n !== 110) continue; // "on"
      let k = j + 3;
      while (k < end && isWord(s.charCodeAt(k))) k++;
      if (k === j + 3) continue;
      const wordEnd = k;
      while (k < end && isSpace(s[k]!)) k++;
      if (k < end && s[k] === "=") return true;
      j = wordEnd - 1; // the word run holds no space: no match can start inside it
    }
    i = end < s.length ? s.indexOf("<", end + 1) : -1;
  }
  return false;
}

/** `OPEN[^}]*\}` for a two-character opener: some opener with a `}` after it. */
function braced(s: string, open: string): boolean {
  const i = s.indexOf(open);
  return i >= 0 && s.indexOf("}", i + 2) >= 0;
}

/**
 * The first injection pattern found in `s`, or undefined. Linear in `s`'s length.
 *
 * @example
 * ```ts
 * findInjection("<img src=x onerror=alert(1)>"); // "<tag on\\w+="
 * ```
 */
export function findInjection(s: string): (typeof INJECTION_PATTERNS)[number] | undefined {
  const lower = s.toLowerCase();
  const script = lower.indexOf("<script");
  if (script >= 0 && lower.indexOf(">", script + 7) >= 0) return INJECTION_PATTERNS[0];
  if (lower.includes("javascript:")) return INJECTION_PATTERNS[1];
  if (tagWithHandler(s)) return INJECTION_PATTERNS[2];
  if (braced(s, "${")) return INJECTION_PATTERNS[3];
  if (braced(s, "#{")) return INJECTION_PATTERNS[4];
  if (s.includes("../")) return INJECTION_PATTERNS[5];
  return undefined;
}

/** What the daemon knows of the peer that caused an event. */
export interface Peer {
  /** Connection id, shown as client_info. */
  readonly client: string;
  readonly uid?: number;
  readonly pid?: number;
}

export interface SecurityEvent {
  event_id: string;
  timestamp: string;
  event_type: string;
  severity: Severity;
  client_info: string;
  request_id: string;
  module: string;
  function: string;
  details: Record<string, unknown>;
}

/** Alert thresholds per event type, over the last hour. */
export const ALERT_THRESHOLDS: Readonly<Record<string, number>> = {
  injection_attempt: 5,
  unauthorized_access: 10,
  validation_failure: 50,
};

/** Events counted in `total_events` (the Python daemon kept the last 1000). */
export const EVENTS_COUNTED = 1000;

/** Events kept for `recent_events`. */
export const RECENT_EVENTS = 10;

/** What is kept of an event: the fields of `recent_events`. */
export interface RecentEvent {
  readonly event_type: string;
  readonly severity: Severity;
  readonly timestamp: string;
  readonly client_info: string;
}

/** Event types that also count as "unauthorized_access" for alerting. */
const ACCESS_TYPES = new Set([
  "unauthorized_module",
  "unauthorized_function",
  "dangerous_function",
  "shutdown_refused",
]);

export class SecurityMonitor {
  readonly #log: LineLogger;
  readonly #now: () => number;
  readonly #recent = new Ring<RecentEvent>(RECENT_EVENTS);
  /** Events recorded, up to EVENTS_COUNTED. */
  #counted = 0;
  /** Alert type → times (epoch ms) of its last `threshold` events. */
  readonly #times = new Map<string, Ring<number>>();
  readonly #alerting = new Set<string>();
  readonly byType: Record<string, number> = {};
  total = 0;
  alerts = 0;
  /** When the last SECURITY ALERT was written (epoch ms), and for which event type. */
  lastAlert: { at: number; type: string } | null = null;

  constructor(log: LineLogger, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  /** Records and logs one event. Returns it. */
  record(
    type: string,
    severity: Severity,
    peer: Peer,
    req: { request_id?: unknown; module?: unknown; function?: unknown },
    details: Record<string, unknown>,
  ): SecurityEvent {
    const t = this.#now();
    const ev: SecurityEvent = {
      event_id: crypto.randomUUID(),
      timestamp: localIso(t),
      event_type: type,
      severity,
      client_info: peer.client,
      request_id: typeof req.request_id === "string" ? req.request_id : "",
      module: typeof req.module === "string" ? req.module : "",
      function: typeof req.function === "string" ? req.function : "",
      details: redact({
        ...details,
        ...(peer.uid !== undefined ? { peer_uid: peer.uid } : {}),
        ...(peer.pid !== undefined ? { claimed_pid: peer.pid } : {}),
      }) as Record<string, unknown>,
    };
    this.total++;
    this.byType[type] = (this.byType[type] ?? 0) + 1;
    this.byType[`${type}_${severity}`] = (this.byType[`${type}_${severity}`] ?? 0) + 1;
    this.#recent.push({
      event_type: type,
      severity,
      timestamp: ev.timestamp,
      client_info: keptText(peer.client),
    });
    if (this.#counted < EVENTS_COUNTED) this.#counted++;
    this.#log.info(pyJsonDumps(ev));
    this.#checkAlert(type, t);
    if (ACCESS_TYPES.has(type)) this.#checkAlert("unauthorized_access", t);
    return ev;
  }

  /** Writes contract §5.7's WARNING line for a refused request and checks its alert threshold. */
  validationFailed(peer: Peer, requestId: string, errors: readonly string[]): void {
    this.#log.warn(
      `Request validation failed - Request ID: ${requestId}, Client: ${peer.client}, Errors: ${
        pyListRepr(errors)
      }`,
    );
    this.#checkAlert("validation_failure", this.#now());
  }

  #checkAlert(alertType: string, t: number): void {
    const threshold = ALERT_THRESHOLDS[alertType];
    if (threshold === undefined) return;
    let times = this.#times.get(alertType);
    if (!times) this.#times.set(alertType, times = new Ring<number>(threshold));
    times.push(t);
    let inHour = 0;
    for (const x of times.last()) if (t - x < 3_600_000) inHour++;
    if (inHour >= threshold) {
      if (!this.#alerting.has(alertType)) {
        this.#alerting.add(alertType);
        this.alerts++;
        this.lastAlert = { at: t, type: alertType };
        this.#log.critical(
          `SECURITY ALERT: ${alertType} threshold exceeded: ${inHour} events in last hour (threshold: ${threshold})`,
        );
      }
    } else {
      this.#alerting.delete(alertType);
    }
  }

  /** Security metrics SM (contract §4.1). */
  metrics() {
    return {
      total_events: this.#counted,
      events_by_type: { ...this.byType },
      recent_events: this.#recent.last().map((e) => ({ ...e })),
    };
  }
}
