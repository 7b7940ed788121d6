/*
 * cpan-bridge launcher: the front of the self-extracting single binary built by
 * scripts/build_binary.sh when no `denort` is available (see docs/binary.md).
 *
 * The binary is this program (static ELF) followed by CB_PAYLOAD_SIZE bytes of payload: one or
 * more concatenated zstd frames (each with its content checksum) that decode to an archive of the Deno runtime,
 * the program and its node_modules. The first run of a build unpacks it, under a lock, into a
 * temporary directory beside <cache>/<version>-<id>, where <id> is the payload's SHA-256 prefix,
 * and renames it into place; every run then execs the runtime from there with the baked-in flags
 * (launch_config.h), keeping the caller's argv[0] and arguments.
 *
 * A system install (`cpan-bridge install`) unpacks the runtime once into <bindir>/../lib/cpan-bridge,
 * owned by root and writable by nobody else; when <version>-<id> is complete there, every user runs
 * from it and nothing is unpacked per user.
 *
 * Otherwise <cache> is $CPAN_BRIDGE_CACHE_DIR, else $XDG_CACHE_HOME/cpan-bridge, else
 * $HOME/.cache/cpan-bridge, else ${TMPDIR:-/tmp}/cpan-bridge-<uid>; a directory is used only if
 * it and every directory above it belong to this user or root and are not writable by others
 * (sticky directories such as /tmp excepted), and not on a filesystem mounted noexec.
 *
 * Archive format (little-endian), after the 8-byte magic "CPANBRA1", entries of
 *   u8 type ('D' directory, 'F' file, 'L' symlink, 'E' end), u16 mode, u16 path length,
 *   u64 size (file bytes or link-target bytes), path, data.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>
#include <zstd.h>

#include "launch_config.h" /* CB_VERSION, CB_ID, CB_PAYLOAD_SIZE, CB_RUNTIME, CB_ARGS, CB_ENV */

#define MAGIC "CPANBRA1"
#define DONE_MARK ".complete"

extern char **environ;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("cpan-bridge: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(70);
}

static void join(char *out, const char *a, const char *b) {
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", a, b) >= PATH_MAX) die("Path too long: %s/%s", a, b);
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int mkdir_p(const char *path) {
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return (mkdir(buf, 0700) != 0 && errno != EEXIST) ? -1 : 0;
}

/* True when `dir` and every directory above it are owned by us or root and not writable by
 * others (unless sticky), and `dir` itself is owned by `owner` and writable by nobody else. */
static int dir_is_owned(const char *dir, uid_t owner, char *why, size_t whylen) {
    char real[PATH_MAX];
    struct stat st;
    uid_t me = geteuid();
    if (!realpath(dir, real)) {
        snprintf(why, whylen, "%s: %s", dir, strerror(errno));
        return 0;
    }
    if (lstat(real, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != owner ||
        (st.st_mode & 022) != 0) {
        snprintf(why, whylen, "%s is not a directory owned by uid %u and writable only by it", real,
                 (unsigned)owner);
        return 0;
    }
    for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
        *(slash == real ? slash + 1 : slash) = 0;
        if (lstat(real, &st) != 0) return 0;
        if ((st.st_uid != me && st.st_uid != 0) ||
            ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))) {
            snprintf(why, whylen, "%s is writable by other users", real);
            return 0;
        }
        if (slash == real) break;
    }
    return 1;
}

static int dir_is_private(const char *dir, char *why, size_t whylen) {
    return dir_is_owned(dir, geteuid(), why, whylen);
}

/* The system install's copy of this build, <dir of the binary>/../lib/cpan-bridge/<name>, when it
 * is complete and owned by root (or by us). Writes it to `out`. */
static int system_dir(const char *self, const char *name, char *out) {
    char bindir[PATH_MAX], cand[PATH_MAX], mark[PATH_MAX], why[PATH_MAX + 128];
    snprintf(bindir, sizeof bindir, "%s", self);
    char *slash = strrchr(bindir, '/');
    if (!slash || slash == bindir) return 0;
    *slash = 0;
    if ((size_t)snprintf(cand, sizeof cand, "%s/../lib/cpan-bridge/%s", bindir, name) >= sizeof cand)
        return 0;
    join(mark, cand, DONE_MARK);
    if (access(mark, R_OK) != 0) return 0;
    if (!dir_is_owned(cand, 0, why, sizeof why) && !dir_is_private(cand, why, sizeof why)) return 0;
    if (!realpath(cand, out)) return 0;
    return 1;
}

