/**
 * @module
 * The `xml_helper` (XML::Simple) functions called directly: XMLin's options, XMLout, files relative
 * to the caller, errors as results, escaping, and a 2 MB document.
 */

import assert from "node:assert/strict";
import { xmlHelper } from "../../../helpers/xml_helper/mod.ts";
import { makeTestContext } from "../../_support/context.ts";
import { makeDocument } from "../../../scripts/bench_xml.ts";

// deno-lint-ignore no-explicit-any
type R = { success: boolean; result?: any; error?: string; error_type?: string };

/** Calls a function and returns what Perl would see (the result after a JSON round trip). */
async function call(f: string, args: Record<string, unknown>, cwd?: string): Promise<R> {
  const t = makeTestContext(cwd === undefined ? {} : { cwd });
  try {
    return JSON.parse(JSON.stringify(await xmlHelper.functions[f]!.run(args, t.ctx)));
  } finally {
    await t.close();
  }
}

async function xmlIn(source: string, options: Record<string, unknown> = {}, cwd?: string) {
  const r = await call("xml_in", { source, options }, cwd);
  assert.equal(r.success, true, r.error);
  return r.result;
}

async function xmlOut(data: unknown, options: Record<string, unknown> = {}) {
  const r = await call("xml_out", { data, options });
  assert.equal(r.success, true, r.error);
  return r.result as string;
}

Deno.test("xml_helper is served under both wire names with the four wrapper functions", () => {
  assert.equal(xmlHelper.name, "xml_helper");
  assert.deepEqual(xmlHelper.aliases, ["xml"]);
  assert.deepEqual(Object.keys(xmlHelper.functions).sort(), [
    "escape_xml",
    "unescape_xml",
    "xml_in",
    "xml_out",
  ]);
  assert.deepEqual(xmlHelper.functions.xml_in!.params, ["source", "source_type", "options"]);
  assert.deepEqual(xmlHelper.functions.xml_out!.params, ["data", "options"]);
});

Deno.test("xml_in() uses bare attribute names and drops the root element like XMLin", async () => {
  assert.deepEqual(await xmlIn(`<opt host="h" port="22"><user>me</user></opt>`), {
    host: "h",
    port: "22",
    user: "me",
  });
});

Deno.test("xml_in() folds repeated elements on name, key or id (default KeyAttr)", async () => {
  const xml =
    `<opt><server name="a" ip="1"/><server name="b" ip="2"/><x id="7" v="q"/><x>t</x></opt>`;
  assert.deepEqual(await xmlIn(xml), {
    server: { a: { ip: "1" }, b: { ip: "2" } },
    x: [{ id: "7", v: "q" }, "t"],
  });
  assert.deepEqual(await xmlIn(xml, { KeyAttr: [] }), {
    server: [{ name: "a", ip: "1" }, { name: "b", ip: "2" }],
    x: [{ id: "7", v: "q" }, "t"],
  });
});

Deno.test("xml_in() KeyAttr hash form keeps the key with + and copies it with -", async () => {
  const xml = `<opt><item id="1" v="a"/><item id="2" v="b"/></opt>`;
  assert.deepEqual(await xmlIn(xml, { KeyAttr: { item: "+id" } }), {
    item: { 1: { id: "1", v: "a" }, 2: { id: "2", v: "b" } },
  });
  assert.deepEqual(await xmlIn(xml, { key_attr: { item: "-id" } }), {
    item: { 1: { "-id": "1", v: "a" }, 2: { "-id": "2", v: "b" } },
  });
});

Deno.test("xml_in() ForceArray 1 or a list of names forces arrays (then folds them)", async () => {
  const xml = `<opt><a>x</a><b name="n" v="1"/><c>y</c></opt>`;
  assert.deepEqual(await xmlIn(xml, { ForceArray: 1 }), {
    a: ["x"],
    b: { n: { v: "1" } },
    c: ["y"],
  });
  assert.deepEqual(await xmlIn(xml, { ForceArray: ["a"] }), {
    a: ["x"],
    b: { name: "n", v: "1" },
    c: "y",
  });
});

Deno.test("xml_in() keeps text exactly, multi-line and Unicode; drops whitespace-only text", async () => {
  const xml = `<opt>\n  <t>  line 1\n\tline 2  </t>\n  <u>caf\u00e9 \u4e16\u754c \u{1F600}</u>\n` +
    `  <nb>\u00a0</nb><bom>\ufeff</bom>\r\n<crlf>a\r\nb</crlf></opt>`;
  assert.deepEqual(await xmlIn(xml), {
    t: "  line 1\n\tline 2  ",
    u: "caf\u00e9 \u4e16\u754c \u{1F600}",
    nb: {}, // Perl's \s includes U+00A0 …
    bom: "\ufeff", // … but not U+FEFF
    crlf: "a\nb",
  });
});

