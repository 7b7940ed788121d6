#!/usr/bin/perl
# logging_helper through the daemon (every wire function), differentially against the real
# Log::Log4perl 1.57 (Debian liblog-log4perl-perl): the same configuration and calls give the
# same file contents; the default "sysout" appender reaches the caller's own stdout.
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use JSON::PP;
use Log::Log4perl;
use lib "tests/perl/lib";
use TestDaemon;
use BridgeClient;

my $d = TestDaemon->start();
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);
my $orig = getcwd();

sub call { $c->call_python('logging_helper', @_) }
sub slurp { open my $fh, '<', $_[0] or return undef; local $/; my $s = <$fh>; $s }

# --- the same Log4perl configuration through the bridge and through Log::Log4perl -------------
my $conf = <<'CONF';
log4perl.rootLogger = WARN, Root
log4perl.logger.App.Db = DEBUG, Db
log4perl.appender.Root = Log::Log4perl::Appender::File
log4perl.appender.Root.filename = FILE-root.log
log4perl.appender.Root.mode = write
log4perl.appender.Root.utf8 = 1
log4perl.appender.Root.layout = Log::Log4perl::Layout::SimpleLayout
log4perl.appender.Db = Log::Log4perl::Appender::File
log4perl.appender.Db.filename = FILE-db.log
log4perl.appender.Db.utf8 = 1
log4perl.appender.Db.layout = PatternLayout
log4perl.appender.Db.layout.ConversionPattern = [%-5p] %c{1} %C %F:%L %P %d{yyyy-MM} %% %m%n
log4perl.appender.Db.Threshold = INFO
CONF

my @events = ([debug => 'not shown (threshold)'], [info => 'connected ✓ äö'], [warn => 'slow query'],
    [error => 'failed: 42'], [trace => 'never'], [fatal => 'gone']);

my $line;
# Real Log4perl, relative file names in the process's cwd.
{
    chdir $dir or die;
    (my $rc = $conf) =~ s/FILE-/real-/g;
    Log::Log4perl->init(\$rc);
    my $log = Log::Log4perl->get_logger('App::Db');
    for my $e (@events) { my ($m, $t) = @$e; $log->$m($t); $line = __LINE__ }    # %L of these calls
    Log::Log4perl->get_logger('Other')->error('root only');
    chdir $orig;
}

