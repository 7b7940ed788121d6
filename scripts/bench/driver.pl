#!/usr/bin/perl
# Load driver speaking the wire protocol exactly as CPANBridge.pm v2.00 does: one request per
# connection, print, half-close, read to EOF, decode. Forks CLIENTS processes; each sends
# REQUESTS requests (optionally each preceded by the client's liveness ping) and records
# per-request latency. Prints one JSON line: count, errors, seconds, throughput, p50, p99 (ms).
#   driver.pl SOCKET MODULE FUNCTION CLIENTS REQUESTS [ping-before-call 0|1]
use strict;
use warnings;
use IO::Socket::UNIX;
use JSON::PP;
use Time::HiRes qw(time);
use POSIX ();
use File::Temp qw(tempdir);

my ($socket, $module, $function, $clients, $requests, $with_ping) = @ARGV;
die "usage: $0 SOCKET MODULE FUNCTION CLIENTS REQUESTS [PING]\n" unless $requests;
my $json = JSON::PP->new;

sub call {
    my ($req) = @_;
    my $s = IO::Socket::UNIX->new(Peer => $socket, Type => SOCK_STREAM) or return 0;
    print $s $req;
    shutdown($s, 1);
    my $resp = '';
    while (my $l = <$s>) { $resp .= $l }
    close $s;
    my $d = eval { $json->decode($resp) };
    return $d && $d->{success} ? 1 : 0;
}

my $ping = encode_json({ module => 'test', function => 'ping', params => {}, timestamp => time });
my @kids;
# Each client writes its latencies to its own file: lines from several processes on one pipe
# would interleave once longer than PIPE_BUF.
my $dir = tempdir(CLEANUP => 1);
my $t0 = time;
for my $c (1 .. $clients) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my (@lat, $err);
        $err = 0;
        for my $i (1 .. $requests) {
            my $req = encode_json({ module => $module, function => $function, params => {},
                timestamp => time, perl_caller => 'bench', request_id => sprintf("%d_%d_%d", time, $$, $i % 1000),
                client_version => '2.00' });
            my $s = time;
            $err++ if $with_ping && !call($ping);
            $err++ unless call($req);
            push @lat, (time - $s) * 1000;
        }
        open my $out, '>', "$dir/$c" or POSIX::_exit(1);
        print $out join(",", $err, @lat), "\n";
        close $out;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid($_, 0) for @kids;
my $elapsed = time - $t0;
my (@all, $errors);
$errors = 0;
for my $c (1 .. $clients) {
    open my $in, '<', "$dir/$c" or die "client $c left no results\n";
    my $line = <$in>;
    chomp $line;
    my ($e, @l) = split /,/, $line;
    $errors += $e;
    push @all, @l;
}
@all = sort { $a <=> $b } @all;
my $pct = sub { @all ? $all[int($_[0] * $#all + 0.5)] : 0 };
print encode_json({ clients => $clients + 0, count => scalar(@all), errors => $errors, seconds => $elapsed,
    throughput => @all / $elapsed, p50_ms => $pct->(0.50), p99_ms => $pct->(0.99) }), "\n";
