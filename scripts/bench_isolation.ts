/**
 * Isolation benchmark: ping latency seen by another client (scripts/bench/pinger.pl, a separate
 * Perl process) while the daemon is idle, while 11 MB requests are being refused, while 10 MB XML
 * documents are parsed (xml_helper.xml_in from a file) and while 8 MB are encrypted (crypto).
 * Prints a Markdown table. Timings are printed, never asserted.
 *
 *   deno run -A scripts/bench_isolation.ts [--seconds 10]
 */

// deno-lint-ignore-file no-console -- a command-line report

import { parseArgs } from "node:util";
import { cliCommand, cliEnv, ROOT } from "../tests/_support/daemon.ts";
import { waitFor } from "../tests/_support/wait.ts";
import { probeDaemon } from "../src/server/socket.ts";
import { rawCall, rawJson } from "../tests/_support/raw.ts";
import { makeDocument } from "./bench_xml.ts";

const { values } = parseArgs({ args: Deno.args, options: { seconds: { type: "string" } } });
const seconds = Number(values.seconds ?? 10);
const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-iso-" });
const sock = `${dir}/bridge.sock`;
const [cmd, ...pre] = cliCommand();
const daemon = new Deno.Command(cmd!, {
  args: [...pre, "daemon", "--socket", sock, "--log-dir", dir],
  env: cliEnv(),
  stdout: "null",
  stderr: "inherit",
}).spawn();
await waitFor(() => probeDaemon(sock, 500), { what: "daemon" });

const xmlPath = `${dir}/big.xml`;
await Deno.writeTextFile(xmlPath, makeDocument(10 * 1024 * 1024).xml);

async function pinger(): Promise<
  { count: number; failures: number; p50_ms: number; p99_ms: number; max_ms: number }
> {
  const out = await new Deno.Command("perl", {
    args: [`${ROOT}/scripts/bench/pinger.pl`, sock, String(seconds)],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Runs `load` in a loop until the pinger finishes; returns pinger stats and load iterations. */
async function under(load: () => Promise<unknown>) {
  let stop = false, n = 0;
  const loop = (async () => {
    while (!stop) {
      await load();
      n++;
    }
  })();
  const p = await pinger();
  stop = true;
  await loop;
  return { ...p, n };
}

const big = new TextEncoder().encode(
  `{"module":"test","function":"echo","params":{"s":"${"x".repeat(11 * 1024 * 1024)}"}}`,
);
const cipher = await rawJson(sock, {
  module: "crypto",
  function: "new",
  params: { key: "bench key", cipher: "Rijndael" },
});
const cipherId = (cipher.result as { result: { cipher_id: string } }).result.cipher_id;
const plaintextHex = "ab".repeat(4 * 1024 * 1024); // 4 MiB of plaintext, 8 MiB of hex on the wire

const rows: Array<[string, Awaited<ReturnType<typeof under>>]> = [];
rows.push(["idle", { ...(await pinger()), n: 0 }]);
rows.push(["11 MB requests refused, back to back", await under(() => rawCall(sock, big))]);
rows.push([
  "an 11 MB request refused every 100 ms",
  await under(async () => {
    await rawCall(sock, big);
    await new Promise((r) => setTimeout(r, 100));
  }),
]);
rows.push([
  "10 MB XML parsed (xml_in)",
  await under(() =>
    rawJson(sock, { module: "xml", function: "xml_in", params: { source: xmlPath } })
  ),
]);
rows.push([
  "4 MiB encrypted (crypto)",
  await under(() =>
    rawJson(sock, {
      module: "crypto",
      function: "encrypt",
      params: { cipher_id: cipherId, plaintext_hex: plaintextHex },
    })
  ),
]);

console.log(
  `# Ping latency under load (${seconds} s each, ${navigator.hardwareConcurrency} cores)\n`,
);
console.log("| while | load ops | pings | failures | p50 ms | p99 ms | max ms |");
console.log("|---|---|---|---|---|---|---|");
for (const [what, r] of rows) {
  console.log(
    `| ${what} | ${r.n} | ${r.count} | ${r.failures} | ${r.p50_ms.toFixed(2)} | ${
      r.p99_ms.toFixed(2)
    } | ${r.max_ms.toFixed(2)} |`,
  );
}
daemon.kill("SIGTERM");
await daemon.status;
await Deno.remove(dir, { recursive: true });
