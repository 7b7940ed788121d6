/**
 * @module
 * Security events (contract §5.7): each event is written to the security log as one JSON line,
 * counted, kept (last 1000), and checked against the rolling-hour alert thresholds, which write
 * `SECURITY ALERT:` lines. DEFECT-FIX V5: event details are redacted at any depth. DEFECT-FIX V6:
 * once a threshold is crossed an alert is written once per crossing, not on every later event.
 */

import type { LineLogger } from "../log/mod.ts";
import { localIso, pyJsonDumps, pyListRepr, redact } from "../log/format.ts";

export type Severity = "info" | "warning" | "error" | "critical";

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
  readonly #events: SecurityEvent[] = [];
  readonly #times = new Map<string, number[]>(); // alert type → event times (ms), last hour
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
    this.#events.push(ev);
    if (this.#events.length > 1000) this.#events.shift();
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
    const times = (this.#times.get(alertType) ?? []).filter((x) => t - x < 3_600_000);
    times.push(t);
    this.#times.set(alertType, times);
    if (times.length >= threshold) {
      if (!this.#alerting.has(alertType)) {
        this.#alerting.add(alertType);
        this.alerts++;
        this.lastAlert = { at: t, type: alertType };
        this.#log.critical(
          `SECURITY ALERT: ${alertType} threshold exceeded: ${times.length} events in last hour (threshold: ${threshold})`,
        );
      }
    } else {
      this.#alerting.delete(alertType);
    }
  }

  /** Security metrics SM (contract §4.1). */
  metrics() {
    return {
      total_events: this.#events.length,
      events_by_type: { ...this.byType },
      recent_events: this.#events.slice(-10).map((e) => ({
        event_type: e.event_type,
        severity: e.severity,
        timestamp: e.timestamp,
        client_info: e.client_info,
      })),
    };
  }
}