/* Picks the cache directory (see the header comment); writes it to `out`. */
static void cache_base(char *out) {
    char cand[4][PATH_MAX], why[PATH_MAX + 128] = "";
    int n = 0;
    const char *v = getenv("CPAN_BRIDGE_CACHE_DIR");
    if (v && *v) {
        if (v[0] != '/') die("CPAN_BRIDGE_CACHE_DIR must be an absolute path, not '%s'", v);
        snprintf(cand[n++], PATH_MAX, "%s", v);
    } else {
        if ((v = getenv("XDG_CACHE_HOME")) && v[0] == '/')
            snprintf(cand[n++], PATH_MAX, "%s/cpan-bridge", v);
        if ((v = getenv("HOME")) && v[0] == '/' && v[1])
            snprintf(cand[n++], PATH_MAX, "%s/.cache/cpan-bridge", v);
        v = getenv("TMPDIR");
        snprintf(cand[n++], PATH_MAX, "%s/cpan-bridge-%u", (v && v[0] == '/') ? v : "/tmp",
                 (unsigned)geteuid());
    }
    for (int i = 0; i < n; i++) {
        if (mkdir_p(cand[i]) != 0) {
            snprintf(why, sizeof why, "%.4000s: %s", cand[i], strerror(errno));
            continue;
        }
        struct statvfs vfs;
        if (statvfs(cand[i], &vfs) == 0 && (vfs.f_flag & ST_NOEXEC)) {
            snprintf(why, sizeof why, "%.4000s: mounted noexec", cand[i]);
            continue;
        }
        if (dir_is_private(cand[i], why, sizeof why) && access(cand[i], W_OK | X_OK) == 0) {
            strcpy(out, cand[i]);
            return;
        }
        if (!why[0]) snprintf(why, sizeof why, "%.4000s: not writable", cand[i]);
    }
    die("Cannot find a private writable directory to unpack into (%s); set CPAN_BRIDGE_CACHE_DIR",
        why);
}

/* ---- payload decoding ---- */

typedef struct {
    int fd;
    off_t in_pos, in_end;
    ZSTD_DCtx *z;
    ZSTD_inBuffer zin;
    size_t frame_left; /* ZSTD_decompressStream's last hint: 0 at the end of a frame */
    uint8_t in[1 << 17];
    uint8_t out[1 << 18];
    size_t out_pos, out_len;
    int finished;
} Reader;

static void reader_init(Reader *r, int fd, off_t start, off_t end) {
    r->fd = fd;
    r->in_pos = start;
    r->in_end = end;
    r->out_pos = r->out_len = 0;
    r->finished = 0;
    r->frame_left = 0;
    r->zin.src = r->in;
    r->zin.size = r->zin.pos = 0;
    r->z = ZSTD_createDCtx();
    /* The build compresses with --long=27 (a 128 MiB window). */
    if (!r->z || ZSTD_isError(ZSTD_DCtx_setParameter(r->z, ZSTD_d_windowLogMax, 27)))
        die("Cannot start the zstd decoder");
}

/* Refills r->out; returns 0 at the end of the payload. Every frame's checksum is verified. */
static int reader_fill(Reader *r) {
    if (r->finished) return 0;
    ZSTD_outBuffer zout = {r->out, sizeof r->out, 0};
    while (zout.pos == 0) {
        if (r->zin.pos == r->zin.size) {
            size_t want = sizeof r->in;
            if ((off_t)want > r->in_end - r->in_pos) want = (size_t)(r->in_end - r->in_pos);
            ssize_t got = want ? pread(r->fd, r->in, want, r->in_pos) : 0;
            if (got < 0) die("Cannot read the payload: %s", strerror(errno));
            if (want && got == 0) die("The binary is truncated (payload ends early)");
            if (got == 0) {
                if (r->frame_left != 0)
                    die("The binary's payload is corrupt (it ends inside a frame); download or build it again");
                r->finished = 1;
                break;
            }
            r->in_pos += got;
            r->zin.size = (size_t)got;
            r->zin.pos = 0;
        }
        size_t ret = ZSTD_decompressStream(r->z, &zout, &r->zin);
        if (ZSTD_isError(ret))
            die("The binary's payload is corrupt (zstd: %s); download or build it again",
                ZSTD_getErrorName(ret));
        r->frame_left = ret;
    }
    r->out_pos = 0;
    r->out_len = zout.pos;
    return r->out_len > 0;
}

