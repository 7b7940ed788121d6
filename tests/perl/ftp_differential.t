# ftp_helper against the real Net::FTP 3.14, differentially: each case runs the calls FTPHelper.pm
# sends (through BridgeClient, exactly CPANBridge.pm v2.00) and the same calls through Net::FTP in
# the same test, against the same vsftpd (tests/_support/ftp_server.ts), each in its own remote
# and local directory, and compares the bytes on disk, the listings and message() texts.
# Cases: ASCII mode by default (both directions: LF, CRLF, lone CR, no final LF, a CR at a block
# boundary), binary 0..255, empty files, "0" as name and content, byte-string, Latin-1 and long
# names, pwd/ls/dir of such names, mkdir/rmdir/delete/rename results and failures, a missing
# remote file, a wrong password. Wide-character names are a documented difference (Net::FTP dies).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Net::FTP;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $srv = TestServer->start('ftp_server.ts');
my $S = $srv->facts;

my $d = TestDaemon->start();
my $c = BridgeClient->new;
sub plain { my ($v) = @_; ref $v eq "HASH" ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq "ARRAY" ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }
my $ftp = sub { plain($c->call_python('ftp_helper', @_)) };
sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or return undef; local $/; my $x = <$fh>; $x }
sub spew  { my ($f, $x) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $x; close $fh }
sub names { my ($dir) = @_; opendir my $dh, $dir or die "$dir: $!"; [sort grep { !/^\.\.?$/ } readdir $dh] }

