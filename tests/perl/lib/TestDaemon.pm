package TestDaemon;
# Starts a real cpan-bridge daemon on a private socket for a Perl test, waits (polling with a
# deadline) until it answers a ping, points BridgeClient at it, and stops it at the end.
#   my $d = TestDaemon->start(CPAN_BRIDGE_DEBUG => 1);   # extra env for the daemon
#   $d->socket, $d->dir, $d->daemon_log, $d->security_log, $d->stop
# The daemon command is $ENV{CPAN_BRIDGE_BIN} (a built binary) or the checkout's scripts/cpan-bridge.
use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Spec;
use Cwd qw(abs_path);
use FindBin;
use POSIX ":sys_wait_h";
use Time::HiRes qw(time sleep);
use IO::Socket::UNIX;
use JSON::PP;

my $ROOT = abs_path(File::Spec->catdir(__FILE__ =~ m{^(.*)/} ? $1 : '.', '..', '..', '..'));

sub root { $ROOT }

sub command {
    return ($ENV{CPAN_BRIDGE_BIN}) if $ENV{CPAN_BRIDGE_BIN};
    return ("$ROOT/scripts/cpan-bridge");
}

# Sends raw bytes on a fresh connection, half-closes, returns the raw reply (read to EOF).
sub raw_call {
    my ($socket, $bytes, %o) = @_;
    my $s = IO::Socket::UNIX->new(Peer => $socket, Type => SOCK_STREAM, Timeout => 5) or die "connect $socket: $!";
    binmode $s;
    print $s $bytes;
    shutdown($s, 1) unless $o{no_half_close};
    local $/;
    my $r = <$s>;
    close $s;
    return $r // '';
}

sub ping_ok {
    my ($socket) = @_;
    return 0 unless -S $socket;
    my $r = eval { raw_call($socket, '{"module":"test","function":"ping","params":{}}') };
    return $r && eval { decode_json($r)->{success} } ? 1 : 0;
}

sub start {
    my ($class, %env) = @_;
    my $dir = tempdir("cpan-bridge-test-XXXXXX", TMPDIR => 1, CLEANUP => 1);
    my $socket = "$dir/bridge.sock";
    # CPANBridge.pm insists on finding a readable cpan_bridge.py (contract §1.1): the smallest set-up.
    open my $fh, '>', "$dir/cpan_bridge.py" or die $!;
    print $fh "# placeholder: cpan-bridge serves these calls\n";
    close $fh;
    my @cmd = command();
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $ENV{$_} = $env{$_} for keys %env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$dir/stdout.log";
        open STDERR, '>', "$dir/stderr.log";
        exec(@cmd, 'daemon', '--socket', $socket, '--log-dir', $dir) or exit 127;
    }
    my $self = bless { dir => $dir, socket => $socket, pid => $pid, owner => $$ }, $class;
    my $deadline = time + ($ENV{CPAN_BRIDGE_TEST_START_TIMEOUT} || 60);
    until (ping_ok($socket)) {
        if (waitpid($pid, WNOHANG) == $pid) {
            die "cpan-bridge daemon exited during start-up (status $?):\n" . $self->tail('stderr.log') . $self->tail('cpan_daemon.log');
        }
        die "cpan-bridge daemon did not answer a ping within the deadline:\n" . $self->tail('stderr.log') if time > $deadline;
        sleep 0.05;
    }
    $ENV{CPAN_BRIDGE_SOCKET} = $socket;
    $ENV{CPAN_BRIDGE_SCRIPT} = "$dir/cpan_bridge.py";
    $ENV{CPAN_BRIDGE_FALLBACK} //= 0;
    if (defined &BridgeClient::new) {
        no warnings 'once';
        $BridgeClient::DAEMON_SOCKET = $socket;
        $BridgeClient::FALLBACK_ENABLED = $ENV{CPAN_BRIDGE_FALLBACK};
    }
    return $self;
}

sub socket       { $_[0]{socket} }
sub dir          { $_[0]{dir} }
sub pid          { $_[0]{pid} }
sub daemon_log   { "$_[0]{dir}/cpan_daemon.log" }
sub security_log { "$_[0]{dir}/cpan_security.log" }

sub tail {
    my ($self, $name) = @_;
    my $path = "$self->{dir}/$name";
    return '' unless -f $path;
    open my $fh, '<', $path or return '';
    my @l = <$fh>;
    return "--- $name ---\n" . join('', @l > 40 ? @l[-40 .. -1] : @l);
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    return unless $self->{owner} == $$;    # forked test children must not stop the daemon
    kill 'TERM', $self->{pid};
    my $deadline = time + 30;
    while (waitpid($self->{pid}, WNOHANG) == 0) {
        if (time > $deadline) { kill 'KILL', $self->{pid}; waitpid($self->{pid}, 0); last }
        sleep 0.02;
    }
    $self->{exit_status} = $?;
    delete $self->{pid};
}

sub exit_status { $_[0]{exit_status} }

sub DESTROY { $_[0]->stop }

1;
