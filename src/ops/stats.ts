/**
 * @module
 * The daemon's counters: the stats object S of contract §4.1, in its key order. The hot path
 * only increments; reports copy.
 */

/** Stats object S (contract §4.1), 11 keys in order. */
export interface StatsSnapshot {
  requests_processed: number;
  requests_failed: number;
  requests_rejected: number;
  validation_failures: number;
  security_events: number;
  start_time: number;
  last_cleanup: number;
  last_resource_check: number;
  connections_total: number;
  connections_rejected: number;
  peak_connections: number;
}

/** Mutable counters; `snapshot()` returns a copy with epoch times in seconds. */
export class Stats {
  requestsProcessed = 0;
  requestsFailed = 0;
  requestsRejected = 0;
  validationFailures = 0;
  securityEvents = 0;
  readonly startTime: number;
  lastCleanup: number;
  lastResourceCheck: number;
  connectionsTotal = 0;
  connectionsRejected = 0;
  peakConnections = 0;
  /** Helper calls abandoned after CPAN_BRIDGE_HELPER_TIMEOUT. */
  helperTimeouts = 0;
  /** Helper calls that waited for throttling, and those refused after waiting too long. */
  throttled = 0;
  throttleRefused = 0;

  constructor(nowMs: number) {
    this.startTime = nowMs;
    this.lastCleanup = nowMs;
    this.lastResourceCheck = nowMs;
  }

  snapshot(): StatsSnapshot {
    return {
      requests_processed: this.requestsProcessed,
      requests_failed: this.requestsFailed,
      requests_rejected: this.requestsRejected,
      validation_failures: this.validationFailures,
      security_events: this.securityEvents,
      start_time: this.startTime / 1000,
      last_cleanup: this.lastCleanup / 1000,
      last_resource_check: this.lastResourceCheck / 1000,
      connections_total: this.connectionsTotal,
      connections_rejected: this.connectionsRejected,
      peak_connections: this.peakConnections,
    };
  }
}