Deno.test("xml_in() joins text around comments and CDATA; mixed content goes to content", async () => {
  assert.deepEqual(
    await xmlIn(`<opt a="1">t1<b/>t2<!-- c -->t3<![CDATA[<x>]]><b/></opt>`),
    { a: "1", b: [{}, {}], content: ["t1", "t2t3<x>"] },
  );
  assert.deepEqual(await xmlIn(`<opt><p k="v">text</p></opt>`, { ContentKey: "value" }), {
    p: { k: "v", value: "text" },
  });
  assert.deepEqual(await xmlIn(`<opt><p>text</p></opt>`, { ForceContent: 1 }), {
    p: { content: "text" },
  });
});

Deno.test("xml_in() ContentKey '-content' collapses folded elements to their text", async () => {
  assert.deepEqual(
    await xmlIn(`<opt><dir name="a">/x</dir><dir name="b">/y</dir></opt>`, {
      ContentKey: "-content",
    }),
    { dir: { a: "/x", b: "/y" } },
  );
});

Deno.test("xml_in() SuppressEmpty: {} by default, undef, '' or dropped", async () => {
  const xml = `<opt><e/><f></f><g>1</g></opt>`;
  assert.deepEqual(await xmlIn(xml), { e: {}, f: {}, g: "1" });
  assert.deepEqual(await xmlIn(xml, { SuppressEmpty: null }), { e: null, f: null, g: "1" });
  assert.deepEqual(await xmlIn(xml, { SuppressEmpty: "" }), { e: "", f: "", g: "1" });
  assert.deepEqual(await xmlIn(xml, { SuppressEmpty: 1 }), { g: "1" });
});

Deno.test("xml_in() KeepRoot, NoAttr, GroupTags, ValueAttr and NormaliseSpace", async () => {
  assert.deepEqual(await xmlIn(`<r a="1"><b>x</b></r>`, { KeepRoot: 1 }), {
    r: { a: "1", b: "x" },
  });
  assert.deepEqual(await xmlIn(`<r a="1"><b c="2">x</b></r>`, { NoAttr: 1 }), { b: "x" });
  assert.deepEqual(
    await xmlIn(`<r><dirs><dir>a</dir><dir>b</dir></dirs></r>`, { GroupTags: { dirs: "dir" } }),
    { dirs: ["a", "b"] },
  );
  assert.deepEqual(await xmlIn(`<r><c v="1"/><d v="2" w="3"/></r>`, { ValueAttr: ["v"] }), {
    c: "1",
    d: { v: "2", w: "3" },
  });
  assert.deepEqual(
    await xmlIn(`<r a="  x   y "><t>  a  \n\n b </t><u>c\nd</u></r>`, { NormaliseSpace: 2 }),
    { a: "x y", t: "a b", u: "c\nd" },
  );
});

Deno.test("xml_in() VarAttr defines variables and ${name} is substituted", async () => {
  assert.deepEqual(
    await xmlIn(
      `<r><dir name="base">/opt</dir><bin path="\${base}/bin">\${base}/x \${nope}</bin></r>`,
      {
        VarAttr: "name",
        KeyAttr: [],
      },
    ),
    {
      dir: { name: "base", content: "/opt" },
      bin: { path: "/opt/bin", content: "/opt/x ${nope}" },
    },
  );
});

Deno.test("xml_in() NSExpand uses {uri}name; without it names stay prefixed", async () => {
  const xml = `<r xmlns="urn:d" xmlns:p="urn:p"><p:a p:x="1" y="2"/></r>`;
  assert.deepEqual(await xmlIn(xml), {
    xmlns: "urn:d",
    "xmlns:p": "urn:p",
    "p:a": { "p:x": "1", y: "2" },
  });
  assert.deepEqual(await xmlIn(xml, { NSExpand: 1 }), {
    xmlns: "urn:d",
    "{http://www.w3.org/2000/xmlns/}p": "urn:p",
    "{urn:p}a": { "{urn:p}x": "1", y: "2" },
  });
});

