# http_helper vs LWP::UserAgent 6.68 / HTTP::Message 6.44 on response bodies. HTTPHelper.pm
# returns one field for both `content` and `decoded_content`, and it must be what
# $response->decoded_content gives (or $response->content where decoded_content fails and
# returns undef): text types decoded by their charset, every other type as the raw bytes.
# Each case is fetched through BridgeClient (what the wrapper sends) and through LWP.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use LWP::UserAgent;
use URI::Escape qw(uri_escape);
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $srv = TestServer->start('http_server.ts');
my $S = $srv->facts;

my $d = TestDaemon->start;
my $c = BridgeClient->new;
my $ua = LWP::UserAgent->new(timeout => 10);

sub bridge_get {
    my ($url, $method) = @_;
    return $c->call_python('http_helper', 'lwp_request', { method => $method // 'GET', url => $url,
        headers => { 'User-Agent' => 'LWP::UserAgent/6.00' }, timeout => 10, verify_ssl => 1 });
}
# What a script read from LWP: decoded_content, or content when decoded_content gives undef.
sub lwp_body {
    my ($r) = @_;
    # LWP's own error responses: the text without Perl's " at FILE line N." (documented).
    if (($r->header('Client-Warning') // '') eq 'Internal response') {
        my ($first) = split /\n/, $r->content;
        $first =~ s/ at \S+ line \d+\.$//;
        return "$first\n";
    }
    my $dc = $r->decoded_content;
    return defined $dc ? $dc : $r->content;
}
sub typed {
    my (%q) = @_;
    return "$S->{http}/typed?" . join('&', map { "$_=" . uri_escape($q{$_}) } sort keys %q);
}
sub hexs { my $s = shift; $s =~ s/\s+//g; $s }
sub show { my $s = shift; join ' ', map { sprintf '%02x', ord } split //, substr($s, 0, 40) }

my @cases = (
    # [name, url]
    ['octet-stream 0..255', "$S->{http}/bytes"],
    ['chunked transfer coding, 100,000 binary bytes', "$S->{http}/chunked"],
    ['Transfer-Encoding: gzip, chunked', "$S->{capture}/raw/te-gzip"],
    ['Transfer-Encoding: deflate, chunked', "$S->{capture}/raw/te-deflate"],
    ['the server\'s own reason phrase', "$S->{capture}/raw/reason"],
    (map { ["raw reply $_", "$S->{capture}/raw/$_"] } qw(http09 no-phrase http10-eof short empty unfinished-head lf-only extra-spaces)),
    ['octet-stream ending fa fb fc fd fe ff', typed(ct => 'application/octet-stream', hex => '00 41 fa fb fc fd fe ff')],
    ['image/png', typed(ct => 'image/png', hex => '89504e470d0a1a0a 0000000d49484452 ff d8 80')],
    ['application/zip', typed(ct => 'application/zip', hex => '504b0304 1400 0000 0800 c3a9 ff')],
    ['application/pdf', typed(ct => 'application/pdf', hex => '255044462d312e340a25e2e3cfd30a')],
    ['no Content-Type at all', typed(hex => 'c3a9 ff 00')],
    ['application/json with UTF-8 (bytes: not a text type)', typed(ct => 'application/json', hex => hexs('7b2261223a22c3a9e697a5227d'))],
    ['application/json; charset=utf-8 (still bytes)', typed(ct => 'application/json; charset=utf-8', hex => '22c3a922')],
    ['form-urlencoded response', typed(ct => 'application/x-www-form-urlencoded', hex => '613dc3a9')],
    ['text/plain; charset=utf-8', typed(ct => 'text/plain; charset=utf-8', hex => '5a c3bc 72696368 e697a5')],
    ['text/plain; charset=UTF-8 quoted', typed(ct => 'text/plain; charset="UTF-8"', hex => 'c3a9')],
    ['text/plain; charset=utf-8, invalid bytes', typed(ct => 'text/plain; charset=utf-8',
        hex => 'fa fb fc fd fe ff 41 c3 28 42 ed a0 80 43 f4 90 80 80 44 ef bf be 45 c0 af 46 e6 97')],
    ['text/plain; charset=utf8 (lax), a nonchar and an overlong form', typed(ct => 'text/plain; charset=utf8', hex => 'efbfbe 41 c0af 42 e697a5')],
    ['text/plain; charset=iso-8859-1', typed(ct => 'text/plain; charset=iso-8859-1', hex => '636166e9 80 9f ff')],
    ['text/plain; charset=latin1', typed(ct => 'text/plain; charset=latin1', hex => 'e9 80 ff')],
    ['text/plain; charset=us-ascii with high bytes', typed(ct => 'text/plain; charset=us-ascii', hex => '41 e9 ff')],
    ['text/plain; charset=windows-1252', typed(ct => 'text/plain; charset=windows-1252', hex => '80 93 94 e9 41')],
    ['text/plain; charset=iso-8859-15', typed(ct => 'text/plain; charset=iso-8859-15', hex => 'a4 e9 bd')],
    ['text/plain; charset=iso-8859-2', typed(ct => 'text/plain; charset=iso-8859-2', hex => 'a1 b1 e8')],
    ['text/plain; charset=koi8-r', typed(ct => 'text/plain; charset=koi8-r', hex => 'f0d2c9d7c5d4')],
    ['text/plain; charset=shift_jis', typed(ct => 'text/plain; charset=shift_jis', hex => '93fa967b')],
    ['text/plain; charset=utf-16le', typed(ct => 'text/plain; charset=utf-16le', hex => 'e5 65 2c 67 41 00')],
    ['text/plain; charset=utf-16be', typed(ct => 'text/plain; charset=utf-16be', hex => '65 e5 67 2c 00 41')],
    ['text/plain; charset=utf-16 with a BOM', typed(ct => 'text/plain; charset=utf-16', hex => 'fffe e565 4100')],
    ['text/plain; charset=utf-16 without a BOM (read big-endian)', typed(ct => 'text/plain; charset=utf-16', hex => 'e565 4100')],
    ['text/plain; charset=no-such-charset (unknown: decoded_content fails)', typed(ct => 'text/plain; charset=no-such-charset', hex => '41 e9')],
    ['text/plain without charset, ASCII', typed(ct => 'text/plain', hex => '616263')],
    ['text/plain without charset, valid UTF-8', typed(ct => 'text/plain', hex => '636166c3a9 e697a5')],
    ['text/plain without charset, not UTF-8 (ISO-8859-1)', typed(ct => 'text/plain', hex => '636166e9 ff')],
    ['text/plain without charset, UTF-8 BOM', typed(ct => 'text/plain', hex => 'efbbbf 41 c3a9')],
    ['text/plain without charset, UTF-16LE BOM', typed(ct => 'text/plain', hex => 'fffe 4100 e900')],
    ['text/csv without charset, Latin-1', typed(ct => 'text/csv', hex => '613b62e90a')],
    ['text/plain, empty body', typed(ct => 'text/plain; charset=utf-8', hex => '')],
    ['text/html; charset=utf-8', typed(ct => 'text/html; charset=utf-8', hex => unpack('H*', "<p>caf\xc3\xa9</p>"))],
    ['text/html, <meta charset> iso-8859-1', typed(ct => 'text/html', hex => unpack('H*', qq{<html><head><meta charset="iso-8859-1"></head><body>caf\xe9</body></html>}))],
    ['text/html, <meta http-equiv> utf-8', typed(ct => 'text/html', hex => unpack('H*', qq{<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>caf\xc3\xa9</html>}))],
    ['application/xml, no declaration (UTF-8)', typed(ct => 'application/xml', hex => unpack('H*', "<a>caf\xc3\xa9</a>"))],
    ['application/xml, encoding="ISO-8859-1" declaration (removed)', typed(ct => 'application/xml', hex => unpack('H*', qq{<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>}))],
    ['text/xml; charset=utf-8 with a declaration (removed)', typed(ct => 'text/xml; charset=utf-8', hex => unpack('H*', qq{<?xml version="1.0" encoding='UTF-8'?>\n<a>\xc3\xa9</a>}))],
    ['text/xml; charset=iso-8859-1 keeps its declaration', typed(ct => 'text/xml; charset=iso-8859-1', hex => unpack('H*', qq{<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>}))],
    ['image/svg+xml (an XML type)', typed(ct => 'image/svg+xml', hex => unpack('H*', "<svg>\xc3\xa9</svg>"))],
    ['application/xhtml+xml with a UTF-8 BOM', typed(ct => 'application/xhtml+xml', hex => unpack('H*', "\xef\xbb\xbf<html>\xc3\xa9</html>"))],
    ['gzip, text/plain; charset=utf-8', typed(ct => 'text/plain; charset=utf-8', ce => 'gzip', hex => '5ac3bc726963 68 e697a5')],
    ['gzip, application/octet-stream', typed(ct => 'application/octet-stream', ce => 'gzip', hex => '00 01 fe ff 80')],
    ['deflate (zlib), text/plain', typed(ct => 'text/plain; charset=iso-8859-1', ce => 'deflate', hex => '636166e9')],
    ['deflate (raw, as some servers send it)', typed(ct => 'text/plain; charset=utf-8', ce => 'deflate-raw', hex => 'c3a9c3a9')],
    ['Content-Encoding gzip over bytes that are not gzip (decoded_content fails)', typed(ct => 'text/plain', ce_header => 'gzip', hex => '41 42 e9')],
    ['Content-Encoding br (no Brotli in libwww-perl: decoded_content fails)', typed(ct => 'text/plain', ce_header => 'br', hex => '41 e9')],
    ['Content-Encoding identity', typed(ct => 'text/plain; charset=utf-8', ce_header => 'identity', hex => 'c3a9')],
    ['Content-Encoding base64', typed(ct => 'text/plain; charset=utf-8', ce_header => 'base64', hex => unpack('H*', "w6nml6U=\n"))],
);
for my $case (@cases) {
    my ($name, $url) = @$case;
    my $r = bridge_get($url);
    my $real = $ua->get($url);
    my $want = lwp_body($real);
    ok($r->{content} eq $want, "$name: same body as LWP") or diag "bridge: " . show($r->{content}) . "\nLWP:    " . show($want);
    is($r->{status_line}, $real->status_line, "$name: same status line");
}

subtest 'a large binary body (5 MB) comes back untruncated, byte for byte' => sub {
    my $url = "$S->{http}/blob/5000000";
    my $r = bridge_get($url);
    my $real = $ua->get($url);
    is(length($r->{content}), 5_000_000, 'all 5,000,000 bytes');
    ok($r->{content} eq $real->decoded_content, 'the same bytes as LWP');
    ok($r->{content} !~ /[^\x00-\xff]/, 'one character per byte');
};

subtest 'deliberate difference: lax utf8 above U+10FFFF' => sub {
    my $url = typed(ct => 'text/plain; charset=utf8', hex => '41 f4908080 42');
    is(lwp_body($ua->get($url)), "A\x{110000}B", 'LWP gives Perl\'s chr(0x110000)');
    is(bridge_get($url)->{content}, "A\x{fffd}B", 'the bridge gives U+FFFD (JSON cannot carry it)');
};

subtest 'HEAD: no body' => sub {
    my $r = bridge_get("$S->{http}/bytes", 'HEAD');
    my $real = $ua->head("$S->{http}/bytes");
    is_deeply([$r->{status_line}, $r->{content}], [$real->status_line, $real->decoded_content], 'same as LWP');
};

$d->stop;
done_testing;
