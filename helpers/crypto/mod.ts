/**
 * @module
 * `crypto`: serves CryptHelper.pm, which replaces Crypt::CBC (Blowfish, AES, "Rijndael"),
 * helpers contract §3.3. Wrapped results. `new` keeps the settings under a `cipher_id` (UUID4)
 * in a handle table with the daemon's idle TTL; DESTROY's `cleanup_cipher` drops it.
 *
 * DEFECT-FIX (§3.3 compatibility warning): ciphertext is genuine Crypt::CBC output, so data moves
 * both ways between this bridge and real Crypt::CBC (checked against 3.04 in tests/perl/crypto.t):
 * - `key` is a passphrase; with the default `header => 'salt'` the output is `Salted__` + salt +
 *   CBC, key and IV from `pbkdf => 'opensslv1'` (OpenSSL's MD5 EVP_BytesToKey, one round): the
 *   default of Crypt::CBC 3.04 and the only derivation of 2.x, so old data decrypts. `opensslv2`,
 *   `pbkdf2` (`iter`, `hasher` HMACSHA2/HMACSHA1), `randomiv` and `none` are there when asked for.
 * - Key sizes as Crypt::CBC: Blowfish 56 bytes, AES/Rijndael 32, or `keysize`.
 * - `header` 'salt' | 'randomiv' | 'none'; `padding_mode` standard | null | space | oneandzeroes |
 *   rijndael_compat | none; `literal_key`, `iv`, `salt` as in Crypt::CBC->new.
 * - Data in the old Python bridge format (IV + CBC with the key Base64/hex/raw-decoded) still
 *   decrypts: tried when the expected Crypt::CBC header is absent, reported as
 *   `format: "python_bridge"`; `format => 'python_bridge'` in `new` also writes it.
 * - `decrypt` takes the ciphertext as hex or as its raw bytes (`decrypt(pack('H*', $stored))`).
 *   `encrypt` returns hex, as CryptHelper.pm documents and the old daemon did; `output => 'raw'`
 *   in `new`, or CPAN_BRIDGE_CRYPTO_OUTPUT=raw in the caller's environment, returns the bytes as
 *   Crypt::CBC does. Keys, IVs and salts are bytes; a key with a wider character is used as its
 *   UTF-8 (the Perl string rule; Crypt::CBC dies "Wide character", the old bridge took them).
 * Deviations, all for bad input only: a wrong key is refused ("bad padding") where Crypt::CBC
 * returns garbage (standard and oneandzeroes padding); randomiv data is decrypted with the key
 * derived from the passphrase, where Crypt::CBC 3.04 wrongly uses the IV as key and fails.
 */

import { createHash } from "node:crypto";
import type { Args, CallContext } from "../types.ts";
import { bytesToPerl, defineHelper, failure, fn, perlBytes, wrapped } from "../types.ts";
import {
  type CbcSettings,
  checkKeySize,
  type CipherSpec,
  cipherSpec,
  settle,
} from "./_cbc_settings.ts";
import { cbcDecrypt, cbcEncrypt } from "./_crypt_cbc.ts";
import { CryptoInputError, MissingHeaderError } from "./_errors.ts";
import { bytesToHex } from "./_hex.ts";
import { asText, ciphertextBytes, fromHex, integer, readKeyFile, text } from "./_inputs.ts";
import { truthy } from "../types.ts";
import {
  pythonDecrypt,
  pythonEncrypt,
  pythonKeyCandidates,
  type PythonKeys,
} from "./_python_bridge.ts";

/** What a `cipher_id` stands for. */
type CipherHandle =
  & {
    readonly spec: CipherSpec;
    /** Key bytes the old bridge would have used, tried in order (at least one). */
    readonly pythonKeys: PythonKeys;
    /** What `encrypt` returns in `encrypted`: lowercase hex (default) or the bytes themselves. */
    readonly output: Output;
  }
  & (
    /** Crypt::CBC settings, for the crypt_cbc format only. */
    | { readonly format: "crypt_cbc"; readonly cbc: CbcSettings }
    | { readonly format: "python_bridge"; readonly cbc: undefined }
  );

type Output = "hex" | "raw";

/** The caller's setting that makes `encrypt` return raw bytes, as Crypt::CBC does. */
export const OUTPUT_ENV = "CPAN_BRIDGE_CRYPTO_OUTPUT";

/** `output` from `new`, else the caller's CPAN_BRIDGE_CRYPTO_OUTPUT, else hex (CryptHelper.pm). */
async function outputOf(args: Args, ctx: CallContext): Promise<Output | string> {
  const given = text(args, "output") || (await ctx.callerEnv(OUTPUT_ENV)) || "hex";
  const v = given.trim().toLowerCase();
  return v === "hex" || v === "raw" ? v : given;
}

