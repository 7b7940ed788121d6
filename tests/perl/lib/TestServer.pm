package TestServer;
# One of the test servers under tests/_support (http_server.ts, ftp_server.ts, sshd.ts,
# smtp_sink.ts, postgres.ts): a Deno script that prints one JSON line of facts once it is ready,
# takes commands on stdin (answering "ok <command>") and stops when its stdin closes. Stopped at the
# end of the test.
#   my $srv = TestServer->start('sshd.ts');  my $S = $srv->facts;  $srv->cmd('stall');
use strict;
use warnings;
use IPC::Open2 qw(open2);
use JSON::PP qw(decode_json);
use TestDaemon;

my @running;

sub start {
    my ($class, $script, @args) = @_;
    my $root = TestDaemon::root();
    my $pid = open2(my $out, my $in, "$root/tools/deno/node_modules/.bin/deno", 'run', '-A', '--quiet',
        "$root/tests/_support/$script", @args);
    my $line = <$out>;
    die "tests/_support/$script did not start\n" unless defined $line;
    my $self = bless { pid => $pid, in => $in, out => $out, facts => decode_json($line) }, $class;
    push @running, $self;
    return $self;
}

sub facts { $_[0]{facts} }

# Sends a command and waits for its "ok" line.
sub cmd {
    my ($self, $cmd) = @_;
    my $in = $self->{in};
    print $in "$cmd\n";
    $in->flush;
    my $ok = readline $self->{out};
    die "server: $cmd\n" unless defined $ok && $ok =~ /^ok \Q$cmd\E/;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    close $self->{in};
    waitpid($self->{pid}, 0);
    $self->{pid} = undef;
}

END { $_->stop for @running }

1;