static void reader_read(Reader *r, void *dst, size_t n) {
    uint8_t *d = dst;
    while (n) {
        if (r->out_pos == r->out_len && !reader_fill(r)) die("The payload archive ends early");
        size_t k = r->out_len - r->out_pos;
        if (k > n) k = n;
        memcpy(d, r->out + r->out_pos, k);
        r->out_pos += k;
        d += k;
        n -= k;
    }
}

static void reader_copy(Reader *r, int fd, uint64_t n, const char *path) {
    while (n) {
        if (r->out_pos == r->out_len && !reader_fill(r)) die("The payload archive ends early");
        size_t k = r->out_len - r->out_pos;
        if (k > n) k = (size_t)n;
        for (size_t off = 0; off < k;) {
            ssize_t w = write(fd, r->out + r->out_pos + off, k - off);
            if (w < 0) die("Cannot write %s: %s", path, strerror(errno));
            off += (size_t)w;
        }
        r->out_pos += k;
        n -= k;
    }
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int path_ok(const char *p) {
    if (!*p || *p == '/') return 0;
    for (const char *c = p; *c;) {
        const char *e = strchrnul(c, '/');
        if (e == c || (e - c == 2 && c[0] == '.' && c[1] == '.') || (e - c == 1 && c[0] == '.'))
            return 0;
        c = *e ? e + 1 : e;
    }
    return 1;
}

/* Unpacks the whole payload into the directory open as `dirfd`. */
static void extract(int self_fd, off_t start, off_t end, int dirfd) {
    static Reader r;
    uint8_t hdr[13];
    char path[PATH_MAX], target[PATH_MAX];
    reader_init(&r, self_fd, start, end);
    reader_read(&r, hdr, 8);
    if (memcmp(hdr, MAGIC, 8) != 0) die("The binary's payload is not a cpan-bridge archive");
    for (;;) {
        reader_read(&r, hdr, sizeof hdr);
        int type = hdr[0];
        mode_t mode = (mode_t)le(hdr + 1, 2) & 0755;
        size_t plen = (size_t)le(hdr + 3, 2);
        uint64_t size = le(hdr + 5, 8);
        if (type == 'E') break;
        if (plen == 0 || plen >= PATH_MAX) die("Bad archive entry");
        reader_read(&r, path, plen);
        path[plen] = 0;
        if (!path_ok(path)) die("Bad path in archive: %s", path);
        if (type == 'D') {
            if (mkdirat(dirfd, path, mode | 0700) != 0 && errno != EEXIST)
                die("Cannot create %s: %s", path, strerror(errno));
        } else if (type == 'F') {
            int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                            mode | 0600);
            if (fd < 0) die("Cannot create %s: %s", path, strerror(errno));
            reader_copy(&r, fd, size, path);
            if (close(fd) != 0) die("Cannot write %s: %s", path, strerror(errno));
        } else if (type == 'L') {
            if (size == 0 || size >= PATH_MAX) die("Bad symlink in archive: %s", path);
            reader_read(&r, target, (size_t)size);
            target[size] = 0;
            if (target[0] == '/') die("Bad symlink in archive: %s -> %s", path, target);
            if (symlinkat(target, dirfd, path) != 0)
                die("Cannot create %s: %s", path, strerror(errno));
        } else {
            die("Bad archive entry type %d", type);
        }
    }
    /* Decode to the end so that every frame's checksum is verified. */
    if (r.out_pos != r.out_len || reader_fill(&r)) die("The binary's payload has trailing data");
    ZSTD_freeDCtx(r.z);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)f;
    return (flag == FTW_DP ? rmdir(p) : unlink(p)) == 0 || errno == ENOENT ? 0 : -1;
}

static void rm_rf(const char *p) { nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Removes what an interrupted unpack of this build left behind (called under the lock). */
static void remove_leftovers(const char *base, const char *prefix) {
    DIR *d = opendir(base);
    struct dirent *e;
    char p[PATH_MAX];
    if (!d) return;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            join(p, base, e->d_name);
            rm_rf(p);
        }
    closedir(d);
}

