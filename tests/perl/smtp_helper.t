# smtp_helper through a client that behaves like CPANBridge.pm v2.00, against an smtp-server sink
# started by this test (tests/_support/smtp_sink.ts, which records the raw DATA bytes). The same
# messages are sent through the real Net::SMTP (Perl core) and the bytes compared. Also: state
# errors, a rejected recipient, refused connection, silent server, a server that stops answering
# mid-message, the diagnostics functions.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use Net::SMTP;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $mails = tempdir('cb_smtp_sink_XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $srv = TestServer->start('smtp_sink.ts', $mails);
my $S = $srv->facts;

my $d = TestDaemon->start(CPAN_BRIDGE_DEBUG => 1);
my $c = BridgeClient->new;
sub plain { my ($v) = @_; ref $v eq "HASH" ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq "ARRAY" ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }
my $smtp = sub { plain($c->call_python('smtp_helper', @_)) };
sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or return undef; local $/; my $x = <$fh>; $x }
sub message_file {    # polls for the sink's n-th message
    my ($n, $ext) = @_;
    my $deadline = time + 10;
    sleep 0.01 until -e "$mails/$n.json" || time > $deadline;
    return slurp("$mails/$n.$ext");
}

# Byte strings, as a Perl script holds them: UTF-8 bytes, dots at line starts, split CR/LF.
my @chunks = ("From: Job <job\@example.test>\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\n", "To: ops\@example.test\r\n\n",
    ".leading dot\n", "..two\r\nmid.dle\n.", "split dot\nCR at the end\r", "\n.after split CRLF\n",
    "Gr\xc3\xbc\xc3\x9fe \xe2\x9c\x93 UTF-8\n", "no final newline");

subtest 'new, mail, to, data, datasend..., datasend() ends, quit' => sub {
    my $n = $smtp->('new', { host => $S->{host}, port => $S->{port}, timeout => 10, debug => 1, localhost => 'client.test' });
    ok($n->{success}, 'new') or diag explain $n;
    like($n->{connection_id}, qr/^smtp_\d{10}_[0-9a-f]{8}$/, 'flat connection id');
    my $id = $n->{connection_id};
    is($smtp->('mail', { connection_id => $id, sender => 'Job <job@example.test>' })->{success}, 1, 'mail');
    is($smtp->('to', { connection_id => $id, recipient => 'ops@example.test' })->{success}, 1, 'to');
    my $info = $smtp->('get_connection_info', { connection_id => $id });
    is_deeply([$info->{connection}{sender}, $info->{connection}{recipients}], ['Job <job@example.test>', ['ops@example.test']], 'connection info');
    is_deeply($smtp->('data', { connection_id => $id }), { success => 1, message => '354 End data with <CR><LF>.<CR><LF>' }, 'data');
    is($smtp->('get_connection_info', { connection_id => $id })->{connection}{state}, 'data_mode', 'state data_mode');
    is($smtp->('datasend', { connection_id => $id, data => $_ })->{success}, 1, 'datasend') for @chunks;
    my $end = $smtp->('datasend', { connection_id => $id });
    like($end->{message}, qr/^250 /, 'datasend() without data ends the message') or diag explain $end;
    is($smtp->('get_pool_stats')->{stats}{active_connections}, 1, 'pool stats');
    is_deeply($smtp->('quit', { connection_id => $id }), { success => 1, message => '221 Bye' }, 'quit');
    is($smtp->('quit', { connection_id => $id })->{success}, 1, 'quit again still succeeds');
    is_deeply(decode_json(message_file(1, 'json')), { from => 'job@example.test', to => ['ops@example.test'], hello => 'client.test', user => undef }, 'envelope');
};

subtest 'the same message through real Net::SMTP: identical DATA bytes' => sub {
    my $s = Net::SMTP->new($S->{host}, Port => $S->{port}, Timeout => 10, Hello => 'client.test') or die "Net::SMTP: $@";
    $s->mail('Job <job@example.test>') or die;
    $s->to('ops@example.test') or die;
    $s->data or die;
    $s->datasend($_) for @chunks;
    $s->dataend or die;
    $s->quit;
    my ($ours, $theirs) = (message_file(1, 'raw'), message_file(2, 'raw'));
    ok(length $ours > 100, 'bytes recorded');
    is($ours, $theirs, 'cpan-bridge sends exactly what Net::SMTP sends');
    like($ours, qr/\r\n\.\.leading dot\r\n/, 'dot-stuffed');
    like($ours, qr/no final newline\r\n\.\r\n\z/, 'terminated');
    like(message_file(1, 'eml'), qr/Gr\xc3\xbc\xc3\x9fe \xe2\x9c\x93 UTF-8\r\n/, 'UTF-8 bytes arrive unchanged');
};

