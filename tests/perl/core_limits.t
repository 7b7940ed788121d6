# Daemon limits through a client that behaves like CPANBridge.pm v2.00 (random key order in
# encode_json, a ping before every call): test.* shims, waiting past CPAN_BRIDGE_MAX_CONNECTIONS,
# no default per-minute cap, fair throttling between clients, the request deadline (slowloris),
# the reply cap and the write deadline.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use IO::Socket::UNIX;
use File::Temp qw(tempdir);
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;

sub permutations {
    my @xs = @_;
    return ([]) unless @xs;
    my @out;
    for my $i (0 .. $#xs) {
        my @rest = @xs[grep { $_ != $i } 0 .. $#xs];
        push @out, [$xs[$i], @$_] for permutations(@rest);
    }
    return @out;
}

# Runs $n child processes of $code->($i); returns how many exited 0.
sub in_children {
    my ($n, $code) = @_;
    my @pids;
    for my $i (1 .. $n) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) { my $ok = eval { $code->($i) }; POSIX::_exit($ok ? 0 : 1) }
        push @pids, $pid;
    }
    my $good = 0;
    for my $p (@pids) { waitpid($p, 0); $good++ if $? == 0 }
    return $good;
}

sub held_connections {
    my ($d, $n) = @_;
    my @held = map {
        IO::Socket::UNIX->new(Peer => $d->socket, Type => SOCK_STREAM) or die "connect: $!"
    } 1 .. $n;
    # Wait (bounded) until the daemon tracks them.
    my $deadline = time + 5;
    my $c = BridgeClient->new;
    while (time < $deadline) {
        my $r = decode_json(TestDaemon::raw_call($d->socket, '{"module":"system","function":"connections"}'));
        last if $r->{result}{total_connections} > $n;
        sleep 0.02;
    }
    return @held;
}

subtest 'test.health, test.stats and test.ping carry success and a result copy' => sub {
    my $d = TestDaemon->start;
    my $c = BridgeClient->new;
    my $h = $c->call_python('test', 'health', {});
    ok($h->{success}, 'health: success');
    my @mods = @{ $h->{result}{loaded_modules} || [] };
    ok((grep { $_ eq 'datetime_helper' } @mods), 'health: $r->{result}{loaded_modules} lists the helpers');
    is($h->{result}{status}, $h->{status}, 'health: the copy is the result');
    isnt($h->{status}, 'degraded', "health right after start: $h->{status}");
    my $s = $c->call_python('test', 'stats', {});
    ok($s->{success}, 'stats: success');
    ok(defined $s->{result}{requests_processed}, 'stats: $r->{result}{requests_processed}');
    is_deeply($s->{result}{validation_config}, $s->{validation_config}, 'stats: same copy');
    my $p = $c->call_python('test', 'ping', { hello => 'world' });
    is($p->{result}{message}, 'pong', 'ping: $r->{result}{message}');
    ok(!exists $p->{result}{input}, 'ping: the copy leaves out input');
    is_deeply($p->{input}, { hello => 'world' }, 'ping: input as before');
    $d->stop;
};

