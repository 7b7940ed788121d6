import assert from "node:assert/strict";
import {
  configOf,
  expandFormat,
  lockfileHelper,
  lockId,
  managerId,
  parseLockId,
  parseManagerId,
  pidAlive,
} from "../../../helpers/lockfile/mod.ts";
import type { LockConfig } from "../../../helpers/lockfile/config.ts";
import type { CallContext } from "../../../helpers/types.ts";
import { makeTestContext } from "../../_support/context.ts";

const f = lockfileHelper.functions;
// deno-lint-ignore no-explicit-any
type R = any;

async function call(name: string, args: Record<string, unknown>, ctx: CallContext): Promise<R> {
  return await f[name]!.run(args, ctx);
}

/** A PID that is certainly dead: a child that has exited. */
async function deadPid(): Promise<number> {
  const p = new Deno.Command("true").spawn();
  await p.status;
  return p.pid;
}

async function withDir(
  fnc: (dir: string, ctx: CallContext, t: ReturnType<typeof makeTestContext>) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    await fnc(dir, t.ctx, t);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("expandFormat() substitutes like LockFile::Simple lockfile()", () => {
  assert.equal(expandFormat("%f.lck", "/a/b/c.dat", 7), "/a/b/c.dat.lck");
  assert.equal(expandFormat("%D/.%F.lock", "/a/b/c.dat", 7), "/a/b/.c.dat.lock");
  assert.equal(expandFormat("%D/%F", "c.dat", 7), "./c.dat");
  assert.equal(expandFormat("%F-%p.%%x%q", "dir/c", 42), "c-42.%x%q");
  assert.equal(expandFormat("%f", "a%Fb", 1), "a%Fb", "substituted text is not expanded again");
});

Deno.test("configOf() takes make() options with or without dashes", () => {
  const c = configOf({ "-nfs": 1, hold: 90, max_age: 10, delay: "0.5", "-stale": 1 });
  assert.ok(typeof c === "object");
  assert.deepEqual([c.nfs, c.hold, c.delay, c.stale, c.max, c.ext], [
    true,
    10,
    0.5,
    true,
    30,
    ".lock",
  ]);
  assert.equal(configOf({ bogus: 1 }), "Unknown LockFile::Simple option: -bogus");
  assert.match(String(configOf({ hold: "x" })), /Invalid value for -hold/);
});

Deno.test("pidAlive() tells live from dead processes", async () => {
  assert.equal(await pidAlive(Deno.pid), true);
  assert.equal(await pidAlive(await deadPid()), false);
  assert.equal(await pidAlive(1), true, "EPERM or not, PID 1 exists");
  assert.equal(await pidAlive(0), false);
});

Deno.test("trylock/release write and remove a LockFile::Simple lock file", async () => {
  await withDir(async (dir, ctx) => {
    const m = await call("make", { hold: 90 }, ctx);
    assert.equal(m.success, true);
    const id = m.result.manager_id;
    const t = await call("trylock", { manager_id: id, filename: "job.dat" }, ctx);
    assert.deepEqual(
      [t.result.filename, t.result.lockfile, t.result.pid],
      ["job.dat", "job.dat.lock", ctx.callerPid],
    );
    assert.equal(await Deno.readTextFile(`${dir}/job.dat.lock`), `${ctx.callerPid}\n`);
    assert.equal((await Deno.stat(`${dir}/job.dat.lock`)).mode! & 0o777, 0o444);
    const other = (await call("make", {}, ctx)).result.manager_id;
    assert.equal(
      (await call("trylock", { manager_id: other, filename: "job.dat" }, ctx)).error,
      "Could not acquire lock on job.dat: Lock file exists",
    );
    const r = await call("release", { lock_id: t.result.lock_id }, ctx);
    assert.deepEqual(r.result, {
      lock_id: t.result.lock_id,
      released: true,
      filename: "job.dat",
      lockfile: "job.dat.lock",
    });
    await assert.rejects(Deno.stat(`${dir}/job.dat.lock`), Deno.errors.NotFound);
    assert.deepEqual((await call("release", { lock_id: t.result.lock_id }, ctx)).result, {
      lock_id: t.result.lock_id,
      released: false,
      filename: "job.dat",
      lockfile: "job.dat.lock",
      warning: "no lockfile found for job.dat",
    }, "a second release returns 0, as LockFile::Simple's unlock of a missing file");
    assert.equal(
      (await call("release", { lock_id: "lock-1" }, ctx)).error,
      "Invalid lock ID or lock already released",
    );
    assert.equal(
      (await call("trylock", { manager_id: "x", filename: "a" }, ctx)).error,
      "Invalid manager ID: x",
    );
  });
});

Deno.test("release() answers released:false for a lock file that someone else now owns", async () => {
  await withDir(async (dir, ctx) => {
    const id = (await call("make", {}, ctx)).result.manager_id;
    const t = await call("trylock", { manager_id: id, filename: "x" }, ctx);
    await Deno.remove(`${dir}/x.lock`);
    await Deno.writeTextFile(`${dir}/x.lock`, "1\n");
    const r = await call("release", { lock_id: t.result.lock_id }, ctx);
    assert.deepEqual([r.success, r.result.released, r.result.warning], [
      true,
      false,
      "cannot unlock x: lock not owned",
    ]);
    assert.equal(await Deno.readTextFile(`${dir}/x.lock`), "1\n", "the other owner's file is kept");
  });
});

Deno.test("-stale breaks a dead PID's lock, -hold an old one", async () => {
  await withDir(async (dir, ctx) => {
    await Deno.writeTextFile(`${dir}/s.lock`, `${await deadPid()}\n`);
    const plain = (await call("make", {}, ctx)).result.manager_id;
    assert.equal((await call("trylock", { manager_id: plain, filename: "s" }, ctx)).success, false);
    const stale = (await call("make", { stale: 1 }, ctx)).result.manager_id;
    assert.equal((await call("trylock", { manager_id: stale, filename: "s" }, ctx)).success, true);
    await Deno.writeTextFile(`${dir}/h.lock`, `${Deno.pid}\n`);
    const old = new Date(Date.now() - 120_000);
    await Deno.utime(`${dir}/h.lock`, old, old);
    const hold = (await call("make", { hold: 60 }, ctx)).result.manager_id;
    assert.equal((await call("trylock", { manager_id: hold, filename: "h" }, ctx)).success, true);
  });
});

Deno.test("-nfs writes pid:hostname via link() and leaves no temp file", async () => {
  await withDir(async (dir, ctx) => {
    const id = (await call("make", { nfs: 1 }, ctx)).result.manager_id;
    await call("trylock", { manager_id: id, filename: "n" }, ctx);
    assert.equal(await Deno.readTextFile(`${dir}/n.lock`), `${ctx.callerPid}:${Deno.hostname()}\n`);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["n.lock"]);
    const other = (await call("make", { nfs: 1 }, ctx)).result.manager_id;
    assert.match(
      (await call("trylock", { manager_id: other, filename: "n" }, ctx)).error,
      /Lock file exists/,
    );
  });
});

