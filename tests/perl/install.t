# `cpan-bridge install` into a temporary prefix, as root: the binary lands in <prefix>/bin, its
# runtime is unpacked once into <prefix>/lib/cpan-bridge (root-owned, readable by all), another
# user runs it from there with nothing unpacked of its own, the systemd unit and logrotate
# snippet are written (and the unit checked by systemd-analyze verify when it is there, not
# started), and --uninstall removes everything it wrote.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use IPC::Open3 qw(open3);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use TestDaemon;
use TestBinary;
use File::Find ();
use JSON::PP ();

plan skip_all => 'install tests need root (they install for another user)' unless $> == 0;
my $dist = TestBinary::ensure_built();

sub run_cmd {
    my (%o) = @_;
    local %ENV = (PATH => '/usr/sbin:/usr/bin:/sbin:/bin', %{ $o{env} // {} });
    my @cmd = @{ $o{cmd} };
    unshift @cmd, 'runuser', '-u', $o{user}, '--' if $o{user};
    my $pid = open3(my $in, my $out, undef, @cmd);
    close $in;
    local $/;
    my $text = <$out> // '';
    waitpid $pid, 0;
    return ($? >> 8, $text);
}

my ($code, $version) = run_cmd(cmd => [$dist, '--version']);
my $selfx = $version =~ /self-extracting/;

my $p = tempdir('cpan-bridge-install-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $p;
my @install = ($dist, 'install', '--prefix', $p, '--systemd', '--systemd-dir', "$p/systemd",
    '--user', 'root', '--logrotate', '--logrotate-dir', "$p/logrotate", '--no-enable');

my $t0 = time;
($code, my $out) = run_cmd(cmd => \@install);
is($code, 0, 'install exits 0') or diag($out);
diag(sprintf 'install took %.1f s', time - $t0);
ok(-x "$p/bin/cpan-bridge", 'binary installed in <prefix>/bin');
is((stat "$p/bin/cpan-bridge")[2] & 07777, 0755, 'binary mode 0755');
my @manifest = do { open my $fh, '<', "$p/lib/cpan-bridge/install-manifest" or die $!; map { chomp; $_ } <$fh> };
ok(scalar(grep { $_ eq "$p/bin/cpan-bridge" } @manifest), 'manifest lists the binary');

SKIP: {
    skip 'deno compile build: nothing to unpack', 4 unless $selfx;
    my ($runtime) = grep { m{/lib/cpan-bridge/[^/]+$} } @manifest;
    ok($runtime && -f "$runtime/.complete", "runtime unpacked once into $runtime");
    my @st = stat $runtime;
    is($st[4], 0, 'owned by root');
    is($st[2] & 07777, 0755, 'readable by all, writable by root only');
    my $bad = 0;
    File::Find::find({ no_chdir => 1, wanted => sub {
        my @s = lstat $_;
        $bad++ if !-l _ && ($s[2] & 022 || !($s[2] & 04));
    } }, $runtime);
    is($bad, 0, 'every unpacked file is world-readable and not group/other-writable');
}

my $unit = do { local $/; open my $fh, '<', "$p/systemd/cpan-bridge.service" or die $!; <$fh> };
like($unit, qr/^LimitCORE=0$/m, 'unit: no core dumps');
like($unit, qr/^LimitNOFILE=\d+$/m, 'unit: descriptor limit');
like($unit, qr/^Restart=on-failure$/m, 'unit: restart policy');
like($unit, qr/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m, 'unit: reload sends SIGHUP');
like($unit, qr/^RuntimeDirectory=cpan-bridge$/m, 'unit: a dedicated socket directory');
like($unit, qr{^Environment=CPAN_BRIDGE_SOCKET=/run/cpan-bridge/cpan_bridge\.sock$}m, 'unit: socket in it');
like($unit, qr/^Environment=CPAN_BRIDGE_LOG_MAX_BYTES=0$/m, 'unit: logrotate rotates, not the daemon');
like($unit, qr{^ExecStart=\Q$p\E/bin/cpan-bridge daemon cpan_daemon\.py$}m, 'unit: runs the installed binary');
my $lr = do { local $/; open my $fh, '<', "$p/logrotate/cpan-bridge" or die $!; <$fh> };
like($lr, qr/copytruncate/, 'logrotate snippet uses copytruncate');

SKIP: {
    my $sa = (grep { -x "$_/systemd-analyze" } qw(/usr/bin /bin))[0];
    skip 'no systemd-analyze', 1 unless $sa;
    my ($c, $o) = run_cmd(cmd => ["$sa/systemd-analyze", 'verify', "$p/systemd/cpan-bridge.service"]);
    is($c, 0, 'systemd-analyze verify accepts the unit') or diag($o);
}

# ---- another user runs the installed binary, unpacking nothing of its own ----
my $home = "$p/nobody";
mkdir $home or die $!;
chown 65534, 65534, $home;
chmod 0700, $home;
my %nobody_env = (HOME => $home, TMPDIR => $home);
($code, $out) = run_cmd(user => 'nobody', env => \%nobody_env, cmd => ["$p/bin/cpan-bridge", '--version']);
is($code, 0, 'nobody runs the installed binary') or diag($out);
opendir my $dh, $home or die $!;
my @left = grep { !/^\.\.?$/ } readdir $dh;
is_deeply(\@left, [], 'nothing unpacked for nobody (no ~/.cache, no $TMPDIR/cpan-bridge-*)');

# A daemon of nobody's from the shared runtime serves a helper call (helpers load lazily).
my $sock = "$home/s.sock";
my $pid = fork() // die;
if ($pid == 0) {
    %ENV = (PATH => '/usr/sbin:/usr/bin:/sbin:/bin', %nobody_env);
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', '/dev/null';
    exec 'runuser', '-u', 'nobody', '--', "$p/bin/cpan-bridge", 'daemon', '--socket', $sock, '--log-dir', $home;
    exit 127;
}
my $deadline = time + 60;
sleep 0.05 until TestDaemon::ping_ok($sock) || time > $deadline;
ok(TestDaemon::ping_ok($sock), "nobody's daemon answers a ping");
my $r = JSON::PP::decode_json(TestDaemon::raw_call($sock,
    '{"module":"xml","function":"xml_out","params":{"data":{"a":"1"},"options":{}},"request_id":"1_1_1"}'));
ok($r->{success}, 'a helper call works from the shared runtime') or diag(explain $r);
kill 'TERM', $pid;
waitpid $pid, 0;
opendir $dh, $home or die $!;
@left = grep { !/^\.\.?$/ && !/\.log$/ } readdir $dh;
is_deeply(\@left, [], 'still nothing unpacked after serving');

# ---- a second install over the first (an upgrade), this time without the unit and snippet:
# the earlier files stay listed, so --uninstall below still removes them ----
($code, $out) = run_cmd(cmd => [$dist, 'install', '--prefix', $p, '--no-enable']);
is($code, 0, 'installing again over an install works') or diag($out);

# ---- refusals ----
($code, $out) = run_cmd(user => 'nobody', env => \%nobody_env,
    cmd => ["$p/bin/cpan-bridge", 'install', '--prefix', "$p/forbidden"]);
is($code, 1, 'a user without rights to the prefix gets exit 1');
like($out, qr/^cpan-bridge: .*(Permission denied|permission)/mi, '... and says why') or diag($out);
($code, $out) = run_cmd(cmd => ["$p/bin/cpan-bridge", 'install', '--uninstall', '--prefix', "$p/none"]);
is($code, 1, 'uninstall of a prefix with nothing installed fails');
like($out, qr/install-manifest is missing/, '... naming the manifest');

# ---- uninstall ----
($code, $out) = run_cmd(cmd => ["$p/bin/cpan-bridge", 'install', '--uninstall', '--prefix', $p, '--no-enable']);
is($code, 0, 'uninstall exits 0') or diag($out);
ok(!-e $_, "removed $_") for @manifest;
ok(!-e "$p/lib/cpan-bridge/install-manifest", 'manifest removed');

done_testing;
