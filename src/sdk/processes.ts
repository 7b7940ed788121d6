/**
 * @module
 * What the daemon reads about a client process in /proc. Deno 2 opens /proc/<pid> only with
 * --allow-all.
 */

/**
 * The start time of process `pid` (field 22 of /proc/<pid>/stat, in clock ticks since boot), which
 * tells one process from a later one given the same PID; undefined when there is no such process
 * or it has exited and not been reaped yet (a zombie).
 *
 * @throws when /proc cannot be read (Deno requires --allow-all for /proc/<pid>)
 */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/**
 * True when process `pid` is a descendant of `ancestor` (a Perl script's forked child or a
 * command it runs inherits its objects, handle ids included). Reads /proc; bounded to 32 levels.
 */
export function descendsFrom(pid: number | undefined, ancestor: number): boolean {
  let p = pid;
  for (let i = 0; i < 32 && p !== undefined && p > 1; i++) {
    let status: string;
    try {
      status = Deno.readTextFileSync(`/proc/${p}/status`);
    } catch {
      return false;
    }
    const m = /^PPid:\s+(\d+)/m.exec(status);
    p = m ? Number(m[1]) : undefined;
    if (p === ancestor) return true;
  }
  return false;
}