# The bridge: the same, as LogHelper would send it (filename/line/package of the caller).
{
    chdir $dir or die;
    (my $bc = $conf) =~ s/FILE-/bridge-/g;
    my $i = call('init_logger', { category => 'App::Db', level => 'INFO', config => $bc });
    ok($i->{success}, 'init_logger with a Log4perl configuration') or diag explain $i;
    is($i->{result}{level}, 'DEBUG', 'the configured level wins');
    is($i->{result}{appender}, 'Db,Root', 'appenders of the category and its ancestors (additivity)');
    my $id = $i->{result}{logger_id};
    for my $e (@events) {
        my ($m, $t) = @$e;
        my $r = call("log_$m", { logger_id => $id, message => $t, filename => $0, line => $line, package => 'main' });
        ok($r->{success}, "log_$m") or diag explain $r;
    }
    my $o = call('init_logger', { category => 'Other', level => 'INFO', config => $bc });
    call('log_error', { logger_id => $o->{result}{logger_id}, message => 'root only', filename => $0, line => $line, package => 'main' });
    chdir $orig;
}
for my $f ('db', 'root') {
    my ($got, $want) = (slurp("$dir/bridge-$f.log"), slurp("$dir/real-$f.log"));
    ok(length($want // '') > 10, "Log4perl wrote $f.log");
    is($got, $want, "$f.log: same lines as Log::Log4perl (levels, threshold, additivity, layouts)");
}
my $fl = slurp("$dir/real-db.log");
like($fl, qr/^\[INFO \] Db main \S+:\d+ \d+ \d{4}-\d\d % connected/m, 'the compared pattern covers %-5p %c{1} %C %F %L %P %d %%');

# --- set_level, filtering, log_message, log_warning, logdie ----------------------------------
{
    my $i = call('init_logger', { category => 'main', level => 'INFO', filename => "$dir/simple.log", layout => '%p %m%n' });
    ok($i->{success}, 'init_logger with a file shortcut');
    my $id = $i->{result}{logger_id};
    my $r = call('log_debug', { logger_id => $id, message => 'hidden' });
    ok($r->{success} && !$r->{result}{logged}, 'below the level: not logged');
    $r = call('set_level', { logger_id => $id, level => 'DEBUG' });
    is_deeply([$r->{result}{level}, $r->{result}{numeric_level}], ['DEBUG', 10000], 'set_level');
    ok(call('log_debug', { logger_id => $id, message => 'shown' })->{result}{logged}, 'now logged');
    # LogHelper::WlaLog sends enhanced messages already prefixed: they are used as sent.
    $r = call('log_debug', { logger_id => $id, message => 'DEBUG: x.pl line:7: where', filename => 'x.pl', line => 7, enhanced => 1 });
    is($r->{result}{message}, 'DEBUG: x.pl line:7: where', 'enhanced DEBUG text, not prefixed twice');
    $r = call('log_error', { logger_id => $id, message => 'x.pl line:8: bad', filename => 'x.pl', line => 8, enhanced => 1 });
    is($r->{result}{message}, 'x.pl line:8: bad', 'enhanced ERROR text, not prefixed twice');
    ok(call('log_warning', { logger_id => $id, message => 'w' })->{success}, 'log_warning');
    ok(call('log_message', { logger_id => $id, level => 'info', message => 'm' })->{success}, 'log_message');
    like(call('log_message', { logger_id => $id, level => 'LOUD', message => 'm' })->{error}, qr/Unknown log level/, 'log_message bad level');
    ok(call('log_trace', { logger_id => $id, message => 't' })->{success}, 'log_trace (filtered)');
    ok(call('log_fatal', { logger_id => $id, message => 'f' })->{success}, 'log_fatal');
    ok(call('log_info', { logger_id => $id, message => 'i' })->{success}, 'log_info');
    ok(call('log_warn', { logger_id => $id, message => 'w2' })->{success}, 'log_warn');
    $r = call('logdie', { logger_id => $id, message => 'dying' });
    ok($r->{result}{should_exit}, 'logdie asks the wrapper to die');
    is(slurp("$dir/simple.log"), "DEBUG shown\nDEBUG DEBUG: x.pl line:7: where\nERROR x.pl line:8: bad\nWARN w\nINFO m\n"
        . "FATAL f\nINFO i\nWARN w2\nFATAL dying\n", 'the file has exactly the logged lines');
    like(call('log_info', { logger_id => 'nope', message => 'x' })->{error}, qr/^Logger not found/, 'unknown logger');
    like(call('set_level', { logger_id => $id, level => 'LOUD' })->{error}, qr/Unknown log level/, 'bad level');
    like(call('init_logger', { category => 'x', config => "$dir/missing.conf" })->{error}, qr/^Cannot open \Q$dir\E\/missing.conf \(No such file or directory\)$/,
        'missing configuration file');
    # A forked child using its parent's logger: an expected failure (LogHelper's fallback prints).
    {
        pipe(my $rd, my $wr) or die;
        my $pid = fork // die;
        if (!$pid) {
            close $rd;
            my $r = BridgeClient->new->call_python('logging_helper', 'log_info', { logger_id => $id, message => 'from child' });
            print $wr encode_json($r);
            close $wr;
            require POSIX; POSIX::_exit(0);
        }
        close $wr;
        my $k = decode_json(do { local $/; <$rd> });
        waitpid($pid, 0);
        # Whether the daemon lets another process use a handle is the handle table's rule; either
        # way the answer is a logged line or an expected failure, never a thrown (retried) error.
        ok($k->{success} ? $k->{result}{logged} : $k->{error} =~ /^Logger not found/,
            "a child using its parent's logger: logged, or an expected failure, not a retried error")
            or diag explain $k;
    }
    ok(call('cleanup_logger', { logger_id => $id })->{result}{cleaned_up}, 'cleanup_logger');
}

# --- sysout: the caller's own stdout (a pipe here), in CPS::WlaLog's layout --------------------
{
    my $code = q{use lib "tests/perl/lib"; use BridgeClient; $| = 1;
        my $c = BridgeClient->new;
        my $id = $c->call_python('logging_helper', 'init_logger', { category => 'main', level => 'DEBUG' })->{result}{logger_id};
        my $r1 = $c->call_python('logging_helper', 'log_info', { logger_id => $id, message => 'hello sysout' });
        my $r2 = $c->call_python('logging_helper', 'log_error', { logger_id => $id, message => 'job.pl line:3: oops', filename => 'job.pl', line => 3, enhanced => 1 });
        print STDERR ($r1->{success} && $r2->{success} ? "ok\n" : "fail $r1->{error}\n")};
    open my $ph, '-|', $^X, '-e', $code or die;
    my @lines = <$ph>;
    close $ph;
    is(scalar @lines, 2, 'two lines reached the caller\'s stdout');
    like($lines[0] // '', qr{^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\|hello sysout\n$}, 'WlaLog layout');
    like($lines[1] // '', qr{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\|ERROR> job\.pl line:3: oops\n$}, 'enhanced ERROR in the %d|%p> layout');

    # Files named with > and >>: tests/perl/logging_redirect.t runs real scripts both ways.
}

$d->stop;
done_testing();
