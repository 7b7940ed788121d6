# sftp through a client that behaves like CPANBridge.pm v2.00, against Debian's OpenSSH sshd
# started by this test (tests/_support/sshd.ts): every wire function with password and key
# authentication, wrapped results, relative paths against the caller's cwd, and the failures:
# wrong password, refused connection, silent server, missing remote file, a server that dies
# (connection cut) and one that stops answering mid-transfer. No password in the daemon's logs.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use Time::HiRes qw(time sleep);
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $srv = TestServer->start('sshd.ts');
my $S = $srv->facts;
sub server_cmd { $srv->cmd(@_) }

my $d = TestDaemon->start(CPAN_BRIDGE_DEBUG => 1);
my $c = BridgeClient->new;
sub plain { my ($v) = @_; ref $v eq "HASH" ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq "ARRAY" ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }
my $sftp = sub { plain($c->call_python('sftp', @_)) };

my $work = tempdir('cb_sftp_t_XXXXXX', TMPDIR => 1, CLEANUP => 1);
chdir $work or die "chdir $work: $!";    # relative local paths resolve against the caller's cwd
sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or return undef; local $/; my $x = <$fh>; $x }
sub spew  { my ($f, $x) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $x; close $fh }

my %base = (host => $S->{host}, port => $S->{port}, user => $S->{user}, timeout => 10);
my $id;
subtest 'new with a password; setcwd, cwd, mkdir' => sub {
    my $r = $sftp->('new', { %base, password => $S->{password}, ssh_options => {} });
    ok($r->{success}, 'new') or diag explain $r;
    $id = $r->{result}{session_id};
    like($id, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'UUID session id');
    is($r->{result}{initial_dir}, "/home/$S->{user}", 'initial_dir is the login directory');
    is_deeply($sftp->('setcwd', { session_id => $id, remote_dir => $S->{root} }),
        { success => 1, result => { current_dir => $S->{root} } }, 'setcwd');
    is_deeply($sftp->('cwd', { session_id => $id }), { success => 1, result => $S->{root} }, 'cwd');
    my $m = $sftp->('mkdir', { session_id => $id, remote_dir => 'up' });
    is($m->{result}{remote_dir}, "$S->{root}/up", 'mkdir resolves against setcwd');
    my $again = $sftp->('mkdir', { session_id => $id, remote_dir => 'up' });
    is($again->{success}, 0, 'mkdir of an existing directory fails');
    is($again->{error}, "Couldn't create remote directory: Failure", '... with Net::SFTP::Foreign\'s text');
    is($sftp->('error', { session_id => $id })->{result}, $again->{error}, 'error() returns the last error');
};