static void unpack(const char *base, const char *final) {
    char lock[PATH_MAX], tmp[PATH_MAX], mark[PATH_MAX], prefix[128];
    join(lock, base, ".lock");
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lfd < 0 || flock(lfd, LOCK_EX) != 0) die("Cannot lock %s: %s", lock, strerror(errno));
    join(mark, final, DONE_MARK);
    if (access(mark, F_OK) == 0) { /* another process unpacked it while we waited */
        close(lfd);
        return;
    }
    snprintf(prefix, sizeof prefix, ".tmp-%s-%s-", CB_VERSION, CB_ID);
    remove_leftovers(base, prefix);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/%sXXXXXX", base, prefix) >= sizeof tmp)
        die("Path too long: %s", base);
    if (!mkdtemp(tmp)) die("Cannot create a directory in %s: %s", base, strerror(errno));

    /* The running image, even if the file was replaced or removed since. */
    int self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (self_fd < 0 || fstat(self_fd, &st) != 0) die("Cannot read /proc/self/exe: %s", strerror(errno));
    if (st.st_size < (off_t)CB_PAYLOAD_SIZE) die("The binary is truncated");
    int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) die("Cannot open %s: %s", tmp, strerror(errno));
    extract(self_fd, st.st_size - (off_t)CB_PAYLOAD_SIZE, st.st_size, dfd);
    int mfd = openat(dfd, DONE_MARK, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (mfd < 0 || dprintf(mfd, "%s %s\n", CB_VERSION, CB_ID) < 0 || close(mfd) != 0)
        die("Cannot write %s/%s", tmp, DONE_MARK);
    if (syncfs(dfd) != 0) die("Cannot sync %s: %s", tmp, strerror(errno));
    close(dfd);
    close(self_fd);
    if (rename(tmp, final) != 0) {
        /* A directory without DONE_MARK is in the way (created by hand): replace it. */
        char aside[PATH_MAX + 8];
        snprintf(aside, sizeof aside, "%sold", tmp);
        if ((errno != EEXIST && errno != ENOTEMPTY) || rename(final, aside) != 0 ||
            rename(tmp, final) != 0)
            die("Cannot rename %s to %s: %s", tmp, final, strerror(errno));
        rm_rf(aside);
    }
    close(lfd);
}

/* Replaces every "{DIR}" in `s` with `dir`; returns a new string. */
static char *subst(const char *s, const char *dir) {
    size_t n = strlen(s) + 1, dl = strlen(dir);
    for (const char *p = strstr(s, "{DIR}"); p; p = strstr(p + 5, "{DIR}")) n += dl;
    char *out = malloc(n), *o = out;
    if (!out) die("Out of memory");
    for (const char *p = s, *q; *p;) {
        if ((q = strstr(p, "{DIR}")) == NULL) q = p + strlen(p);
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        p = q;
        if (*p) {
            memcpy(o, dir, dl);
            o += dl;
            p += 5;
        }
    }
    *o = 0;
    return out;
}

int main(int argc, char **argv) {
    char self[PATH_MAX], base[PATH_MAX], final[PATH_MAX], name[160], mark[PATH_MAX],
        runtime[PATH_MAX], why[PATH_MAX + 128];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) die("Cannot find this binary through /proc/self/exe: %s", strerror(errno));
    self[n] = 0;

    snprintf(name, sizeof name, "%s-%s", CB_VERSION, CB_ID);
    const char *forced = getenv("CPAN_BRIDGE_CACHE_DIR");
    if ((forced && *forced) || !system_dir(self, name, final)) {
        cache_base(base);
        join(final, base, name);
        join(mark, final, DONE_MARK);
        if (access(mark, F_OK) != 0) unpack(base, final);
        if (!dir_is_private(final, why, sizeof why)) die("Refusing to run from %s", why);
    }

    join(runtime, final, CB_RUNTIME);
    size_t nargs = sizeof CB_ARGS / sizeof CB_ARGS[0];
    char **av = calloc(nargs + (size_t)argc + 1, sizeof *av);
    if (!av) die("Out of memory");
    size_t k = 0;
    av[k++] = argv[0];
    for (size_t i = 0; i < nargs; i++) av[k++] = subst(CB_ARGS[i], final);
    for (int i = 1; i < argc; i++) av[k++] = argv[i];
    av[k] = NULL;

    for (size_t i = 0; i < sizeof CB_ENV / sizeof CB_ENV[0]; i++) {
        char *kv = subst(CB_ENV[i], final);
        /* Malloc tuning gives way to an operator's own value; the runtime's settings do not. */
        const char *eq = strchr(kv, '=');
        if (eq && strncmp(kv, "MALLOC_", 7) == 0) {
            char name[64];
            size_t n = (size_t)(eq - kv);
            if (n < sizeof name) {
                memcpy(name, kv, n);
                name[n] = '\0';
                if (getenv(name)) continue;
            }
        }
        if (putenv(kv) != 0) die("Out of memory");
    }
    if (setenv("CPAN_BRIDGE_SELF", self, 1) != 0) die("Out of memory");
    execve(runtime, av, environ);
    die("Cannot run %s: %s (remove %s to unpack again)", runtime, strerror(errno), final);
}
