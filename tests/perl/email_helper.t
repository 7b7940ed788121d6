# email_helper through a client that behaves like CPANBridge.pm v2.00, against an smtp-server sink
# started by this test: send_simple, send_multipart, send_with_file, send_email, send_html_email,
# validate_email; `success` in every result (helpers contract §2.5); UTF-8 from Perl byte strings;
# attachments relative to the caller's cwd; AUTH; and the failures (missing attachment, wrong
# password, refused connection, silent server, rejected recipient, server that stalls mid-message).
# Debian has no Mail::Sender, so the messages are checked by parsing them (mailparser-free: the raw
# MIME is inspected here with core Perl MIME::Base64 / MIME::QuotedPrint).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(decode_base64);
use MIME::QuotedPrint ();
use Encode qw(decode);
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $mails = tempdir('cb_mail_sink_XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $srv = TestServer->start('smtp_sink.ts', $mails);
my $S = $srv->facts;

my $d = TestDaemon->start();
my $c = BridgeClient->new;
sub plain { my ($v) = @_; ref $v eq "HASH" ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq "ARRAY" ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }
my $mail = sub { plain($c->call_python('email_helper', @_)) };
sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or return undef; local $/; my $x = <$fh>; $x }
sub spew  { my ($f, $x) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $x; close $fh }
sub message { my ($n) = @_; my $deadline = time + 10; sleep 0.01 until -e "$mails/$n.json" || time > $deadline; slurp("$mails/$n.eml") }

my $work = tempdir('cb_mail_t_XXXXXX', TMPDIR => 1, CLEANUP => 1);
chdir $work or die $!;
my %base = (smtp_host => $S->{host}, smtp_port => $S->{port}, from => 'Job <job@example.test>');

subtest 'send_simple: success, CRLF, dot line, UTF-8 byte strings' => sub {
    my $r = $mail->('send_simple', { %base, to => 'a@example.test, b@example.test', subject => "Gr\xc3\xbc\xc3\x9fe",
        msg => "line 1\n.dot line\n\xc3\x84rger\n" });
    is($r->{success}, 1, 'success is returned') or diag explain $r;
    is($r->{status}, 'sent', 'status');
    is_deeply($r->{accepted}, ['a@example.test', 'b@example.test'], 'accepted');
    my $m = message(1);
    unlike($m, qr/(?<!\r)\n/, 'CRLF line ends only');
    like($m, qr/^Subject: =\?UTF-8\?Q\?Gr=C3=BC=C3=9Fe\?=\r$/m, 'UTF-8 subject, encoded once');
    like($m, qr/^Content-Type: text\/plain; charset=utf-8\r$/m, 'charset');
    like($m, qr/\r\n\.dot line\r\n/, 'the dot line arrives as written');
    like($m, qr/=C3=84rger/, 'UTF-8 body');
    is_deeply(decode_json(slurp("$mails/1.json"))->{to}, ['a@example.test', 'b@example.test'], 'envelope');
};