my $payload = join('', map { chr(($_ * 31) % 256) } 0 .. 199_999) . "\nline\r\n.dot\n";
subtest 'put, ls (wanted), get, rename, remove' => sub {
    spew('data.bin', $payload);
    spew('a.txt', "hello\n");
    my $p = $sftp->('put', { session_id => $id, local_file => 'data.bin', remote_file => 'up/deep/data.bin' });
    is_deeply($p, { success => 1, result => { local_file => "$work/data.bin", remote_file => "$S->{root}/up/deep/data.bin",
        bytes_transferred => length $payload } }, 'put (missing parent created)') or diag explain $p;
    is(slurp("$S->{root}/up/deep/data.bin"), $payload, 'remote bytes equal');
    ok($sftp->('put', { session_id => $id, local_file => 'a.txt', remote_file => 'up/a.txt' })->{success}, 'put a.txt');
    my $ls = $sftp->('ls', { session_id => $id, remote_dir => 'up' });
    is_deeply([sort map { $_->{filename} } @{ $ls->{result} }], ['.', '..', 'a.txt', 'deep'], 'ls lists like Net::SFTP::Foreign');
    my $only = $sftp->('ls', { session_id => $id, remote_dir => 'up', wanted => "" . qr/\.TXT$/i });
    is(scalar @{ $only->{result} }, 1, 'wanted => qr//i filters');
    my ($e) = @{ $only->{result} };
    is($e->{filename}, 'a.txt', 'filename');
    like($e->{longname}, qr/^-rw-r--r-- .* a\.txt$/, 'longname from the server');
    is($e->{size}, 6, 'size');
    is($e->{a}{size}, 6, 'a->{size}');
    is($e->{is_dir}, 0, 'is_dir');
    my $g = $sftp->('get', { session_id => $id, remote_file => 'up/deep/data.bin', local_file => 'copy.bin' });
    ok($g->{success}, 'get') or diag explain $g;
    is($g->{result}{local_file}, "$work/copy.bin", 'relative to the caller cwd');
    is(slurp("$work/copy.bin"), $payload, 'downloaded bytes equal');
    my $no = $sftp->('rename', { session_id => $id, old_name => 'up/a.txt', new_name => 'up/deep/data.bin' });
    is($no->{error}, "Couldn't rename remote file '$S->{root}/up/a.txt' to '$S->{root}/up/deep/data.bin': Failure", 'rename refuses to overwrite');
    is_deeply($sftp->('rename', { session_id => $id, old_name => 'up/a.txt', new_name => 'up/deep/data.bin', overwrite => 1 }),
        { success => 1, result => { old_name => "$S->{root}/up/a.txt", new_name => "$S->{root}/up/deep/data.bin", overwrite => 1 } },
        'rename with overwrite');
    is(slurp("$S->{root}/up/deep/data.bin"), "hello\n", 'replaced');
    my $rm = $sftp->('remove', { session_id => $id, remote_file => 'up/deep/data.bin' });
    is($rm->{result}{remote_file}, "$S->{root}/up/deep/data.bin", 'remove');
    ok(!-e "$S->{root}/up/deep/data.bin", 'gone');
};

subtest 'a remote name given as a UTF-8 byte string is UTF-8-encoded once more, as Net::SFTP::Foreign does' => sub {
    my $name = "caf\xc3\xa9-\xe4\xb8\x96.txt";    # bytes, as a script without `use utf8` holds them
    spew($name, "accented\n");
    my $p = $sftp->('put', { session_id => $id, local_file => $name, remote_file => $name });
    ok($p->{success}, 'put with a byte-string name') or diag explain $p;
    (my $on_disk = $name) =~ s/([\x80-\xff])/my $c = $1; utf8::encode($c); $c/ge;
    ok(-e "$S->{root}/$on_disk", 'the remote name is the UTF-8 of the byte string\'s characters');
    my $l = $sftp->('ls', { session_id => $id, remote_dir => '.' });
    ok((grep { $_->{filename} eq $name } @{ $l->{result} }), 'ls lists it as the same characters');
    unlink $name;
    my $g = $sftp->('get', { session_id => $id, remote_file => $name, local_file => $name });
    ok($g->{success}, 'get with a byte-string name') or diag explain $g;
    is(slurp($name), "accented\n", 'the local file has the same bytes in its name');
    ok($sftp->('remove', { session_id => $id, remote_file => $name })->{success}, 'remove');
    ok(!-e "$S->{root}/$on_disk", 'removed on the server');
};

subtest 'missing files' => sub {
    my $g = $sftp->('get', { session_id => $id, remote_file => 'nope.txt', local_file => 'nope.txt' });
    is_deeply($g, { success => 0, error => "Couldn't stat remote file: No such file" }, 'missing remote file');
    ok(!-e "$work/nope.txt", 'no local file created');
    my $p = $sftp->('put', { session_id => $id, local_file => 'absent.bin' });
    is_deeply($p, { success => 0, error => "Unable to open local file 'absent.bin': No such file or directory" }, 'missing local file');
    my $r = $sftp->('remove', { session_id => $id, remote_file => 'nope.txt' });
    is($r->{error}, "Couldn't delete remote file: No such file", 'remove of a missing file');
};

