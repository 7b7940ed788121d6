# The single binary as users deploy it (docs/binary.md): dist/cpan-bridge copied alone into an
# empty directory and run with a minimal environment (PATH=/usr/bin:/bin, no Deno, no node_modules,
# HOME an empty directory). Builds the binary first when it is missing or older than the sources.
# With a self-extracting build it also tests the launcher: the fallback when HOME is unusable, the
# refusal of an unsafe cache directory, a corrupt payload, and concurrent first starts.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use File::Find ();
use IPC::Open3 qw(open3);
use Symbol qw(gensym);
use JSON::PP;
use POSIX ":sys_wait_h";
use Time::HiRes qw(time sleep);
use TestDaemon;
use TestBinary;
use BridgeClient;

# ---- build when missing or stale ----
my $dist = TestBinary::ensure_built();
ok(-x $dist, 'dist/cpan-bridge exists');

# ---- an empty directory, a minimal environment ----
my $dir = tempdir('cpan-bridge-binary-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$dir/$_" or die "$dir/$_: $!" for qw(bin home work tmp tmp2);
my $bin = "$dir/bin/cpan-bridge";
copy($dist, $bin) or die "copy: $!";
chmod 0755, $bin;
chdir "$dir/work" or die $!;
%ENV = (PATH => '/usr/bin:/bin', HOME => "$dir/home", CPAN_BRIDGE_BIN => $bin);
ok(!grep({ -x "$_/deno" } split /:/, $ENV{PATH}), 'no deno on PATH');

# Runs a command with extra environment; returns (exit status, stdout+stderr).
sub run_cmd {
    my ($env, $stdin, @cmd) = @_;
    local %ENV = (%ENV, %$env);
    delete $ENV{$_} for grep { !defined $ENV{$_} } keys %ENV;
    my $pid = open3(my $in, my $out, undef, @cmd);
    print $in $stdin if defined $stdin;
    close $in;
    local $/;
    my $text = <$out> // '';
    waitpid($pid, 0);
    return ($? >> 8, $text);
}

sub wait_until {
    my ($what, $timeout, $cond) = @_;
    my $deadline = time + $timeout;
    until ($cond->()) {
        return fail("$what (not within $timeout s)") if time > $deadline;
        sleep 0.05;
    }
    return pass($what);
}

# ---- --version, first and second run ----
my $t0 = time;
my ($rc, $version) = run_cmd({}, undef, $bin, '--version');
my $first = time - $t0;
is($rc, 0, '--version exits 0');
like($version, qr/^cpan-bridge \d+\.\d+\.\d+ \(Deno \d+\.\d+\.\d+, V8 [^;]+; (self-extracting|deno compile)[^)]*, git \w+/,
    '--version names cpan-bridge, Deno and how it was built');
my $selfx = $version =~ /self-extracting/;
$t0 = time;
run_cmd({}, undef, $bin, '--version');
diag(sprintf '--version: first run %.2f s, second %.3f s', $first, time - $t0);
opendir(my $dh, "$dir/bin") or die;
is_deeply([sort grep { !/^\.\.?$/ } readdir $dh], ['cpan-bridge'], 'nothing written beside the binary');

my ($unpacked) = glob("$dir/home/.cache/cpan-bridge/*/.complete");
SKIP: {
    skip 'deno compile build: nothing is unpacked', 2 unless $selfx;
    ok($unpacked, 'unpacked once into $HOME/.cache/cpan-bridge/<version>-<id>');
    is((stat "$dir/home/.cache/cpan-bridge")[2] & 07777, 0700, 'the cache directory is private');

    # The footprint (docs/binary.md): the program is bundled JavaScript, each npm package one
    # bundle, and the whole unpacked directory (runtime, program, Deno's cache) stays in budget.
    (my $top = $unpacked // '') =~ s{/\.complete$}{};
    my ($bytes, $files, @ts, @deep) = (0, 0);
    File::Find::find({ no_chdir => 1, wanted => sub {
        my @st = lstat $_;
        $bytes += $st[12] * 512 if @st;
        return unless -f _;
        $files++;
        push @ts, $_ if /\.ts$/;
        push @deep, $_ if m{/app/node_modules/(?:\@[^/]+/[^/]+|[^\@/][^/]*)/(?!licenses/)[^/]+/};
    } }, $top) if $top;
    cmp_ok($bytes / 1e6, '<=', 110, sprintf('unpacked %.1f MB, at most 110 MB', $bytes / 1e6));
    cmp_ok($files, '<', 400, "$files files unpacked (node_modules is not shipped as installed)");
    is_deeply(\@ts, [], 'no TypeScript left to transpile on the first run');
    is_deeply([@deep[0 .. ($#deep < 4 ? $#deep : 4)]], [], 'each npm package is one bundle');
}

# ---- no network at run time ----
SKIP: {
    skip 'unshare -n is not permitted here', 2 unless system('/usr/bin/unshare -n /bin/true 2>/dev/null') == 0;
    my ($r, $out) = run_cmd({}, undef, '/usr/bin/unshare', '-n', $bin, '--version');
    is($r, 0, '--version without any network');
    open my $ph, '>', "$dir/work/cpan_bridge.py" or die;
    close $ph;
    ($r, $out) = run_cmd({ CPAN_BRIDGE_LOG_DIR => "$dir/tmp" },
        '{"module":"xml_helper","function":"xml_in","params":{"source":"<a><b>1</b></a>","source_type":"string"}}',
        '/usr/bin/unshare', '-n', $bin, "$dir/work/cpan_bridge.py");
    like($out, qr/"result":\{"b":"1"\}/, 'process mode runs an npm-backed helper (xmldom) without any network')
      or diag($out);
}

# ---- the daemon ----
my $d = TestDaemon->start;
my $sock = $d->socket;
like(readlink("/proc/" . $d->pid . "/exe") // '', $selfx ? qr{/runtime/deno$} : qr{cpan-bridge$},
    'the launcher execs the runtime in place (signals reach the daemon itself)');
my ($health, $hout) = (undef, '');
wait_until('--health exits 0 once helpers are loaded', 60, sub {
    ($health, $hout) = run_cmd({}, undef, $bin, '--health', '--socket', $sock);
    $health == 0;
}) or diag($hout);
like($hout, qr/^CPAN-BRIDGE OK/, '--health prints a Nagios OK line');

# --version and --health are answered by small modules (main.ts); a form that main.ts leaves to the
# whole CLI (an extra flag that does not change the answer) must print the same, figures aside.
{
    my $shape = sub { (my $t = shift) =~ s/\d+(?:\.\d+)?/N/g; $t };
    my ($vr, $vfull) = run_cmd({}, undef, $bin, '--version', '--json');
    is($vfull, $version, '--version: the small entry and the whole CLI print the same bytes');
    my ($hr, $hfull) = run_cmd({}, undef, $bin, '--health', '--log-dir', "$dir/tmp", '--socket', $sock);
    is($hr, 0, '--health through the whole CLI exits 0 too');
    is($shape->($hfull), $shape->($hout), '--health: the same line through the small entry and the whole CLI');
    for my $json ([], ['--json']) {
        my ($fr, $fast) = run_cmd({}, undef, $bin, '--health', @$json, '--socket', "$dir/none.sock");
        my ($sr, $slow) = run_cmd({}, undef, $bin, '--health', @$json, '--log-dir', "$dir/tmp", '--socket', "$dir/none.sock");
        is($fr, 3, "--health @$json exits 3 without a daemon");
        is("$sr $slow", "$fr $fast", "--health @$json without a daemon: the same exit code and bytes both ways");
    }
    my ($br, $bad) = run_cmd({ CPAN_BRIDGE_MAX_CONNECTIONS => 'x' }, undef, $bin, '--health', '--socket', $sock);
    is($br, 78, '--health with a bad setting exits 78');
    like($bad, qr/^cpan-bridge: Cannot use CPAN_BRIDGE_MAX_CONNECTIONS/, 'and names the setting');
}

my $c = BridgeClient->new;
is($c->call_python('test', 'ping', {})->{message}, 'pong', 'Perl client ping');
my $now = $c->call_python('datetime_helper', 'now', {});
ok($now->{success} && abs($now->{result}{epoch} - time) < 5, 'Perl client calls datetime_helper') or diag(explain($now));

# The largest npm dependency (exceljs, with the most pruned files) end to end.
{
    my $xlsx = "$dir/work/book.xlsx";
    my $wb = $c->call_python('excel', 'create_workbook', { filename => $xlsx });
    my $id = $wb->{result}{workbook_id};
    my $ws = $c->call_python('excel', 'add_worksheet', { workbook_id => $id })->{result}{worksheet_id};
    $c->call_python('excel', 'write_cell', { workbook_id => $id, worksheet_id => $ws, row => 0, col => 0, data => 'x' });
    my $cl = $c->call_python('excel', 'close_workbook', { workbook_id => $id });
    ok($cl->{success} && (slurp($xlsx) // '') =~ /^PK/, 'excel (exceljs) writes a workbook') or diag(explain($cl));
}

# A relative file name is the caller's (its /proc/<pid>/cwd, helpers contract §2.4), not the
# daemon's: the binary's permissions must reach /proc/<pid>/.
{
    open my $fh, '>', "$dir/tmp/rel.xml" or die $!;
    print $fh '<opt><who>caller</who></opt>';
    close $fh;
    chdir "$dir/tmp" or die $!;
    my $r = $c->call_python('xml', 'xml_in', { source => 'rel.xml', source_type => 'file', options => {} });
    chdir "$dir/work" or die $!;
    is(eval { $r->{result}{who} } // '', 'caller', "a relative name resolves against the caller's cwd")
      or diag(explain($r));
}

# ---- two daemons from the same binary at once ----
my $d2 = TestDaemon->start;
isnt($d2->socket, $sock, 'second daemon on another socket');
ok(TestDaemon::ping_ok($sock) && TestDaemon::ping_ok($d2->socket), 'both daemons answer');
for my $s ($sock, $d2->socket) {
    no warnings 'once';
    local $BridgeClient::DAEMON_SOCKET = $s;
    my $r = BridgeClient->new->call_python('datetime_helper', 'now', {});
    ok($r->{success}, "datetime_helper on $s");
}

# ---- SIGTERM removes the socket ----
for my $x ([$d2, 'second'], [$d, 'first']) {
    my ($daemon, $name) = @$x;
    my $s = $daemon->socket;
    $daemon->stop;
    is($daemon->exit_status, 0, "$name daemon exits 0 on SIGTERM");
    ok(!-e $s, "$name daemon removed its socket");
}

# ---- drop-in: <binary> …/cpan_daemon.py detaches a daemon that re-runs this binary ----
{
    mkdir "$dir/ph";
    for (qw(cpan_daemon.py cpan_bridge.py)) { open my $f, '>', "$dir/ph/$_" or die; close $f }
    my %env = (CPAN_BRIDGE_SOCKET => "$dir/tmp/dropin.sock", CPAN_BRIDGE_LOG_DIR => "$dir/tmp");
    my ($r) = run_cmd(\%env, undef, $bin, "$dir/ph/cpan_daemon.py");
    is($r, 0, 'cpan_daemon.py returns at once');
    wait_until('the detached daemon answers', 60, sub { TestDaemon::ping_ok("$dir/tmp/dropin.sock") });
    my @pids = grep { $_ != $$ } map { /^\s*(\d+)/ ? $1 : () } `/usr/bin/pgrep -f cpan_daemon`;
    my ($mine) = grep { (slurp("/proc/$_/cmdline") // '') =~ /\Q$dir\E/ } @pids;
    ok($mine, 'pgrep -f cpan_daemon finds it');
    like(slurp("/proc/$mine/cmdline") // '', qr/^\Q$bin\E\0/, 'it was started through the binary') if $mine;
    ($r) = run_cmd(\%env, undef, $bin, 'stop');
    is($r, 0, 'stop');
    wait_until('the detached daemon removed its socket', 30, sub { !-e "$dir/tmp/dropin.sock" });
}

sub slurp { my ($p) = @_; open my $f, '<', $p or return undef; local $/; return scalar <$f> }

# ---- the launcher ----
SKIP: {
    skip 'deno compile build: no launcher', 11 unless $selfx;
    my $uid = $>;

    # HOME empty: falls back to $TMPDIR/cpan-bridge-<uid>.
    my ($r, $out) = run_cmd({ HOME => '', TMPDIR => "$dir/tmp" }, undef, $bin, '--version');
    is($r, 0, 'runs with an empty HOME') or diag($out);
    ok(glob("$dir/tmp/cpan-bridge-$uid/*/.complete"), 'unpacked into $TMPDIR/cpan-bridge-<uid>');

    # HOME on a filesystem mounted noexec (in a private mount namespace): falls back too.
    SKIP: {
        mkdir "$dir/noexec";
        skip 'cannot mount in a private namespace here', 2
          unless system("/usr/bin/unshare -m /bin/sh -c 'mount -t tmpfs -o noexec none $dir/noexec' 2>/dev/null") == 0;
        ($r, $out) = run_cmd({ TMPDIR => "$dir/tmp2" }, undef, '/usr/bin/unshare', '-m', '/bin/sh', '-c',
            'mount -t tmpfs -o noexec none "$1" && HOME="$1" exec "$2" --version', 'sh', "$dir/noexec", $bin);
        is($r, 0, 'runs when HOME is mounted noexec') or diag($out);
        ok(glob("$dir/tmp2/cpan-bridge-$uid/*/.complete"), 'and unpacked into $TMPDIR/cpan-bridge-<uid>');
    }

    # A cache directory others can write to is refused.
    mkdir "$dir/shared";
    chmod 0777, "$dir/shared";
    ($r, $out) = run_cmd({ CPAN_BRIDGE_CACHE_DIR => "$dir/shared" }, undef, $bin, '--version');
    isnt($r, 0, 'refuses a cache directory others can write to');
    like($out, qr/Cannot find a private writable directory .*set CPAN_BRIDGE_CACHE_DIR/, 'and says why');

    # A corrupt payload is detected and never used.
    my $bad = "$dir/bin/corrupt";
    copy($bin, $bad) or die;
    chmod 0755, $bad;
    open my $fh, '+<', $bad or die;
    my $at = (-s $bad) - 2_000_000;
    seek($fh, $at, 0);
    read($fh, my $byte, 1);
    seek($fh, $at, 0);
    print $fh chr(ord($byte) ^ 0x55);
    close $fh;
    ($r, $out) = run_cmd({ CPAN_BRIDGE_CACHE_DIR => "$dir/corrupt-cache" }, undef, $bad, '--version');
    isnt($r, 0, 'a corrupt binary fails');
    like($out, qr/corrupt/, 'and says the payload is corrupt') or diag($out);
    ok(!glob("$dir/corrupt-cache/*/.complete"), 'nothing half-unpacked is left in place');

    # Concurrent first starts unpack once.
    my @kids;
    for (1 .. 3) {
        my $pid = fork // die;
        if (!$pid) {
            $ENV{CPAN_BRIDGE_CACHE_DIR} = "$dir/race-cache";
            open STDOUT, '>', '/dev/null';
            exec($bin, '--version') or POSIX::_exit(127);
        }
        push @kids, $pid;
    }
    my @status = map { waitpid($_, 0); $? } @kids;
    is_deeply(\@status, [0, 0, 0], 'three concurrent first starts all run');
    opendir(my $rd, "$dir/race-cache") or die;
    is_deeply([sort grep { !/^\.\.?$/ && $_ ne '.lock' } readdir $rd], [map { m{([^/]+)/\.complete$} } glob("$dir/home/.cache/cpan-bridge/*/.complete")],
        'one unpacked directory, no temporary leftovers');
}

chdir '/';
done_testing;
