# datetime_helper (DateTimeHelper.pm → DateTime, only `DateTime->now->epoch`, helpers contract
# §3.4) through a real daemon, compared with the real DateTime (Debian libdatetime-perl): the
# epoch the bridge returns lies between two CORE::time readings around the call and within a
# second of DateTime->now->epoch taken next to it; it is an integer, as DateTime's epoch is.
use strict;
use warnings;
use Test::More;
use Time::HiRes ();
use FindBin;
use JSON::PP;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;
use DateTime;

my $d = TestDaemon->start;
my $c = BridgeClient->new;

# What DateTimeHelper.pm does: croak unless success, then result.epoch.
sub bridge_epoch {
    my $r = $c->call_python('datetime_helper', 'now', {});
    die "DateTime->now() failed: " . ($r->{error} // 'no result') . "\n" unless $r->{success};
    return $r->{result}{epoch};
}

for my $i (1 .. 5) {
    # Time::HiRes reads the same clock as the daemon; CORE::time reads glibc's coarse clock, which
    # can still show the previous second a few milliseconds after the daemon saw the next one.
    my $t0 = int(Time::HiRes::time());
    my $got = bridge_epoch();
    my $want = DateTime->now->epoch;
    my $t1 = int(Time::HiRes::time());
    like($got, qr/^\d+$/, "call $i: an integer epoch ($got)");
    ok($got >= $t0 && $got <= $t1, "call $i: between the clock before ($t0) and after ($t1)");
    cmp_ok(abs($got - $want), '<=', 1, "call $i: within a second of DateTime->now->epoch ($want)");
    is(DateTime->from_epoch(epoch => $got)->epoch, $got, "call $i: DateTime accepts it as an epoch");
}

# The reply carries a JSON number, not a string (as Python's int was).
{
    my $raw = TestDaemon::raw_call($d->socket, encode_json({ module => 'datetime_helper', function => 'now', params => {} }));
    like($raw, qr/"epoch"\s*:\s*\d+[,}]/, 'the epoch is a JSON number on the wire');
}

# now() takes no parameters: an unknown one is refused as Python's now() refused it.
{
    my $raw = TestDaemon::raw_call($d->socket, encode_json({ module => 'datetime_helper', function => 'now', params => { tz => 'UTC' } }));
    my $r = decode_json($raw);
    ok(!$r->{success}, 'now(tz => ...) is refused');
    like($r->{error}, qr/unexpected keyword argument 'tz'/, '... naming the argument') or diag $raw;
}

$d->stop;
done_testing();
