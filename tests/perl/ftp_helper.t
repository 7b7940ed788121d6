# ftp_helper through a client that behaves like CPANBridge.pm v2.00, against a real vsftpd
# started by this test, with the same steps run through the real Net::FTP (Perl core libnet) to
# compare listings, files and messages. Also: wrong password, refused connection, a silent server,
# a server that stalls mid-transfer, a missing remote file, and no password in the daemon's logs.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use Time::HiRes qw(time);
use Net::FTP;
use IO::Socket::INET;
use IO::Select;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $srv = TestServer->start('ftp_server.ts');
my $S = $srv->facts;

my $d = TestDaemon->start(CPAN_BRIDGE_DEBUG => 1);
my $c = BridgeClient->new;
my $ftp = sub { plain($c->call_python('ftp_helper', @_)) };
my $addr = "$S->{host}:$S->{port}";

my $work = tempdir('cb_ftp_t_XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $oldcwd = getcwd();
chdir $work or die "chdir $work: $!";    # relative local paths resolve against the caller's cwd

sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or return undef; local $/; my $x = <$fh>; $x }
sub spew  { my ($f, $x) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $x; close $fh }
# JSON booleans as 1/0, so is_deeply can compare results with plain hashes.
sub plain { my ($v) = @_; ref $v eq "HASH" ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq "ARRAY" ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }

my $id;
subtest 'new, login (wrong and right password), message' => sub {
    my $r = $ftp->('new', { host => $addr, debug => 1, timeout => 10 });
    ok($r->{success}, 'new') or diag explain $r;
    like($r->{connection_id}, qr/^ftp_\d{10}_[0-9a-f]{8}$/, 'connection id form');
    $id = $r->{connection_id};

    my $bad = $ftp->('new', { host => $addr, timeout => 10 });
    my $l = $ftp->('login', { connection_id => $bad->{connection_id}, user => $S->{user}, password => 'wrong' });
    is_deeply($l, { success => 0, error => 'Login failed: 530 Login incorrect.' }, 'wrong password');
    my $real = Net::FTP->new($S->{host}, Port => $S->{port}, Timeout => 10);
    ok(!$real->login($S->{user}, 'wrong'), 'real Net::FTP refuses too');
    is($ftp->('message', { connection_id => $bad->{connection_id} })->{message}, $real->message, 'message() equals Net::FTP after a failed login');
    $real->quit;
    is_deeply($ftp->('quit', { connection_id => $bad->{connection_id} }), { success => 1 }, 'quit');

    $l = $ftp->('login', { connection_id => $id, user => $S->{user}, password => $S->{password} });
    is_deeply($l, { success => 1, message => "Login successful.\n" }, 'login');
    is($ftp->('message', { connection_id => $id })->{message}, "Login successful.\n", 'message');
};

my $net = Net::FTP->new($S->{host}, Port => $S->{port}, Timeout => 10) or die "Net::FTP: $@";
$net->login($S->{user}, $S->{password}) or die 'Net::FTP login';

subtest 'pwd, mkdir, cwd, rmdir match Net::FTP' => sub {
    my $p = $ftp->('pwd', { connection_id => $id });
    is($p->{directory}, $net->pwd, 'pwd equals Net::FTP pwd');
    is($p->{directory}, $S->{root}, 'pwd is the FTP root');
    my $m = $ftp->('mkdir', { connection_id => $id, directory => 'in' });
    is($m->{directory}, 'in', 'mkdir returns the directory as given, as Net::FTP 3.14 does');
    ok($net->mkdir('in2/x/y', 1), 'Net::FTP recursive mkdir');
    my $mr = $ftp->('mkdir', { connection_id => $id, directory => 'in3/x/y', recurse => 1 });
    ok($mr->{success} && -d "$S->{root}/in3/x/y", 'recursive mkdir');
    ok($ftp->('cwd', { connection_id => $id, directory => 'in' })->{success}, 'cwd in');
    is($ftp->('pwd', { connection_id => $id })->{directory}, "$S->{root}/in", 'pwd after cwd');
    ok($ftp->('cwd', { connection_id => $id, directory => '..' })->{success}, 'cwd .. (CDUP)');
    my $bad = $ftp->('cwd', { connection_id => $id, directory => '/no/such' });
    is($bad->{error}, 'Directory change failed: 550 Failed to change directory.', 'cwd failure');
    ok(!$net->cwd('/no/such'), 'Net::FTP cwd fails too');
    is($ftp->('message', { connection_id => $id })->{message}, $net->message, 'same message after cwd failure');
    ok($ftp->('rmdir', { connection_id => $id, directory => 'in3/x/y' })->{success}, 'rmdir');
    ok(!$ftp->('rmdir', { connection_id => $id, directory => 'in3' })->{success}, 'rmdir of a non-empty dir fails');
};

