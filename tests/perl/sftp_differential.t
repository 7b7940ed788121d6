# sftp against the real Net::SFTP::Foreign 1.93, differentially: each case runs the calls
# SFTPHelper.pm sends (through BridgeClient, exactly CPANBridge.pm v2.00) and the same calls
# through Net::SFTP::Foreign (key authentication: password login needs IO::Pty, not installed)
# against the same Debian sshd (tests/_support/sshd.ts), each in its own remote directory, and
# compares names on disk byte for byte, file bytes, ls names, return values and error texts.
# Net::SFTP::Foreign encodes every remote path with Encode::encode("utf8"), so a Perl byte string
# is UTF-8-encoded once more: "Z\xc3\xbc" is "Z\xc3\x83\xc2\xbc" on disk. cpan-bridge follows it.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Net::SFTP::Foreign;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $srv = TestServer->start('sshd.ts');
my $S = $srv->facts;

my $d = TestDaemon->start();
my $c = BridgeClient->new;
sub plain { my ($v) = @_; ref $v eq "HASH" ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq "ARRAY" ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }
my $sftp = sub { plain($c->call_python('sftp', @_)) };
sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or return undef; local $/; my $x = <$fh>; $x }
sub spew  { my ($f, $x) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $x; close $fh }
sub names { my ($dir) = @_; opendir my $dh, $dir or die "$dir: $!"; [sort grep { !/^\.\.?$/ } readdir $dh] }
sub hex_of { my ($s) = @_; utf8::encode($s) if utf8::is_utf8($s); join ' ', unpack '(H2)*', $s }