Deno.test("xml_in() StrictMode and bad options fail like XML::Simple croaks", async () => {
  let r = await call("xml_in", { source: "<r/>", options: { Bogus: 1 } });
  assert.deepEqual([r.success, r.error], [false, "Unrecognised option: Bogus"]);
  r = await call("xml_in", { source: "<r/>", options: { StrictMode: 1 } });
  assert.equal(r.error, "No value specified for 'ForceArray' option in call to XMLin()");
  r = await call("xml_in", {
    source: `<r><i id="1"/><i v="2"/></r>`,
    options: { StrictMode: 1, ForceArray: ["i"], KeyAttr: { i: "id" } },
  });
  assert.equal(r.error, "<i> element has no 'id' key attribute");
  r = await call("xml_in", { source: "<r/>", options: { GroupTags: { a: "a" } } });
  assert.equal(r.error, "Bad value in GroupTags: 'a' => 'a'");
});

Deno.test("xml_in() returns ParseError results for malformed XML, never throws", async () => {
  for (const bad of ["<r><a></r>", "<r>&nosuch;</r>", "<r/>junk<x/>", "<r a='1' a='2'/>", "  "]) {
    const r = await call("xml_in", { source: bad, source_type: "string" });
    assert.equal(r.success, false, bad);
    assert.equal(r.error_type, "ParseError");
    assert.match(r.error!, /^Cannot parse XML: /);
  }
  const r = await call("xml_in", { source: "<r>\n<a>\n</b></r>" });
  assert.match(
    r.error!,
    /^Cannot parse XML: Opening and ending tag mismatch: "a" != "b" at line \d+, column \d+$/,
  );
});