const INVALID_ID = "Invalid cipher ID or cipher expired";

function ciphers(ctx: CallContext) {
  return ctx.handles<CipherHandle>("ciphers", {
    prefix: "cipher",
    newId: () => crypto.randomUUID(),
  });
}

function algorithm(h: CipherHandle): string {
  const ks = h.format === "crypt_cbc" ? h.cbc.keySize : h.pythonKeys[0].length;
  return h.spec.family === "aes" ? `AES-${ks * 8}-CBC` : "Blowfish-CBC";
}

/** Runs a wire function, turning expected failures into `{success:false, error}`. */
function guarded(run: (args: Args, ctx: CallContext) => Promise<unknown>) {
  return async (args: Args, ctx: CallContext) => {
    try {
      return await run(args, ctx);
    } catch (e) {
      if (e instanceof CryptoInputError) return failure(e.message);
      ctx.log.error(`crypto.${ctx.function} failed: ${(e as Error).message}`);
      return failure(
        `${ctx.function === "decrypt" ? "Decryption" : "Encryption"} operation failed: ${
          (e as Error).message
        }`,
      );
    }
  };
}

async function newCipher(args: Args, ctx: CallContext) {
  const keyParam = text(args, "key");
  const keyFile = text(args, "key_file");
  let keyText: string;
  if (keyParam !== undefined && keyParam !== "") keyText = keyParam;
  else if (keyFile !== undefined && keyFile !== "") keyText = await readKeyFile(ctx, keyFile);
  else return failure("Either key or key_file must be provided");
  if (keyText === "") return failure(`key_file ${keyFile} holds no key`);

  const spec = cipherSpec(text(args, "cipher") || "Blowfish");
  const format = text(args, "format") ?? "crypt_cbc";
  if (format !== "crypt_cbc" && format !== "python_bridge") {
    return failure(`Unknown format '${format}': use crypt_cbc (default) or python_bridge`);
  }
  const output = await outputOf(args, ctx);
  if (output !== "hex" && output !== "raw") {
    return failure(`Unknown output '${output}' (${OUTPUT_ENV} or 'output'): use hex or raw`);
  }
  const keysize = integer(args, "keysize");
  if (keysize !== undefined) checkKeySize(spec, keysize);
  const iv = text(args, "iv"), salt = text(args, "salt");
  const cbc = format === "python_bridge" ? undefined : settle({
    cipher: spec,
    pass: perlBytes(keyText),
    header: text(args, "header") || undefined,
    padding: text(args, "padding_mode") || text(args, "padding") || undefined,
    keysize,
    literalKey: truthy(args.literal_key),
    pbkdf: text(args, "pbkdf") || undefined,
    iter: integer(args, "iter"),
    hasher: text(args, "hasher") || undefined,
    iv: iv === undefined || iv === "" ? undefined : perlBytes(iv),
    salt: salt === undefined || salt === "" || salt === "1" ? undefined : perlBytes(salt),
  });
  const pythonKeys = pythonKeyCandidates(keyText, spec);
  const handle: CipherHandle = cbc === undefined
    ? { format: "python_bridge", spec, cbc, pythonKeys, output }
    : { format: "crypt_cbc", spec, cbc, pythonKeys, output };
  const id = ciphers(ctx).add(handle);
  ctx.log.debug(
    `cipher ${id}: ${spec.name} ${format}` +
      (cbc ? ` header=${cbc.header} padding=${cbc.padding} pbkdf=${cbc.pbkdf}` : ""),
  );
  return wrapped({
    cipher_id: id,
    cipher: spec.name,
    key_length: cbc ? cbc.keySize : handle.pythonKeys[0].length,
    block_size: spec.blockSize,
    format,
    header: cbc?.header ?? null,
    padding: cbc?.padding ?? "standard",
    pbkdf: cbc?.pbkdf ?? null,
    output,
  });
}

async function encrypt(args: Args, ctx: CallContext) {
  const h = ciphers(ctx).get(args.cipher_id);
  if (!h) return failure(`${INVALID_ID}: ${String(args.cipher_id)} (call new again)`);
  const hex = text(args, "plaintext_hex");
  const plainText = text(args, "plaintext");
  let plain: Uint8Array;
  if (hex !== undefined) plain = await fromHex(hex, "plaintext_hex");
  else if (plainText !== undefined) plain = perlBytes(plainText);
  else return failure("Provide plaintext_hex (hex of the bytes to encrypt) or plaintext (text)");
  const out = h.format === "crypt_cbc"
    ? await cbcEncrypt(h.cbc, plain)
    : await pythonEncrypt(h.spec, h.pythonKeys[0], plain);
  return wrapped({
    encrypted: h.output === "raw" ? bytesToPerl(out) : await bytesToHex(out),
    length: out.length,
    algorithm: algorithm(h),
    output: h.output,
  });
}