subtest 'put and get, binary and ASCII, equal to Net::FTP' => sub {
    my $blob = join('', map { chr(int(rand 256)) } 1 .. 100_000) . "a\r\nb\n";
    spew('blob.bin', $blob);
    is($ftp->('get_connection_info', { connection_id => $id })->{transfer_mode}, 'ascii', 'a session starts in ASCII mode, as Net::FTP');
    ok($ftp->('binary', { connection_id => $id })->{success}, 'binary');
    my $r = $ftp->('put', { connection_id => $id, local_file => 'blob.bin', remote_file => 'in/blob.bin' });
    is_deeply($r, { success => 1, message => "Transfer complete.\n", remote_file => 'in/blob.bin' }, 'binary put');
    is(slurp("$S->{root}/in/blob.bin"), $blob, 'server has the exact bytes');
    $r = $ftp->('get', { connection_id => $id, remote_file => 'in/blob.bin' });
    is_deeply($r, { success => 1, message => "Transfer complete.\n", local_file => 'blob.bin' }, 'get defaults to the basename');
    is(slurp("$work/blob.bin"), $blob, 'binary round trip is byte-exact');

    my $text = "one\ntwo\r\nthree\n";
    spew('text.txt', $text);
    ok($ftp->('ascii', { connection_id => $id })->{success}, 'ascii');
    ok($ftp->('put', { connection_id => $id, local_file => 'text.txt', remote_file => 'ours.txt' })->{success}, 'ascii put');
    $net->ascii;
    ok($net->put("$work/text.txt", 'theirs.txt'), 'Net::FTP ascii put');
    is(slurp("$S->{root}/ours.txt"), slurp("$S->{root}/theirs.txt"), 'ASCII upload stores what Net::FTP stores');
    spew("$S->{root}/dos.txt", "x\r\ny\r\n");
    ok($ftp->('get', { connection_id => $id, remote_file => 'dos.txt', local_file => 'ours_dos.txt' })->{success}, 'ascii get');
    ok($net->get('dos.txt', "$work/theirs_dos.txt"), 'Net::FTP ascii get');
    is(slurp("$work/ours_dos.txt"), slurp("$work/theirs_dos.txt"), 'ASCII download equals Net::FTP');
    is(slurp("$work/ours_dos.txt"), "x\ny\n", 'CRLF became LF');
    ok($ftp->('binary', { connection_id => $id })->{success}, 'binary');

    is($ftp->('size', { connection_id => $id, remote_file => 'in/blob.bin' })->{size}, $net->size('in/blob.bin'), 'size equals Net::FTP');
    is($ftp->('mdtm', { connection_id => $id, remote_file => 'in/blob.bin' })->{mdtm}, $net->mdtm('in/blob.bin'), 'mdtm equals Net::FTP');
};

subtest 'dir and ls equal Net::FTP, passive and active' => sub {
    my $r = $ftp->('dir', { connection_id => $id, path => '' });
    is_deeply($r->{listing}, [$net->dir], 'dir lines equal Net::FTP dir');
    is_deeply($ftp->('ls', { connection_id => $id, path => 'in' })->{listing}, [$net->ls('in')], 'ls equals Net::FTP ls');
    is($ftp->('passive', { connection_id => $id, passive => 0 })->{passive}, 0, 'active mode');
    is_deeply($ftp->('dir', { connection_id => $id, path => 'in' })->{listing}, [$net->dir('in')], 'dir over PORT');
    is($ftp->('passive', { connection_id => $id, passive => 1 })->{passive}, 1, 'passive again');
};

subtest 'rename, delete, missing files' => sub {
    ok($ftp->('rename', { connection_id => $id, old_name => 'ours.txt', new_name => 'renamed.txt' })->{success}, 'rename');
    ok(-f "$S->{root}/renamed.txt", 'renamed on the server');
    is($ftp->('rename', { connection_id => $id, old_name => 'nope', new_name => 'x' })->{error}, 'Rename failed: 550 RNFR command failed.', 'rename of a missing file');
    ok($ftp->('delete', { connection_id => $id, remote_file => 'renamed.txt' })->{success}, 'delete');
    is($ftp->('delete', { connection_id => $id, remote_file => 'renamed.txt' })->{error}, 'Delete failed: 550 Delete operation failed.', 'delete of a missing file');
    my $g = $ftp->('get', { connection_id => $id, remote_file => 'missing.txt' });
    is($g->{error}, 'Download failed: 550 Failed to open file.', 'get of a missing file');
    ok(!-e "$work/missing.txt", 'no local file left behind');
    ok(!$net->get('missing.txt', "$work/m2"), 'Net::FTP get fails too');
    is($ftp->('message', { connection_id => $id })->{message}, $net->message, 'same message after a failed get');
    is($ftp->('put', { connection_id => $id, local_file => 'nope.txt' })->{error}, "Local file not found: $work/nope.txt", 'put of a missing local file');
};

