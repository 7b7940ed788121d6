# Every `perl -e` one-liner of the operations guide, run verbatim (through bash, as an operator
# pastes it) with a client that unwraps `result` like CPANBridge.pm v2.00, prints real values.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;
use File::Temp qw(tempdir);
use Cwd qw(abs_path);

my $guide = "$FindBin::Bin/../testdata/Production_Operations.md";
open my $fh, '<:raw', $guide or die "$guide: $!";
my $text = do { local $/; <$fh> };

# Extract each command from `perl -e '` to where bash would end it (outside quotes, at a newline,
# backtick, `)`, `;`, `|`, `&&` or ` >`), so `'$i'` splices work as in a shell.
my @cmds;
while ($text =~ /perl -e '/g) {
    my $start = $-[0];
    my $pos = pos($text);
    my $in = 1;
    while ($pos < length $text) {
        my $ch = substr($text, $pos, 1);
        if ($ch eq "'") { $in = !$in }
        elsif (!$in && ($ch eq "\n" || $ch eq '`' || $ch eq ')' || $ch eq ';' || $ch eq '|' || substr($text, $pos, 2) eq ' >' || substr($text, $pos, 3) eq ' &&')) { last }
        $pos++;
    }
    push @cmds, substr($text, $start, $pos - $start);
    pos($text) = $pos;
}
ok(@cmds >= 25, scalar(@cmds) . " one-liners found in the guide");

my $d = TestDaemon->start;
my $work = tempdir(CLEANUP => 1);
mkdir "$work/python_helpers";
{ open my $o, '>', "$work/python_helpers/cpan_bridge.py" or die; print $o "# placeholder\n"; }
my $lib = abs_path("$FindBin::Bin/lib");
symlink("$lib/$_", "$work/$_") for qw(CPANBridge.pm BridgeClient.pm);
my ($cli) = TestDaemon::command();

# Real traffic first: the figures printed must reflect it.
my $c = BridgeClient->new;
$c->call_python('test', 'ping', {}) for 1 .. 5;
$c->call_python('datetime_helper', 'now', {}) for 1 .. 5;

my $n = 0;
for my $cmd (@cmds) {
    $n++;
    my $out = `cd '$work' && i=$n PERL5LIB='$lib' PYTHON_EXECUTABLE='$cli' CPAN_BRIDGE_SOCKET='@{[$d->socket]}' bash -c \Q$cmd\E 2>&1`;
    my $status = $? >> 8;
    my ($call) = $cmd =~ /call_python\("(\w+)", "(\w+)"/;
    $call //= 'test.ping';
    my $label = "one-liner $n ($call)";
    unlike($out, qr/uninitialized|FAILED|Fallback failed|❌ Failed|unreachable|Can't|not a HASH/, "$label prints real values") or diag("$cmd\n---\n$out");
    like($out, qr/\S/, "$label prints something") if $cmd =~ /print/ && $cmd !~ /recent_errors/;
    ok($status == 0 || $cmd =~ /exit\(/, "$label exits 0") or diag($out);
    if ($cmd =~ /"Health: " \. \(/) { like($out, qr/^Health: healthy$/m, "$label: Health: healthy") }
    if ($cmd =~ /DAILY STATUS REPORT/) { like($out, qr/Performance: [1-9]\d* requests, 0\.0% errors/, "$label: real request count") }
    if ($cmd =~ /HEALTH STATUS/) { like($out, qr/HEALTH STATUS: HEALTHY/, "$label: healthy") }
    if ($cmd =~ /"Cleaned "/) { like($out, qr/Cleaned 0 stale connections/, "$label: cleanup count") }
    if ($cmd =~ /Fallback/) { like($out, qr/Fallback working/, "$label: process mode answers") }
}
done_testing;
