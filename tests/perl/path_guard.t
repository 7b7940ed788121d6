# The shared-socket safeguards through the v2.00 client: with CPAN_BRIDGE_ALLOWED_PATHS a file
# outside the listed directories is refused with a clear error (and the call, falling back to
# process mode as v2.00 does, then runs as the caller); the daemon's own log is never written
# through a helper; files inside the allowed directory work as before.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use TestDaemon;
use BridgeClient;
use JSON::PP ();

my $allowed = tempdir('allowed-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $outside = tempdir('outside-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $d = TestDaemon->start(CPAN_BRIDGE_ALLOWED_PATHS => $allowed);
local $BridgeClient::FALLBACK_ENABLED = 0;
my $c = BridgeClient->new;

sub spit { my ($p, $t) = @_; open my $fh, '>', $p or die "$p: $!"; print $fh $t; close $fh }
spit("$allowed/in.xml", '<opt><w>in</w></opt>');
spit("$outside/out.xml", '<opt><w>out</w></opt>');

my $in = $c->call_python('xml', 'xml_in', { source => "$allowed/in.xml", source_type => 'file', options => {} });
is(eval { $in->{result}{w} } // '', 'in', 'a file in the allowed directory is read');

my $out = $c->call_python('xml', 'xml_in', { source => "$outside/out.xml", source_type => 'file', options => {} });
ok(!$out->{success}, 'a file outside CPAN_BRIDGE_ALLOWED_PATHS is refused');
my $log_before = -s $d->daemon_log;
my $w = $c->call_python('xml', 'xml_out', { data => { a => 1 }, options => { OutputFile => $d->daemon_log } });
ok(!$w->{success}, "the daemon's own log cannot be written through a helper");
cmp_ok(-s $d->daemon_log, '>=', $log_before, '... and it was not truncated');
# What the daemon answers (v2.00 hides the text from its caller, contract §2.7).
my $raw = JSON::PP::decode_json(TestDaemon::raw_call($d->socket, JSON::PP::encode_json({
    module => 'xml', function => 'xml_in', request_id => time() . "_$$\_1",
    params => { source => "$outside/out.xml", source_type => 'file', options => {} } })));
like(JSON::PP->new->canonical->encode($raw), qr/outside CPAN_BRIDGE_ALLOWED_PATHS \(\Q$allowed\E\)/,
    'the refusal names the path and the setting');

done_testing;
