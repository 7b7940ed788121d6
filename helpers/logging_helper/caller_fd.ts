/**
 * @module
 * The caller's OWN open file description, duplicated into the daemon: Linux `pidfd_open(pid, 0)`
 * and `pidfd_getfd(pidfd, fd, 0)` (kernel 5.6+) through Deno FFI on libc. A write through the
 * duplicate moves the file offset the caller (and any shell that shares its description, as in
 * `sh -c 'perl job.pl; echo done' > job.log`) writes at, so no byte written by either is
 * overwritten. The kernel allows it only where ptrace would be allowed (same uid, Yama
 * ptrace_scope, CAP_SYS_PTRACE): a refusal is returned as an error, never thrown.
 */

/** Syscall numbers (x86_64 and aarch64 share them: asm-generic numbering since 5.1). */
const SYSCALLS: Readonly<Record<string, { pidfdOpen: bigint; pidfdGetfd: bigint }>> = {
  x86_64: { pidfdOpen: 434n, pidfdGetfd: 438n },
  aarch64: { pidfdOpen: 434n, pidfdGetfd: 438n },
};

const EINTR = 4;

const SYMBOLS = {
  syscall: { parameters: ["i64", "i64", "i64", "i64"], result: "i64" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>;

/** Why an fd could not be duplicated or written (an errno's text). */
export type FdError = { readonly error: string };

let libc: Libc | FdError | undefined;

function openLibc(): Libc | FdError {
  if (libc) return libc;
  if (Deno.build.os !== "linux" || !SYSCALLS[Deno.build.arch]) {
    libc = { error: `pidfd_getfd is not available on ${Deno.build.os}/${Deno.build.arch}` };
    return libc;
  }
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch (e) {
    libc = { error: `Cannot load libc.so.6: ${e instanceof Error ? e.message : String(e)}` };
  }
  return libc;
}

/** The calling thread's errno and its text (read right after the failed call, same thread). */
function lastError(lib: Libc): { errno: number; text: string } {
  const at = lib.symbols.__errno_location();
  const errno = at ? new Deno.UnsafePointerView(at).getInt32() : 0;
  const s = lib.symbols.strerror(errno);
  return { errno, text: s ? Deno.UnsafePointerView.getCString(s) : `errno ${errno}` };
}

/** Duplicates fd `fd` of process `pid` into this process (close-on-exec), or why it cannot. */
export function dupCallerFd(pid: number, fd: number): number | FdError {
  const lib = openLibc();
  if ("error" in lib) return lib;
  const nr = SYSCALLS[Deno.build.arch]!;
  const pidfd = Number(lib.symbols.syscall(nr.pidfdOpen, BigInt(pid), 0n, 0n));
  if (pidfd < 0) return { error: `pidfd_open(${pid}): ${lastError(lib).text}` };
  try {
    const dup = Number(lib.symbols.syscall(nr.pidfdGetfd, BigInt(pidfd), BigInt(fd), 0n));
    if (dup < 0) return { error: `pidfd_getfd(${pid}, ${fd}): ${lastError(lib).text}` };
    return dup;
  } finally {
    lib.symbols.close(pidfd);
  }
}

/**
 * Writes all of `data` to `fd` (a duplicate of a caller's regular file: such writes do not block
 * indefinitely), or why it stopped. Retries EINTR and partial writes, a bounded number of times.
 */
export function writeFd(fd: number, data: Uint8Array): FdError | undefined {
  const lib = openLibc();
  if ("error" in lib) return lib;
  let off = 0;
  for (let tries = 0; off < data.length && tries < 1000; tries++) {
    const rest = data.subarray(off);
    const n = Number(lib.symbols.write(fd, rest, BigInt(rest.length)));
    if (n < 0) {
      const e = lastError(lib);
      if (e.errno === EINTR) continue;
      return { error: e.text };
    }
    off += n;
  }
  return off < data.length ? { error: `wrote ${off} of ${data.length} bytes` } : undefined;
}

/** Closes a duplicate made by dupCallerFd. */
export function closeFd(fd: number): void {
  const lib = openLibc();
  if (!("error" in lib)) lib.symbols.close(fd);
}
