# Drop-in launch (contract §1.1, §2.7, §2.8): with PYTHON_EXECUTABLE pointing at cpan-bridge and
# no Python on PATH, the unchanged client auto-starts a detached daemon found as cpan_daemon.py,
# and process mode serves calls when daemon mode is off.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use TestDaemon;

my ($cli) = TestDaemon::command();
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/python_helpers";
for my $f (qw(cpan_daemon.py cpan_bridge.py)) {
    open my $o, '>', "$dir/python_helpers/$f" or die;
    print $o "# placeholder: cpan-bridge serves this\n";
}
# PATH with perl but no python: a directory holding only a perl symlink.
mkdir "$dir/bin";
symlink($^X, "$dir/bin/perl") or die;
$ENV{PATH} = "$dir/bin";
ok(!grep({ -x "$_/python3" || -x "$_/python" } split /:/, $ENV{PATH}), 'no python on PATH');

$ENV{PYTHON_EXECUTABLE}          = $cli;
$ENV{CPAN_BRIDGE_SOCKET}         = "$dir/bridge.sock";
$ENV{CPAN_BRIDGE_LOG_DIR}        = $dir;
$ENV{CPAN_BRIDGE_DAEMON_SCRIPT}  = "$dir/python_helpers/cpan_daemon.py";
$ENV{CPAN_BRIDGE_SCRIPT}         = "$dir/python_helpers/cpan_bridge.py";
$ENV{CPAN_BRIDGE_FALLBACK}       = 0;
$ENV{CPAN_BRIDGE_STARTUP_TIMEOUT} = 30;
require BridgeClient;

my $c = BridgeClient->new;
my $t0 = time;
my $r = $c->call_python('datetime_helper', 'now', {});
ok($r->{success}, 'first call auto-started the daemon') or diag(explain($r));
diag(sprintf "auto-start + first call: %.2f s", time - $t0);
ok(-S "$dir/bridge.sock", 'daemon socket exists');

my ($pid) = grep { $_ != $$ } map { /^\s*(\d+)/ ? $1 : () } `/usr/bin/pgrep -f cpan_daemon`;
ok($pid, 'pgrep -f cpan_daemon finds the daemon');
SKIP: {
    skip 'no daemon pid', 3 unless $pid;
    my $sid = (split ' ', `/usr/bin/ps -o sid= -p $pid`)[0];
    isnt($sid, getpgrp(), 'daemon runs in its own session');
    is(readlink("/proc/$pid/fd/0"), '/dev/null', 'stdin is not inherited');
    like(`/usr/bin/cat /proc/$pid/cmdline | /usr/bin/tr '\\0' ' '`, qr/cpan_daemon\.py/, 'command line names cpan_daemon.py');
}

# Process mode: the client runs `<PYTHON_EXECUTABLE> "<cpan_bridge.py>"` with the request on stdin.
{
    no warnings "once";
    local $BridgeClient::DAEMON_MODE = 0;
    my $p = $c->call_python('test', 'ping', { via => 'process' });
    is($p->{message}, 'pong', 'process mode ping');
    is_deeply($p->{input}, { via => 'process' }, 'process mode input');
    my $n = $c->call_python('datetime_helper', 'now', {});
    ok($n->{result}{epoch} > 0, 'process mode runs helpers');
}

# Stop the auto-started daemon.
my $s = $c->call_python('system', 'shutdown', {});
is($s->{message}, 'Shutdown initiated', 'system.shutdown by the owner');
my $deadline = time + 20;
sleep 0.05 while -S "$dir/bridge.sock" && time < $deadline;
ok(!-S "$dir/bridge.sock", 'daemon removed its socket');
done_testing;