subtest 'key authentication (-i, -o IdentityFile), disconnect' => sub {
    for my $more (['-i', $S->{key}], ['-o', "IdentityFile=$S->{rsa_key}"]) {
        my $r = $sftp->('new', { %base, more => $more, password => "IdentityFile=$S->{key}" });
        ok($r->{success}, "new with @$more") or diag explain $r;
        is($sftp->('is_connected', { session_id => $r->{result}{session_id} })->{result}, 1, 'is_connected');
        my $dc = $sftp->('disconnect', { session_id => $r->{result}{session_id} });
        is($dc->{result}{session_id}, $r->{result}{session_id}, 'disconnect');
    }
    my $gone = $sftp->('disconnect', { session_id => 'no-such-session' });
    like($gone->{error}, qr/^Invalid session ID: no-such-session/, 'unknown id');
};

subtest 'connect failures: wrong password, refused, silent server, missing key' => sub {
    is_deeply($sftp->('new', { %base, password => 'wrong' }),
        { success => 0, error => "SFTP connection failed: Authentication failed for $S->{user}\@$S->{host} (tried password)" },
        'wrong password');
    like($sftp->('new', { %base, port => $S->{closed_port}, password => 'x' })->{error},
        qr/^SFTP connection failed: 127\.0\.0\.1:\d+: Connection refused$/, 'refused');
    my $t0 = time;
    like($sftp->('new', { %base, port => $S->{silent_port}, password => 'x', timeout => 2 })->{error},
        qr/^SFTP connection failed: Timed out after 2 s connecting to /, 'silent server');
    cmp_ok(time - $t0, '<', 5, 'within the timeout');
    like($sftp->('new', { %base, more => ['-i', 'missing_key'] })->{error},
        qr/^SFTP connection failed: Key file not found: \Q$work\E\/missing_key$/, 'missing key file');
};

subtest 'a server that dies: the session reports it, others keep working' => sub {
    my $r = $sftp->('new', { %base, port => $S->{cut_relay_port}, password => $S->{password} });
    my $sid = $r->{result}{session_id};
    server_cmd('cut');
    my $ls = $sftp->('ls', { session_id => $sid });
    is($ls->{success}, 0, 'ls on a dead connection fails');
    is($sftp->('is_connected', { session_id => $sid })->{result}, 0, 'is_connected false');
    ok($sftp->('ls', { session_id => $id })->{success}, 'the other session still works');
};

subtest 'a server that stops answering mid-transfer' => sub {
    spew("$S->{root}/big.bin", 'x' x 30_000_000);
    my $r = $sftp->('new', { %base, port => $S->{relay_port}, password => $S->{password}, timeout => 2 });
    my $sid = $r->{result}{session_id};
    # Handles belong to the process that opened them: this process runs the get, and a child
    # freezes the relay once the transfer is under way.
    pipe(my $rd, my $wr) or die $!;
    my $pid = fork // die $!;
    if (!$pid) {
        close $rd;
        my $deadline = time + 20;
        sleep 0.01 until (-s "$work/stalled.bin" || 0) > 0 || time > $deadline;    # poll: transfer under way
        server_cmd('freeze');
        print $wr time;
        close $wr;
        POSIX::_exit(0);
    }
    close $wr;
    my $g = $sftp->('get', { session_id => $sid, remote_file => "$S->{root}/big.bin", local_file => 'stalled.bin' });
    my $t_frozen = do { local $/; <$rd> };
    waitpid($pid, 0);
    is($g->{success}, 0, 'get fails');
    like($g->{error}, qr/^Couldn't get remote file .*: get: no answer from 127\.0\.0\.1:\d+ within 2 s; connection closed$/, 'clear timeout error');
    cmp_ok(time - $t_frozen, '<', 6, 'within the timeout');
    ok(!-e "$work/stalled.bin", 'partial local file removed');
    ok($sftp->('ls', { session_id => $id })->{success}, 'other clients were never blocked');
};

is_deeply($sftp->('disconnect', { session_id => $id })->{success}, 1, 'disconnect');
$d->stop;
my $logs = join '', map { slurp($_) // '' } glob($d->dir . '/*.log');
unlike($logs, qr/\Q$S->{password}\E/, 'the password never appears in the logs');
like($logs, qr/not in known_hosts; accepting its host key SHA256:/, 'unknown host keys are accepted with a warning');
done_testing;
