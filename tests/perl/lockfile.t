#!/usr/bin/perl
# lockfile through the daemon (every wire function), differentially against the real
# LockFile::Simple 0.208 (Debian liblockfile-simple-perl): lock file names and contents, -stale,
# -hold, -nfs, and several processes (bridge clients and real LockFile::Simple users) competing
# for one lock: exactly one holds it at a time.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use Fcntl qw(O_CREAT O_EXCL O_WRONLY);
use POSIX qw(_exit);
use Sys::Hostname;
use Time::HiRes qw(time sleep);
use JSON::PP;
use LockFile::Simple;
use lib "tests/perl/lib";
use TestDaemon;
use BridgeClient;

my $d = TestDaemon->start();
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);
chmod 0777, $dir;
my $orig = getcwd();

sub call { $c->call_python('lockfile', @_) }
sub slurp { open my $fh, '<', $_[0] or return undef; local $/; my $s = <$fh>; $s }
sub real { LockFile::Simple->make(-warn => 0, -efunction => undef, -wfunc => undef, -efunc => undef, @_) }

# A PID that is certainly dead: a child that has exited and been reaped.
sub dead_pid { my $p = fork // die; _exit(0) unless $p; waitpid($p, 0); $p }

# --- make / trylock / release: names, contents, relative paths --------------------------------
my $m = call('make', { nfs => 0, hold => 90, delay => 1, max_wait => 5 });
ok($m->{success}, 'make') or diag explain $m;
my $mid = $m->{result}{manager_id};
is($m->{result}{hold}, 90, 'make echoes hold');
is(call('make', { bogus => 1 })->{error}, 'Unknown LockFile::Simple option: -bogus', 'unknown option');

chdir $dir or die;
my $t = call('trylock', { manager_id => $mid, filename => 'data.txt' });
chdir $orig;
ok($t->{success}, 'trylock with a relative filename') or diag explain $t;
is($t->{result}{lockfile}, 'data.txt.lock', 'default lock name <file>.lock, as LockFile::Simple');
ok(-f "$dir/data.txt.lock", '... created in the caller\'s cwd');
is(slurp("$dir/data.txt.lock"), "$$\n", 'the lock file holds the CALLER\'s PID and a newline');
is((stat "$dir/data.txt.lock")[2] & 07777, 0444, 'read-only, like LockFile::Simple\'s umask 0333');
is(real()->trylock("$dir/data.txt"), undef, 'real LockFile::Simple cannot take a bridge-held lock');
my $again = call('trylock', { manager_id => $mid, filename => 'data.txt' });
ok(!$again->{success}, 'a second trylock on the same file fails');
my $r = call('release', { lock_id => $t->{result}{lock_id} });
ok($r->{success} && $r->{result}{released}, 'release') or diag explain $r;
ok(!-e "$dir/data.txt.lock", 'release removed the lock file');
$r = call('release', { lock_id => $t->{result}{lock_id} });
is_deeply([$r->{success} ? 1 : 0, $r->{result}{released} ? 1 : 0], [1, 0], 'double release answers 0, as LockFile::Simple (no croak)');
is(call('release', { lock_id => 'bogus' })->{error}, 'Invalid lock ID or lock already released', 'a malformed lock id');

# Real LockFile::Simple holds it: the bridge sees "Lock file exists"; after unlock it can lock.
my $lfs = real();
ok($lfs->trylock("$dir/shared"), 'real LockFile::Simple locks');
$r = call('trylock', { manager_id => $mid, filename => "$dir/shared" });
is($r->{error}, "Could not acquire lock on $dir/shared: Lock file exists", 'bridge trylock on a real lock fails');
$lfs->unlock("$dir/shared");
$r = call('trylock', { manager_id => $mid, filename => "$dir/shared" });
ok($r->{success}, 'after the real unlock the bridge locks');
call('release', { lock_id => $r->{result}{lock_id} });

# --- lock file names: same as LockFile::Simple->lockfile() -----------------------------------
mkdir "$dir/sub";
for my $fmt ('%f.lck', '%D/lk_%F.lock', '%F-%p.%%lock', '/tmp/x/%F') {
    my $mm = call('make', { format => $fmt })->{result}{manager_id};
    my $want = real(-format => $fmt)->lockfile("$dir/sub/file.dat", $fmt);
    my $got = call('trylock', { manager_id => $mm, filename => "$dir/sub/file.dat" });
    is($got->{result}{lockfile}, $want =~ s{^(?!/)}{}r, "format $fmt names the lock as LockFile::Simple does");
    call('cleanup_manager', { manager_id => $mm });
}
my $pm = call('trylock', { manager_id => $mid, filename => "$dir/p.dat", lockfile_pattern => "$dir/locks/%F.lock" });
like($pm->{error}, qr/No such file or directory/, 'a missing lock directory makes trylock fail, as LockFile::Simple');
ok(!-e "$dir/locks", '... and is not created');
mkdir "$dir/locks";
$pm = call('trylock', { manager_id => $mid, filename => "$dir/p.dat", lockfile_pattern => "$dir/locks/%F.lock" });
is($pm->{result}{lockfile}, "$dir/locks/p.dat.lock", 'trylock pattern with %F');
ok(-f "$dir/locks/p.dat.lock", '... file present');

# A literal ${VAR} is not expanded (LockFile::Simple does not; Perl interpolates "$ENV{X}" itself).
{
    # /proc/<pid>/environ is the environment the caller was started with: use a child process.
    mkdir "$dir/envdir";
    local $ENV{TEST_LOCKDIR} = "$dir/envdir";
    my $code = q{use lib "tests/perl/lib"; use BridgeClient; use JSON::PP;
        my $r = BridgeClient->new->call_python('lockfile', 'trylock',
            { manager_id => $ARGV[0], filename => 'job', lockfile_pattern => '${TEST_LOCKDIR}/%F.lock' });
        print encode_json($r)};
    open my $ph, '-|', $^X, '-e', $code, $mid or die;
    my $e = decode_json(do { local $/; <$ph> });
    close $ph;
    like($e->{error}, qr/No such file or directory/, 'a literal ${VAR} stays literal (no such directory)');
    ok(!-e "$dir/envdir/job.lock", '... nothing created in $TEST_LOCKDIR');
    my $i = call('trylock', { manager_id => $mid, filename => 'job', lockfile_pattern => "$ENV{TEST_LOCKDIR}/%F.lock" });
    ok($i->{success}, 'a pattern Perl interpolated itself works') or diag explain $i;
    ok(-f "$dir/envdir/job.lock", '... file present');
}

# A forked child uses its parent's manager, as with a LockFile::Simple object inherited by fork:
# the lock is the child's (its PID in the file), and the parent cannot release it.
{
    pipe(my $rd, my $wr) or die;
    my $pid = fork // die;
    if (!$pid) {
        close $rd;
        my $r = BridgeClient->new->call_python('lockfile', 'trylock', { manager_id => $mid, filename => "$dir/forked" });
        print $wr encode_json($r);
        close $wr;
        _exit(0);
    }
    close $wr;
    my $k = decode_json(do { local $/; <$rd> });
    waitpid($pid, 0);
    ok($k->{success}, "a forked child locks with its parent's manager id") or diag explain $k;
    is(slurp("$dir/forked.lock"), "$pid\n", '... the file holds the child\'s PID');
    my $pr = call('release', { lock_id => $k->{result}{lock_id} });
    is_deeply([$pr->{success} ? 1 : 0, $pr->{result}{released} ? 1 : 0], [1, 0], '... the parent\'s release answers 0 (not owned), no croak');
    ok(-e "$dir/forked.lock", '... and leaves the file');
    unlink "$dir/forked.lock";
}

# cleanup_manager releases every lock of the manager.
$r = call('cleanup_manager', { manager_id => $mid });
ok($r->{success} && $r->{result}{cleaned_up}, 'cleanup_manager');
is($r->{result}{released}, 2, '... released the manager\'s two locks');
ok(!-e "$dir/locks/p.dat.lock" && !-e "$dir/envdir/job.lock", '... and removed their files');

# --- -nfs: same stamp as LockFile::Simple, created with link() ---------------------------------
{
    my $real = real(-nfs => 1);
    $real->trylock("$dir/nfs.dat") or die;
    my $want = slurp("$dir/nfs.dat.lock");
    $real->unlock("$dir/nfs.dat");
    my $nm = call('make', { nfs => 1 })->{result}{manager_id};
    my $l = call('trylock', { manager_id => $nm, filename => "$dir/nfs.dat" });
    is(slurp("$dir/nfs.dat.lock"), $want, "-nfs stamp equals LockFile::Simple's ($want)" =~ s/\n//r);
    is($want, "$$:" . hostname() . "\n", '... pid:hostname');
    ok(!real(-nfs => 1, -stale => 1)->trylock("$dir/nfs.dat"), 'real -nfs -stale sees a live PID on this host');
    call('cleanup_manager', { manager_id => $nm });
    my @tmp = glob("$dir/.*.lcktmp");
    is(scalar @tmp, 0, 'no link() temp files left');
}

# --- -stale: dead PIDs, both directions --------------------------------------------------------
{
    my $dead = dead_pid();
    for my $who ('bridge', 'real') {
        open my $fh, '>', "$dir/st.$who.lock" or die; print $fh "$dead\n"; close $fh;
    }
    my $plain = call('make', {})->{result}{manager_id};
    ok(!call('trylock', { manager_id => $plain, filename => "$dir/st.bridge" })->{success}, 'without -stale a dead PID\'s lock holds');
    my $sm = call('make', { stale => 1 })->{result}{manager_id};
    my $b = call('trylock', { manager_id => $sm, filename => "$dir/st.bridge" });
    ok($b->{success}, 'bridge -stale breaks a dead PID\'s lock');
    ok(real(-stale => 1)->trylock("$dir/st.real"), 'real -stale breaks it too (same decision)');
    my $live = call('make', { stale => 1 })->{result}{manager_id};
    ok(!call('trylock', { manager_id => $live, filename => "$dir/st.bridge" })->{success},
        'a live PID\'s lock is not stale (bridge)');
    ok(!real(-stale => 1)->trylock("$dir/st.bridge"), 'nor for real LockFile::Simple: the bridge wrote our live PID');

    # A Perl client that took a bridge lock and died: real LockFile::Simple -stale breaks it.
    my $pid = fork // die;
    if (!$pid) {
        my $cc = BridgeClient->new;
        my $mm = $cc->call_python('lockfile', 'make', {})->{result}{manager_id};
        my $ok = $cc->call_python('lockfile', 'trylock', { manager_id => $mm, filename => "$dir/orphan" })->{success};
        _exit($ok ? 0 : 1);
    }
    waitpid($pid, 0);
    is($?, 0, 'a child took a bridge lock and exited without releasing');
    is(slurp("$dir/orphan.lock"), "$pid\n", '... the file holds the child\'s PID');
    ok(real(-stale => 1)->trylock("$dir/orphan"), 'real LockFile::Simple -stale breaks the orphaned bridge lock');
}

# --- -hold / max_age: old locks are broken, as LockFile::Simple does -------------------------
{
    for my $n ('hb', 'hr') {
        open my $fh, '>', "$dir/$n.lock" or die; print $fh "$$\n"; close $fh;
        utime time - 120, time - 120, "$dir/$n.lock";
    }
    my $h = call('make', { hold => 60 })->{result}{manager_id};
    ok(call('trylock', { manager_id => $h, filename => "$dir/hb" })->{success}, 'bridge -hold 60 breaks a 120 s old lock');
    ok(real(-hold => 60)->trylock("$dir/hr"), 'real -hold 60 does too');
    my $ma = call('make', { hold => 60, max_age => 600 })->{result}{manager_id};
    open my $fh, '>', "$dir/ma.lock" or die; print $fh "$$\n"; close $fh;
    utime time - 120, time - 120, "$dir/ma.lock";
    ok(!call('trylock', { manager_id => $ma, filename => "$dir/ma" })->{success}, 'max_age overrides hold');
}

# --- lock: retries -max times every -delay seconds without blocking the daemon ----------------
{
    my $real = real();
    $real->trylock("$dir/wait") or die;
    my $lm = call('make', { max => 3, delay => 0.1 })->{result}{manager_id};
    my $t0 = time;
    my $f = call('lock', { manager_id => $lm, filename => "$dir/wait" });
    like($f->{error}, qr/Lock file exists \(gave up after 3 attempts/, 'lock gives up after -max attempts');
    cmp_ok(time - $t0, '>=', 0.18, '... having waited -delay between attempts');
    ok(TestDaemon::ping_ok($d->socket), 'the daemon answers while a lock() waits');
    $real->unlock("$dir/wait");
    my $pid = fork // die;
    if (!$pid) { my $x = real(); $x->trylock("$dir/wait") or _exit(1); sleep 0.6; $x->unlock("$dir/wait"); _exit(0) }
    my $held_by = time + 10;
    sleep 0.01 until -e "$dir/wait.lock" || time > $held_by;
    ok(-e "$dir/wait.lock", 'the real holder has the lock');
    my $lm2 = call('make', { max => 50, delay => 0.1 })->{result}{manager_id};
    $t0 = time;
    my $ok = call('lock', { manager_id => $lm2, filename => "$dir/wait" });
    ok($ok->{success}, 'lock waits until the real holder unlocks') or diag explain $ok;
    cmp_ok(time - $t0, '>=', 0.4, '... after about the holder\'s 0.6 s');
    waitpid($pid, 0);
    ok(call('unlock', { manager_id => $lm2, filename => "$dir/wait" })->{success}, 'unlock by file name');
    my $mw = call('make', { max => 100, delay => 0.1, max_wait => 0.35 })->{result}{manager_id};
    $real->trylock("$dir/wait") or die;
    $t0 = time;
    like(call('lock', { manager_id => $mw, filename => "$dir/wait" })->{error}, qr/gave up/, 'max_wait bounds lock');
    cmp_ok(time - $t0, '<', 2, '... well before -max x -delay');
    $real->unlock("$dir/wait");
}

# --- competition: bridge clients and real LockFile::Simple users, one holder at a time --------
{
    my $target = "$dir/race.dat";
    my $owner = "$dir/owner";
    my $rounds = 15;
    my @kids;
    my $hold_once = sub {    # inside the lock: nobody else may be inside
        sysopen(my $fh, $owner, O_CREAT | O_EXCL | O_WRONLY) or return 0;
        close $fh;
        sleep 0.005;
        unlink $owner or return 0;
        return 1;
    };
    for my $k (1 .. 4) {    # bridge clients
        my $pid = fork // die;
        if (!$pid) {
            my $cc = BridgeClient->new;
            my $mm = $cc->call_python('lockfile', 'make', { max => 400, delay => 0.01 })->{result}{manager_id};
            my $bad = 0;
            my $deadline = time + 60;
            for my $i (1 .. $rounds) {
                my $fn = $i % 2 ? 'lock' : 'trylock';
                my $l;
                until (($l = $cc->call_python('lockfile', $fn, { manager_id => $mm, filename => $target }))->{success}) {
                    _exit(100) if time > $deadline;    # 100: no turn in time
                    sleep 0.005;
                }
                $bad++ unless $hold_once->();
                $bad++ unless $cc->call_python('lockfile', 'release', { lock_id => $l->{result}{lock_id} })->{success};
            }
            _exit($bad);
        }
        push @kids, $pid;
    }
    for my $k (1 .. 2) {    # real LockFile::Simple, as an unprivileged user (root ignores 0444)
        my $pid = fork // die;
        if (!$pid) {
            $) = "65534 65534"; $( = 65534; $> = 65534; $< = 65534;
            my $lk = LockFile::Simple->make(-warn => 0, -hold => 0, -wfunc => undef, -efunc => undef);
            my $bad = 0;
            my $deadline = time + 60;
            for my $i (1 .. $rounds) {
                until ($lk->trylock($target)) { _exit(100) if time > $deadline; sleep 0.005 }    # 100: no turn in time
                $bad++ unless $hold_once->();
                $bad++ unless $lk->unlock($target);
            }
            _exit($bad);
        }
        push @kids, $pid;
    }
    my @status = map { waitpid($_, 0); $? >> 8 } @kids;
    is_deeply(\@status, [(0) x @kids], '4 bridge clients + 2 LockFile::Simple processes x 15 rounds: never two holders')
        or diag "violations per process: @status";
    ok(!-e "$target.lock", 'the lock is free at the end');
}

$d->stop;
done_testing();
