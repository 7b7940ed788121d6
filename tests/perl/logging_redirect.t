#!/usr/bin/perl
# logging_helper, differentially, the way batch jobs run: the same Perl script runs as
# `perl job.pl real > job.log 2>&1` with the real Log::Log4perl 1.57 behind a CPS::WlaLog-style
# wrapper, and as `perl job.pl bridge > job.log 2>&1` sending what LogHelper.pm sends (helpers
# contract §3.8: init_logger, log_* with filename/line/package/enhanced, enhanced messages already
# prefixed). The two job.log files are compared byte for byte after replacing each timestamp by
# a placeholder (the runs are seconds apart; the bridge's timestamps are checked against the
# clock separately). Perl's own warnings printed from inside Log4perl (undef message, wide
# character) are not the daemon's to print: they are removed from the real log and counted.
# Also `>>` and a pipe, and the documented orders that cannot match.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use POSIX qw(strftime);
use lib "tests/perl/lib";
use TestDaemon;

my $d = TestDaemon->start();
my $dir = tempdir(CLEANUP => 1);
my $lib = TestDaemon::root() . "/tests/perl/lib";

# --- the job script: the same calls through either backend ------------------------------------
my $job = "$dir/job.pl";
open my $fh, '>', $job or die;
print $fh <<'PERL';
use strict;
use warnings;
my ($mode, $scenario) = @ARGV;

package W;    # the part of CPS::WlaLog / LogHelper::WlaLog a job uses
my ($plain, $enh, $c, $id);
sub init {
    if ($mode eq 'real') {
        require Log::Log4perl;
        Log::Log4perl->init(\ <<'CONF');
log4perl.logger.wla = DEBUG, Plain
log4perl.additivity.wla = 0
log4perl.logger.wlaenh = DEBUG, Enh
log4perl.additivity.wlaenh = 0
log4perl.appender.Plain = Log::Log4perl::Appender::Screen
log4perl.appender.Plain.stderr = 0
log4perl.appender.Plain.layout = PatternLayout
log4perl.appender.Plain.layout.ConversionPattern = %d{EEE yyyy/MM/dd HH:mm:ss}|%m%n
log4perl.appender.Enh = Log::Log4perl::Appender::Screen
log4perl.appender.Enh.stderr = 0
log4perl.appender.Enh.layout = PatternLayout
log4perl.appender.Enh.layout.ConversionPattern = %d|%p> %m%n
CONF
        $plain = Log::Log4perl->get_logger('wla');
        $enh = Log::Log4perl->get_logger('wlaenh');
    } else {
        require BridgeClient;
        $c = BridgeClient->new;
        my $r = $c->call_python('logging_helper', 'init_logger', { category => 'main', level => 'DEBUG' });
        die "init_logger: $r->{error}\n" unless $r->{success};
        $id = $r->{result}{logger_id};
    }
}
sub send_ {
    my ($fn, $msg, $enhanced, $line) = @_;
    my $r = $c->call_python('logging_helper', $fn, { logger_id => $id, message => $msg,
        filename => $0, line => $line, package => 'main', enhanced => $enhanced });
    # LogHelper's fallback when the backend fails (helpers contract §3.8)
    print STDERR "[" . localtime() . "] FALLBACK: $msg\n" unless $r->{success};
}
sub info { my $m = $_[0]; $mode eq 'real' ? $plain->info($m) : send_('log_info', $m, 0, (caller)[2]) }
sub warn_ { my $m = $_[0]; $mode eq 'real' ? $plain->warn($m) : send_('log_warn', $m, 0, (caller)[2]) }
sub debug { my $m = "DEBUG: $0 line:" . (caller)[2] . ": $_[0]";
    $mode eq 'real' ? $enh->debug($m) : send_('log_debug', $m, 1, (caller)[2]) }
sub error { my $m = "$0 line:" . (caller)[2] . ": $_[0]";
    $mode eq 'real' ? $enh->error($m) : send_('log_error', $m, 1, (caller)[2]) }
sub fatal { my $m = "$0 line:" . (caller)[2] . ": $_[0]";
    $mode eq 'real' ? $enh->fatal($m) : send_('log_fatal', $m, 1, (caller)[2]) }
sub logdie { my $m = "$0 line:" . (caller)[2] . ": $_[0]";
    if ($mode eq 'real') { $enh->logdie($m) } else { send_('logdie', $m, 1, (caller)[2]); die "$m\n" } }

