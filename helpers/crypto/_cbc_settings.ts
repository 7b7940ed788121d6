/**
 * @module
 * Crypt::CBC 3.04's `new`: the ciphers it is used with here, their key sizes, and the option
 * defaults and consistency checks (with its wording) that settle everything encrypt and decrypt
 * need.
 */

import { CryptoInputError } from "./_errors.ts";

export type CipherFamily = "blowfish" | "aes";
export type HeaderMode = "salt" | "randomiv" | "none";
export type PaddingMode =
  | "standard"
  | "null"
  | "space"
  | "oneandzeroes"
  | "rijndael_compat"
  | "none";
export type Pbkdf = "opensslv1" | "opensslv2" | "pbkdf2" | "randomiv" | "none";

/** A supported block cipher, with the sizes Crypt::CBC uses for it. */
export interface CipherSpec {
  /** Name reported back: "Blowfish", "AES" or "Rijndael". */
  readonly name: string;
  readonly family: CipherFamily;
  readonly blockSize: number;
  /** Crypt::CBC's keysize: Crypt::Blowfish max_keysize 56, Crypt::Rijndael keysize 32. */
  readonly defaultKeySize: number;
}

const CIPHERS: Record<string, CipherSpec> = {
  blowfish: { name: "Blowfish", family: "blowfish", blockSize: 8, defaultKeySize: 56 },
  aes: { name: "AES", family: "aes", blockSize: 16, defaultKeySize: 32 },
  rijndael: { name: "Rijndael", family: "aes", blockSize: 16, defaultKeySize: 32 },
};

/** Looks up a cipher by the names Perl code uses ("Blowfish", "Crypt::Rijndael", "Cipher::AES"). */
export function cipherSpec(name: string): CipherSpec {
  const short = name.trim().replace(/^(Crypt::)?(Cipher::)?/i, "").toLowerCase();
  const spec = CIPHERS[short === "aes256" || short === "aes-256" ? "aes" : short];
  if (!spec) {
    throw new CryptoInputError(
      `Unsupported cipher '${name}': cpan-bridge supports Blowfish, AES and Rijndael (AES)`,
    );
  }
  return spec;
}

/** Checks a key size against what the cipher module itself accepts. */
export function checkKeySize(spec: CipherSpec, size: number): void {
  const ok = spec.family === "aes" ? [16, 24, 32].includes(size) : size >= 8 && size <= 56;
  if (!ok) {
    const allowed = spec.family === "aes" ? "16, 24 or 32" : "8 to 56";
    throw new CryptoInputError(
      `Invalid key size ${size} bytes for ${spec.name}: it must be ${allowed} bytes`,
    );
  }
}

/** Everything `new` settled, as Crypt::CBC keeps it in its object. */
export interface CbcSettings {
  readonly cipher: CipherSpec;
  readonly keySize: number;
  readonly header: HeaderMode;
  readonly padding: PaddingMode;
  readonly pbkdf: Pbkdf;
  readonly iter: number;
  readonly hash: "sha256" | "sha1";
  /** Passphrase bytes (undefined with a literal key). */
  readonly pass: Uint8Array | undefined;
  /** Literal key bytes (`-literal_key` or `-pbkdf => 'none'`). */
  readonly key: Uint8Array | undefined;
  /** Literal IV (`-iv`). */
  readonly iv: Uint8Array | undefined;
  /** Fixed salt (`-salt`); undefined means a random salt per message. */
  readonly fixedSalt: Uint8Array | undefined;
  /** Last salt used: Crypt::CBC keeps it, and header 'none' decryption reuses it. */
  salt: Uint8Array | undefined;
}

/** The raw options of Crypt::CBC->new, as far as the wire passes them. */
export interface CbcOptions {
  readonly cipher: CipherSpec;
  readonly pass: Uint8Array;
  readonly header?: string | undefined;
  readonly padding?: string | undefined;
  readonly keysize?: number | undefined;
  readonly literalKey?: boolean | undefined;
  readonly pbkdf?: string | undefined;
  readonly iter?: number | undefined;
  readonly hasher?: string | undefined;
  readonly iv?: Uint8Array | undefined;
  readonly salt?: Uint8Array | undefined;
}