subtest 'diagnostics and quit' => sub {
    my $i = $ftp->('get_connection_info', { connection_id => $id });
    is($i->{state}, 'logged_in', 'state');
    is($i->{host}, $addr, 'host');
    is($i->{transfer_mode}, 'binary', 'transfer mode');
    ok($i->{age} >= 0 && $i->{idle_time} >= 0, 'age and idle time');
    my $p = $ftp->('get_pool_stats', {});
    is_deeply([@$p{qw(success total_connections logged_in)}], [1, 1, 1], 'pool stats');
    is_deeply($p->{connection_ids}, [$id], 'connection ids');
    pipe(my $rd, my $wr) or die $!;
    my $pid = fork // die $!;
    if (!$pid) {    # another Perl process
        close $rd;
        print $wr encode_json(BridgeClient->new->call_python('ftp_helper', 'get_pool_stats', {}));
        close $wr;
        require POSIX;
        POSIX::_exit(0);
    }
    close $wr;
    my $other = plain(decode_json(do { local $/; <$rd> }));
    waitpid($pid, 0);
    is_deeply([@$other{qw(total_connections connection_ids)}], [0, []], 'another process does not see these connection ids');
    is_deeply($ftp->('cleanup_stale_connections', {}), { success => 1, removed => 0 }, 'nothing stale');
    is_deeply($ftp->('quit', { connection_id => $id }), { success => 1 }, 'quit');
    is_deeply($ftp->('quit', { connection_id => $id }), { success => 1 }, 'quit again');
    is($ftp->('pwd', { connection_id => $id })->{error}, "Invalid connection ID: $id", 'closed id is invalid');
    is($ftp->('get_pool_stats', {})->{total_connections}, 0, 'pool empty');
};
$net->quit;

subtest 'failures: refused, silent server, stall mid-transfer' => sub {
    my $r = $ftp->('new', { host => "127.0.0.1:1", timeout => 5 });
    ok(!$r->{success}, 'refused connection');
    like($r->{error}, qr/^Connection failed: 127\.0\.0\.1:1: .*refused/i, 'refused error') or diag $r->{error};

    my $t0 = time;
    $r = $ftp->('new', { host => "127.0.0.1:$S->{silent_port}", timeout => 2 });
    my $took = time - $t0;
    is($r->{error}, "Connection failed: 127.0.0.1:$S->{silent_port}: Timed out after 2 s waiting for the server greeting", 'silent server');
    ok($took >= 1.9 && $took < 5, "timeout took ${took}s");

    my $s = $ftp->('new', { host => "127.0.0.1:$S->{stall_port}", timeout => 1 });
    ok($ftp->('login', { connection_id => $s->{connection_id}, user => 'u', password => 'p' })->{success}, 'stalling server login');
    $r = $ftp->('get', { connection_id => $s->{connection_id}, remote_file => 'big.bin' });
    is($r->{error}, 'Download failed: Timed out after 1 s receiving data', 'stall mid-transfer');
    ok(!-e "$work/big.bin", 'partial file removed');
    is($ftp->('get_connection_info', { connection_id => $s->{connection_id} })->{state}, 'closed', 'session marked closed');
    is_deeply($ftp->('quit', { connection_id => $s->{connection_id} }), { success => 1 }, 'quit after failure');
};

subtest 'a silent server does not block other clients' => sub {
    # A silent server of this subtest's own: its accept() says when the child's call has reached
    # the helper (no sleep), and it never greets.
    my $silent = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "listen: $!";
    my $silent_port = $silent->sockport;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        BridgeClient->new->call_python('ftp_helper', 'new', { host => "127.0.0.1:$silent_port", timeout => 3 });
        exit 0;
    }
    my $reached = ok(IO::Select->new($silent)->can_read(10), "the child's call reached the silent server");
    my $held = $reached ? $silent->accept : undef;
    my $t0 = time;
    my $r = $ftp->('new', { host => $addr, timeout => 10 });
    ok($r->{success}, 'another client connects meanwhile');
    ok(time - $t0 < 2, 'and is not held up by the silent server');
    $ftp->('quit', { connection_id => $r->{connection_id} });
    waitpid($pid, 0);
    close $held if $held;
    close $silent;
};

chdir $oldcwd;
subtest 'no password in the daemon logs' => sub {
    my $logs = join '', map { slurp($_) // '' } $d->daemon_log, $d->security_log;
    ok(length $logs, 'logs exist');
    unlike($logs, qr/\Q$S->{password}\E/, 'the FTP password never appears');
};

$d->stop;
done_testing;