# Sends one message through the bridge and the same through real Net::SMTP; returns the two
# recordings (raw DATA bytes and envelope) from the sink.
my $seen = 2;
sub both_ways {
    my (%m) = @_;
    my $id = $smtp->('new', { host => $S->{host}, port => $S->{port}, timeout => 10, localhost => $m{hello} })->{connection_id};
    my @r = ($smtp->('mail', { connection_id => $id, sender => $m{from} }), $smtp->('to', { connection_id => $id, recipient => $m{to} }),
        $smtp->('data', { connection_id => $id }), map({ $smtp->('datasend', { connection_id => $id, data => $_ }) } @{ $m{chunks} }),
        $smtp->('datasend', { connection_id => $id }));
    $smtp->('quit', { connection_id => $id });
    my $ok = !grep { !$_->{success} } @r;
    my $n = Net::SMTP->new($S->{host}, Port => $S->{port}, Timeout => 10, Hello => $m{hello}) or die "Net::SMTP: $@";
    my $real_ok = $n->mail($m{from}) && $n->to($m{to}) && $n->data;
    $real_ok &&= $n->datasend($_) for @{ $m{real_chunks} // $m{chunks} };
    $real_ok &&= $n->dataend;
    $n->quit;
    my ($b, $r) = ($seen + 1, $seen + 2);
    $seen += 2;
    return { ok => $ok, replies => \@r, raw => message_file($b, 'raw'), env => message_file($b, 'json') },
           { ok => $real_ok, raw => message_file($r, 'raw'), env => message_file($r, 'json') };
}

subtest 'Perl strings through both: byte strings, binary, "0", empty, wide characters' => sub {
    my $binary = join '', map { chr } 0 .. 255;
    my @cases = (
        [ 'UTF-8 byte strings in envelope, hello, header and body', hello => "h\xc3\xa9llo.test", from => "J\xc3\xb6rg <j\xc3\xb6rg\@example.test>",
          to => "\xc3\xa5sa\@example.test", chunks => ["Subject: Gr\xc3\xbc\xc3\x9fe aus Z\xc3\xbcrich\n\n", "K\xc3\xb6ln \xe2\x9c\x93\n"] ],
        [ 'Latin-1 byte strings', hello => 'client.test', from => 'job@example.test', to => 'ops@example.test',
          chunks => ["Subject: caf\xe9\n\n", "na\xefve r\xe9sum\xe9\n"] ],
        [ 'binary 0..255 (CR, LF, NUL, dots, high bytes)', hello => 'client.test', from => 'job@example.test', to => 'ops@example.test',
          chunks => ["X-Bin: yes\n\n", $binary, "\n.$binary\n"] ],
        [ '"0" chunks', hello => 'client.test', from => 'job@example.test', to => 'ops@example.test', chunks => ['0', "\n", '0'] ],
        [ 'an empty chunk before the data', hello => 'client.test', from => 'job@example.test', to => 'ops@example.test', chunks => ['', "x\n"] ],
        [ 'only an empty chunk: an empty message', hello => 'client.test', from => 'job@example.test', to => 'ops@example.test', chunks => [''] ],
        [ 'a long body (1 MiB of lines)', hello => 'client.test', from => 'job@example.test', to => 'ops@example.test',
          chunks => [ join('', map { ($_ % 7 ? "line $_\n" : ".dot $_\r\n") } 1 .. 100_000) ] ],
    );
    for my $case (@cases) {
        my ($name, %m) = @$case;
        my ($ours, $theirs) = both_ways(%m);
        ok($ours->{ok}, "$name: every call succeeded") or diag explain $ours->{replies};
        ok($theirs->{ok}, "$name: Net::SMTP succeeded");
        ok(defined $ours->{raw} && $ours->{raw} eq ($theirs->{raw} // ''), "$name: same DATA bytes as Net::SMTP (" . length($theirs->{raw} // '') . ' bytes)')
            or diag(unpack('H*', substr($ours->{raw} // '', 0, 80)) . "\n" . unpack('H*', substr($theirs->{raw} // '', 0, 80)));
        is($ours->{env}, $theirs->{env}, "$name: same envelope and hello as Net::SMTP");
    }
    # Wide characters: Net::SMTP dies in syswrite; the bridge sends their UTF-8 (the Perl string
    # rule), which is what Net::SMTP sends for the encoded string.
    my $wide = "Subject: \x{65e5}\x{672c} caf\x{e9}\n\nbody \x{1F600}\n";
    my $utf8 = $wide;
    utf8::encode($utf8);
    my ($ours, $theirs) = both_ways(hello => 'client.test', from => 'job@example.test', to => 'ops@example.test', chunks => [$wide], real_chunks => [$utf8]);
    ok($ours->{ok} && $theirs->{ok}, 'wide characters: both sent');
    is($ours->{raw}, $theirs->{raw}, 'wide characters: the bridge sends the UTF-8 bytes')
};

subtest 'state errors, rejected recipient, unknown id' => sub {
    my $id = $smtp->('new', { host => "$S->{host}:$S->{port}", timeout => 10 })->{connection_id};
    is_deeply($smtp->('datasend', { connection_id => $id, data => 'x' }), { success => 0, error => 'Cannot call datasend() in state: connected' }, 'datasend before data');
    is($smtp->('mail', { connection_id => $id, sender => 'job@example.test' })->{success}, 1, 'mail');
    is_deeply($smtp->('to', { connection_id => $id, recipient => 'reject@example.test' }),
        { success => 0, error => 'RCPT command failed: 550 <reject@example.test>: Recipient address rejected' }, 'rejected recipient');
    is($smtp->('to', { connection_id => $id, recipient => 'ok@example.test' })->{success}, 1, 'the connection survives');
    is($smtp->('data', { connection_id => $id })->{success}, 1, 'data');
    like($smtp->('datasend', { connection_id => $id, data => undef })->{error}, qr/^Message send failed: no data to send/, 'empty message');
    is($smtp->('quit', { connection_id => $id })->{success}, 1, 'quit in DATA');
    is_deeply($smtp->('mail', { connection_id => 'smtp_1_deadbeef', sender => 'x' }), { success => 0, error => 'Invalid connection ID: smtp_1_deadbeef' }, 'unknown id');
};

subtest 'refused, silent, and a server that stops answering mid-message' => sub {
    like($smtp->('new', { host => $S->{host}, port => $S->{closed_port}, timeout => 2 })->{error},
        qr/^SMTP connection failed: 127\.0\.0\.1:\d+: Connection refused$/, 'refused');
    my $t0 = time;
    like($smtp->('new', { host => $S->{host}, port => $S->{silent_port}, timeout => 1 })->{error},
        qr/^SMTP connection failed: reading the reply: no answer from 127\.0\.0\.1:\d+ within 1 s/, 'silent server');
    cmp_ok(time - $t0, '<', 4, 'within the timeout');
    my $id = $smtp->('new', { host => $S->{host}, port => $S->{port}, timeout => 1 })->{connection_id};
    $smtp->('mail', { connection_id => $id, sender => 'job@example.test' });
    $smtp->('to', { connection_id => $id, recipient => 'ops@example.test' });
    $smtp->('data', { connection_id => $id });
    $smtp->('datasend', { connection_id => $id, data => "X-Sink: stall\n\nbody\n" });
    $t0 = time;
    like($smtp->('datasend', { connection_id => $id })->{error}, qr/no answer from 127\.0\.0\.1:\d+ within 1 s; connection closed/, 'timeout at the end of data');
    cmp_ok(time - $t0, '<', 4, 'within the timeout');
    is($smtp->('get_connection_info', { connection_id => $id })->{success}, 0, 'the dead connection was dropped');
    is_deeply($smtp->('cleanup_stale_connections'), { success => 1, cleaned => 0, active_connections => 0 }, 'cleanup_stale_connections');
};

$d->stop;
done_testing;
