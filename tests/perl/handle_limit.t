# One client process may hold at most CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT open handles of a kind
# (documents, connections, ciphers…): a script that opens documents in a loop and never disposes
# of them gets a clear error at the limit instead of growing the daemon until the host runs out of
# memory for every client. With XML::DOM the documents would live in the script's own memory, so
# this is a deliberate difference (docs/operations.md); below the limit nothing changes. Handles
# that live and die with another (a document's node ids) are not counted.
use strict;
use warnings;
use Test::More;
use POSIX ();
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;

my $d = TestDaemon->start(CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT => 3);
my $c = BridgeClient->new;
sub dom { my ($f, $p) = @_; return $c->call_python('xml_dom_helper', $f, $p // {}) }
my $XML = '<r>' . join('', map { "<i n=\"$_\"/>" } 1 .. 20) . '</r>';

my $parser = dom('create_parser')->{result}{parser_id};
ok($parser, 'create_parser (1 of 3 parser handles)');
my @docs;
for my $n (1 .. 3) {
    my $r = dom('parse_string', { parser_id => $parser, xml_string => $XML });
    ok($r->{success}, "document $n of 3") or diag explain $r;
    push @docs, $r->{result}{document_id};
}
my $over = dom('parse_string', { parser_id => $parser, xml_string => $XML });
ok(!$over->{success}, 'a fourth open document is refused');
# CPANBridge.pm v2.00 re-sends a failed call three times and then reports its own text; the
# daemon's reply (each time the same refusal, nothing opened) is the last response it kept.
is($over->{error}, 'Daemon communication failed after 3 attempts', "the wrapper's own text, as for any failed call");
like($c->{last_daemon_response}{error}, qr/^Error in xml_dom_helper\.parse_string: Too many open domdoc handles for client process PID $$: 3 are open, the most one process may hold \(CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT\); close the ones it no longer needs/, 'with a clear error naming the setting');

# Node ids are a document's, not held to the limit: 21 element ids (the root and 20) from one.
my $nodes = dom('get_elements_by_tag_name', { document_id => $docs[0], tag_name => '*' });
is(scalar @{ $nodes->{result}{node_ids} // [] }, 21, "a document's 21 element ids are not limited");

# Disposing of one frees its place.
ok(dom('dispose_document', { document_id => $docs[0] })->{success}, 'dispose_document');
my $again = dom('parse_string', { parser_id => $parser, xml_string => $XML });
ok($again->{success}, 'after a dispose, a document can be opened again') or diag explain $again;

# Another process has its own allowance.
pipe(my $rd, my $wr) or die "pipe: $!";
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    close $rd;
    my $cc = BridgeClient->new;
    my $p = $cc->call_python('xml_dom_helper', 'create_parser', {})->{result}{parser_id};
    my $r = $cc->call_python('xml_dom_helper', 'parse_string', { parser_id => $p, xml_string => $XML });
    print $wr ($r->{success} ? "ok\n" : "failed: $r->{error}\n");
    close $wr;
    POSIX::_exit(0);
}
close $wr;
my $child = <$rd>;
waitpid($pid, 0);
is($child, "ok\n", 'another client process opens its own documents');

done_testing;