subtest 'past CPAN_BRIDGE_MAX_CONNECTIONS every client is served and every ping recognised' => sub {
    my $d = TestDaemon->start(CPAN_BRIDGE_MAX_CONNECTIONS => 4);
    my @held = held_connections($d, 4);
    # Every slot held: the pings arrive over the limit.
    my %v = (module => '"test"', function => '"ping"', params => '{}', timestamp => time);
    my @orders = permutations(qw(module function params timestamp));
    my $pongs = 0;
    for my $o (@orders) {
        my $body = '{' . join(',', map { "\"$_\":$v{$_}" } @$o) . '}';
        my $r = eval { decode_json(TestDaemon::raw_call($d->socket, $body)) };
        $pongs++ if $r && $r->{success} && $r->{result}{message} eq 'pong';
    }
    is($pongs, 24, 'a ping in each of the 24 key orders is answered over the limit');
    close(shift @held);    # one slot left for 150 clients: most pings and calls arrive over the limit
    my $good = in_children(150, sub {
        my $c = BridgeClient->new;
        my $r = $c->call_python('datetime_helper', 'now', {});
        my $e = $c->call_python('test', 'echo', { big => 'e' x 100_000 });
        return $r->{success} && $r->{result}{epoch} && length($e->{big} // '') == 100_000;
    });
    is($good, 150, '150 client processes: every call served');
    close $_ for @held;
    my $m = BridgeClient->new->call_python('system', 'stats', {});
    ok($m->{peak_connections} > 4, "the limit was reached (peak $m->{peak_connections})");
    is($m->{connections_rejected}, 0, 'nothing refused');
    $d->stop;
};

subtest 'default configuration: 2,100 sequential calls never wait on a limit' => sub {
    # The short wait makes a regression (the old 2000/min cap) fail fast instead of in 60 s.
    my $d = TestDaemon->start(CPAN_BRIDGE_THROTTLE_WAIT => '0.5');
    my $c = BridgeClient->new;
    my $ok = 0;
    my $t0 = time;
    for (1 .. 2100) { my $r = $c->call_python('datetime_helper', 'now', {}); $ok++ if $r->{success} }
    my $took = time - $t0;
    is($ok, 2100, sprintf('2100 calls in %.1f s', $took));
    my $m = $c->call_python('system', 'metrics', {});
    is($m->{helper_status}{throttled_calls}, 0, 'no call waited');
    ok($c->call_python('system', 'health', {})->{success}, 'system.health answered');
    $d->stop;
};

subtest 'under a per-minute budget a hog with 4 concurrent calls waits, another client does not' => sub {
    # CPAN_BRIDGE_MAX_REQUESTS_PER_MINUTE was the setting that capped calls before.
    my $d = TestDaemon->start(CPAN_BRIDGE_THROTTLE_PER_MINUTE => 30, CPAN_BRIDGE_MAX_REQUESTS_PER_MINUTE => 30,
        CPAN_BRIDGE_THROTTLE_WAIT => 3);
    my $c = BridgeClient->new;
    ok($c->call_python('datetime_helper', 'now', {})->{success}, 'the other client is seen first');
    my $stop = tempdir(CLEANUP => 1) . '/stop';
    # One client with 4 threads: 4 processes claiming the same PID, as CPANBridge.pm would send it.
    my @hog;
    for my $t (1 .. 4) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $end = time + 60;    # bounded even if the parent dies before creating $stop
            until (-e $stop || time > $end) {
                eval { TestDaemon::raw_call($d->socket,
                    qq({"params":{},"request_id":"1795882837_424242_$t","function":"now","module":"datetime_helper","client_version":"2.00"})) };
            }
            POSIX::_exit(0);
        }
        push @hog, $pid;
    }
    my $deadline = time + 10;
    my $waiting = 0;
    while (time < $deadline) {
        my $h = decode_json(TestDaemon::raw_call($d->socket, '{"module":"system","function":"health"}'));
        $waiting = $h->{result}{checks}{thread_health}{details}{waiting};
        last if $waiting >= 4;
        sleep 0.05;
    }
    ok($waiting >= 4, "the hog's calls wait ($waiting)");
    my @waits;
    for (1 .. 5) {
        my $t = time;
        my $r = $c->call_python('datetime_helper', 'now', {});
        push @waits, time - $t;
        ok($r->{success}, 'the other client is served');
    }
    my $max = (sort { $b <=> $a } @waits)[0];
    ok($max < 1, sprintf('the other client waited at most %.2f s', $max));
    open my $fh, '>', $stop or die $!;
    close $fh;
    waitpid($_, 0) for @hog;
    $d->stop;
};