async function decrypt(args: Args, ctx: CallContext) {
  const h = ciphers(ctx).get(args.cipher_id);
  if (!h) return failure(`${INVALID_ID}: ${String(args.cipher_id)} (call new again)`);
  const hex = text(args, "hex_ciphertext");
  if (hex === undefined) {
    return failure("Provide hex_ciphertext (the ciphertext as hex, or its raw bytes)");
  }
  const { bytes: data, input } = await ciphertextBytes(hex);
  let plain: Uint8Array;
  let format = h.format;
  if (h.format === "python_bridge") {
    plain = await pythonDecrypt(h.spec, h.pythonKeys, data);
  } else {
    try {
      plain = await cbcDecrypt(h.cbc, data);
    } catch (e) {
      // Old-bridge data never has a Crypt::CBC header; header 'none' cannot tell, so try it too.
      const maybeOld = e instanceof MissingHeaderError ||
        (e instanceof CryptoInputError && h.cbc.header === "none");
      if (!maybeOld) throw e;
      try {
        plain = await pythonDecrypt(h.spec, h.pythonKeys, data);
      } catch (old) {
        if (!(e instanceof MissingHeaderError) || !(old instanceof Error)) throw e;
        throw new CryptoInputError(
          `${e.message}; not old Python bridge data either (${old.message})`,
        );
      }
      format = "python_bridge";
      ctx.log.info(
        `cipher ${String(args.cipher_id)}: decrypted data in the old Python bridge format`,
      );
    }
  }
  return wrapped({
    decrypted_hex: await bytesToHex(plain),
    decrypted: asText(plain),
    length: plain.length,
    algorithm: algorithm(h),
    format,
    input,
  });
}

async function cleanupCipher(args: Args, ctx: CallContext) {
  const id = text(args, "cipher_id");
  if (id === undefined) return failure("Provide cipher_id");
  const removed = await ciphers(ctx).delete(id, "cleanup_cipher");
  return wrapped({ cipher_id: id, cleaned_up: removed });
}

const HASHES = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

async function hash(args: Args) {
  const alg = (text(args, "algorithm") || "sha256").toLowerCase().replace(/-/g, "");
  if (!HASHES.includes(alg)) {
    return failure(`Unsupported hash algorithm '${alg}': use ${HASHES.join(", ")}`);
  }
  const hex = text(args, "data_hex");
  const data = hex !== undefined
    ? await fromHex(hex, "data_hex")
    : perlBytes(text(args, "data") ?? "");
  if (hex === undefined && text(args, "data") === undefined) {
    return failure("Provide data (text) or data_hex");
  }
  return wrapped({
    hash: createHash(alg).update(data).digest("hex"),
    algorithm: alg,
    length: data.length,
  });
}

async function generateKey(args: Args) {
  const spec = cipherSpec(text(args, "cipher") || "Blowfish");
  const size = integer(args, "keysize") ?? integer(args, "length") ?? spec.defaultKeySize;
  checkKeySize(spec, size);
  const key = crypto.getRandomValues(new Uint8Array(size));
  return wrapped({ key_hex: await bytesToHex(key), key_length: size, cipher: spec.name });
}

export const cryptoHelper = defineHelper({
  name: "crypto",
  replaces: "CryptHelper.pm (Crypt::CBC with Crypt::Blowfish / Crypt::Rijndael)",
  functions: {
    new: fn(
      [
        "key",
        "key_file",
        "cipher",
        "iv",
        "header",
        "padding_mode",
        "padding",
        "literal_key",
        "pbkdf",
        "keysize",
        "salt",
        "iter",
        "hasher",
        "nodeprecate",
        "format",
        "output",
      ],
      guarded(newCipher),
    ),
    encrypt: fn(["cipher_id", "plaintext_hex", "plaintext"], guarded(encrypt)),
    decrypt: fn(["cipher_id", "hex_ciphertext"], guarded(decrypt)),
    cleanup_cipher: fn(["cipher_id"], guarded(cleanupCipher)),
    hash: fn(["data", "data_hex", "algorithm"], guarded(hash)),
    generate_key: fn(["cipher", "keysize", "length"], guarded(generateKey)),
  },
});