package main;
W::init();
print STDERR "job starting\n";    # the script's own write, before any log line
if ($scenario eq 'cases') {
    W::info("Z\xc3\xbcrich");                # a byte string (no `use utf8`)
    W::info("\x{65e5}\x{672c} and caf\xe9"); # a wide character: the whole line as UTF-8
    W::info('0');
    W::info('');
    W::info(undef);
    W::warn_("binary \x00\x01\x7f\xff end");
    W::debug('Variable value: 42');
    W::error('Something failed');
    W::fatal('Giving up');
    eval { W::logdie('Died here') };
    W::info('long ' . ('x' x 20000));       # more than Perl's 8192-byte STDOUT buffer
    W::info("multi\nline");
    W::info('last');
} elsif ($scenario eq 'late_stderr') {
    W::info('first');
    print STDERR "a warning in the middle\n";
    print "the script's own stdout line\n";
    W::info('second');
} elsif ($scenario eq 'after_stop') {    # keeps running after its log lines, until told on STDIN
    W::info('before the stop');
    W::info("Z\xc3\xbcrich");
    W::info('long ' . ('x' x 9000));     # one 8192-byte chunk goes out while the job runs
    W::info('held when the daemon stops');
    open my $r, '>', 'ready' or die; close $r;
    my $go = <STDIN>;
    print "the job's own line, printed after the daemon stopped\n";
}
exit 0;
PERL
close $fh;

