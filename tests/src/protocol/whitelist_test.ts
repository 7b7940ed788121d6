import assert from "node:assert/strict";
import { buildWhitelist, WHITELIST } from "../../../src/protocol/whitelist.ts";

/** The Python daemon's whitelist (contract §5.6), and the Perl wrappers' calls it lacked (§5.6b). */
const PYTHON: Record<string, string> = {
  database: "connect connect_cached disconnect execute_statement fetch_row fetch_all prepare " +
    "finish_statement begin_transaction commit rollback execute_immediate do_statement " +
    "bind_param_inout get_out_params get_connection_error get_statement_error",
  xml_helper: "xml_in xml_out escape_xml unescape_xml",
  xml_dom_helper: "create_parser parse_string parse_file get_elements_by_tag_name " +
    "get_elements_by_tag_name_from_node get_attribute set_attribute has_attribute " +
    "get_child_nodes get_first_child get_node_value get_tag_name is_element_node " +
    "get_text_contents to_string dispose_document get_nodelist_length get_nodelist_item " +
    "create_element create_text_node remove_attribute append_child remove_child replace_child " +
    "insert_before clone_node get_parent_node get_module_info xql_query xql_find_nodes " +
    "xql_find_value xql_exists get_document_root",
  xpath: "new find findnodes findvalue exists",
  http_helper: "lwp_request get post put delete head",
  datetime_helper: "format_date parse_date add_days diff_days now",
  crypto: "new encrypt decrypt cleanup_cipher hash generate_key sign verify",
  lockfile: "make trylock release cleanup_manager",
  openssh: "new scp_put get_error disconnect cleanup_connection",
  email_helper: "send_email send_html_email validate_email",
  smtp_helper:
    "new mail to data datasend quit get_connection_info get_pool_stats cleanup_stale_connections",
  ftp_helper: "new login cwd pwd dir binary ascii get put delete rename message quit " +
    "get_connection_info get_pool_stats cleanup_stale_connections",
  logging_helper: "log_message log_error log_warning log_debug",
  excel: "create_workbook add_worksheet write_cell close_workbook",
  sftp: "new setcwd cwd put get ls rename remove mkdir error is_connected disconnect",
  test: "ping health stats echo",
  system: "info shutdown health stats performance connections cleanup metrics",
};
const PERL_CALLS: Record<string, string> = {
  test: "check_module",
  xml: "xml_in xml_out escape_xml unescape_xml",
  xpath: "load_file load_xml_string find_nodes find_in_node dispose_document",
  excel: "add_format update_format",
};

Deno.test("WHITELIST behaviour: allows every name of the Python whitelist and of the Perl wrappers", () => {
  let n = 0;
  for (const table of [PYTHON, PERL_CALLS]) {
    for (const [m, fs] of Object.entries(table)) {
      for (const f of fs.split(" ")) {
        n++;
        assert.ok(WHITELIST.get(m)?.has(f), `${m}.${f}`);
      }
    }
  }
  assert.equal(n, 147 + 12);
  assert.ok(WHITELIST.get("system")?.has("validation_stats"));
  assert.deepEqual(WHITELIST.get("xml"), WHITELIST.get("xml_helper"));
  assert.ok(!WHITELIST.get("datetime_helper")?.has("bogus"));
  assert.ok(!WHITELIST.has("constructor"));
});

Deno.test("buildWhitelist() behaviour: adds helpers outside the registry, leaves WHITELIST alone", () => {
  const wl = buildWhitelist([["fault_helper", ["boom"]], ["datetime_helper", ["now", "extra"]]]);
  assert.deepEqual([...(wl.get("fault_helper") ?? [])], ["boom"]);
  assert.ok(wl.get("datetime_helper")?.has("extra") && wl.get("datetime_helper")?.has("now"));
  assert.ok(!WHITELIST.has("fault_helper"));
  assert.ok(!WHITELIST.get("datetime_helper")?.has("extra"));
  assert.deepEqual([...buildWhitelist().keys()], [...WHITELIST.keys()]);
});
