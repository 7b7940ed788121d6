package BridgeClient;
# A test client that behaves like CPANBridge.pm v2.00 (contract §2.3, §2.6, §2.7, §2.8), written
# from the compatibility contract: one request per connection, print + half-close + read to EOF,
# the double UTF-8 encoding of requests and double decoding of replies, a ping before every call,
# 3 daemon attempts, auto-start of `<PYTHON_EXECUTABLE> <cpan_daemon.py>`, process-mode fallback
# through `<PYTHON_EXECUTABLE> "<cpan_bridge.py>"`, and the unwrap of `result` on success.
use strict;
use warnings;
use JSON::PP;
use Encode ();
use IO::Socket::UNIX;
use IPC::Open3;
use Symbol qw(gensym);
use Time::HiRes ();
use FindBin;
use Carp;

our $DAEMON_MODE            = $ENV{CPAN_BRIDGE_DAEMON} // 1;
our $FALLBACK_ENABLED       = $ENV{CPAN_BRIDGE_FALLBACK} // 1;
our $DAEMON_SOCKET          = $ENV{CPAN_BRIDGE_SOCKET} || '/tmp/cpan_bridge.sock';
our $DAEMON_TIMEOUT         = $ENV{CPAN_BRIDGE_DAEMON_TIMEOUT} || 30;
our $DAEMON_STARTUP_TIMEOUT = $ENV{CPAN_BRIDGE_STARTUP_TIMEOUT} || 10;
our $TIMEOUT                = 60;
our $DAEMON_SCRIPT;
our $PYTHON_PATH;

sub _candidates {
    my ($name, $envvar) = @_;
    my @c;
    push @c, $ENV{$envvar} if $ENV{$envvar};
    push @c, "$FindBin::Bin/python_helpers/$name", "$FindBin::Bin/../python_helpers/$name",
      "$FindBin::Bin/$name", "/opt/controlm/scripts/python_helpers/$name",
      "/usr/local/scripts/python_helpers/$name", "./python_helpers/$name";
    return @c;
}

sub new {
    my ($class, %opts) = @_;
    my @c = _candidates('cpan_bridge.py', 'CPAN_BRIDGE_SCRIPT');
    my ($script) = grep { -f $_ && -r $_ } @c;
    croak "Cannot find cpan_bridge.py script. Searched in: " . join(', ', @c) unless $script;
    return bless { bridge_script => $script, timeout => $opts{timeout} || $TIMEOUT,
        retry_count => $opts{retry_count} || 3, last_error => undef }, $class;
}

sub last_error { $_[0]{last_error} }

sub call_python {
    my ($self, $module, $function, $params) = @_;
    croak "Module name required"   unless $module;
    croak "Function name required" unless $function;
    $params //= {};
    my $start   = Time::HiRes::time();
    my $request = {
        module         => $module,
        function       => $function,
        params         => $params,
        timestamp      => Time::HiRes::time(),
        perl_caller    => (caller(1))[3] || 'unknown',
        request_id     => sprintf("%d_%d_%d", time, $$, int(rand 1000)),
        client_version => "2.00",
    };
    my $response;
    if ($DAEMON_MODE) {
        $response = $self->_try_daemon_call($request);
        if (!$response->{success} && $FALLBACK_ENABLED) {
            $response = $self->_execute_process_mode($request);
        }
    } else {
        $response = $self->_execute_process_mode($request);
    }
    if ($response->{success}) {
        return exists $response->{result} ? $response->{result} : $response;
    }
    $self->{last_error} = $response->{error};
    return { success => 0, error => $response->{error}, module => $module,
        function => $function, duration => Time::HiRes::time() - $start };
}

sub _daemon_available { return -S $DAEMON_SOCKET }

sub _ping_daemon {
    my ($self) = @_;
    return 0 unless _daemon_available();
    my $ok = eval {
        my $sock = IO::Socket::UNIX->new(Peer => $DAEMON_SOCKET, Type => SOCK_STREAM, Timeout => 2)
          or die "connect: $!";
        $sock->autoflush(1);
        local $SIG{ALRM} = sub { die "ping timeout\n" };
        alarm(2);
        print $sock encode_json({ module => 'test', function => 'ping', params => {},
            timestamp => Time::HiRes::time() });
        shutdown($sock, 1);
        my $resp = '';
        while (my $line = <$sock>) { $resp .= $line }
        alarm(0);
        close $sock;
        my $d = decode_json($resp);
        $d->{success} ? 1 : 0;
    };
    alarm(0);
    return $ok ? 1 : 0;
}