subtest 'send_multipart: attachments relative to the caller cwd, encodings, headers' => sub {
    my $bin = join '', map { chr(($_ * 7) % 256) } 0 .. 4999;
    spew('data.bin', $bin);
    spew('report.csv', "a;b\n1;2\n");
    my $r = $mail->('send_multipart', { %base, to => ['c@example.test'], subject => 'Report', body => "See attached.\n",
        body_encoding => 'quoted-printable', headers => { 'X-Job' => 'nightly-42' }, multipart_type => 'mixed',
        attachments => [
            { file => 'data.bin', ctype => 'application/octet-stream', encoding => 'Base64', name => 'data.bin', disposition => 'attachment' },
            { file => "$work/report.csv", ctype => 'text/csv', encoding => '7bit', description => 'the numbers' },
        ] });
    is($r->{success}, 1, 'sent') or diag explain $r;
    my $m = message(2);
    like($m, qr/^X-Job: nightly-42\r$/m, 'custom header');
    like($m, qr/^Content-Type: multipart\/mixed;/m, 'multipart/mixed');
    like($m, qr/^Content-Description: the numbers\r$/m, 'description');
    my ($b64) = $m =~ /filename=data\.bin\r\n(?:[^\r]+\r\n)*\r\n([A-Za-z0-9+\/=\r\n]+?)\r\n--/;
    is(decode_base64($b64 // ''), $bin, 'binary attachment intact');
    like($m, qr/a;b\r\n1;2\r\n/, '7bit text attachment in canonical form');
};

subtest 'send_with_file, send_email, send_html_email, validate_email' => sub {
    spew('log.txt', "done\n");
    is($mail->('send_with_file', { %base, to => 'd@example.test', subject => 'log', msg => 'attached', file => 'log.txt' })->{success}, 1, 'send_with_file');
    like(message(3), qr/^Content-Type: text\/plain; name=log\.txt\r$/m, 'content type from the extension');
    is($mail->('send_email', { %base, to => 'e@example.test', subject => 'plain', body => 'hi' })->{success}, 1, 'send_email');
    is($mail->('send_html_email', { %base, to => 'f@example.test', subject => 'html', html => '<p>hi</p>' })->{success}, 1, 'send_html_email');
    like(message(5), qr/^Content-Type: text\/html; charset=utf-8\r$/m, 'html part');
    is_deeply($mail->('validate_email', { email => 'x.y@example.test' }), { success => 1, valid => 1, email => 'x.y@example.test' }, 'valid address');
    is($mail->('validate_email', { email => 'not an address' })->{valid}, 0, 'invalid address');
};

# The bytes a reader gets back from a message: RFC 2047 words decoded to bytes, bodies decoded
# from quoted-printable/base64; line ends canonical (CRLF → LF) for comparison.
sub find_message {
    my ($rcpt) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        for my $j (glob("$mails/*.json")) {
            my $env = eval { decode_json(slurp($j)) } or next;
            next unless grep { $_ eq $rcpt } @{ $env->{to} };
            (my $eml = $j) =~ s/\.json$/.eml/;
            return slurp($eml);
        }
        sleep 0.02;
    }
    return undef;
}
sub header_bytes {
    my ($m, $name) = @_;
    my ($head) = split /\r\n\r\n/, $m, 2;
    $head =~ s/\r\n[ \t]+/ /g;
    my ($v) = $head =~ /^\Q$name\E: (.*)$/mi or return undef;
    $v =~ s/\r$//;
    $v =~ s/(\?=)\s+(=\?)/$1$2/g;
    $v =~ s{=\?[^?]+\?([BbQq])\?([^?]*)\?=}{ uc $1 eq 'B' ? decode_base64($2) : do { (my $q = $2) =~ tr/_/ /; MIME::QuotedPrint::decode_qp($q) } }ge;
    return $v;
}
sub part_bytes {    # the body of a single-part message, or the first text part of a multipart one
    my ($m) = @_;
    my ($head, $body) = split /\r\n\r\n/, $m, 2;
    if ($head =~ /boundary="?([^";\r\n]+)"?/) {
        my $b = $1;
        my ($part) = $body =~ /--\Q$b\E\r\n(.*?)\r\n--\Q$b\E/s;
        ($head, $body) = split /\r\n\r\n/, $part, 2;
    } else {
        $body =~ s/\r\n\z//;
    }
    my ($cte) = $head =~ /^Content-Transfer-Encoding: (\S+)/mi;
    $body = lc($cte // '') eq 'quoted-printable' ? MIME::QuotedPrint::decode_qp($body)
          : lc($cte // '') eq 'base64' ? decode_base64($body) : $body;
    $body =~ s/\r\n/\n/g;
    return $body;
}

subtest 'the Perl string rule: subject, body and file name bytes arrive as those bytes' => sub {
    my $no_crlf = join '', map { chr } grep { $_ != 10 && $_ != 13 } 0 .. 255;
    my @cases = (
        [ 'UTF-8 byte strings', "Gr\xc3\xbc\xc3\x9fe aus Z\xc3\xbcrich \xe2\x9c\x93", "K\xc3\xb6ln \xe2\x82\xac\nzweite Zeile\n" ],
        [ 'Latin-1 byte strings (not UTF-8)', "caf\xe9 cr\xe8me", "na\xefve r\xe9sum\xe9\n" ],
        [ 'binary body (all bytes but CR/LF)', 'binary', $no_crlf ],
        [ '"0"', '0', '0' ],
        [ 'empty body', 'empty', '' ],
    );
    my $i = 0;
    for my $case (@cases) {
        my ($name, $subject, $body) = @$case;
        my $rcpt = 'rule' . ++$i . '@example.test';
        my $r = $mail->('send_simple', { %base, to => $rcpt, subject => $subject, msg => $body });
        is($r->{success}, 1, "$name: sent") or diag explain $r;
        my $m = find_message($rcpt);
        is(header_bytes($m, 'Subject'), $subject, "$name: the subject decodes to the Perl bytes");
        (my $want = $body) =~ s/\n\z//;    # SMTP: a message's last line break is the terminator's
        is(part_bytes($m), $want, "$name: the body decodes to the Perl bytes");
    }
    # wide characters: their UTF-8, as Perl prints them
    my ($ws, $wb) = ("\x{65e5}\x{672c} caf\x{e9}", "body \x{1F600} \x{e9}\n");
    my $r = $mail->('send_multipart', { %base, to => 'rule-wide@example.test', subject => $ws, body => $wb, body_encoding => 'quoted-printable',
        attachments => [] });
    is($r->{success}, 1, 'wide characters: sent') or diag explain $r;
    my $m = find_message('rule-wide@example.test');
    is(header_bytes($m, 'Subject'), Encode::encode('UTF-8', $ws), 'wide characters: the subject is their UTF-8');
    is(part_bytes($m) . "\n", Encode::encode('UTF-8', $wb), 'wide characters: the body is their UTF-8');
    # a file name given as a UTF-8 byte string names the file with those bytes on disk
    my $fname = "r\xc3\xa9sum\xc3\xa9.txt";
    spew($fname, "cv\n");
    $r = $mail->('send_multipart', { %base, to => 'rule-file@example.test', subject => 'file', body => 'see',
        attachments => [ { file => $fname, ctype => 'text/plain', encoding => 'base64', name => $fname,
            disposition => "attachment; filename=$fname", description => 'Attached file' } ] });
    is($r->{success}, 1, 'byte-string file name: the file is found') or diag explain $r;
    $m = find_message('rule-file@example.test');
    # RFC 2231 (filename*0*=utf-8''…) in Content-Disposition, RFC 2047 in Content-Type's name
    my ($fn) = $m =~ /filename\*0?\*?=utf-8''([^;\r\n]+)/i;
    $fn =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge if defined $fn;
    my ($ct_name) = $m =~ /^Content-Type: text\/plain; name="([^"]+)"/mi;
    is(header_bytes("X: $ct_name\r\n\r\n", 'X'), $fname, 'byte-string file name: Content-Type name decodes to the same bytes');
    is($fn, $fname, 'byte-string file name: the attachment is named with the same bytes');
};