Deno.test("xml_in() reads files relative to the caller's cwd, and SearchPath", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/conf`);
    await Deno.writeTextFile(`${dir}/conf/app.xml`, `<opt><k>v\u00e9</k></opt>`);
    assert.deepEqual(await xmlIn("conf/app.xml", {}, dir), { k: "v\u00e9" });
    let r = await call("xml_in", { source: "conf/app.xml", source_type: "file" }, dir);
    assert.deepEqual(r.result, { k: "v\u00e9" });
    r = await call("xml_in", { source: "app.xml", options: { SearchPath: ["nope", "conf"] } }, dir);
    assert.deepEqual(r.result, { k: "v\u00e9" });
    r = await call("xml_in", { source: "missing.xml", source_type: "file" }, dir);
    assert.deepEqual([r.success, r.error_type], [false, "FileNotFoundError"]);
    assert.equal(r.error, `File does not exist: missing.xml (looked for ${dir}/missing.xml)`);
    r = await call("xml_in", { source: "app.xml", options: { SearchPath: "nope" } }, dir);
    assert.match(r.error!, /^Could not find app.xml in nope/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("xml_in() decodes files by BOM or declared encoding and rejects bad UTF-8", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const latin = new Uint8Array([
      ...new TextEncoder().encode(`<?xml version="1.0" encoding="ISO-8859-1"?><r>caf`),
      0xe9,
      0x80,
      ...new TextEncoder().encode(`</r>`),
    ]);
    await Deno.writeFile(`${dir}/l1.xml`, latin);
    assert.equal((await call("xml_in", { source: "l1.xml" }, dir)).result, "caf\u00e9\u0080");
    const u16 = new Uint8Array([
      0xff,
      0xfe,
      ...new Uint8Array(
        new Uint16Array(
          [..."<r>\u4e16</r>"].map((c) => c.charCodeAt(0)),
        ).buffer,
      ),
    ]);
    await Deno.writeFile(`${dir}/u16.xml`, u16);
    assert.equal((await call("xml_in", { source: "u16.xml" }, dir)).result, "\u4e16");
    await Deno.writeFile(
      `${dir}/bad.xml`,
      new Uint8Array([0x3c, 0x72, 0x3e, 0xe9, 0x3c, 0x2f, 0x72, 0x3e]),
    );
    const r = await call("xml_in", { source: "bad.xml" }, dir);
    assert.equal(r.error_type, "ParseError");
    assert.match(r.error!, /not valid UTF-8 \(first bad byte at offset 3\); declare/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("xml_in() refuses URLs, filehandles and a missing source with actionable errors", async () => {
  let r = await call("xml_in", { source: "http://example.com/x.xml", source_type: "url" });
  assert.deepEqual([r.success, r.error_type], [false, "NotImplementedError"]);
  assert.match(r.error!, /fetch the document first/);
  r = await call("xml_in", { source: "GLOB(0x1)", source_type: "filehandle" });
  assert.match(r.error!, /read it into a string first/);
  r = await call("xml_in", {});
  assert.equal(r.error, "XMLin requires a source parameter");
});

Deno.test("xml_out() writes attributes, nested elements, sorted keys and unfolds KeyAttr", async () => {
  assert.equal(
    await xmlOut({ b: "2", a: "x<&\"'", list: ["1", "2"], h: { k1: { v: "1" } } }),
    `<opt a="x&lt;&amp;&quot;'" b="2">\n  <h name="k1" v="1" />\n` +
      `  <list>1</list>\n  <list>2</list>\n</opt>\n`,
  );
  assert.equal(
    await xmlOut({ root: { content: "t", id: "1" } }, { KeepRoot: 1, XMLDecl: 1 }),
    `<?xml version='1.0' standalone='yes'?>\n<root id="1">t</root>\n`,
  );
  assert.equal(
    await xmlOut({ a: "1", b: ["x"] }, { RootName: null, NoIndent: 1 }),
    `<a>1</a><b>x</b>`,
  );
  assert.equal(
    await xmlOut({ a: "1" }, { NoAttr: 1, RootName: "cfg" }),
    `<cfg>\n  <a>1</a>\n</cfg>\n`,
  );
});

Deno.test("xml_out() keeps Unicode and multi-line text; NumericEscape escapes it", async () => {
  const data = { t: "caf\u00e9 \u4e16 \u{1F600}\nline 2" };
  assert.equal(
    await xmlOut(data, { NoAttr: 1 }),
    `<opt>\n  <t>caf\u00e9 \u4e16 \u{1F600}\nline 2</t>\n</opt>\n`,
  );
  assert.equal(
    await xmlOut(data, { NumericEscape: 2 }),
    `<opt t="caf&#233; &#19990; &#128512;\nline 2" />\n`,
  );
  assert.equal(
    await xmlOut(data, { NumericEscape: 1 }),
    `<opt t="caf\u00e9 &#19990; &#128512;\nline 2" />\n`,
  );
});

Deno.test("xml_out() round-trips through xml_in (newlines in attributes become spaces)", async () => {
  const data = { server: { a: { ip: "1", note: "x\ny" }, b: { ip: "2" } }, title: "T\u00e9" };
  const back = await xmlIn(await xmlOut(data));
  assert.deepEqual(back, { ...data, server: { ...data.server, a: { ip: "1", note: "x y" } } });
  assert.deepEqual(await xmlIn(await xmlOut(data, { NoAttr: 1 }), { NoAttr: 1 }), data);
});

Deno.test("xml_out() OutputFile writes relative to the caller's cwd; errors are results", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await call("xml_out", { data: { a: "1" }, options: { OutputFile: "out.xml" } }, dir);
    assert.deepEqual([r.success, r.result], [true, 1]);
    assert.equal(await Deno.readTextFile(`${dir}/out.xml`), `<opt a="1" />\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  let r = await call("xml_out", { data: null });
  assert.equal(r.error, "XMLout requires data to convert");
  r = await call("xml_out", { data: {}, options: { ForceArray: 1 } });
  assert.equal(r.error, "Unrecognised option: ForceArray");
});

Deno.test("escape_xml() escapes like XML::Simple escape_value; unescape_xml() reverses it", async () => {
  assert.deepEqual(await call("escape_xml", { value: `a<b>&"c'` }), {
    success: true,
    result: "a&lt;b&gt;&amp;&quot;c'",
  });
  assert.deepEqual(await call("escape_xml", { value: null }), { success: true, result: "" });
  assert.deepEqual(
    await call("unescape_xml", { value: "&lt;&amp;lt;&#233;&#x1F600;&apos;&bogus;" }),
    {
      success: true,
      result: "<&lt;\u00e9\u{1F600}'&bogus;",
    },
  );
});

Deno.test("xml_in() converts a 2 MB document (the 10 MB timing is scripts/bench_xml.ts)", async () => {
  const { xml, records } = makeDocument(2 * 1024 * 1024);
  const r = await xmlIn(xml);
  assert.equal(Object.keys(r.ticket).length, records);
  assert.deepEqual(r.ticket.T1, {
    status: "open",
    prio: "1",
    title: "Ticket 1: caf\u00e9 \u4e16\u754c \u{1F600} & <more>",
    description: "line one of 1\n    line two\n\tindented",
    tag: ["alpha", "beta"],
    owner: { name: "user1", team: "ops" },
  });
});
