#!/usr/bin/perl
# lockfile, differentially: every case runs the same calls once through the bridge the way
# LockFileHelper.pm sends them (make / trylock / release, undef on failure, release's 0/1) and
# once through the real LockFile::Simple 0.208 in this same process, in twin directories, and
# compares what a script can observe: the lock result, the files (names as bytes, content,
# mode) after locking and after releasing, and release's return values. No `use utf8`: the
# names below are Perl byte strings, as in most scripts. Then a real daemon restart between
# lock and release.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Find;
use Cwd qw(getcwd);
use POSIX qw(_exit);
use LockFile::Simple;
use lib "tests/perl/lib";
use TestDaemon;
use BridgeClient;

my $d = TestDaemon->start();
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);
my $orig = getcwd();

sub call { $c->call_python('lockfile', @_) }

# --- what LockFileHelper.pm does with the wire (helpers contract §3.7) -------------------------
package BridgeLock {
    sub make {
        my ($class, %o) = @_;
        my $r = main::call('make', { map { (my $k = $_) =~ s/^-//; ($k => $o{$_}) } keys %o });
        die "make: $r->{error}" unless $r->{success};
        return bless { id => $r->{result}{manager_id} }, $class;
    }
    sub trylock {    # a LockFileHelper::Lock, or undef (with $! set) on failure
        my ($self, $file, $pattern) = @_;
        my $r = main::call('trylock', { manager_id => $self->{id}, filename => $file,
            (defined $pattern ? (lockfile_pattern => $pattern) : ()) });
        return undef unless $r->{success} && $r->{result}{lock_id};
        return bless { %{ $r->{result} } }, 'BridgeLock::Lock';
    }
}
package BridgeLock::Lock {
    sub release {    # croaks on failure, else LockFile::Simple's 0/1
        my ($self) = @_;
        my $r = main::call('release', { lock_id => $self->{lock_id} });
        die "release: $r->{error}\n" unless $r->{success};
        return $r->{result}{released} ? 1 : 0;
    }
}
package main;

sub real_make { LockFile::Simple->make(-warn => 0, -wfunc => undef, -efunc => undef, @_) }

# A PID that is certainly dead: a child that has exited and been reaped.
sub dead_pid { my $p = fork // die; _exit(0) unless $p; waitpid($p, 0); $p }

sub put { my ($name, $content, $age) = @_; open my $fh, '>', $name or die "$name: $!"; print $fh $content; close $fh;
    utime time - $age, time - $age, $name if $age }

# Everything under the cwd: relative name (bytes) => [content, mode] or 'dir'.
sub tree {
    my %t;
    find({ no_chdir => 1, wanted => sub {
        return if $_ eq '.';
        (my $n = $_) =~ s{^\./}{};
        if (-d $_) { $t{$n} = 'dir'; return }
        open my $fh, '<:raw', $_ or do { $t{$n} = "unreadable: $!"; return };
        local $/; my $s = <$fh>; close $fh;
        $t{$n} = [$s, sprintf('%o', (stat $_)[2] & 07777)];
    } }, '.');
    return \%t;
}

# One case on one side: make, trylock, optional meddling, release twice.
sub run_side {
    my ($side, $case) = @_;
    my $root = "$dir/$case->{name}/$side";
    make_path($root);
    chdir $root or die;
    $case->{setup}->() if $case->{setup};
    my %o = (-hold => 90, -delay => 1, %{ $case->{opts} // {} });
    my $m = $side eq 'real' ? real_make(%o) : BridgeLock->make(%o);
    my $lock = do { no warnings 'uninitialized'; $m->trylock($case->{file}, $case->{pattern}) };
    my %out = (locked => defined $lock ? 1 : 0, after_lock => tree());
    if ($lock) {
        $case->{meddle}->() if $case->{meddle};
        $out{release} = eval { $lock->release } // "croaked: $@";
        $out{release_again} = eval { $lock->release } // "croaked: $@";
        $out{after_release} = tree();
    }
    chdir $orig;
    return \%out;
}

my $live = getppid();
my $dead = dead_pid();
my @cases = (
    { name => 'plain', file => 'data.txt' },
    { name => 'bytes', file => "Z\xc3\xbcrich.dat" },
    { name => 'wide', file => "\x{65e5}\x{672c}.dat" },
    { name => 'zero', file => '0' },
    { name => 'empty', file => '' },
    { name => 'undef', file => undef },
    { name => 'long', file => 'x' x 250 },
    { name => 'toolong', file => 'x' x 251 },
    { name => 'pattern', file => "d/Gen\xc3\xa8ve", pattern => '%D/.%F-%%.lck', setup => sub { mkdir 'd' } },
    { name => 'format', file => 'f.dat', opts => { -format => 'locks/%F.%p' }, setup => sub { mkdir 'locks' } },
    { name => 'ext', file => 'e.dat', opts => { -ext => '.LCK' } },
    { name => 'missing_dir', file => 'f', pattern => 'nodir/%F.lock' },
    { name => 'literal_var', file => 'v', pattern => '${HOME}/%F.lock' },
    { name => 'literal_var_dir', file => 'v', pattern => '${HOME}/%F.lock', setup => sub { mkdir '${HOME}' } },
    { name => 'not_a_dir', file => 'plain/x', setup => sub { put('plain', "file\n") } },
    { name => 'held_live_pid', file => 'h', opts => { -stale => 1 }, setup => sub { put('h.lock', "$live\n") } },
    { name => 'stale_dead_pid', file => 's', opts => { -stale => 1 }, setup => sub { put('s.lock', "$dead\n") } },
    { name => 'dead_pid_no_stale', file => 's', setup => sub { put('s.lock', "$dead\n") } },
    { name => 'hold_expired', file => 'o', setup => sub { put('o.lock', "$live\n", 120) } },
    { name => 'hold_not_expired', file => 'o', opts => { -hold => 600 }, setup => sub { put('o.lock', "$live\n", 120) } },
    { name => 'nfs', file => 'n', opts => { -nfs => 1 } },
    { name => 'removed_by_other', file => 'r', meddle => sub { unlink 'r.lock' or die } },
    { name => 'taken_over', file => 't', meddle => sub { unlink 't.lock'; put('t.lock', "1\n") } },
);
for my $case (@cases) {
    my $real = run_side('real', $case);
    my $bridge = run_side('bridge', $case);
    is_deeply($bridge, $real, "$case->{name}: same lock result, files and release values as LockFile::Simple")
        or diag explain { bridge => $bridge, real => $real };
}
# The cases cover both outcomes (a test that cannot fail would not).
my @outcomes = map { run_side('real', { %$_, name => "$_->{name}-again" })->{locked} } @cases[0, 7, 11, 16];
is_deeply(\@outcomes, [1, 0, 0, 1], 'the oracle locks, and refuses, where expected');

# Deliberate difference: bytes that are not UTF-8 cannot name a file from Deno.
{
    chdir "$dir" or die;
    my $l = BridgeLock->make()->trylock("caf\xe9");
    my $r = call('trylock', { manager_id => BridgeLock->make()->{id}, filename => "caf\xe9" });
    chdir $orig;
    is($l, undef, 'a Latin-1 byte name fails through the bridge');
    like($r->{error}, qr/not valid UTF-8 bytes/, '... with a clear error');
}

# --- a real daemon restart (SIGTERM) between lock and release --------------------------------
{
    my $root = "$dir/restart";
    mkdir $root;
    my $m = BridgeLock->make(-hold => 3600);
    my $lock = $m->trylock("$root/job");
    ok($lock, 'locked before the restart');
    # A child that takes a lock and dies: its file must be breakable after the restart too.
    my $pid = fork // die;
    if (!$pid) {
        my $cc = BridgeClient->new;
        my $mm = $cc->call_python('lockfile', 'make', {})->{result}{manager_id};
        _exit($cc->call_python('lockfile', 'trylock', { manager_id => $mm, filename => "$root/orphan" })->{success} ? 0 : 1);
    }
    waitpid($pid, 0);
    is($?, 0, 'a child took a lock and exited');
    $d->stop;
    $d = TestDaemon->start();
    ok(-f "$root/job.lock", 'the lock file outlives the daemon');
    ok(!$m->trylock("$root/job"), 'after the restart the old manager id still works, and the lock holds');
    is($lock->release, 1, 'release after the restart succeeds (no "Invalid lock ID")');
    ok(!-e "$root/job.lock", '... and removed the file');
    is($lock->release, 0, 'a second release answers 0, as LockFile::Simple');
    my $s = BridgeLock->make(-stale => 1)->trylock("$root/orphan");
    ok($s, 'after the restart -stale breaks the dead child\'s lock from the file');
    is(do { open my $fh, '<', "$root/orphan.lock"; local $/; <$fh> }, "$$\n", '... and the file is now ours');
    is($s->release, 1, '... released');
}

$d->stop;
done_testing();