Deno.test("lock retries -max times and stops when the call is cancelled", async () => {
  await withDir(async (_dir, ctx) => {
    const holder = (await call("make", {}, ctx)).result.manager_id;
    const held = await call("trylock", { manager_id: holder, filename: "w" }, ctx);
    const m = (await call("make", { max: 3, delay: 0.01 }, ctx)).result.manager_id;
    assert.match(
      (await call("lock", { manager_id: m, filename: "w" }, ctx)).error,
      /gave up after 3 attempts/,
    );
    const ac = new AbortController();
    const m2 = (await call("make", { max: 100_000, delay: 0.01 }, ctx)).result.manager_id;
    const pending = call("lock", { manager_id: m2, filename: "w" }, { ...ctx, signal: ac.signal });
    ac.abort("test");
    assert.match((await pending).error, /cancelled/);
    const waiting = call("lock", { manager_id: m2, filename: "w" }, ctx);
    await call("release", { lock_id: held.result.lock_id }, ctx);
    assert.equal((await waiting).success, true);
    assert.equal((await call("unlock", { manager_id: m2, filename: "w" }, ctx)).success, true);
    assert.match(
      (await call("unlock", { manager_id: m2, filename: "w" }, ctx)).error,
      /not currently locked/,
    );
  });
});

Deno.test("cleanup_manager and the janitor release locks", async () => {
  await withDir(async (dir, ctx) => {
    const id = (await call("make", {}, ctx)).result.manager_id;
    await call("trylock", { manager_id: id, filename: "a" }, ctx);
    await Deno.mkdir(`${dir}/sub`);
    await call("trylock", { manager_id: id, filename: "b", lockfile_pattern: "sub/%F.lk" }, ctx);
    const r = await call("cleanup_manager", { manager_id: id }, ctx);
    assert.deepEqual(r.result, { manager_id: id, cleaned_up: true, released: 2 });
    for (const p of ["a.lock", "sub/b.lk"]) {
      await assert.rejects(Deno.stat(`${dir}/${p}`), Deno.errors.NotFound);
    }
    assert.equal((await call("cleanup_manager", { manager_id: id }, ctx)).result.cleaned_up, true);

    // A manager whose Perl process exited: autoclean removes its lock, otherwise the file stays.
    const dead = { ...ctx, callerPid: await deadPid() };
    const auto = (await call("make", { autoclean: 1 }, dead)).result.manager_id;
    await call("trylock", { manager_id: auto, filename: "c" }, dead);
    const keep = (await call("make", {}, dead)).result.manager_id;
    await call("trylock", { manager_id: keep, filename: "d" }, dead);
    await lockfileHelper.cleanupStale!(ctx);
    await assert.rejects(Deno.stat(`${dir}/c.lock`), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(`${dir}/d.lock`), `${dead.callerPid}\n`);
    const again = await call("trylock", { manager_id: keep, filename: "e" }, ctx);
    assert.equal(again.success, true, "a dropped manager's id still carries its configuration");
  });
});