my $work = tempdir('cb_ftp_diff_XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$work/ours" or die; mkdir "$work/theirs" or die;
my ($R_OURS, $R_THEIRS) = ("$S->{root}/ours", "$S->{root}/theirs");

my $id = $ftp->('new', { host => "$S->{host}:$S->{port}", timeout => 10 })->{connection_id} or die 'new';
is($ftp->('login', { connection_id => $id, user => $S->{user}, password => $S->{password} })->{success}, 1, 'login');
my $net = Net::FTP->new($S->{host}, Port => $S->{port}, Timeout => 10) or die "Net::FTP: $@";
$net->login($S->{user}, $S->{password}) or die 'Net::FTP login';
for ([$ftp->('mkdir', { connection_id => $id, directory => 'ours' })->{success}, $net->mkdir('theirs')]) {
    ok($_->[0] && $_->[1], 'a remote directory each');
}
ok($ftp->('cwd', { connection_id => $id, directory => 'ours' })->{success}, 'cwd ours');
ok($net->cwd('theirs'), 'Net::FTP cwd theirs');
# message() of our session, with our directory's name replaced by Net::FTP's.
my $msg = sub { (my $m = $ftp->('message', { connection_id => $id })->{message}) =~ s{/ours\b}{/theirs}g; $m };

my $block = 10240;
my @contents = (
    ['issue example: LF, CRLF, LF', "l1\nl2\r\nl3\n"],
    ['lone CR and no final LF', "a\rb\r\nc"],
    ['only CRLFs', "\r\n\r\n"],
    ['CR at a block boundary, then CRLF', ('x' x ($block - 1)) . "\r\r\nz\n"],
    ['LF at the start of the second block', ('y' x ($block - 1)) . "\r\ntail"],
    ['empty', ''],
    ['"0"', '0'],
    ['binary 0..255', join('', map { chr } 0 .. 255) x 3],
    ['long text', join('', map { "line $_\n" } 1 .. 5000)],
);

for my $mode ('default (ASCII)', 'ascii', 'binary') {
    subtest "put and get in $mode mode store and fetch the same bytes as Net::FTP" => sub {
        if ($mode ne 'default (ASCII)') {
            my $r = $ftp->($mode, { connection_id => $id });
            ok($r->{success}, $mode);
            $mode eq 'binary' ? $net->binary : $net->ascii;
            is($r->{message}, $net->message, "$mode: message() text");
        }
        my $n = 0;
        for my $case (@contents) {
            my ($what, $bytes) = @$case;
            my $f = "f" . ++$n . ".dat";
            spew("$work/ours/$f", $bytes);
            spew("$work/theirs/$f", $bytes);
            my $r = $ftp->('put', { connection_id => $id, local_file => "$work/ours/$f", remote_file => $f });
            my $theirs = $net->put("$work/theirs/$f", $f);
            is_deeply([$r->{success}, $r->{remote_file}], [1, $theirs], "$what: put result");
            is($msg->(), $net->message, "$what: message() after put");
            my ($a, $b) = (slurp("$R_OURS/$f"), slurp("$R_THEIRS/$f"));
            ok(defined $a && $a eq $b, "$what: stored bytes equal (" . length($b) . ')')
                or diag explain [map { join ' ', unpack('(H2)*', substr($_ // '', 0, 40)) } $a, $b];
            # Download a server file with CRLF, lone CR and LF line ends.
            spew("$R_OURS/g$f", $bytes);
            spew("$R_THEIRS/g$f", $bytes);
            $r = $ftp->('get', { connection_id => $id, remote_file => "g$f", local_file => "$work/ours/g$f" });
            $theirs = $net->get("g$f", "$work/theirs/g$f");
            (my $expect = $theirs // '') =~ s{/theirs/}{/ours/};
            is_deeply([$r->{success}, $r->{local_file}], [1, $expect], "$what: get result (Net::FTP returns the local name)");
            ($a, $b) = (slurp("$work/ours/g$f"), slurp("$work/theirs/g$f"));
            ok(defined $a && $a eq $b, "$what: fetched bytes equal (" . length($b) . ')')
                or diag explain [map { join ' ', unpack('(H2)*', substr($_ // '', 0, 40)) } $a, $b];
        }
        is(length slurp("$R_THEIRS/f1.dat"), $mode eq 'binary' ? 10 : 9, 'the issue\'s example: 9 bytes in ASCII, 10 in binary');
    };
}

subtest 'names: byte strings, Latin-1, "0", long, with spaces; ls, dir, pwd' => sub {
    spew("$work/src.txt", "n\n");
    my @names = ("Z\xc3\xbcrich.txt", "caf\xe9.txt", '0', 'with space.txt', ('L' x 200) . '.txt', "\xe6\x97\xa5\xe6\x9c\xac");
    for my $name (@names) {
        my $r = $ftp->('put', { connection_id => $id, local_file => "$work/src.txt", remote_file => $name });
        my $t = $net->put("$work/src.txt", $name);
        is_deeply([$r->{success}, $r->{remote_file}], [1, $t], "put to " . join(' ', unpack '(H2)*', substr($name, 0, 12)));
    }
    is_deeply(names($R_OURS), names($R_THEIRS), 'the same names (bytes) on disk');
    ok(-e "$R_OURS/Z\xc3\xbcrich.txt" && -e "$R_OURS/caf\xe9.txt", 'byte-string names are the bytes, not re-encoded');
    my $ls = $ftp->('ls', { connection_id => $id, path => '' })->{listing};
    is_deeply([sort @$ls], [sort $net->ls], 'ls equals Net::FTP ls, byte for byte');
    my @ours = sort map { (split ' ', $_, 9)[8] } @{ $ftp->('dir', { connection_id => $id, path => '' })->{listing} };
    my @theirs = sort map { (split ' ', $_, 9)[8] } $net->dir;
    is_deeply(\@ours, \@theirs, 'dir names equal Net::FTP dir');
    ok(!utf8::is_utf8($_) || !/[^\x00-\xff]/, 'names come back as bytes') for @$ls;
    for my $verb ('ls', 'dir') {
        my $o = $ftp->($verb, { connection_id => $id, path => 'no_such_dir' });
        my @t = $net->$verb('no_such_dir');
        is_deeply([$o->{success}, $o->{listing}], [1, \@t], "$verb of a missing path: same (empty) listing");
        is($msg->(), $net->message, "$verb of a missing path: same message()");
    }

    my $dir = "d\xc3\xbc 0";
    ok($ftp->('mkdir', { connection_id => $id, directory => $dir })->{success}, 'mkdir byte-string dir');
    ok($net->mkdir($dir), 'Net::FTP mkdir');
    ok($ftp->('cwd', { connection_id => $id, directory => $dir })->{success}, 'cwd into it');
    ok($net->cwd($dir), 'Net::FTP cwd');
    my $p = $ftp->('pwd', { connection_id => $id })->{directory};
    is($p, "$R_OURS/$dir", 'pwd is the bytes');
    (my $tp = $net->pwd) =~ s{/theirs/}{/ours/};
    is($p, $tp, 'pwd equals Net::FTP pwd');
    ok($ftp->('cwd', { connection_id => $id, directory => '..' })->{success} && $net->cdup, 'back up');
};

subtest 'a wide-character name: documented difference (Net::FTP dies, cpan-bridge sends UTF-8)' => sub {
    my $name = "wide_\x{65e5}.txt";
    my $r = $ftp->('put', { connection_id => $id, local_file => "$work/src.txt", remote_file => $name });
    ok($r->{success}, 'cpan-bridge stores it');
    ok(-e "$R_OURS/wide_\xe6\x97\xa5.txt", 'under its UTF-8 bytes, as Perl prints a wide string');
    unlink "$R_OURS/wide_\xe6\x97\xa5.txt";
    ok(!eval { $net->put("$work/src.txt", $name); 1 }, 'Net::FTP dies');
    like($@, qr/Wide character/, '... with "Wide character"');
    $net->quit;
    $net = Net::FTP->new($S->{host}, Port => $S->{port}, Timeout => 10) or die;
    $net->login($S->{user}, $S->{password}) && $net->cwd('theirs') or die;
};

subtest 'a local file name that is not UTF-8: documented difference (a clear error)' => sub {
    spew("$work/caf\xe9.loc", "latin\n");
    my $r = $ftp->('put', { connection_id => $id, local_file => "$work/caf\xe9.loc", remote_file => 'latin.txt' });
    is_deeply($r, { success => 0, error => qq{Upload failed: the local file name "$work/caf\\xe9.loc" is not UTF-8 bytes, which this daemon cannot use as a path} }, 'cpan-bridge refuses it');
    ok($net->put("$work/caf\xe9.loc", 'latin.txt'), 'Net::FTP opens it');
    $r = $ftp->('get', { connection_id => $id, remote_file => 'f1.dat', local_file => "$work/caf\xe9.got" });
    like($r->{error}, qr/^Download failed: the local file name .* is not UTF-8 bytes/, 'get refuses it too');
    ok(!-e "$work/caf\xc3\xa9.got", 'no other file is written instead');
    $net->delete('latin.txt');
};

subtest 'mkdir, rmdir, delete, rename: results and message() equal Net::FTP' => sub {
    my @steps = (
        ['mkdir new', sub { $ftp->('mkdir', { connection_id => $id, directory => 'm0' }) }, sub { $net->mkdir('m0') }],
        ['mkdir existing', sub { $ftp->('mkdir', { connection_id => $id, directory => 'm0' }) }, sub { $net->mkdir('m0') }],
        ['put into it', sub { $ftp->('put', { connection_id => $id, local_file => "$work/src.txt", remote_file => 'm0/0' }) }, sub { $net->put("$work/src.txt", 'm0/0') }],
        ['rmdir non-empty', sub { $ftp->('rmdir', { connection_id => $id, directory => 'm0' }) }, sub { $net->rmdir('m0') }],
        ['rename', sub { $ftp->('rename', { connection_id => $id, old_name => 'm0/0', new_name => '0r' }) }, sub { $net->rename('m0/0', '0r') }],
        ['rename missing', sub { $ftp->('rename', { connection_id => $id, old_name => 'nope', new_name => 'x' }) }, sub { $net->rename('nope', 'x') }],
        ['delete', sub { $ftp->('delete', { connection_id => $id, remote_file => '0r' }) }, sub { $net->delete('0r') }],
        ['delete missing', sub { $ftp->('delete', { connection_id => $id, remote_file => '0r' }) }, sub { $net->delete('0r') }],
        ['rmdir', sub { $ftp->('rmdir', { connection_id => $id, directory => 'm0' }) }, sub { $net->rmdir('m0') }],
        ['rmdir missing', sub { $ftp->('rmdir', { connection_id => $id, directory => 'm0' }) }, sub { $net->rmdir('m0') }],
        ['cwd missing', sub { $ftp->('cwd', { connection_id => $id, directory => 'nope' }) }, sub { $net->cwd('nope') }],
    );
    push @steps,
        ['recursive mkdir', sub { $ftp->('mkdir', { connection_id => $id, directory => 'r1/r2/0', recurse => 1 }) }, sub { $net->mkdir('r1/r2/0', 1) }],
        ['recursive mkdir, all there', sub { $ftp->('mkdir', { connection_id => $id, directory => 'r1/r2/0', recurse => 1 }) }, sub { $net->mkdir('r1/r2/0', 1) }],
        ['recursive mkdir over a file', sub { $ftp->('mkdir', { connection_id => $id, directory => 'f1.dat/x', recurse => 1 }) }, sub { $net->mkdir('f1.dat/x', 1) }],
        ['put of a missing local file', sub { $ftp->('put', { connection_id => $id, local_file => "$work/absent", remote_file => 'x' }) }, sub { local $SIG{__WARN__} = sub {}; $net->put("$work/absent", 'x') }],
        ['put into a missing remote directory', sub { $ftp->('put', { connection_id => $id, local_file => "$work/src.txt", remote_file => 'no/such/x' }) }, sub { $net->put("$work/src.txt", 'no/such/x') }],
        ['size', sub { $ftp->('size', { connection_id => $id, remote_file => 'f8.dat' }) }, sub { $net->size('f8.dat') }],
        ['size of a missing file', sub { $ftp->('size', { connection_id => $id, remote_file => 'nope' }) }, sub { $net->size('nope') }],
        ['mdtm of a missing file', sub { $ftp->('mdtm', { connection_id => $id, remote_file => 'nope' }) }, sub { $net->mdtm('nope') }];
    for my $s (@steps) {
        my ($what, $o, $t) = @$s;
        my $r = $o->();
        my $tv = $t->();
        my $ok = $tv ? 1 : 0;
        is($r->{success}, $ok, "$what: same outcome ($ok)");
        is($msg->(), $net->message, "$what: same message()");
        (my $tp = $tv // '') =~ s{/theirs\b}{/ours}g;
        is($r->{directory}, $tp, "$what: same returned path") if $what =~ /mkdir/ && $ok;
        is($r->{size}, $tv, "$what: same size") if $what eq 'size';
        is($ftp->('pwd', { connection_id => $id })->{directory} =~ s{/ours\b}{/theirs}gr, $net->pwd, "$what: same working directory");
    }
    is_deeply(names($R_OURS), names($R_THEIRS), 'the same tree on disk');
};

subtest 'a missing remote file: no local file, same message' => sub {
    my $r = $ftp->('get', { connection_id => $id, remote_file => 'absent', local_file => "$work/ours/absent" });
    my $t = $net->get('absent', "$work/theirs/absent");
    is_deeply([$r->{success}, defined $t ? 1 : 0], [0, 0], 'both fail');
    is_deeply([-e "$work/ours/absent" ? 1 : 0, -e "$work/theirs/absent" ? 1 : 0], [0, 0], 'neither leaves a local file');
    is($msg->(), $net->message, 'same message()');
};

subtest 'login with a false or anonymous user: same outcome and message() as Net::FTP login' => sub {
    for my $case ([undef, undef], ['', undef], ['0', undef], ['anonymous', undef], [$S->{user}, '0'], [$S->{user}, '']) {
        my ($user, $pass) = @$case;
        my $oid = $ftp->('new', { host => "$S->{host}:$S->{port}", timeout => 10 })->{connection_id};
        my $r = $ftp->('login', { connection_id => $oid, user => $user, password => $pass });
        my $n2 = Net::FTP->new($S->{host}, Port => $S->{port}, Timeout => 10);
        local $ENV{HOME} = $work;    # no ~/.netrc
        my $t = $n2->login($user, $pass) ? 1 : 0;
        my $what = join '/', map { defined $_ ? "'$_'" : 'undef' } $user, $pass;
        is($r->{success}, $t, "$what: same outcome ($t)");
        is($ftp->('message', { connection_id => $oid })->{message}, $n2->message, "$what: same message()");
        $n2->quit;
        $ftp->('quit', { connection_id => $oid });
    }
};

for my $passive (0, 1) {
my $title = ($passive ? 'passive' : 'active') . ' mode: the same FTP commands on the wire as Net::FTP (vsftpd protocol log)';
subtest $title => sub {
    # Debian's libnet.cfg makes Net::FTP active by default; Passive => 1 switches it.
    my $commands = sub {    # the commands vsftpd logged since byte offset $from
        my ($from) = @_;
        open my $fh, '<:raw', $S->{log} or die "$S->{log}: $!";
        seek $fh, $from, 0;
        my @c = map { /FTP command: Client "[^"]*", "(.*)"$/ ? ($1) : () } <$fh>;
        s/^PORT \S+$/PORT/ for @c;
        return \@c;
    };
    my $mark = sub { -s $S->{log} };
    spew("$work/src.txt", "one\ntwo\n");
    my $run = sub {
        my ($do) = @_;
        my $at = $mark->();
        $do->();
        return $commands->($at);
    };
    my $oid = $ftp->('new', { host => "$S->{host}:$S->{port}", timeout => 10 })->{connection_id};
    my $n2 = Net::FTP->new($S->{host}, Port => $S->{port}, Timeout => 10, Passive => $passive) or die;
    my $ours = $run->(sub {
        $ftp->('login', { connection_id => $oid, user => $S->{user}, password => $S->{password} });
        $ftp->('passive', { connection_id => $oid, passive => $passive });
        $ftp->('cwd', { connection_id => $oid, directory => 'ours' });
        $ftp->('put', { connection_id => $oid, local_file => "$work/src.txt", remote_file => 'w.txt' });
        $ftp->('put', { connection_id => $oid, local_file => "$work/src.txt", remote_file => 'w2.txt' });
        $ftp->('get', { connection_id => $oid, remote_file => 'w.txt', local_file => "$work/ours/w.txt" });
        $ftp->('size', { connection_id => $oid, remote_file => 'w.txt' });
        $ftp->('mdtm', { connection_id => $oid, remote_file => 'w.txt' });
        $ftp->('binary', { connection_id => $oid });
        $ftp->('dir', { connection_id => $oid, path => 'w.txt' });
        $ftp->('ls', { connection_id => $oid, path => '' });
        $ftp->('delete', { connection_id => $oid, remote_file => 'w2.txt' });
        $ftp->('quit', { connection_id => $oid });
    });
    my $theirs = $run->(sub {
        $n2->login($S->{user}, $S->{password});
        $n2->cwd('theirs');
        $n2->put("$work/src.txt", 'w.txt');
        $n2->put("$work/src.txt", 'w2.txt');
        $n2->get('w.txt', "$work/theirs/w.txt");
        $n2->size('w.txt');
        $n2->mdtm('w.txt');
        $n2->binary;
        $n2->dir('w.txt');
        $n2->ls('');
        $n2->delete('w2.txt');
        $n2->quit;
    });
    s/\bours\b/theirs/ for @$ours;
    is_deeply($ours, $theirs, 'the same command sequence (PORT, FEAT, HELP ALLO, ALLO <size>, STOR, …)') or diag explain [$ours, $theirs];
    is(scalar(grep { $_ eq 'ALLO 8' } @$ours), $passive ? 0 : 2, 'ALLO with the local size before each STOR, in active mode only');
    is(slurp("$R_OURS/w.txt"), slurp("$R_THEIRS/w.txt"), 'same bytes stored');
};
}

subtest 'a wrong password: same failure and message()' => sub {
    my $bad = $ftp->('new', { host => "$S->{host}:$S->{port}", timeout => 10 })->{connection_id};
    my $r = $ftp->('login', { connection_id => $bad, user => $S->{user}, password => 'wrong' });
    my $n2 = Net::FTP->new($S->{host}, Port => $S->{port}, Timeout => 10);
    my $t = $n2->login($S->{user}, 'wrong') ? 1 : 0;
    is_deeply([$r->{success}, $t], [0, 0], 'both refuse');
    is($ftp->('message', { connection_id => $bad })->{message}, $n2->message, 'same message()');
    $n2->quit;
    $ftp->('quit', { connection_id => $bad });
};

$ftp->('quit', { connection_id => $id });
$net->quit;
$d->stop;
done_testing;
