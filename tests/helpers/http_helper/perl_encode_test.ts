import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { encodeDecode } from "../../../helpers/http_helper/perl_encode.ts";

// The expected strings are what Perl 5.36's Encode gives for HTTP::Message's call
// (`Encode::decode($charset, $bytes, Encode::LEAVE_SRC())`), e.g.
// perl -MEncode -e 'printf "%vx\n", Encode::decode("UTF-32LE", "\0\0\0\x80A\0\0\0", 8)'  # fffd.41
const cases: [string, number[], string][] = [
  ["UTF-32LE", [0, 0, 0, 0x80, 0x41, 0, 0, 0], "\ufffdA"],
  ["UTF-32BE", [0x80, 0, 0, 0, 0, 0, 0, 0x41], "\ufffdA"],
  ["utf-32le", [0xff, 0xff, 0xff, 0xff], "\ufffd"],
  ["UTF-32LE", [0x00, 0xf6, 0x01, 0x00], "\u{1f600}"],
  ["UTF-32BE", [0, 0, 0xd8, 0, 0, 0, 0, 0x42], "\ufffdB"],
  ["UTF-32BE", [0, 0, 0, 0x43, 0], "C"],
  ["utf-32", [0, 0, 0xfe, 0xff, 0, 0, 0, 0x43, 0, 0], "C"],
  ["utf-16", [0xfe, 0xff, 0, 0x43, 0], "C"],
  ["utf-16le", [0x43, 0, 0], "C"],
  ["UTF-16BE", [0xd8, 0x00, 0x00, 0x42], "\ufffdB"],
  ["UTF-16BE", [0, 0x43, 0xd8, 0x00], "C\ufffd"],
];

Deno.test("encodeDecode() reads UTF-16 and UTF-32 as Encode does: U+FFFD for bad units, partial tails dropped", () => {
  for (const [charset, bytes, want] of cases) {
    assertEquals(encodeDecode(charset, new Uint8Array(bytes)), want, `${charset} ${bytes}`);
  }
});

Deno.test("encodeDecode() matches the installed Encode on every case", async () => {
  const script = `use Encode; binmode STDOUT;
    while (my $l = <STDIN>) { chomp $l; my ($cs, $hex) = split / /, $l;
      print unpack("H*", Encode::encode("UTF-8", Encode::decode($cs, pack("H*", $hex), Encode::LEAVE_SRC()))), "\\n" }`;
  const child = new Deno.Command("perl", { args: ["-e", script], stdin: "piped", stdout: "piped" })
    .spawn();
  const w = child.stdin.getWriter();
  const hex = (b: number[]) => b.map((x) => x.toString(16).padStart(2, "0")).join("");
  await w.write(new TextEncoder().encode(cases.map(([cs, b]) => `${cs} ${hex(b)}\n`).join("")));
  await w.close();
  const out = new TextDecoder().decode((await child.output()).stdout).trim().split("\n");
  const ours = cases.map(([cs, b]) =>
    hex([...new TextEncoder().encode(encodeDecode(cs, new Uint8Array(b)) ?? "")])
  );
  assertEquals(ours, out);
});
