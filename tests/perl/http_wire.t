# http_helper vs LWP::UserAgent 6.68 on the wire: the same requests go through BridgeClient
# (exactly what HTTPHelper.pm sends for $ua->request / get / post) and through the real
# LWP::UserAgent, to a raw capture server (tests/_support/http_server.ts) that answers with
# the exact bytes it received. Request line, header names, case and order, Content-Length
# and body bytes must be identical. No `use utf8`: literals are Perl byte strings.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Encode ();
use LWP::UserAgent;
use HTTP::Request;
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
my @warnings;
$SIG{__WARN__} = sub { push @warnings, $_[0] };

# What HTTPHelper.pm sends: method, url, headers (User-Agent always), content, timeout, verify_ssl.
sub bridge {
    my ($method, $url, $headers, $content) = @_;
    my %p = (method => $method, url => $url, headers => { 'User-Agent' => 'LWP::UserAgent/6.00', @$headers },
        timeout => 10, verify_ssl => 1);
    $p{content} = $content if defined $content;
    return $c->call_python('http_helper', 'lwp_request', \%p);
}
sub lwp {
    my ($method, $url, $headers, $content) = @_;
    return $ua->request(HTTP::Request->new($method => $url, ['User-Agent' => 'LWP::UserAgent/6.00', @$headers],
        $content));
}
# The captured request: bytes both ways (the capture server answers application/octet-stream).
sub wire_of_bridge { my $r = bridge(@_); die "bridge: $r->{status_line}" unless $r->{success}; $r->{content} }
sub wire_of_lwp    { my $r = lwp(@_);    die "LWP: " . $r->status_line unless $r->is_success; $r->content }

