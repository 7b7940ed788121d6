# openssh through a client that behaves like CPANBridge.pm v2.00, against Debian's OpenSSH sshd
# started by this test: new/scp_put/get_error/disconnect/cleanup_connection with password and
# key authentication, wrapped results, and the failures (wrong password, refused connection,
# missing key, no auth, missing local file, a server that stops answering mid-transfer).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Time::HiRes qw(time);
use Net::OpenSSH;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $srv = TestServer->start('sshd.ts');
my $S = $srv->facts;
sub server_cmd { $srv->cmd(@_) }

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

subtest 'a key file named by a UTF-8 byte string' => sub {
    my $name = "$work/cl\xc3\xa9_key";    # bytes, as a script without `use utf8` holds them
    spew($name, slurp($S->{key}));
    chmod 0600, $name;
    my $n = $ssh->('new', { %base, key_path => $name });
    is($n->{result}{connected}, 1, 'connected with the key those bytes name') or diag explain $n;
    $ssh->('disconnect', { connection_id => $n->{result}{connection_id} });
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

subtest 'differential: scp_put names and bytes equal the real Net::OpenSSH 0.83' => sub {
    # The oracle runs scp's legacy protocol (scp -O, the remote shell reads Net::OpenSSH's quoting):
    # Debian 12's scp defaults to SFTP mode, which does not unquote, so Net::OpenSSH itself fails
    # there on any name it quotes (asserted below).
    my $legacy = "$work/scp_legacy";
    spew($legacy, qq{#!/bin/sh\nexec /usr/bin/scp -O "\$@"\n});
    chmod 0755, $legacy;
    my @mo = (port => $S->{port}, user => $S->{user}, timeout => 10, key_path => $S->{key},
        master_opts => ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR']);
    my $net = Net::OpenSSH->new($S->{host}, @mo, scp_cmd => $legacy);
    ok(!$net->error, 'Net::OpenSSH connects with the key') or diag $net->error;
    my $n = $ssh->('new', { %base, key_path => $S->{key} });
    my $id = $n->{result}{connection_id};
    my ($ours, $theirs) = ("$S->{root}/ours", "$S->{root}/theirs");
    for my $dir ($ours, $theirs) { mkdir($dir) or die "$dir: $!"; chown((getpwnam $S->{user})[2, 3], $dir) }
    my @cases = (
        ['plain', 'plain.txt', "a\nb\r\n"],
        ['"0"', '0', '0'],
        ['empty file', 'empty', ''],
        ['binary 0..255', 'bin', join('', map { chr } 0 .. 255) x 4],
        ['UTF-8 byte string', "Z\xc3\xbcrich", "z"],
        ['wide characters', "w\x{65e5}\x{672c}", "w"],
        ['spaces', 'with space', "s"],
        ['punctuation', 'a-b_c.d,e+f=g', "p"],
        ['long', 'L' x 200, "l"],
    );
    for my $c (@cases) {
        my ($what, $name, $bytes) = @$c;
        spew("$work/src", $bytes);
        my $o = $ssh->('scp_put', { connection_id => $id, local_file => "$work/src", remote_file => "$ours/$name" });
        my $t = $net->scp_put("$work/src", "$theirs/$name") ? 1 : 0;
        is_deeply([$o->{result}, $t], [1, 1], "$what: both upload") or diag $net->error;
    }
    my $names = sub { opendir my $dh, $_[0] or die; [sort map { join ' ', unpack '(H2)*', $_ } grep { !/^\.\.?$/ } readdir $dh] };
    is_deeply($names->($ours), $names->($theirs), 'the same names on disk, byte for byte (byte strings are the bytes)');
    ok(-e "$ours/Z\xc3\xbcrich" && -e "$ours/w\xe6\x97\xa5\xe6\x9c\xac", 'byte string as its bytes, wide string as UTF-8');
    for my $c (@cases) {
        is(slurp("$ours/$c->[1]"), slurp("$theirs/$c->[1]"), "$c->[0]: same bytes") if $c->[1] !~ /[^\x00-\xff]/;
    }
    my @outcomes = (
        ['missing local file', "$work/absent", "x_absent"],
        ['missing remote directory', "$work/src", "/no/such/dir/x"],
        ['a directory as target', "$work/src", undef],
        ['a relative remote path (home)', "$work/src", "rel_cb_$$"],
    );
    for my $c (@outcomes) {
        my ($what, $local, $remote) = @$c;
        my $o = $ssh->('scp_put', { connection_id => $id, local_file => $local, remote_file => $remote // $ours });
        my $t = $net->scp_put($local, $remote // $theirs) ? 1 : 0;
        is($o->{result}, $t, "$what: same result ($t)");
    }
    ok(-e "$ours/src" && -e "$theirs/src", 'a directory target receives the file under its name');
    ok(-e "/home/$S->{user}/rel_cb_$$", 'relative remote paths are relative to the home directory');
    unlink "/home/$S->{user}/rel_cb_$$";

    # Documented differences.
    spew("$work/src", "l");
    my $o = $ssh->('scp_put', { connection_id => $id, local_file => "$work/src", remote_file => "$ours/caf\xe9" });
    $net->scp_put("$work/src", "$theirs/caf\xe9");
    ok(-e "$theirs/caf\xe9", 'a name that is not UTF-8: Net::OpenSSH sends the byte');
    is($o->{result}, 0, '... cpan-bridge cannot (ssh2 sends UTF-8): scp_put fails, no other name is created');
    is($ssh->('get_error', { connection_id => $id })->{result}, qq{Remote file name "$ours/caf\\xe9" is not UTF-8 bytes, which this daemon cannot send}, '... and get_error says why');
    is_deeply([grep { /^caf/ } @{ $names->($ours) }], [], '... nothing created');
    my $sftp_mode = Net::OpenSSH->new($S->{host}, @mo);
    ok(!$sftp_mode->scp_put("$work/src", "$theirs/with space 2"), 'Net::OpenSSH with the default scp (SFTP mode) fails on a quoted name');
    like($sftp_mode->error, qr/^scp failed: child exited with code 1$/, "... and its error text");
    $ssh->('disconnect', { connection_id => $id });
};

$d->stop;
my $logs = join '', map { slurp($_) // '' } glob($d->dir . '/*.log');
unlike($logs, qr/\Q$S->{password}\E/, 'the password never appears in the logs');
done_testing;