sub _python_executable {
    return $PYTHON_PATH if $PYTHON_PATH;
    return $ENV{PYTHON_EXECUTABLE} if $ENV{PYTHON_EXECUTABLE};
    for my $c (qw(python3 python /usr/bin/python3 /usr/bin/python /usr/local/bin/python3 /usr/local/bin/python)) {
        if ($c =~ m{^/}) { return $c if -x $c; next }
        my $w = `which $c 2>/dev/null`;
        chomp $w;
        return $w if $w && -x $w;
    }
    die "No Python executable found. Please install Python or set PYTHON_EXECUTABLE environment variable.\n";
}

sub _start_daemon {
    my ($self) = @_;
    unless ($DAEMON_SCRIPT) {
        ($DAEMON_SCRIPT) = grep { -f $_ } _candidates('cpan_daemon.py', 'CPAN_BRIDGE_DAEMON_SCRIPT');
    }
    return 0 unless $DAEMON_SCRIPT;
    my $python = eval { _python_executable() } or return 0;
    my $pid = fork();
    return 0 unless defined $pid;
    if ($pid == 0) {
        close STDIN; close STDOUT; close STDERR;
        exec($python, $DAEMON_SCRIPT) or exit(1);
    }
    for (1 .. $DAEMON_STARTUP_TIMEOUT) {
        sleep 1;
        return 1 if _daemon_available() && $self->_ping_daemon();
    }
    return 0;
}

sub _ensure_daemon_running {
    my ($self) = @_;
    return 1 if $self->_ping_daemon();
    return $self->_start_daemon();
}

sub _try_daemon_call {
    my ($self, $request) = @_;
    for my $attempt (1 .. 3) {
        unless ($self->_ensure_daemon_running()) {
            return { success => 0, error => "Daemon not available after 3 attempts", daemon_error => 1 }
              if $attempt == 3;
            next;
        }
        my $r = $self->_send_daemon_request($request);
        return $r if $r->{success};
        $self->{last_daemon_response} = $r;
    }
    return { success => 0, error => "Daemon communication failed after 3 attempts", daemon_error => 1 };
}

sub _send_daemon_request {
    my ($self, $request) = @_;
    my $result = eval {
        my $sock = IO::Socket::UNIX->new(Peer => $DAEMON_SOCKET, Type => SOCK_STREAM,
            Timeout => $DAEMON_TIMEOUT)
          or return { success => 0, error => "Failed to connect to daemon: $!", daemon_error => 1 };
        $sock->autoflush(1);
        my $json = encode_json($request);
        print $sock Encode::encode('utf-8', $json);
        shutdown($sock, 1);
        my $resp = '';
        while (my $line = <$sock>) { $resp .= $line }
        close $sock;
        $resp =~ s/^\s+|\s+$//g;
        return { success => 0, error => "Empty response from daemon", daemon_error => 1 }
          unless length $resp;
        my $d = eval { decode_json(Encode::decode('utf-8', $resp)) };
        return { success => 0, error => "JSON decode failed: $@", raw_output => $resp, daemon_error => 1 }
          unless $d;
        return $d;
    };
    return $result if $result;
    return { success => 0, error => "Daemon communication error: $@", daemon_error => 1 };
}

sub _execute_process_mode {
    my ($self, $request) = @_;
    my $python = eval { _python_executable() }
      or return { success => 0, error => "Failed after 3 attempts. Last error: $@" };
    my $json = encode_json($request);
    my ($out, $err, $status) = ('', '', 0);
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($self->{timeout});
        my $errfh = gensym;
        my $pid = open3(my $in, my $outfh, $errfh, $python, $self->{bridge_script});
        print $in $json;
        close $in;
        { local $/; $out = <$outfh> // ''; $err = <$errfh> // ''; }
        waitpid($pid, 0);
        $status = $? >> 8;
        alarm(0);
        die "Python script failed with exit code $status: $err\n" if $status;
        1;
    };
    alarm(0);
    return { success => 0, error => "Failed after 3 attempts. Last error: Execution failed: $@" } unless $ok;
    $out =~ s/^\s+|\s+$//g;
    my $d = eval { decode_json($out) };
    return $d || { success => 0, error => "Failed after 3 attempts. Last error: JSON decode failed: $@" };
}

1;