Deno.test("trylock() fails on a missing directory and expands no ${VAR}", async () => {
  await withDir(async (dir, ctx) => {
    const id = (await call("make", {}, ctx)).result.manager_id;
    const r = await call(
      "trylock",
      { manager_id: id, filename: "f", lockfile_pattern: "nodir/%F.lock" },
      ctx,
    );
    assert.equal(r.error, "Could not acquire lock on f: No such file or directory");
    await assert.rejects(Deno.stat(`${dir}/nodir`), Deno.errors.NotFound);
    await Deno.mkdir(`${dir}/\${HOME}`);
    const v = await call(
      "trylock",
      { manager_id: id, filename: "g", lockfile_pattern: "${HOME}/%F.lock" },
      ctx,
    );
    assert.equal(v.result.lockfile, "${HOME}/g.lock");
    assert.equal(await Deno.readTextFile(`${dir}/\${HOME}/g.lock`), `${ctx.callerPid}\n`);
    const e = await call("trylock", { manager_id: id, filename: "" }, ctx);
    assert.equal(e.result.lockfile, ".lock", "an empty name locks .lock, as Perl's '' . '.lock'");
  });
});

Deno.test("trylock() names lock files by the Perl string's bytes", async () => {
  await withDir(async (dir, ctx) => {
    const id = (await call("make", {}, ctx)).result.manager_id;
    const bytes = await call("trylock", { manager_id: id, filename: "Z\u00c3\u00bcrich" }, ctx);
    assert.equal(bytes.result.lockfile, "Z\u00c3\u00bcrich.lock", "reported as Perl sent it");
    assert.equal(
      (await Deno.stat(`${dir}/Z\u00fcrich.lock`)).isFile,
      true,
      "on disk: Z c3 bc rich",
    );
    const wide = await call("trylock", { manager_id: id, filename: "\u65e5" }, ctx);
    assert.equal(wide.success, true);
    assert.equal((await Deno.stat(`${dir}/\u65e5.lock`)).isFile, true, "a wide char as UTF-8");
    const latin1 = await call("trylock", { manager_id: id, filename: "caf\u00e9" }, ctx);
    assert.match(latin1.error, /not valid UTF-8 bytes/);
  });
});

Deno.test("release() works from the lock id alone, as after a daemon restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = makeTestContext({ cwd: dir });
    const id = (await call("make", { hold: 0 }, before.ctx)).result.manager_id;
    const t = (await call("trylock", { manager_id: id, filename: "r" }, before.ctx)).result;
    await before.close();
    const after = makeTestContext({ cwd: dir });
    try {
      const other = { ...after.ctx, callerPid: 1 };
      const foreign = await call("release", { lock_id: t.lock_id }, other);
      assert.equal(foreign.result.released, false, "another PID cannot release it");
      assert.equal(await Deno.readTextFile(`${dir}/r.lock`), `${after.ctx.callerPid}\n`);
      const again = await call("trylock", { manager_id: id, filename: "r" }, after.ctx);
      assert.equal(again.error, "Could not acquire lock on r: Lock file exists");
      const r = await call("release", { lock_id: t.lock_id }, after.ctx);
      assert.equal(r.result.released, true);
      await assert.rejects(Deno.stat(`${dir}/r.lock`), Deno.errors.NotFound);
    } finally {
      await after.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseLockId() and parseManagerId() accept only their own well-formed ids", () => {
  const ref = { path: "/t/a.lock", stamp: "42", filename: "a", lockfile: "a.lock", managerId: "m" };
  assert.deepEqual(parseLockId(lockId(ref)), ref);
  for (
    const bad of [
      undefined,
      7,
      "",
      "lock1.",
      "lock1.!!",
      "lock_1_abc",
      `lock1.${"A".repeat(20_000)}`,
    ]
  ) {
    assert.equal(parseLockId(bad), undefined, String(bad).slice(0, 20));
  }
  const relative = lockId({ ...ref, path: "a.lock" });
  assert.equal(parseLockId(relative), undefined, "a path that is not absolute");
  assert.equal(parseLockId(lockId({ ...ref, stamp: "x" })), undefined, "a stamp that is no PID");
  const m = managerId({ config: { ...configOf({ hold: 5 }) as LockConfig }, ownerPid: 9 });
  assert.deepEqual(parseManagerId(m)?.config.hold, 5);
  assert.equal(parseManagerId(lockId(ref)), undefined);
  assert.notEqual(m, managerId({ config: configOf({ hold: 5 }) as LockConfig, ownerPid: 9 }));
});

Deno.test({
  name: "pidAlive() counts a PID it may not look at as alive (never breaks such a lock)",
  permissions: { read: false, run: false },
  fn: async () => {
    assert.equal(await pidAlive(999_999_999), true);
  },
});

Deno.test("pidAlive() sees a PID above pid_max as dead when it may look", async () => {
  assert.equal(await pidAlive(999_999_999), false);
});
