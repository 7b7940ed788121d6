#!/usr/bin/perl
# Interleaved A/B of ping servers: every client sends one test.ping to each server in turn (A, B,
# C, A, B, C, ...), so that all of them run under the same machine load at the millisecond scale;
# a busy moment of the shared machine falls on each alike, which alternating whole runs cannot
# promise. Each request is what bridge_bench.pl's seq-wire row sends (CPANBridge.pm v2.00's wire:
# one request per connection, half-close, read to EOF). Prints, per server, the daemon CPU µs per
# request (utime+stime of the pid from /proc, all threads) and the latency p50/p99, and the ratio
# of each server's CPU to the first one's.
#
#   scripts/bench/interleave.pl [--n N] [--clients C] [--rounds R] LABEL=SOCKET:PID ...
#
# --n: requests per server per round (default 5000), spread over C forked clients (default 1);
# --rounds: repeated R times (default 3), one line per round and the medians.
use strict;
use warnings;
use Getopt::Long;
use Socket;
use Time::HiRes qw(time);
use POSIX qw(_exit);

my %o = (n => 5000, clients => 1, rounds => 3);
GetOptions(\%o, 'n=i', 'clients=i', 'rounds=i') && @ARGV >= 1
    or die "usage: $0 [--n N] [--clients C] [--rounds R] LABEL=SOCKET:PID ...\n";
my @srv = map { /^([^=]+)=([^:]+):(\d+)$/ or die "bad server spec $_\n"; { label => $1, sock => $2, pid => $3 } } @ARGV;
my $CLK = 100;    # USER_HZ

sub cpu_s {       # utime+stime of a process (all its threads), seconds
    my ($pid) = @_;
    open my $f, '<', "/proc/$pid/stat" or die "no process $pid\n";
    my $s = <$f>;
    $s =~ s/^.*\) //;
    my @f = split ' ', $s;
    return ($f[11] + $f[12]) / $CLK;
}

sub body {
    my ($i) = @_;
    return sprintf '{"client_version":"2.00","function":"ping","module":"test","params":{},'
        . '"perl_caller":"interleave","request_id":"p%d","timestamp":%d}', $i, time();
}

sub ping {        # seconds, or undef on a bad reply
    my ($path, $req) = @_;
    my $t0 = time();
    socket(my $s, PF_UNIX, SOCK_STREAM, 0) or return undef;
    connect($s, pack_sockaddr_un($path)) or return undef;
    my $off = 0;
    while ($off < length $req) {
        my $w = syswrite($s, $req, length($req) - $off, $off);
        return undef unless $w;
        $off += $w;
    }
    shutdown($s, 1);
    my $reply = '';
    while (1) {
        my $r = sysread($s, $reply, 65536, length $reply);
        return undef unless defined $r;
        last if $r == 0;
    }
    close $s;
    return undef unless $reply =~ /"message":"pong"/;
    return time() - $t0;
}

my (%res);
for my $round (1 .. $o{rounds}) {
    my $per = int($o{n} / $o{clients});
    my %cpu0 = map { $_->{label} => cpu_s($_->{pid}) } @srv;
    my @kids;
    for my $c (1 .. $o{clients}) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            close $rd;
            my @lat = map { [] } @srv;
            my $bad = 0;
            for my $i (1 .. $per) {
                # rotate the order too, so no server always follows another
                for my $k (0 .. $#srv) {
                    my $j = ($k + $i) % @srv;
                    my $t = ping($srv[$j]{sock}, body($i));
                    if (defined $t) { push @{ $lat[$j] }, $t } else { $bad++ }
                }
            }
            print $wr join(' ', $bad, map { join(',', @$_) } @lat), "\n";
            close $wr;
            _exit(0);
        }
        close $wr;
        push @kids, [$pid, $rd];
    }
    my @lat = map { [] } @srv;
    my $bad = 0;
    for my $k (@kids) {
        my $fh = $k->[1];
        my $line = <$fh>;
        waitpid($k->[0], 0);
        chomp $line;
        my ($b, @l) = split / /, $line, -1;
        $bad += $b;
        push @{ $lat[$_] }, split /,/, ($l[$_] // '') for 0 .. $#srv;
    }
    my %cpu1 = map { $_->{label} => cpu_s($_->{pid}) } @srv;
    for my $j (0 .. $#srv) {
        my $l = $srv[$j]{label};
        my @s = sort { $a <=> $b } @{ $lat[$j] };
        my $n = @s || 1;
        push @{ $res{$l} }, {
            cpu => ($cpu1{$l} - $cpu0{$l}) / ($per * $o{clients}) * 1e6,
            p50 => ($s[int(0.50 * $#s)] // 0) * 1e3,
            p99 => ($s[int(0.99 * $#s)] // 0) * 1e3,
        };
    }
    my $load = do { open my $f, '<', '/proc/loadavg'; (split ' ', <$f>)[0] };
    printf STDERR "round %d: load %s, %d bad replies\n", $round, $load, $bad;
}

sub median { my @s = sort { $a <=> $b } @_; return $s[int($#s / 2)] }
printf "clients %d, %d requests per server per round, %d rounds\n\n", $o{clients}, $o{n}, $o{rounds};
print "| server | CPU µs/req per round | median | min | × first (median of the rounds' ratios) | p50 ms | p99 ms |\n";
print "|---|---|---|---|---|---|---|\n";
my $base = $res{ $srv[0]{label} };
for my $s (@srv) {
    my $r = $res{ $s->{label} };
    my $m = median(map { $_->{cpu} } @$r);
    my ($min) = sort { $a <=> $b } map { $_->{cpu} } @$r;
    my $ratio = median(map { $r->[$_]{cpu} / ($base->[$_]{cpu} || 1) } 0 .. $#$r);
    printf "| %s | %s | %.0f | %.0f | %.2f | %.3f | %.3f |\n", $s->{label},
        join(' ', map { sprintf '%.0f', $_->{cpu} } @$r), $m, $min, $ratio,
        median(map { $_->{p50} } @$r), median(map { $_->{p99} } @$r);
}