my $DATE = qr{\d{4}/\d\d/\d\d \d\d:\d\d:\d\d};
my $WARNING = qr{^(?:Warning: Log message argument #\d+ undefined|Use of uninitialized value|Wide character in print) .* line \d+\.\n}m;

sub slurp { open my $f, '<:raw', $_[0] or return undef; local $/; my $s = <$f>; $s }
sub norm { my $s = shift // ''; $s =~ s/$DATE/<date>/g; $s }

# Runs the job with `$redirect` (a shell redirection of the job's stdout/stderr), returns its log.
sub run_job {
    my ($mode, $scenario, $redirect, $log) = @_;
    unlink $log;
    system("cd $dir && PERL5LIB=$lib $^X job.pl $mode $scenario $redirect") == 0 or die "job failed: $?";
    return $log;
}

# The bridge's lines land when the job has exited: poll (with a deadline) until they are there.
sub settled {
    my ($log, $want) = @_;
    my $deadline = time + 10;
    my $got = slurp($log);
    until (norm($got) eq $want || time > $deadline) { sleep 0.02; $got = slurp($log) }
    return $got;
}

for my $redir (['>', '> job.log 2>&1'], ['>>', '>> job.log 2>&1']) {
    my ($name, $r) = @$redir;
    my $real = slurp(run_job('real', 'cases', $r, "$dir/job.log"));
    my $warnings = () = $real =~ /$WARNING/g;
    (my $want = $real) =~ s/$WARNING//g;
    is($warnings, 3, "$name: the real run printed Perl's 3 warnings from inside Log4perl (not reproduced)");
    my $t0 = time;
    my $got = settled(run_job('bridge', 'cases', $r, "$dir/job.log"), norm($want));
    my $t1 = time;
    ok(length($want) > 20000, "$name: the real job.log holds the lines (" . length($want) . " bytes)");
    is(norm($got), norm($want), "$name: job.log is byte for byte Log4perl's (timestamps aside)")
        or diag explain { bridge => norm($got), real => norm($want) };
    like($got, qr{\|DEBUG> DEBUG: job\.pl line:\d+: Variable value: 42\n}, "$name: enhanced DEBUG prefix once, no weekday");
    like($want, qr{\|Z\xc3\xbcrich\n.*\|\xe6\x97\xa5\xe6\x9c\xac and caf\xc3\xa9\n.*\|0\n.*\|\n.*\|\n}s,
        "$name: the compared log has the byte string, the wide line as UTF-8, '0', '' and undef");
    my @stamps = $got =~ /($DATE)/g;
    my ($lo, $hi) = map { strftime('%Y/%m/%d %H:%M:%S', localtime $_) } (int $t0 - 1, int $t1 + 1);
    is(scalar(grep { $_ lt $lo || $_ gt $hi } @stamps), 0, "$name: all " . scalar(@stamps) . " bridge timestamps are the run's local time");
}

# A pipe: the reader sees every line before end-of-file.
{
    my $want = norm(join '', `cd $dir && PERL5LIB=$lib $^X job.pl real cases 2>/dev/null`);
    my $got = norm(join '', `cd $dir && PERL5LIB=$lib $^X job.pl bridge cases 2>/dev/null`);
    ok(length($want) > 20000, 'pipe: Log4perl wrote the lines');
    is($got, $want, 'pipe: the reader gets the same bytes, all before end-of-file');
}

# What cannot match: the job's own buffered STDOUT print between log lines. Log4perl's lines sit
# in the job's STDOUT buffer with it; the daemon's cannot (its STDERR write lands where Log4perl's
# does). Nothing is lost: the same lines, in another order.
{
    my $real = slurp(run_job('real', 'late_stderr', '> job.log 2>&1', "$dir/job.log"));
    my $bridge = slurp(run_job('bridge', 'late_stderr', '> job.log 2>&1', "$dir/job.log"));
    my $deadline = time + 10;
    until ((() = $bridge =~ /\n/g) >= 5 || time > $deadline) { sleep 0.02; $bridge = slurp("$dir/job.log") }
    my $day = qr/(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)/;
    like(norm($real), qr/\Ajob starting\na warning in the middle\n$day <date>\|first\nthe script's own stdout line\n$day <date>\|second\n\z/,
        'late_stderr: Log4perl keeps log lines and the job\'s own prints in one STDOUT buffer');
    my @r = sort split /\n/, norm($real);
    my @b = sort split /\n/, norm($bridge);
    is_deeply(\@b, \@r, 'late_stderr: the same lines, none lost or torn');
    like(norm($bridge), qr/\Ajob starting\na warning in the middle\nthe script's own stdout line\n$day <date>\|first\n$day <date>\|second\n\z/,
        'late_stderr: through the bridge the job\'s own writes come first, the held log lines after them (documented)');
}

# A wrapper shell shares the job's file description (`sh -c 'perl job.pl; echo …' > job.log`, as
# cron runs jobs): the shell writes after the job at the description's offset. The daemon writes
# through that same description, so the shell's line overwrites nothing; it may land before the
# last (still buffered, < 8192 bytes) chunk of log lines, which the daemon writes when it sees the
# job has exited.
{
    my $shell = "SHELL-LINE-AFTER-THE-JOB-" . ('X' x 60) . "\n";
    my $wrap = sub { "sh -c '$^X job.pl $_[0] cases; echo $shell' > job.log 2>&1" };
    unlink "$dir/job.log";
    system("cd $dir && PERL5LIB=$lib " . $wrap->('real')) == 0 or die "wrapper failed: $?";
    (my $want = slurp("$dir/job.log")) =~ s/$WARNING//g;
    unlink "$dir/job.log";
    system("cd $dir && PERL5LIB=$lib " . $wrap->('bridge')) == 0 or die "wrapper failed: $?";
    my $got = slurp("$dir/job.log") // '';
    my $deadline = time + 10;    # the last chunk lands when the daemon sees the job has exited
    until (length($got) >= length($want) || time > $deadline) { sleep 0.02; $got = slurp("$dir/job.log") }
    is(length($got), length($want), 'wrapper shell: job.log has every byte (' . length($want) . ')');
    my $at = index($got, $shell);
    (my $without = $got) =~ s/\Q$shell\E//;
    (my $want_without = $want) =~ s/\Q$shell\E//;
    is(norm($without), norm($want_without), "wrapper shell: the job's lines are byte for byte Log4perl's, none overwritten");
    my $prefix = length("job starting\n");
    my $chunked = $prefix + int((length($want_without) - $prefix) / 8192) * 8192;
    ok($at == length($got) - length($shell) || $at == $chunked,
        "wrapper shell: the shell's line is whole, at the end or before the last partial chunk (at $at)");
    is(length($want_without) - $prefix > 8192, 1, 'wrapper shell: the job wrote more than one chunk');

    # The shell echoes only once the daemon has written the last chunk (a job step that takes a
    # while): its line must go after them, not over them.
    open my $wl, '>', "$dir/waitlog.pl" or die;
    print $wl 'use Time::HiRes qw(time sleep); my $t = time + 10; sleep 0.02 until -s "job.log" >= $ARGV[0] || time > $t;';
    close $wl;
    my $n = length($want_without);
    unlink "$dir/job.log";
    system("cd $dir && PERL5LIB=$lib sh -c '$^X job.pl bridge cases; $^X waitlog.pl $n; echo $shell' > job.log 2>&1") == 0
        or die "wrapper failed: $?";
    is(norm(slurp("$dir/job.log")), norm($want), "wrapper shell echoing after the daemon's last chunk: byte for byte Log4perl's, the shell's line last");
}

# The daemon stops (SIGTERM) while the job still runs: the held lines are written at the job's
# offset, and the job's own later print lands after them instead of over them.
{
    my $run = sub {
        my ($mode, $between) = @_;
        unlink "$dir/job.log", "$dir/ready";
        open my $w, '|-', "cd $dir && PERL5LIB=$lib $^X job.pl $mode after_stop > job.log 2>&1" or die;
        my $deadline = time + 10;
        sleep 0.02 until -e "$dir/ready" || time > $deadline;
        ok(-e "$dir/ready", "after_stop $mode: the job logged its lines and waits");
        $between->();
        print $w "go\n";
        close $w or die "job failed: $?";
        return slurp("$dir/job.log");
    };
    my $want = $run->('real', sub {});
    my $d2 = TestDaemon->start();
    local $ENV{CPAN_BRIDGE_SOCKET} = $d2->socket;
    my $got = $run->('bridge', sub {
        is(length(slurp("$dir/job.log")), length("job starting\n") + 8192, 'after_stop: one chunk out while the job runs, the rest held');
        $d2->stop;
    });
    like($want, qr/held when the daemon stops\nthe job's own line, printed after the daemon stopped\n\z/, 'after_stop: Log4perl wrote its lines before the job\'s own');
    is(norm($got), norm($want), 'after_stop: job.log is byte for byte Log4perl\'s: the held lines were written at shutdown, not overwritten');
}

$d->stop;
done_testing();
