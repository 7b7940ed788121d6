# http_helper through a client that behaves like CPANBridge.pm v2.00, against local HTTP and
# HTTPS (self-signed, made with `openssl req`) servers and a forward proxy started by this test.
# The same requests go through the real LWP::UserAgent (libwww-perl) for comparison.
use strict;
use warnings;
use utf8;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use LWP::UserAgent;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $srv = TestServer->start('http_server.ts');
my $S = $srv->facts;

my $d = TestDaemon->start;
my $c = BridgeClient->new;
sub plain { my ($v) = @_; ref $v eq 'HASH' ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq 'ARRAY' ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }
my $http = sub { plain($c->call_python('http_helper', @_)) };
my $lwp = LWP::UserAgent->new(timeout => 10);

# What HTTPHelper.pm sends for $ua->get($url) and $ua->post($url, Content_Type => …, Content => …).
sub wrapper_get  { my ($url, %o) = @_; { method => 'GET', url => $url, headers => { 'User-Agent' => 'LWP::UserAgent/6.00' }, timeout => 180, verify_ssl => 1, %o } }
sub wrapper_post {
    my ($url, $ct, $content, %o) = @_;
    my $p = { method => 'POST', url => $url, headers => { 'User-Agent' => 'LWP::UserAgent/6.00', 'Content-Type' => $ct }, timeout => 180, verify_ssl => 1, content => $content, %o };
    $p->{form_encoded_content} = $content if $ct eq 'application/x-www-form-urlencoded';
    return $p;
}

subtest 'lwp_request GET: flat result, same as LWP' => sub {
    my $r = $http->('lwp_request', wrapper_get("$S->{http}/get?q=1"));
    my $real = $lwp->get("$S->{http}/get?q=1");
    is($r->{success}, 1, 'success');
    is($r->{status_code}, $real->code, 'code equals LWP');
    is($r->{status_line}, $real->status_line, 'status line equals LWP');
    is($r->{content}, $r->{body}, 'body is a copy of content');
    is(decode_json($r->{content})->{headers}{'user-agent'}, 'LWP::UserAgent/6.00', 'User-Agent sent');
    is($r->{url}, "$S->{http}/get?q=1", 'url');
    is($r->{headers}{'Content-Type'}, 'application/json', 'response headers');
    ok($r->{elapsed} >= 0, 'elapsed');
};

subtest 'form and multipart posts as the wrapper sends them' => sub {
    my $form = 'ticket=INC%20123&text=caf%C3%A9&monitor=1';
    my $r = $http->('lwp_request', wrapper_post("$S->{http}/post", 'application/x-www-form-urlencoded', $form));
    my $e = decode_json($r->{content});
    is($e->{body}, $form, 'form body arrives unchanged (no injection filter on on<word>=)');
    is($e->{headers}{'content-type'}, 'application/x-www-form-urlencoded', 'content type');
    my $real = $lwp->post("$S->{http}/post", Content_Type => 'application/x-www-form-urlencoded', Content => $form);
    is(decode_json($real->decoded_content)->{body}, $e->{body}, 'LWP sends the same body');

    my $mp = "--B0und\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nline1\nline2\r\n--B0und--\r\n";
    $r = $http->('post', { url => "$S->{http}/post", headers => { 'Content-Type' => 'multipart/form-data; boundary=B0und' }, content => $mp });
    is(decode_json($r->{content})->{body}, $mp, 'multipart body with CR and LF intact');
};

subtest 'get/put/delete/head' => sub {
    is(decode_json($http->('get', { url => "$S->{http}/echo" })->{content})->{method}, 'GET', 'get');
    is(decode_json($http->('put', { url => "$S->{http}/echo", content => 'x=1' })->{content})->{body}, 'x=1', 'put');
    is(decode_json($http->('delete', { url => "$S->{http}/echo" })->{content})->{method}, 'DELETE', 'delete');
    my $h = $http->('head', { url => "$S->{http}/echo" });
    is_deeply([$h->{status_code}, $h->{content}], [200, ''], 'head');
};

subtest 'HTTP errors and Mechanize status codes, same as LWP' => sub {
    for my $code (403, 404, 500, 503) {
        my $r = $http->('lwp_request', wrapper_get("$S->{http}/status/$code"));
        my $real = $lwp->get("$S->{http}/status/$code");
        is($r->{success}, 0, "$code is a failure");
        is($r->{status_code}, $real->code, "$code code equals LWP");
        is($r->{content}, $real->decoded_content, "$code body equals LWP");
        like($r->{error}, qr/^HTTP $code: /, "$code error text");
    }
};

