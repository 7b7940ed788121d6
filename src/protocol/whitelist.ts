/**
 * @module
 * The module/function whitelist: the Python daemon's list (contract §5.6) united with every call
 * the unchanged Perl wrappers make (contract §5.6b, helpers contract §2.1). A listed function whose
 * helper is not built answers "not implemented in this version" instead of "not allowed".
 *
 * DEFECT-FIX: the Python whitelist rejected XMLHelper, XPathHelper, LogHelper, MailHelper and parts
 * of ExcelHelper, which then ran in process mode without their state (contract §12 V3).
 */

const XML_SIMPLE = ["xml_in", "xml_out", "escape_xml", "unescape_xml"];

/** Wire module → functions the Perl side may call. Built-ins included. */
export const BASE_WHITELIST: Readonly<Record<string, readonly string[]>> = {
  database: [
    "connect",
    "connect_cached",
    "disconnect",
    "execute_statement",
    "fetch_row",
    "fetch_all",
    "prepare",
    "finish_statement",
    "begin_transaction",
    "commit",
    "rollback",
    "execute_immediate",
    "do_statement",
    "bind_param_inout",
    "get_out_params",
    "get_connection_error",
    "get_statement_error",
  ],
  xml_helper: XML_SIMPLE,
  xml: XML_SIMPLE,
  xml_dom_helper: [
    "create_parser",
    "parse_string",
    "parse_file",
    "get_elements_by_tag_name",
    "get_elements_by_tag_name_from_node",
    "get_attribute",
    "set_attribute",
    "has_attribute",
    "get_child_nodes",
    "get_first_child",
    "get_node_value",
    "get_tag_name",
    "is_element_node",
    "get_text_contents",
    "to_string",
    "dispose_document",
    "get_nodelist_length",
    "get_nodelist_item",
    "create_element",
    "create_text_node",
    "remove_attribute",
    "append_child",
    "remove_child",
    "replace_child",
    "insert_before",
    "clone_node",
    "get_parent_node",
    "get_module_info",
    "xql_query",
    "xql_find_nodes",
    "xql_find_value",
    "xql_exists",
    "get_document_root",
  ],
  xpath: [
    "new",
    "find",
    "findnodes",
    "findvalue",
    "exists",
    "load_file",
    "load_xml_string",
    "find_nodes",
    "find_in_node",
    "dispose_document",
  ],
  http_helper: ["lwp_request", "get", "post", "put", "delete", "head"],
  datetime_helper: ["format_date", "parse_date", "add_days", "diff_days", "now"],
  crypto: [
    "new",
    "encrypt",
    "decrypt",
    "cleanup_cipher",
    "hash",
    "generate_key",
    "sign",
    "verify",
  ],
  lockfile: ["make", "trylock", "release", "cleanup_manager"],
  openssh: ["new", "scp_put", "get_error", "disconnect", "cleanup_connection"],
  email_helper: [
    "send_email",
    "send_html_email",
    "validate_email",
    "send_simple",
    "send_multipart",
    "send_with_file",
  ],
  smtp_helper: [
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
  ftp_helper: [
    "new",
    "login",
    "cwd",
    "pwd",
    "dir",
    "binary",
    "ascii",
    "get",
    "put",
    "delete",
    "rename",
    "message",
    "quit",
    "get_connection_info",
    "get_pool_stats",
    "cleanup_stale_connections",
  ],
  logging_helper: [
    "log_message",
    "log_error",
    "log_warning",
    "log_debug",
    "init_logger",
    "set_level",
    "logdie",
    "log_trace",
    "log_info",
    "log_warn",
    "log_fatal",
  ],
  excel: [
    "create_workbook",
    "add_worksheet",
    "write_cell",
    "close_workbook",
    "add_format",
    "update_format",
  ],
  sftp: [
    "new",
    "setcwd",
    "cwd",
    "put",
    "get",
    "ls",
    "rename",
    "remove",
    "mkdir",
    "error",
    "is_connected",
    "disconnect",
  ],
  test: ["ping", "health", "stats", "echo", "check_module"],
  system: [
    "info",
    "shutdown",
    "health",
    "stats",
    "performance",
    "connections",
    "cleanup",
    "metrics",
    "validation_stats",
  ],
};

/** Builds the effective whitelist: the base table plus every function a registered helper defines. */
export function buildWhitelist(
  helpers: Iterable<{ name: string; functions: Record<string, unknown> }>,
): Map<string, ReadonlySet<string>> {
  const out = new Map<string, Set<string>>();
  for (const [m, fs] of Object.entries(BASE_WHITELIST)) out.set(m, new Set(fs));
  for (const h of helpers) {
    const set = out.get(h.name) ?? new Set<string>();
    for (const f of Object.keys(h.functions)) set.add(f);
    out.set(h.name, set);
  }
  return out;
}
