/**
 * @module
 * Internal entities of a prolog DOCTYPE, expanded (and only those), in linear time.
 */

import assert from "node:assert/strict";
import { documentFromPerl } from "../../../helpers/xml_dom_helper/document_bytes.ts";
import { expandEntities } from "../../../helpers/xml_dom_helper/entities.ts";

Deno.test("expandEntities() expands only a prolog DOCTYPE's internal entities", () => {
  const body = `<r><!-- <!DOCTYPE x [<!ENTITY e "no">]> -->&amp;</r>`;
  assert.deepEqual(expandEntities(body), { ok: true, text: body, decls: [] });
  const r = expandEntities(`<!DOCTYPE r [<!ENTITY e "v&#233;">]><r a="&e;"><!--&e;-->&e;</r>`);
  assert.equal(r.ok && r.text, `<!DOCTYPE r [<!ENTITY e "v&#233;">]><r a="vé"><!--&e;-->vé</r>`);
  const loop = expandEntities(`<!DOCTYPE r [<!ENTITY a "&b;"><!ENTITY b "&a;">]><r>&a;</r>`);
  assert.equal(loop.ok, false);
});

Deno.test("expandEntities() and documentFromPerl() stay linear on pathological input", () => {
  const t0 = performance.now();
  const opens = "<!--".repeat(1_000_000);
  const r = expandEntities(`<!DOCTYPE r [<!ENTITY e "v">]><r>&e;${opens}</r>`);
  assert.equal(r.ok, true);
  const d = documentFromPerl(`<r>&#65;${"<?".repeat(1_000_000)}</r>`);
  assert.equal(d.ok, true);
  const big = expandEntities(`<!DOCTYPE r [${"<!ENTITY a ".repeat(200_000)}]><r/>`);
  assert.equal(big.ok, false);
  const ms = performance.now() - t0;
  assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
});