subtest 'redirects as LWP: GET/HEAD only, at most 7' => sub {
    for my $n (3, 7, 8, 9) {
        my $r = $http->('lwp_request', wrapper_get("$S->{http}/redirect/$n"));
        my $real = $lwp->get("$S->{http}/redirect/$n");
        is_deeply([@$r{qw(status_code status_line url)}], [$real->code, $real->status_line, $real->request->uri->as_string],
            "/redirect/$n: same code, status line and last URL as LWP");
    }
    for my $code (301, 302, 303, 307, 308) {
        my $r = $http->('lwp_request', wrapper_post("$S->{http}/redirect-code/$code", 'application/x-www-form-urlencoded', 'a=1'));
        my $real = $lwp->post("$S->{http}/redirect-code/$code", Content_Type => 'application/x-www-form-urlencoded', Content => 'a=1');
        is_deeply([@$r{qw(success status_line)}], [$real->is_success ? 1 : 0, $real->status_line], "POST answered with $code: not followed, as LWP");
    }
    my $h = $http->('lwp_request', { %{ wrapper_get("$S->{http}/redirect-code/303") }, method => 'HEAD' });
    is($h->{status_line}, $lwp->head("$S->{http}/redirect-code/303")->status_line, 'HEAD follows a 303, as LWP');
};

subtest 'HTTPS with a self-signed certificate and the verify switch' => sub {
    my $r = $http->('lwp_request', wrapper_get("$S->{https}/get"));
    is($r->{success}, 0, 'verify_ssl 1 refuses the certificate');
    like($r->{status_line}, qr/^500 Can't connect to 127\.0\.0\.1:\d+ \(certificate verify failed\)$/, 'LWP-style status line');
    like($r->{error}, qr/^Connection failed: .*certificate/i, 'naming the certificate');
    my $real = $lwp->get("$S->{https}/get");
    is_deeply([$r->{status_line}, $r->{status_code}], [$real->status_line, $real->code], 'LWP refuses it with the same status line');
    $r = $http->('lwp_request', wrapper_post("$S->{https}/post", 'application/x-www-form-urlencoded', 'k=v', verify_ssl => 0));
    is($r->{success}, 1, 'verify_ssl 0 (PERL_LWP_SSL_VERIFY_HOSTNAME=0) accepts it') or diag $r->{error};
    is(decode_json($r->{content})->{body}, 'k=v', 'body over TLS');
    my $loose = LWP::UserAgent->new(ssl_opts => { verify_hostname => 0, SSL_verify_mode => 0 });
    is($loose->get("$S->{https}/get")->code, 200, 'LWP with verification off agrees');
};

subtest 'proxy settings come from the calling process environment' => sub {
    my $script = q{
        use lib $ARGV[0]; use BridgeClient; use JSON::PP;
        my $r = BridgeClient->new->call_python('http_helper', 'get', { url => $ARGV[1] });
        print JSON::PP->new->canonical->encode({ content => $r->{content}, success => $r->{success} ? 1 : 0 });
    };
    local $ENV{http_proxy} = $S->{proxy};
    local $ENV{no_proxy} = 'skip.invalid';
    my $out = `$^X -e '$script' '$FindBin::Bin/lib' 'http://service.invalid/path?x=1'`;
    is(decode_json($out)->{content}, 'proxied GET http://service.invalid/path?x=1', 'request went through the caller\'s proxy');
    my $direct = $http->('get', { url => 'http://service.invalid/path' });
    is($direct->{success}, 0, 'this process has no proxy: the same URL fails to resolve');
    like($direct->{error}, qr/^Connection failed: /, 'as a connection error');
};

subtest 'failures: LWP\'s internal responses, same status lines' => sub {
    my $view = sub { my ($code, $line, $msg, $ok) = @_; [$code, $line, $msg, $ok ? 1 : 0] };
    my $ua2 = LWP::UserAgent->new(timeout => 2);
    for my $url ("http://127.0.0.1:$S->{closed_port}/", "$S->{silent}/", "$S->{http}/delay/3000", 'not a url', '',
        '/relative', 'foo://bar/', 'http:///x', "$S->{http}/status/299") {
        my $r = $http->('lwp_request', wrapper_get($url, timeout => 2));
        my $real = $ua2->get($url);
        is_deeply($view->(@$r{qw(status_code status_line reason success)}),
            $view->($real->code, $real->status_line, $real->message, $real->is_success), "'$url': same as LWP")
          or diag explain [$r->{status_line}, $real->status_line];
        # The body's first line too, without Perl's " at FILE line N." (documented difference).
        my ($want) = split /\n/, $real->decoded_content // '';
        $want =~ s/ at \S+ line \d+\.$// if defined $want;
        my ($got) = split /\n/, $r->{content};
        is($got // '', $want // '', "'$url': same first body line as LWP");
    }
    my $t0 = time;
    my $r = $http->('lwp_request', wrapper_get("$S->{silent}/", timeout => 2));
    my $took = time - $t0;
    ok($took >= 1.9 && $took < 5, "a silent server times out after the timeout (${took}s)");
    is($r->{error}, 'Request failed: read timeout', 'error text');
};

$d->stop;
done_testing;