const HEADERS = ["salt", "randomiv", "none"];
const PADDINGS = ["standard", "null", "space", "oneandzeroes", "rijndael_compat", "none"];
const PBKDFS = ["opensslv1", "opensslv2", "pbkdf2", "randomiv", "none"];

/** Applies Crypt::CBC::new's defaults and consistency checks; errors use its wording. */
export function settle(o: CbcOptions): CbcSettings {
  const literal0 = o.literalKey === true;
  const header = o.header ?? (literal0 || o.pbkdf === "none" ? "none" : "salt");
  if (!HEADERS.includes(header)) {
    throw new CryptoInputError(`Invalid -header mode '${header}': use salt, randomiv or none`);
  }
  let padding = o.padding ?? "standard";
  if (padding === "pkcs5" || padding === "pkcs7") padding = "standard";
  if (!PADDINGS.includes(padding)) {
    throw new CryptoInputError(
      `'${padding}' padding not supported: use one of ${PADDINGS.join(", ")}`,
    );
  }
  const bs = o.cipher.blockSize;
  const keySize = o.keysize ?? o.cipher.defaultKeySize;
  checkKeySize(o.cipher, keySize);
  const pbkdf = o.pbkdf ?? (literal0 ? "none" : header === "randomiv" ? "randomiv" : "opensslv1");
  if (!PBKDFS.includes(pbkdf)) {
    throw new CryptoInputError(`Unknown -pbkdf '${pbkdf}': use one of ${PBKDFS.join(", ")}`);
  }
  const iter = o.iter ?? 10_000;
  if (!Number.isInteger(iter) || iter < 1) {
    throw new CryptoInputError("-iter must be an integer greater than or equal to 1");
  }
  const hasher = (o.hasher ?? "HMACSHA2").toUpperCase();
  const hash = hasher === "HMACSHA1" || hasher === "SHA1"
    ? "sha1"
    : hasher === "HMACSHA2" || hasher === "SHA256"
    ? "sha256"
    : undefined;
  if (!hash) {
    throw new CryptoInputError(`Unsupported -hasher '${o.hasher}': use HMACSHA2 or HMACSHA1`);
  }
  if (o.salt !== undefined && o.salt.length !== 8) {
    throw new CryptoInputError(
      `Argument to -salt must be exactly 8 bytes long (got ${o.salt.length})`,
    );
  }
  if (o.iv !== undefined && o.iv.length !== bs) {
    throw new CryptoInputError(
      `Initialization vector must be exactly ${bs} bytes long when using the ${o.cipher.name} cipher (got ${o.iv.length})`,
    );
  }
  const key = literal0 || pbkdf === "none" ? o.pass : undefined;
  if (key !== undefined && key.length !== keySize) {
    throw new CryptoInputError(
      `If specified by -literal_key, then the key length must be equal to the chosen cipher's key length of ${keySize} bytes (got ${key.length})`,
    );
  }
  if (header === "salt" && key !== undefined) {
    throw new CryptoInputError(
      "Cannot use salt-based key generation if literal key is specified: use -header => 'none'",
    );
  }
  if (header === "randomiv" && bs !== 8) {
    throw new CryptoInputError(
      "Cannot encrypt using a non-8 byte blocksize cipher when using randomiv header mode",
    );
  }
  if (pbkdf === "none" && (key === undefined || o.iv === undefined)) {
    throw new CryptoInputError(
      "If a key derivation function (-pbkdf) of 'none' is provided, a literal key and iv must be provided",
    );
  }
  if (header === "randomiv" && pbkdf !== "randomiv") {
    throw new CryptoInputError(
      "If a -header mode of 'randomiv' is provided, then the -pbkdf key derivation function must be 'randomiv' or undefined",
    );
  }
  return {
    cipher: o.cipher,
    keySize,
    header: header as HeaderMode,
    padding: padding as PaddingMode,
    pbkdf: pbkdf as Pbkdf,
    iter,
    hash,
    pass: key === undefined ? o.pass : undefined,
    key,
    iv: o.iv,
    fixedSalt: o.salt,
    salt: o.salt,
  };
}
