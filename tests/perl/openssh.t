# openssh through a client that behaves like CPANBridge.pm v2.00, against Debian's OpenSSH sshd
# started by this test: new/scp_put/get_error/disconnect/cleanup_connection with password and
# key authentication, wrapped results, and the failures (wrong password, refused connection,
# missing key, no auth, missing local file, a server that stops answering mid-transfer).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use IPC::Open2;
use File::Temp qw(tempdir);
use Time::HiRes qw(time);
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;

my $root = TestDaemon->root;
my $deno = "$root/tools/deno/node_modules/.bin/deno";
my $srv_pid = open2(my $srv_out, my $srv_in, $deno, 'run', '-A', '--quiet', "$root/tests/_support/sshd.ts");
my $line = <$srv_out>;
die "sshd test server did not start" unless defined $line;
my $S = decode_json($line);
END { if ($srv_pid) { close $srv_in; waitpid($srv_pid, 0) } }
sub server_cmd { my ($cmd) = @_; print $srv_in "$cmd\n"; $srv_in->flush; my $ok = <$srv_out>; die "server: $cmd" unless $ok =~ /^ok $cmd/ }

my $d = TestDaemon->start();
my $c = BridgeClient->new;
sub plain { my ($v) = @_; ref $v eq "HASH" ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq "ARRAY" ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }
my $ssh = sub { plain($c->call_python('openssh', @_)) };
sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or return undef; local $/; my $x = <$fh>; $x }
sub spew  { my ($f, $x) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $x; close $fh }

my $work = tempdir('cb_openssh_t_XXXXXX', TMPDIR => 1, CLEANUP => 1);
chdir $work or die $!;
spew('report.txt', "a\nb\n");
my %base = (host => $S->{host}, port => $S->{port}, user => $S->{user}, timeout => 10);

subtest 'password auth: scp_put with perm, directory target, get_error, disconnect' => sub {
    my $n = $ssh->('new', { %base, password => $S->{password}, key_path => '' });
    is($n->{success}, 1, 'success');
    is($n->{result}{connected}, 1, 'connected') or diag explain $n;
    my $id = $n->{result}{connection_id};
    like($id, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'UUID id');
    is_deeply($ssh->('scp_put', { connection_id => $id, local_file => 'report.txt', remote_file => "$S->{root}/r.txt",
        options => { perm => 0600, umask => 022 } }), { success => 1, result => 1 }, 'scp_put');
    is(slurp("$S->{root}/r.txt"), "a\nb\n", 'content');
    is((stat "$S->{root}/r.txt")[2] & 07777, 0600, 'perm applied');
    is_deeply($ssh->('scp_put', { connection_id => $id, local_file => "$work/report.txt", remote_file => $S->{root},
        options => { perm => '0640' } }), { success => 1, result => 1 }, 'into a directory, octal string perm');
    is((stat "$S->{root}/report.txt")[2] & 07777, 0640, 'perm from a string');
    is_deeply($ssh->('get_error', { connection_id => $id }), { success => 1, result => undef }, 'no error');
    is_deeply($ssh->('scp_put', { connection_id => $id, local_file => 'absent.txt', remote_file => 'x' }), { success => 1, result => 0 }, 'missing local file');
    is($ssh->('get_error', { connection_id => $id })->{result}, "Local file not found: $work/absent.txt", 'get_error says why');
    is($ssh->('scp_put', { connection_id => $id, local_file => 'report.txt', remote_file => '/no/such/dir/x' })->{result}, 0, 'missing remote dir');
    like($ssh->('get_error', { connection_id => $id })->{result}, qr/^Upload failed: .*: No such file$/, 'upload failure text');
    is_deeply($ssh->('disconnect', { connection_id => $id }), { success => 1, result => 1 }, 'disconnect');
    is_deeply($ssh->('disconnect', { connection_id => $id }), { success => 1, result => 1 }, 'idempotent');
};

subtest 'key auth and cleanup_connection' => sub {
    my $n = $ssh->('new', { %base, key_path => $S->{key} });
    is($n->{result}{connected}, 1, 'connected with a key') or diag explain $n;
    is($ssh->('scp_put', { connection_id => $n->{result}{connection_id}, local_file => 'report.txt', remote_file => "$S->{root}/k.txt" })->{result}, 1, 'upload');
    is_deeply($ssh->('cleanup_connection', { connection_id => $n->{result}{connection_id} }), { success => 1, result => 1 }, 'cleanup_connection');
};

subtest 'failures are connected => 0 with the reason in get_error' => sub {
    my @cases = (
        [{ %base, password => 'wrong' }, qr/Authentication failed for \Q$S->{user}\E\@127\.0\.0\.1 \(tried password\)$/, 'wrong password'],
        [{ %base, port => $S->{closed_port}, password => 'x' }, qr/: Connection refused$/, 'refused'],
        [{ %base, key_path => 'missing_key' }, qr/^Key file not found: \Q$work\E\/missing_key$/, 'missing key'],
        [{ %base, key_path => '0' }, qr/No authentication method provided/, 'no auth'],
        [{ %base, port => $S->{silent_port}, password => 'x', timeout => 1 }, qr/Timed out after 1 s connecting/, 'silent server'],
    );
    for my $case (@cases) {
        my ($args, $re, $name) = @$case;
        my $n = $ssh->('new', $args);
        is($n->{result}{connected}, 0, "$name: connected 0");
        like($ssh->('get_error', { connection_id => $n->{result}{connection_id} })->{result}, $re, "$name: get_error");
        is($ssh->('scp_put', { connection_id => $n->{result}{connection_id}, local_file => 'report.txt', remote_file => 'x' })->{result}, 0, "$name: scp_put false");
    }
};

subtest 'a server that stops answering during the upload' => sub {
    spew('big.bin', "\0" x 5_000_000);
    my $n = $ssh->('new', { %base, port => $S->{relay_port}, password => $S->{password}, timeout => 2 });
    my $id = $n->{result}{connection_id};
    server_cmd('freeze');
    my $t0 = time;
    is($ssh->('scp_put', { connection_id => $id, local_file => 'big.bin', remote_file => "$S->{root}/big.bin" })->{result}, 0, 'scp_put false');
    cmp_ok(time - $t0, '<', 6, 'within the timeout');
    like($ssh->('get_error', { connection_id => $id })->{result}, qr/^Upload failed: .*no answer from 127\.0\.0\.1:\d+ within 2 s/, 'clear error');
};

$d->stop;
my $logs = join '', map { slurp($_) // '' } glob($d->dir . '/*.log');
unlike($logs, qr/\Q$S->{password}\E/, 'the password never appears in the logs');
done_testing;
