#!/usr/bin/perl
# logging_helper File appenders, differentially: one Log4perl configuration, the same messages
# through Log::Log4perl 1.57 in this process and through the bridge (init_logger with the same
# configuration text, log_* as LogHelper.pm sends them), compared byte for byte. No `use utf8`:
# messages are Perl byte strings, as in most scripts, plus wide characters, "0", "", undef,
# binary 0..255 and a long message; one appender without and one with `utf8 = 1`. Then the error
# paths (missing directory, missing configuration file) and how they surface.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use Log::Log4perl;
use lib "tests/perl/lib";
use TestDaemon;
use BridgeClient;

my $d = TestDaemon->start();
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);
my $orig = getcwd();
sub call { $c->call_python('logging_helper', @_) }
sub slurp { open my $fh, '<:raw', $_[0] or return undef; local $/; my $s = <$fh>; $s }

my $conf = <<'CONF';
log4perl.rootLogger = TRACE, Bytes, U
log4perl.appender.Bytes = Log::Log4perl::Appender::File
log4perl.appender.Bytes.filename = SIDE/bytes.log
log4perl.appender.Bytes.layout = PatternLayout
log4perl.appender.Bytes.layout.ConversionPattern = %p %c %F{1}:%L %m%n
log4perl.appender.U = Log::Log4perl::Appender::File
log4perl.appender.U.filename = SIDE/utf8.log
log4perl.appender.U.utf8 = 1
log4perl.appender.U.layout = Log::Log4perl::Layout::SimpleLayout
CONF

my @cases = (
    [info => "Z\xc3\xbcrich"],
    [info => "caf\xe9"],
    [warn => "\x{65e5}\x{672c} caf\xe9"],
    [debug => '0'],
    [error => ''],
    [trace => undef],
    [fatal => join('', map { chr } 0 .. 255)],
    [info => "multi\nline\r\n"],
    [info => 'long ' . ('y' x 100_000)],
);

mkdir "$dir/real";
mkdir "$dir/bridge";
my @lines;
{
    chdir $dir or die;
    (my $rc = $conf) =~ s/SIDE/real/g;
    Log::Log4perl->init(\$rc);
    my $log = Log::Log4perl->get_logger('App');
    local $SIG{__WARN__} = sub { };    # Log4perl warns about undef; the wrapper's caller would see it
    for my $e (@cases) { my ($m, $t) = @$e; $log->$m($t); push @lines, __LINE__ }
    chdir $orig;
}
{
    chdir $dir or die;
    (my $bc = $conf) =~ s/SIDE/bridge/g;
    my $i = call('init_logger', { category => 'App', level => 'TRACE', config => $bc });
    ok($i->{success}, 'init_logger with the configuration') or diag explain $i;
    my $id = $i->{result}{logger_id};
    for my $k (0 .. $#cases) {
        my ($m, $t) = @{ $cases[$k] };
        my $r = call("log_$m", { logger_id => $id, message => $t, filename => "$orig/tests/perl/logging_files.t",
            line => $lines[$k], package => 'main', enhanced => 0 });
        ok($r->{success} && $r->{result}{logged}, "log_$m " . (defined $t ? length($t) . ' chars' : 'undef'))
            or diag explain $r;
    }
    chdir $orig;
}
for my $f ('bytes', 'utf8') {
    my ($want, $got) = (slurp("$dir/real/$f.log"), slurp("$dir/bridge/$f.log"));
    ok(length($want // '') > 100_000, "Log4perl wrote $f.log (" . length($want // '') . ' bytes)');
    ok(defined $got && $got eq $want, "$f.log: byte for byte the same as Log4perl's")
        or diag explain { first_difference_at => do { my $i = 0; $i++ while $i < length($want) && substr($want, $i, 1) eq substr($got // '', $i, 1); $i },
            real_len => length($want), bridge_len => length($got // '') };
}
like(slurp("$dir/real/bytes.log"), qr/^INFO App logging_files\.t:\d+ Z\xc3\xbcrich\n/m, 'a byte string goes out as its bytes');
like(slurp("$dir/real/utf8.log"), qr/^INFO - Z\xc3\x83\xc2\xbcrich\n/m, 'with utf8 = 1 every character is UTF-8 encoded');

# --- error paths: the same failure, Log4perl's text ------------------------------------------
sub real_error { my ($init) = @_; eval { Log::Log4perl->init($init); 1 } ? undef : ($@ =~ s/ at \S+ line \d+\.\n\z//r) }
{
    my $nodir = "log4perl.rootLogger = INFO, F\nlog4perl.appender.F = Log::Log4perl::Appender::File\n"
        . "log4perl.appender.F.filename = $dir/nodir/x.log\nlog4perl.appender.F.layout = SimpleLayout\n";
    my $want = real_error(\$nodir);
    ok(defined $want, "Log4perl refuses a log file in a missing directory: $want");
    is(call('init_logger', { category => 'App', config => $nodir })->{error}, $want, '... the bridge fails with the same text');
    ok(!-e "$dir/nodir", '... and creates nothing');
    $want = real_error("$dir/missing.conf");
    is(call('init_logger', { category => 'App', config => "$dir/missing.conf" })->{error}, $want,
        "a missing configuration file: the same text ($want)");
}
# Refusals the bridge adds (bounded, regular files only): no Log4perl counterpart, a clear error.
{
    mkdir "$dir/conf.d";
    like(call('init_logger', { config => "$dir/conf.d" })->{error}, qr/^Cannot read Log4perl configuration: Cannot read '.*conf\.d': a directory$/,
        'a directory as configuration file: a clear error');
    system('mkfifo', "$dir/fifo") == 0 or die;
    like(call('init_logger', { config => "$dir/fifo" })->{error}, qr/not a regular file/, 'a FIFO is refused, not read (no hang)');
}

$d->stop;
done_testing();
