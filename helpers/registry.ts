/**
 * @module
 * REGISTRY: every helper of this build, hand-written, in the load order of contract §11.2. An
 * entry names the wire module, its aliases, what it replaces, its function names, which of them
 * are read-only, and which names the Python daemon whitelisted that this build does not serve;
 * `load()` imports the helper's code, so the daemon knows every name at start-up and loads a
 * helper's libraries only at its first call. This is the one place the daemon reads helper and
 * function names from (the whitelist, `test.check_module`, the health and metrics module lists,
 * `cpan-bridge replay`); tests/helpers/registry_test.ts checks each entry against the helper it
 * loads. Adding a helper: its module under `helpers/`, and one entry here.
 *
 * Nothing under `src/` imports a helper except through this file.
 */

import type { HelperDefinition, LazyHelper } from "./types.ts";

/** One helper, known by name before its code is loaded. */
export interface HelperEntry extends LazyHelper {
  /** Perl wrapper and CPAN module replaced (for docs and `system.info`). */
  readonly replaces: string;
  /**
   * The functions that change nothing outside the daemon (no writes, transfers, mail or locks):
   * `cpan-bridge replay` re-runs only these unless told otherwise.
   */
  readonly readOnly: readonly string[];
  /**
   * Names the Python daemon's whitelist allowed (contract §5.6) that this build does not
   * implement: they pass the whitelist and answer "not implemented in this version" (never
   * "not allowed").
   */
  readonly notBuilt: readonly string[];
}

