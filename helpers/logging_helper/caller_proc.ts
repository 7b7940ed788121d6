/**
 * @module
 * What the daemon reads about a caller process in /proc: whether it still runs (and is the same
 * process: its start time), and its uids. Deno 2 opens /proc/<pid> only with --allow-all.
 */

/**
 * The caller's start time, or undefined when it has exited (or is a zombie).
 * @throws when /proc cannot be read (Deno requires --allow-all for /proc/<pid>)
 */
export async function startTime(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/**
 * The real and effective uids of a process (`/proc/<pid>/status`; its /proc directory's owner is
 * root for a process that changed uid, so it cannot be used).
 */
export async function processUids(pid: number): Promise<number[]> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  if (!m) throw new Error(`Cannot read the uid of PID ${pid}`);
  return [Number(m[1]), Number(m[2])];
}