umask 027;    # copy_perm masks with the caller's umask, not the daemon's or the server's
my $work = tempdir('cb_sftp_diff_XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$work/$_" or die for qw(ours theirs);
my ($R_OURS, $R_THEIRS) = ("$S->{root}/ours", "$S->{root}/theirs");
mkdir $_ or die for $R_OURS, $R_THEIRS;
chown((getpwnam $S->{user})[2, 3], $R_OURS, $R_THEIRS);

my $r = $sftp->('new', { host => $S->{host}, port => $S->{port}, user => $S->{user}, timeout => 10, password => $S->{password}, ssh_options => {} });
my $id = $r->{result}{session_id} or die explain $r;
my $net = Net::SFTP::Foreign->new($S->{host}, port => $S->{port}, user => $S->{user}, timeout => 10,
    more => ['-i', $S->{key}, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR']);
die 'Net::SFTP::Foreign: ' . $net->error if $net->error;
is($r->{result}{initial_dir}, $net->cwd, 'initial_dir equals Net::SFTP::Foreign cwd');
ok($sftp->('setcwd', { session_id => $id, remote_dir => $R_OURS })->{success}, 'setcwd ours');
ok($net->setcwd($R_THEIRS), 'Net::SFTP::Foreign setcwd theirs');
(my $cwd = $net->cwd) =~ s{/theirs$}{/ours};
is($sftp->('cwd', { session_id => $id })->{result}, $cwd, 'cwd equals');
# Our error text, with our directory's name replaced by Net::SFTP::Foreign's.
sub theirs_text { my ($t) = @_; $t = '' unless defined $t; $t =~ s{/ours\b}{/theirs}g; $t }

my $u = "upg_caf\xe9";
utf8::upgrade($u);
my @names = (
    ['UTF-8 byte string', "Z\xc3\xbcrich.txt"],
    ['Latin-1 byte string', "caf\xe9.txt"],
    ['wide characters', "wide_\x{65e5}\x{672c}.txt"],
    ['upgraded Latin-1', $u],
    ['"0"', '0'],
    ['spaces', 'with space.txt'],
    ['long', ('L' x 200) . '.txt'],
);
my @contents = (['empty', ''], ['"0"', '0'], ['binary 0..255', join('', map { chr } 0 .. 255) x 5], ['CRLF text', "a\r\nb\nc\r"]);

subtest 'put: remote names on disk and file bytes equal Net::SFTP::Foreign' => sub {
    my $i = 0;
    for my $n (@names) {
        my ($what, $name) = @$n;
        my ($cw, $bytes) = @{ $contents[$i++ % @contents] };
        spew("$work/src$i", $bytes);
        chmod 0751, "$work/src$i";
        utime 1_000_000_000, 1_000_000_000 + $i, "$work/src$i";
        my $o = $sftp->('put', { session_id => $id, local_file => "$work/src$i", remote_file => $name });
        my $t = $net->put("$work/src$i", $name) ? 1 : 0;
        is_deeply([$o->{success}, $t], [1, 1], "$what: both succeed") or diag explain [$o, $net->error];
    }
    is_deeply([map { hex_of($_) } @{ names($R_OURS) }], [map { hex_of($_) } @{ names($R_THEIRS) }], 'the same names on disk, byte for byte');
    ok(-e "$R_OURS/Z\xc3\x83\xc2\xbcrich.txt", 'a byte-string name is UTF-8-encoded once more, as Net::SFTP::Foreign does');
    for my $f (@{ names($R_THEIRS) }) {
        is(slurp("$R_OURS/$f"), slurp("$R_THEIRS/$f"), 'bytes of ' . hex_of(substr $f, 0, 8));
        is_deeply([(stat "$R_OURS/$f")[2, 9]], [(stat "$R_THEIRS/$f")[2, 9]], '... mode and mtime (copy_perm, copy_time)');
    }
};

subtest 'ls: names equal Net::SFTP::Foreign (decoded characters), wanted filters' => sub {
    my $o = $sftp->('ls', { session_id => $id, remote_dir => '.' });
    my $t = $net->ls('.');
    is_deeply([sort map { $_->{filename} } @{ $o->{result} }], [sort map { $_->{filename} } @$t], 'filenames');
    my %tl = map { $_->{filename} => $_ } @$t;
    for my $e (@{ $o->{result} }) {
        my $te = $tl{ $e->{filename} } or next;
        is_deeply([@{ $e->{a} }{qw(size perm uid gid mtime)}, $e->{longname}], [(map { $te->{a}->$_ } qw(size perm uid gid mtime)), $te->{longname}], "attributes and longname of " . hex_of(substr $e->{filename}, 0, 6)) if $e->{filename} !~ /^\.\.?$/;
    }
    for my $re (qr/\.TXT$/i, qr/^\w+\.txt$/, qr/^[^\W\d]{4}_/, qr/\d/, qr/^\S+$/, qr/caf./, qr/^(?!L)\w/, qr/\x{65e5}/, qr/\xe9/) {
        my $ow = $sftp->('ls', { session_id => $id, remote_dir => '.', wanted => "$re" });
        my $tw = $net->ls('.', wanted => $re);
        is_deeply([sort map { hex_of($_->{filename}) } @{ $ow->{result} }], [sort map { hex_of($_->{filename}) } @$tw], "wanted => $re");
    }
};

subtest 'get: local bytes equal, names as given' => sub {
    for my $n (@names[0, 2, 4, 5]) {
        my ($what, $name) = @$n;
        my $o = $sftp->('get', { session_id => $id, remote_file => $name, local_file => "$work/ours/got" });
        my $t = defined $net->get($name, "$work/theirs/got") ? 1 : 0;
        is_deeply([$o->{success}, $t], [1, 1], "$what: both succeed");
        is(slurp("$work/ours/got"), slurp("$work/theirs/got"), "$what: same bytes");
        is_deeply([(stat "$work/ours/got")[2, 9]], [(stat "$work/theirs/got")[2, 9]], "$what: same local mode and mtime");
    }
    spew("$work/caf\xe9.loc", "l");
    is_deeply($sftp->('put', { session_id => $id, local_file => "$work/caf\xe9.loc", remote_file => 'l1' }),
        { success => 0, error => qq{Unable to open local file '$work/caf\\xe9.loc': its name is not UTF-8 bytes, which this daemon cannot use as a path} },
        'a local name that is not UTF-8: a clear error (documented; Net::SFTP::Foreign opens it)');
    ok($net->put("$work/caf\xe9.loc", 'l1') && $net->remove('l1'), '... Net::SFTP::Foreign opens it');
    my $o = $sftp->('get', { session_id => $id, remote_file => '0', local_file => "$work/ours/new/dir/got" });
    my $t = defined $net->get('0', "$work/theirs/new/dir/got") ? 1 : 0;
    is_deeply([$o->{success}, $t, -e "$work/ours/new/dir/got" ? 1 : 0], [1, 1, 1], 'missing local directories are created');
};

subtest 'mkdir, rename, remove, setcwd: results and error texts equal Net::SFTP::Foreign' => sub {
    my @steps = (
        ['mkdir', sub { $sftp->('mkdir', { session_id => $id, remote_dir => "d\xc3\xbc" }) }, sub { $net->mkdir("d\xc3\xbc") }],
        ['mkdir existing', sub { $sftp->('mkdir', { session_id => $id, remote_dir => "d\xc3\xbc" }) }, sub { $net->mkdir("d\xc3\xbc") }],
        ['rename', sub { $sftp->('rename', { session_id => $id, old_name => '0', new_name => "r\xc3\xbc" }) }, sub { $net->rename('0', "r\xc3\xbc") }],
        ['rename onto an existing file', sub { $sftp->('rename', { session_id => $id, old_name => "r\xc3\xbc", new_name => 'with space.txt' }) }, sub { $net->rename("r\xc3\xbc", 'with space.txt') }],
        ['rename with overwrite', sub { $sftp->('rename', { session_id => $id, old_name => "r\xc3\xbc", new_name => 'with space.txt', overwrite => 1 }) }, sub { $net->rename("r\xc3\xbc", 'with space.txt', overwrite => 1) }],
        ['rename missing', sub { $sftp->('rename', { session_id => $id, old_name => 'nope', new_name => 'x' }) }, sub { $net->rename('nope', 'x') }],
        ['remove', sub { $sftp->('remove', { session_id => $id, remote_file => 'with space.txt' }) }, sub { $net->remove('with space.txt') }],
        ['remove missing', sub { $sftp->('remove', { session_id => $id, remote_file => 'with space.txt' }) }, sub { $net->remove('with space.txt') }],
        ['get missing', sub { $sftp->('get', { session_id => $id, remote_file => 'nope', local_file => "$work/ours/nope" }) }, sub { $net->get('nope', "$work/theirs/nope") }],
        ['put of a missing local file', sub { $sftp->('put', { session_id => $id, local_file => "$work/absent", remote_file => 'x' }) }, sub { $net->put("$work/absent", 'x') }],
        ['ls of a missing dir', sub { $sftp->('ls', { session_id => $id, remote_dir => 'nope' }) }, sub { $net->ls('nope') }],
        ['put creates missing remote dirs', sub { $sftp->('put', { session_id => $id, local_file => "$work/src1", remote_file => 'p/q/r' }) }, sub { $net->put("$work/src1", 'p/q/r') }],
        ['mkdir with a missing parent', sub { $sftp->('mkdir', { session_id => $id, remote_dir => 'no/such' }) }, sub { $net->mkdir('no/such') }],
        ['remove of a directory', sub { $sftp->('remove', { session_id => $id, remote_file => "d\xc3\xbc" }) }, sub { $net->remove("d\xc3\xbc") }],
        ['get of a directory', sub { $sftp->('get', { session_id => $id, remote_file => "d\xc3\xbc", local_file => "$work/ours/gd" }) }, sub { $net->get("d\xc3\xbc", "$work/theirs/gd") }],
        ['put over an existing, longer file', sub { spew("$work/short", "s"); $sftp->('put', { session_id => $id, local_file => "$work/short", remote_file => ('L' x 200) . '.txt' }) }, sub { $net->put("$work/short", ('L' x 200) . '.txt') }],
        ['get of an unreadable file onto an existing local file', sub {
            spew("$R_OURS/locked", "secret"); chmod 0000, "$R_OURS/locked"; spew("$work/ours/keep", "KEEP");
            $sftp->('get', { session_id => $id, remote_file => 'locked', local_file => "$work/ours/keep" }) }, sub {
            spew("$R_THEIRS/locked", "secret"); chmod 0000, "$R_THEIRS/locked"; spew("$work/theirs/keep", "KEEP");
            $net->get('locked', "$work/theirs/keep") }],
        ['setcwd missing', sub { $sftp->('setcwd', { session_id => $id, remote_dir => 'nope' }) }, sub { $net->setcwd('nope') }],
        ['setcwd to a file', sub { $sftp->('setcwd', { session_id => $id, remote_dir => "caf\xe9.txt" }) }, sub { $net->setcwd("caf\xe9.txt") }],
    );
    for my $s (@steps) {
        my ($what, $o, $t) = @$s;
        my $or = $o->();
        my $tr = $t->();
        my $tok = ($tr ? 1 : 0);
        is($or->{success}, $tok, "$what: same outcome ($tok)");
        is(theirs_text($or->{success} ? undef : $or->{error}), $tok ? '' : '' . $net->error, "$what: same error text");
    }
    is_deeply([map { hex_of($_) } @{ names($R_OURS) }], [map { hex_of($_) } @{ names($R_THEIRS) }], 'the same tree on disk');
    my $long = ('L' x 200) . '.txt';
    is_deeply([slurp("$R_OURS/$long"), (stat "$R_OURS/$long")[7]], [slurp("$R_THEIRS/$long"), (stat "$R_THEIRS/$long")[7]], 'an overwritten file is replaced, not partly rewritten');
    ok(!-e "$work/ours/nope" && !-e "$work/theirs/nope", 'no local file from a failed get');
    is_deeply([slurp("$work/ours/keep")], [slurp("$work/theirs/keep")], 'a refused remote open leaves the existing local file as it was');
    is(slurp("$work/ours/keep"), 'KEEP', '... which is KEEP');
    ok(!-e "$work/ours/gd" && -e "$work/theirs/gd" && !-s "$work/theirs/gd", 'get of a directory: Net::SFTP::Foreign leaves an empty local file, cpan-bridge none (documented)');
};

$sftp->('disconnect', { session_id => $id });
$net->disconnect;
$d->stop;
done_testing;
