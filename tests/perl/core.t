# Wire compatibility through a client that behaves like CPANBridge.pm v2.00 (contract §2, §3).
use strict;
use warnings;
use utf8;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $d = TestDaemon->start;
my $c = BridgeClient->new;

subtest 'ping through the client liveness path' => sub {
    ok(BridgeClient->new->_ping_daemon, 'ping answers');
    my $r = $c->call_python('test', 'ping', { hello => 'world' });
    is($r->{message}, 'pong', 'call_python unwraps result');
    is($r->{daemon_version}, '1.0.0', 'daemon_version');
    is_deeply($r->{input}, { hello => 'world' }, 'params echoed as input');
};

subtest 'Unicode survives the double encoding both ways' => sub {
    for my $s ('café', 'naïve Zoë', '世界', '🌍 emoji', '€ ☺', "multi\nline\ttext") {
        my $r = $c->call_python('test', 'echo', { s => $s, "clé" => $s });
        is($r->{s}, $s, "value round trip: $s");
        is($r->{"clé"}, $s, "key round trip: $s");
    }
};

subtest 'datetime_helper through the helper worker' => sub {
    my $r = $c->call_python('datetime_helper', 'now', {});
    ok($r->{success}, 'success');
    ok(abs($r->{result}{epoch} - time) < 5, 'epoch is now');
};

subtest 'errors from raw sockets keep the contract texts' => sub {
    my $r = decode_json(TestDaemon::raw_call($d->socket, '{"module":"hacker_module","function":"ping"}'));
    ok(!$r->{success}, 'success is false');
    ok(JSON::PP::is_bool($r->{success}), 'success is a real JSON boolean');
    is($r->{error}, 'Request validation failed: Module not allowed: hacker_module', 'error text');
    is($r->{error_type}, 'ValueError', 'error_type');
    $r = decode_json(TestDaemon::raw_call($d->socket, '[1,2]'));
    is($r->{error}, "'list' object has no attribute 'get'", 'array request');
    $r = decode_json(TestDaemon::raw_call($d->socket, '{"module":"test","function":"ping","extra":1}'));
    is($r->{error}, 'Request validation failed: Additional property not allowed: extra', 'extra key');
    $r = decode_json(TestDaemon::raw_call($d->socket, '{"module":"test","function":"pi'));
    like($r->{error}, qr/^Unterminated string starting at/, 'truncated JSON');
};

subtest 'a failing call makes the client retry 3 times, as v2.00 does' => sub {
    my $before = $c->call_python('system', 'stats', {})->{requests_failed};
    my $r = $c->call_python('datetime_helper', 'now', { bogus => 1 });
    ok(!$r->{success}, 'failure returned');
    is($r->{error}, 'Daemon communication failed after 3 attempts', 'client gives up after 3 attempts');
    my $after = $c->call_python('system', 'stats', {})->{requests_failed};
    is($after - $before, 3, 'daemon saw 3 failed requests');
};

subtest 'an 11 MB request is refused with the error reply, not a reset' => sub {
    my $big = encode_json({ module => 'test', function => 'echo', params => { s => 'x' x (11 * 1024 * 1024) } });
    my $t0 = time;
    my $raw = TestDaemon::raw_call($d->socket, $big);
    my $elapsed = time - $t0;
    my $r = decode_json($raw);
    is($r->{error}, 'Request too large: 10485760 bytes (max: 10485760)', 'size error');
    ok($elapsed < 2, "refused in ${elapsed}s");
    ok(BridgeClient->new->_ping_daemon, 'still answers pings');
};

subtest '64 concurrent client processes get their own answers' => sub {
    my @pids;
    for my $i (1 .. 64) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $cl = BridgeClient->new;
            my $r = $cl->call_python('test', 'echo', { i => $i, s => "client $i é世" });
            exit(($r->{i} // -1) == $i && ($r->{s} // '') eq "client $i é世" ? 0 : 1);
        }
        push @pids, $pid;
    }
    my $bad = 0;
    for my $p (@pids) { waitpid($p, 0); $bad++ if $? != 0 }
    is($bad, 0, 'all 64 clients correct');
};

$d->stop;
ok(!-S $d->socket, 'SIGTERM removed the socket');
is($d->exit_status >> 8, 0, 'daemon exited 0');
done_testing;
