#!/usr/bin/perl
# Pings a daemon back to back, as CPANBridge.pm's liveness check does (connect, print,
# half-close, read to EOF), for SECONDS seconds; prints count, p50, p99 and max latency (ms).
#   pinger.pl SOCKET SECONDS
use strict;
use warnings;
use IO::Socket::UNIX;
use JSON::PP;
use Time::HiRes qw(time);

my ($socket, $seconds) = @ARGV;
my $req = '{"module":"test","function":"ping","params":{},"timestamp":1}';
my (@lat, $fail);
$fail = 0;
my $end = time + $seconds;
while (time < $end) {
    my $t = time;
    my $s = IO::Socket::UNIX->new(Peer => $socket, Type => SOCK_STREAM, Timeout => 2);
    unless ($s) { $fail++; next }
    print $s $req;
    shutdown($s, 1);
    my $r = '';
    while (my $l = <$s>) { $r .= $l }
    close $s;
    my $ok = eval { decode_json($r)->{success} };
    $fail++ unless $ok;
    push @lat, (time - $t) * 1000;
}
@lat = sort { $a <=> $b } @lat;
my $p = sub { @lat ? $lat[int($_[0] * $#lat + 0.5)] : 0 };
print encode_json({ count => scalar(@lat), failures => $fail, p50_ms => $p->(0.5), p99_ms => $p->(0.99), max_ms => @lat ? $lat[-1] : 0 }), "\n";