export const REGISTRY: readonly HelperEntry[] = [
  {
    name: "database",
    aliases: [],
    replaces: "DBIHelper.pm (DBI + DBD::Oracle; also DBD::Pg and DBD::SQLite DSNs)",
    functions: [
      "connect",
      "connect_cached",
      "prepare",
      "execute_statement",
      "fetch_row",
      "fetch_all",
      "do_statement",
      "execute_immediate",
      "begin_transaction",
      "commit",
      "rollback",
      "disconnect",
      "finish_statement",
      "bind_param_inout",
      "get_out_params",
      "get_connection_error",
      "get_statement_error",
    ],
    readOnly: [],
    notBuilt: [],
    load: async () => (await import("./database/mod.ts")).databaseHelper,
  },
  {
    name: "xml_helper",
    aliases: ["xml"],
    replaces: "XMLHelper.pm (XML::Simple)",
    functions: ["xml_in", "xml_out", "escape_xml", "unescape_xml"],
    readOnly: ["xml_in", "escape_xml", "unescape_xml"],
    notBuilt: [],
    load: async () => (await import("./xml_helper/mod.ts")).xmlHelper,
  },
  {
    name: "xml_dom_helper",
    aliases: [],
    replaces: "XMLDOMHelper.pm (XML::DOM + XML::XQL)",
    functions: [
      "create_parser",
      "parse_string",
      "parse_file",
      "get_elements_by_tag_name",
      "get_elements_by_tag_name_from_node",
      "get_child_nodes",
      "get_first_child",
      "get_parent_node",
      "get_attribute",
      "set_attribute",
      "has_attribute",
      "remove_attribute",
      "get_node_value",
      "get_text_contents",
      "get_tag_name",
      "is_element_node",
      "get_nodelist_length",
      "get_nodelist_item",
      "get_document_root",
      "create_element",
      "create_text_node",
      "append_child",
      "remove_child",
      "replace_child",
      "insert_before",
      "clone_node",
      "to_string",
      "dispose_document",
      "dispose_node",
      "get_module_info",
      "xql_query",
      "xql_find_nodes",
      "xql_find_value",
      "xql_exists",
    ],
    readOnly: ["create_parser", "parse_string", "parse_file", "get_module_info"],
    notBuilt: [],
    load: async () => (await import("./xml_dom_helper/mod.ts")).xmlDomHelper,
  },
  {
    name: "xpath",
    aliases: [],
    replaces: "XPathHelper.pm (XML::XPath)",
    functions: [
      "load_file",
      "load_xml_string",
      "find_nodes",
      "find_in_node",
      "dispose_document",
      "new",
      "find",
      "findnodes",
      "findvalue",
      "exists",
      "check_lxml_availability",
    ],
    readOnly: ["load_file", "load_xml_string", "new", "check_lxml_availability"],
    notBuilt: [],
    load: async () => (await import("./xpath.ts")).xpathHelper,
  },
  {
    name: "http_helper",
    aliases: [],
    replaces: "HTTPHelper.pm (LWP::UserAgent 6.68, HTTP::Request)",
    functions: ["lwp_request", "get", "post", "put", "delete", "head"],
    readOnly: ["get", "head"],
    notBuilt: [],
    load: async () => (await import("./http_helper/mod.ts")).httpHelper,
  },
  {
    name: "datetime_helper",
    aliases: [],
    replaces: "DateTimeHelper.pm (DateTime)",
    functions: ["now"],
    readOnly: ["now"],
    notBuilt: ["format_date", "parse_date", "add_days", "diff_days"],
    load: async () => (await import("./datetime_helper.ts")).datetimeHelper,
  },
  {
    name: "crypto",
    aliases: [],
    replaces: "CryptHelper.pm (Crypt::CBC with Crypt::Blowfish / Crypt::Rijndael)",
    functions: ["new", "encrypt", "decrypt", "cleanup_cipher", "hash", "generate_key"],
    readOnly: ["new", "hash"],
    notBuilt: ["sign", "verify"],
    load: async () => (await import("./crypto/mod.ts")).cryptoHelper,
  },
  {
    name: "ftp_helper",
    aliases: [],
    replaces: "FTPHelper.pm (Net::FTP)",
    functions: [
      "new",
      "login",
      "cwd",
      "pwd",
      "dir",
      "ls",
      "binary",
      "ascii",
      "get",
      "put",
      "delete",
      "rename",
      "mkdir",
      "rmdir",
      "size",
      "mdtm",
      "passive",
      "message",
      "quit",
      "get_connection_info",
      "get_pool_stats",
      "cleanup_stale_connections",
    ],
    readOnly: [],
    notBuilt: [],
    load: async () => (await import("./ftp_helper/mod.ts")).ftpHelper,
  },
  {
    name: "excel",
    aliases: [],
    replaces: "ExcelHelper.pm (Excel::Writer::XLSX)",
    functions: [
      "create_workbook",
      "add_worksheet",
      "add_format",
      "update_format",
      "write_cell",
      "close_workbook",
      "ping",
    ],
    readOnly: ["ping"],
    notBuilt: [],
    load: async () => (await import("./excel/mod.ts")).excelHelper,
  },
  {
    name: "lockfile",
    aliases: [],
    replaces: "LockFileHelper.pm (LockFile::Simple)",
    functions: ["make", "trylock", "lock", "unlock", "release", "cleanup_manager"],
    readOnly: [],
    notBuilt: [],
    load: async () => (await import("./lockfile/mod.ts")).lockfileHelper,
  },
  {
    name: "logging_helper",
    aliases: [],
    replaces: "LogHelper.pm (Log::Log4perl via CPS::WlaLog)",
    functions: [
      "init_logger",
      "set_level",
      "log_trace",
      "log_debug",
      "log_info",
      "log_warn",
      "log_warning",
      "log_error",
      "log_fatal",
      "logdie",
      "log_message",
      "cleanup_logger",
    ],
    readOnly: [],
    notBuilt: [],
    load: async () => (await import("./logging_helper/mod.ts")).loggingHelper,
  },
  {
    name: "openssh",
    aliases: [],
    replaces: "OpenSSHHelper.pm (Net::OpenSSH, scp_put only)",
    functions: ["new", "scp_put", "get_error", "disconnect", "cleanup_connection"],
    readOnly: [],
    notBuilt: [],
    load: async () => (await import("./openssh.ts")).opensshHelper,
  },
  {
    name: "email_helper",
    aliases: [],
    replaces: "MailHelper.pm (Mail::Sender)",
    functions: [
      "send_multipart",
      "send_with_file",
      "send_simple",
      "send_email",
      "send_html_email",
      "validate_email",
    ],
    readOnly: ["validate_email"],
    notBuilt: [],
    load: async () => (await import("./email_helper.ts")).emailHelper,
  },
  {
    name: "smtp_helper",
    aliases: [],
    replaces: "SMTPHelper.pm (Net::SMTP)",
    functions: [
      "new",
      "mail",
      "to",
      "data",
      "datasend",
      "quit",
      "get_connection_info",
      "get_pool_stats",
      "cleanup_stale_connections",
    ],
    readOnly: [],
    notBuilt: [],
    load: async () => (await import("./smtp_helper/mod.ts")).smtpHelper,
  },
  {
    name: "sftp",
    aliases: [],
    replaces: "SFTPHelper.pm (Net::SFTP::Foreign)",
    functions: [
      "new",
      "put",
      "get",
      "ls",
      "rename",
      "setcwd",
      "cwd",
      "mkdir",
      "remove",
      "error",
      "is_connected",
      "disconnect",
    ],
    readOnly: [],
    notBuilt: [],
    load: async () => (await import("./sftp/mod.ts")).sftpHelper,
  },
];

const BY_NAME: ReadonlyMap<string, HelperEntry> = new Map(
  REGISTRY.flatMap((e) => [e.name, ...e.aliases].map((n) => [n, e] as const)),
);

/** Every wire module name the registry serves, aliases included (after their module), in load order. */
export const MODULE_NAMES: readonly string[] = [...BY_NAME.keys()];

/** The entry serving wire module `module` (by name or alias), if any. */
export function helperEntry(module: string): HelperEntry | undefined {
  return BY_NAME.get(module);
}

/** Loads every helper (tests; the daemon loads each at its first call). */
export function loadAll(): Promise<HelperDefinition[]> {
  return Promise.all(REGISTRY.map((e) => e.load()));
}