subtest 'attachments are read bounded, regular files only' => sub {
    mkdir 'adir';
    like($mail->('send_with_file', { %base, to => 'x@example.test', subject => 's', msg => 'm', file => 'adir' })->{error},
        qr{^Cannot read attachment \Q$work\E/adir: Cannot read '\Q$work\E/adir': a directory$}, 'a directory');
    like($mail->('send_with_file', { %base, to => 'x@example.test', subject => 's', msg => 'm', file => '/dev/zero' })->{error},
        qr{^Cannot read attachment /dev/zero: .*not a regular file}, '/dev/zero is refused, not read forever');
};

subtest 'AUTH (authid/authpwd) and a wrong password' => sub {
    is($mail->('send_simple', { %base, to => 'auth@example.test', subject => 's', msg => 'm', authid => 'mailer', authpwd => 'mail-pw' })->{success}, 1, 'authenticated');
    find_message('auth@example.test');
    my ($env) = grep { grep { $_ eq 'auth@example.test' } @{ $_->{to} } } map { decode_json(slurp($_)) } glob("$mails/*.json");
    is($env->{user}, 'mailer', 'the sink saw the user');
    is_deeply($mail->('send_simple', { %base, to => 'g@example.test', subject => 's', msg => 'm', authid => 'mailer', authpwd => 'wrong' }),
        { success => 0, status => 'failed', error => "Cannot send mail via $S->{host}:$S->{port}: authentication failed (535)" }, 'wrong password');
};

subtest 'failures' => sub {
    is_deeply($mail->('send_with_file', { %base, to => 'h@example.test', subject => 's', msg => 'm', file => 'nope.pdf' }),
        { success => 0, error => "Cannot read attachment $work/nope.pdf: No such file or directory" }, 'missing attachment');
    like($mail->('send_simple', { %base, smtp_port => $S->{closed_port}, to => 'h@example.test', subject => 's', msg => 'm' })->{error},
        qr/^Cannot send mail via 127\.0\.0\.1:\d+: Connection refused$/, 'refused');
    my $t0 = time;
    my $s = $mail->('send_simple', { %base, smtp_port => $S->{silent_port}, to => 'h@example.test', subject => 's', msg => 'm', timeout => 1 });
    is($s->{success}, 0, 'silent server');
    cmp_ok(time - $t0, '<', 4, 'within the timeout');
    like($mail->('send_simple', { %base, to => 'reject@example.test', subject => 's', msg => 'm' })->{error}, qr/Recipient address rejected/, 'rejected recipient');
    $t0 = time;
    my $st = $mail->('send_multipart', { %base, to => 'h@example.test', subject => 's', body => 'm', headers => { 'X-Sink' => 'stall' }, timeout => 1 });
    is($st->{success}, 0, 'server stops answering mid-message');
    like($st->{error}, qr/timeout/i, '... a timeout error');
    cmp_ok(time - $t0, '<', 4, 'within the timeout');
};

$d->stop;
my $logs = join '', map { slurp($_) // '' } glob($d->dir . '/*.log');
unlike($logs, qr/mail-pw/, 'the password never appears in the logs');
done_testing;