my $cap = $S->{capture};
my @cases = (
    ['GET with a query', 'GET', "$cap/a/b?x=1&y=%20", []],
    ['header names as the caller wrote them', 'GET', "$cap/h", ['X-Custom-Header' => 'v', 'Accept' => 'text/*']],
    ['lower-case and underscore names, as HTTP::Headers rewrites them', 'GET', "$cap/h2",
        ['x-lower-case' => '1', 'X_Under_Score' => '2', 'content-type' => 'text/plain', 'X-ALL-CAPS' => '3']],
    ['header order: HTTP::Headers canonical order', 'POST', "$cap/o",
        ['Zeta' => 'z', 'Content-Type' => 'text/plain', 'Authorization' => 'Basic eDp5', 'Accept' => '*/*',
         'Alpha' => 'a', 'Cache-Control' => 'no-cache', 'Referer' => 'http://r/'], 'x'],
    ['header value with a newline becomes a space', 'GET', "$cap/n", ['X-Multi' => "a\nb"]],
    ['UTF-8 byte-string body (14 bytes)', 'POST', "$cap/p", ['Content-Type' => 'text/plain; charset=UTF-8'],
        "Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac"],
    ['body "0"', 'POST', "$cap/z", ['Content-Type' => 'text/plain'], '0'],
    ['empty POST: no Content-Length', 'POST', "$cap/e", ['Content-Type' => 'text/plain'], ''],
    ['POST without content', 'POST', "$cap/u", []],
    ['binary 0..255 body (256 bytes)', 'PUT', "$cap/bin", ['Content-Type' => 'application/octet-stream'],
        join('', map { chr } 0 .. 255)],
    ['DELETE', 'DELETE', "$cap/d", []],
    ['HEAD', 'HEAD', "$cap/hd", []],
    ['a right Content-Length given by the caller stays in place', 'POST', "$cap/cl", ['Content-Length' => 3, 'Content-Type' => 'text/plain'], 'abc'],
    ['a wrong Content-Length is fixed', 'POST', "$cap/cl2", ['Content-Length' => 9], 'abc'],
    ['a byte-string path and query are percent-encoded byte for byte', 'GET', "$cap/caf\xc3\xa9 x?q=\xc3\xa9&r=a b|c^d`{}<>'\"#frag", []],
    ['a wide-character URL is percent-encoded as UTF-8', 'GET', "$cap/\x{65e5}?k=caf\x{e9}", []],
    ['query characters the WHATWG parser would re-encode', 'GET', "$cap/q?a='x'&b=%41%zz&c=\\", []],
    ['no path: "/"', 'GET', "$cap", []],
    ['only a query', 'GET', "$cap?x=1", []],
    ['userinfo in the URL becomes Basic Authorization', 'GET', do { (my $u = $cap) =~ s{//}{//us%65r:p%40ss@}; "$u/auth" }, []],
);
for my $case (@cases) {
    my ($name, @req) = @$case;
    my $lwp = wire_of_lwp(@req);
    # HEAD has no response body; compare the status then.
    if ($req[0] eq 'HEAD') {
        is(bridge(@req)->{status_line}, lwp(@req)->status_line, "$name: status line");
        next;
    }
    is(wire_of_bridge(@req), $lwp, "$name: same bytes on the wire");
}

subtest 'the byte-string body goes out as its 14 bytes, 0..255 as 256' => sub {
    my $w = wire_of_bridge('POST', "$cap/p", [], "Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac");
    like($w, qr/\r\nContent-Length: 14\r\n\r\nZ\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac\z/, '14 bytes, unchanged');
    $w = wire_of_bridge('POST', "$cap/bin", [], join('', map { chr } 0 .. 255));
    like($w, qr/\r\nContent-Length: 256\r\n\r\n/, '256 bytes announced');
    is(substr($w, -256), join('', map { chr } 0 .. 255), 'and sent');
};

subtest 'a wide-character body: LWP croaks, the wrapper lets it through as UTF-8' => sub {
    my $wide = "caf\x{e9} \x{65e5}\x{672c}";
    ok(!eval { lwp('POST', "$cap/w", [], $wide); 1 }, 'HTTP::Message refuses it');
    like($@, qr/^HTTP::Message content must be bytes/, 'with its message');
    is(wire_of_bridge('POST', "$cap/w", ['Content-Type' => 'text/plain'], $wide),
        wire_of_lwp('POST', "$cap/w", ['Content-Type' => 'text/plain'], Encode::encode_utf8($wide)),
        'the bridge sends the UTF-8 bytes, as LWP would send encode_utf8 of it');
};

subtest 'a large binary body (2 MiB) goes out untruncated' => sub {
    my $big = join('', map { chr(($_ * 7 + ($_ >> 8)) & 255) } 0 .. (2 * 1024 * 1024 - 1));
    my $b = wire_of_bridge('POST', "$cap/big", ['Content-Type' => 'application/octet-stream'], $big);
    my $l = wire_of_lwp('POST', "$cap/big", ['Content-Type' => 'application/octet-stream'], $big);
    is(length($b), length($l), 'same length (' . length($l) . ' bytes)');
    ok($b eq $l, 'same bytes');
    is(substr($b, -length $big), $big, 'the body is the whole 2 MiB');
};

SKIP: {
    skip 'every Fetch-"bad" port candidate is taken on this machine', 2 unless $S->{bad_port};
    my ($port) = $S->{bad_port} =~ /:(\d+)$/;
    is(wire_of_bridge('GET', "$S->{bad_port}/x", []), wire_of_lwp('GET', "$S->{bad_port}/x", []),
        "port $port (a Fetch \"bad port\") is reachable, same bytes as LWP");
    is(bridge('GET', "$S->{bad_port}/x", [])->{status_line}, '200 Captured', 'the server\'s own reason phrase');
}

subtest 'plain HTTP through the caller\'s proxy: absolute-form target, proxy credentials' => sub {
    # http_helper reads http_proxy from the CALLING process, so the bridge call runs in a child.
    my $script = q{
        use lib $ARGV[0]; use BridgeClient;
        my $r = BridgeClient->new->call_python('http_helper', 'lwp_request', { method => 'GET', url => $ARGV[1],
            headers => { 'User-Agent' => 'LWP::UserAgent/6.00' }, timeout => 10, verify_ssl => 1 });
        binmode STDOUT; print unpack('H*', $r->{content});
    };
    for my $proxy ($cap, do { (my $p = $cap) =~ s{//}{//pu:p%3Aw@}; $p }) {
        local $ENV{http_proxy} = $proxy;
        open(my $kid, '-|', $^X, '-e', $script, "$FindBin::Bin/lib", 'http://service.invalid/p?q=1#f') or die "fork: $!";
        my $bridge = pack('H*', do { local $/; <$kid> } // '');
        close $kid;
        my $pua = LWP::UserAgent->new(timeout => 10);
        $pua->proxy(['http'], $proxy);
        my $real = $pua->request(HTTP::Request->new(GET => 'http://service.invalid/p?q=1#f', ['User-Agent' => 'LWP::UserAgent/6.00']));
        is($bridge, $real->content, "proxy $proxy: same bytes as LWP with that proxy");
        like($bridge, qr{^GET http://service\.invalid/p\?q=1#f HTTP/1\.1\r\n}, 'absolute-form request line, fragment included as LWP sends it');
    }
};

is_deeply([map { /^(.*?) at \S+ line \d+\.$/ ? $1 : $_ } @warnings], ['Content-Length header value was wrong, fixed'],
    'the only warning is LWP\'s own, for the wrong Content-Length');

$d->stop;
done_testing;