subtest 'slowloris: the request deadline frees the slots and the helper call is served' => sub {
    my $d = TestDaemon->start(CPAN_BRIDGE_MAX_CONNECTIONS => 3, CPAN_BRIDGE_REQUEST_DEADLINE => 1,
        CPAN_BRIDGE_CONNECTION_WAIT => 20);
    my $dir = tempdir(CLEANUP => 1);
    my @loris;
    for my $i (1 .. 3) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            local $SIG{PIPE} = 'IGNORE';
            my $s = IO::Socket::UNIX->new(Peer => $d->socket, Type => SOCK_STREAM) or POSIX::_exit(2);
            $s->autoflush(1);
            my $body = '{"module":"test","function":"ping","params":{}';    # never completed
            for my $ch (split //, $body) { last unless print $s $ch; sleep 0.1 }
            local $/;
            my $reply = <$s> // '';
            open my $fh, '>', "$dir/$i" or POSIX::_exit(3);
            print $fh $reply;
            close $fh;
            POSIX::_exit(0);
        }
        push @loris, $pid;
    }
    my $deadline = time + 5;    # until the three trickling clients hold every slot
    while (time < $deadline) {
        my $r = decode_json(TestDaemon::raw_call($d->socket, '{"module":"system","function":"connections"}'));
        last if $r->{result}{total_connections} >= 4;
        sleep 0.02;
    }
    my $t0 = time;
    my $r = BridgeClient->new->call_python('datetime_helper', 'now', {});
    my $took = time - $t0;
    ok($r->{success}, 'the helper call is served');
    ok($took < 10, sprintf('after %.1f s', $took));
    waitpid($_, 0) for @loris;
    for my $i (1 .. 3) {
        open my $fh, '<', "$dir/$i" or die "$dir/$i: $!";
        local $/;
        my $e = decode_json(<$fh>);
        is($e->{error}, 'Request timeout - request not received in full within 1 s (CPAN_BRIDGE_REQUEST_DEADLINE)',
            "trickling client $i gets the deadline error");
    }
    $d->stop;
};

subtest 'a large xml_in reply over CPAN_BRIDGE_MAX_REPLY_SIZE is a clear error' => sub {
    my $d = TestDaemon->start(CPAN_BRIDGE_MAX_REPLY_SIZE => 100_000);
    my $dir = tempdir(CLEANUP => 1);
    open my $fh, '>', "$dir/big.xml" or die $!;
    print $fh '<root>', (map { "<item id=\"$_\">value $_</item>" } 1 .. 10_000), '</root>';
    close $fh;
    my $req = encode_json({ module => 'xml', function => 'xml_in',
        params => { source => "$dir/big.xml", source_type => 'file', options => {} } });
    my $e = decode_json(TestDaemon::raw_call($d->socket, $req));
    ok(!$e->{success}, 'refused');
    like($e->{error}, qr/^Reply too large: \d+ bytes \(max: 100000, CPAN_BRIDGE_MAX_REPLY_SIZE\)$/, 'clear error');
    my $small = BridgeClient->new->call_python('test', 'echo', { s => 'ok' });
    is($small->{s}, 'ok', 'small replies as before');
    $d->stop;
};

subtest 'clients that do not read their reply are disconnected at CPAN_BRIDGE_WRITE_TIMEOUT' => sub {
    my $d = TestDaemon->start(CPAN_BRIDGE_WRITE_TIMEOUT => 1);
    my $req = encode_json({ module => 'test', function => 'echo', params => { s => 'r' x (8 * 1024 * 1024) } });
    my @slow;
    for (1 .. 4) {
        my $s = IO::Socket::UNIX->new(Peer => $d->socket, Type => SOCK_STREAM) or die "connect: $!";
        print $s $req;
        shutdown($s, 1);
        push @slow, $s;    # never read
    }
    my $deadline = time + 10;
    my $open = -1;
    while (time < $deadline) {
        my $r = decode_json(TestDaemon::raw_call($d->socket, '{"module":"system","function":"connections"}'));
        $open = $r->{result}{total_connections} - 1;
        last if $open == 0;
        sleep 0.1;
    }
    is($open, 0, 'all 4 slow readers disconnected within the deadline');
    ok(BridgeClient->new->_ping_daemon, 'pings answered');
    close $_ for @slow;
    open my $fh, '<', $d->security_log or die $!;
    my $n = grep { /"event_type": "write_timeout"/ } <$fh>;
    is($n, 4, 'a write_timeout security event each');
    $d->stop;
};

done_testing;
