/**
 * @module
 * The texts `cpan-bridge install` writes: the systemd unit (no core dumps, a descriptor limit,
 * restart on failure, SIGHUP on reload, a dedicated socket directory) and a logrotate snippet for
 * hosts that prefer logrotate to the built-in rotation.
 */

/** What the unit is for. */
export interface UnitOptions {
  readonly binary: string;
  readonly user: string;
  readonly socket: string;
  readonly logDir: string;
  /** logrotate rotates the logs: the daemon's own rotation is turned off. */
  readonly logrotate: boolean;
}

/** The systemd service unit. */
export function systemdUnit(o: UnitOptions): string {
  const runtimeDir = o.socket.startsWith("/run/cpan-bridge/")
    ? "RuntimeDirectory=cpan-bridge\nRuntimeDirectoryMode=0755\n"
    : "";
  return `# Written by cpan-bridge install; cpan-bridge install --uninstall removes it.
[Unit]
Description=CPAN Bridge daemon (cpan-bridge)
After=network.target

[Service]
Type=simple
User=${o.user}
${runtimeDir}Environment=CPAN_BRIDGE_SOCKET=${o.socket}
LogsDirectory=cpan-bridge
Environment=CPAN_BRIDGE_LOG_DIR=${o.logDir}
${
    o.logrotate
      ? "Environment=CPAN_BRIDGE_LOG_MAX_BYTES=0\n"
      : ""
  }# The extra argument makes \`pgrep -f cpan_daemon\` match, as with the Python daemon.
ExecStart=${o.binary} daemon cpan_daemon.py
ExecReload=/bin/kill -HUP $MAINPID
KillSignal=SIGTERM
# In-flight requests get up to 30 s to finish on SIGTERM; leave room for them.
TimeoutStopSec=45
Restart=on-failure
RestartSec=2
# Core dumps would hold passwords and keys.
LimitCORE=0
LimitNOFILE=65536
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
`;
}

/** The logrotate snippet (copytruncate: the daemon keeps appending to the same file). */
export function logrotateSnippet(logDir: string): string {
  return `# Written by cpan-bridge install; cpan-bridge install --uninstall removes it.
${logDir}/cpan_daemon.log ${logDir}/cpan_security.log {
    daily
    rotate 7
    compress
    delaycompress
    missingok
    notifempty
    copytruncate
}
`;
}
