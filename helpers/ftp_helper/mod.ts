/**
 * @module
 * `ftp_helper`: serves FTPHelper.pm, which defines package `Net::FTP` (helpers contract §3.6),
 * compared with Net::FTP 3.14 (docs/helpers/ftp_helper.md). Flat results; one session per
 * `connection_id` (`ftp_<epoch>_<8 hex>`), idle TTL 300 s, calls on one session run one at a
 * time. Sessions start in ASCII mode, as Net::FTP does.
 */

import { defineHelper, fn } from "../types.ts";
import {
  cwd,
  login,
  mdtm,
  message,
  mkdir,
  newSession,
  passive,
  pwd,
  quit,
  rename,
  simple,
  size,
  typeCommand,
} from "./commands.ts";
import { get, listing, put } from "./transfer.ts";
import { cleanupStale, connectionInfo, poolStats } from "./diagnostics.ts";

export { FTP_IDLE_TTL_MS } from "./session.ts";

export const ftpHelper = defineHelper({
  name: "ftp_helper",
  replaces: "FTPHelper.pm (Net::FTP)",
  functions: {
    new: fn(["host", "debug", "timeout", "port", "passive"], newSession),
    login: fn(["connection_id", "user", "password"], login),
    cwd: fn(["connection_id", "directory"], cwd),
    pwd: fn(["connection_id"], pwd),
    dir: fn(["connection_id", "path"], listing("LIST")),
    ls: fn(["connection_id", "path"], listing("NLST")),
    binary: fn(["connection_id"], typeCommand("binary")),
    ascii: fn(["connection_id"], typeCommand("ascii")),
    get: fn(["connection_id", "remote_file", "local_file"], get),
    put: fn(["connection_id", "local_file", "remote_file"], put),
    delete: fn(["connection_id", "remote_file"], simple("DELE", "remote_file", "Delete failed")),
    rename: fn(["connection_id", "old_name", "new_name"], rename),
    mkdir: fn(["connection_id", "directory", "recurse"], mkdir),
    rmdir: fn(["connection_id", "directory"], simple("RMD", "directory", "Rmdir failed")),
    size: fn(["connection_id", "remote_file"], size),
    mdtm: fn(["connection_id", "remote_file"], mdtm),
    passive: fn(["connection_id", "passive"], passive),
    message: fn(["connection_id"], message),
    quit: fn(["connection_id"], quit),
    get_connection_info: fn(["connection_id"], connectionInfo),
    get_pool_stats: fn([], poolStats),
    cleanup_stale_connections: fn([], cleanupStale),
  },
  cleanupStale: async (ctx) => {
    await cleanupStale({}, ctx);
  },
});
