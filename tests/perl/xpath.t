# xpath (XPathHelper.pm → XML::XPath) through a real daemon, compared with the real XML::XPath 1.48:
# same document, same queries, same node counts, names, string values, attributes and scalars.
use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;
use XML::XPath;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $XML = <<'XML';
<?xml version="1.0" encoding="UTF-8"?>
<DocumentMessage xmlns:q="urn:q" version="2">
  <Fax>
    <ToFaxNumber>
      +49 30 1234
    </ToFaxNumber>
    <ToName>Jürgen Größe — 東京</ToName>
    <Note>mixed <b>bold</b> and <i>italic</i> text &amp; more</Note>
    <Empty/>
    <?app-config reload="yes"?>
  </Fax>
  <apps>
    <app name="alpha" port="8080"><version name="1.0">one</version><version name="2.0">two</version></app>
    <app name="béta"><version name="3.0">three</version><!-- no port --></app>
  </apps>
  <q:item q:id="7" plain="x">Prefixed €</q:item>
  <![CDATA[raw <cdata> & stuff]]>
</DocumentMessage>
XML

my $d = TestDaemon->start;
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);
my $old_cwd = getcwd();
open my $fh, '>:encoding(UTF-8)', "$dir/config.xml" or die $!;
print $fh $XML;
close $fh;

sub xp { my ($f, $p) = @_; return $c->call_python('xpath', $f, $p) }

# XML::XPath's view of a find() result, in the shape the helper returns.
sub real_find {
    my ($ctx, $expr) = @_;
    local $SIG{__WARN__} = sub { };    # XML::XPath warns on processing instructions
    my $r = $ctx->find($expr);
    return { scalar => $r->value } unless $r->isa('XML::XPath::NodeSet');
    return { size => $r->size, nodes => [ map { real_node($_) } $r->get_nodelist ] };
}

sub real_node {
    my ($n) = @_;
    my %attrs;
    if ($n->getNodeType == 1 && $n->can('getAttributes')) {
        $attrs{ $_->getName } = $_->getValue for $n->getAttributes;
    }
    my $name = $n->getNodeType == 1 || $n->getNodeType == 2 ? $n->getName : '';
    # The root node reports type 1 in XML::XPath but has no name.
    $name = '' unless defined $name;
    return { name => $name, value => $n->string_value, attributes => \%attrs, node => $n };
}

sub ours_find {
    my ($r) = @_;
    return { error => $r->{error} } unless $r->{success};
    my $res = $r->{result};
    return { scalar => $res->{value} } if ($res->{type} // '') ne 'nodeset';
    return { size => $res->{size}, nodes => [ map { { %$_ } } @{ $res->{nodes} } ] };
}

sub same_result {
    my ($real, $ours, $label) = @_;
    if (exists $real->{scalar}) {
        is($ours->{scalar}, $real->{scalar}, "$label: scalar value");
        return;
    }
    is($ours->{size}, $real->{size}, "$label: size") or diag($ours->{error} // '');
    my @r = @{ $real->{nodes} };
    my @o = @{ $ours->{nodes} || [] };
    is_deeply([ map { $_->{name} } @o ], [ map { $_->{name} } @r ], "$label: names");
    is_deeply([ map { $_->{value} } @o ], [ map { $_->{value} } @r ], "$label: string values");
    is_deeply([ map { $_->{attributes} } @o ], [ map { $_->{attributes} } @r ], "$label: attributes");
}

chdir $dir or die "chdir $dir: $!";
my $real = XML::XPath->new(filename => "$dir/config.xml");
my $loaded = xp('load_file', { filename => 'config.xml' });    # relative to this process's cwd
chdir $old_cwd;
ok($loaded->{success}, 'load_file with a path relative to the caller cwd') or diag explain $loaded;
my $doc = $loaded->{result}{document_id};

my @queries = (
    '/DocumentMessage/Fax/*', '//apps/app[@name="alpha"]', '//apps/app[@name="béta"]/version',
    '//app', '//version[@name="2.0"]', '/DocumentMessage/Fax/ToFaxNumber', '//Note', '//Note/text()',
    '//Note/*', '//@*', '//app/@port', '//q:item', '//q:item/@q:id', '//comment()', '/', '/*',
    '/DocumentMessage/*[2]/app[last()]', '//*[contains(., "Prefixed")]', '//missing', '//Empty',
    'count(//version)', 'sum(//app/@port)', 'string(//ToName)', 'name(/*)', 'boolean(//Empty)',
    '1 div 3', '1 div 0', '-1 div 0', '0 div 0', '/DocumentMessage/Fax/node()', 'count(//text())',
    'concat(//app[1]/@name, "-", //app[2]/@name)', '//text()[normalize-space()]',
    '/DocumentMessage/text()[normalize-space()]', '//apps/app[version="three"]',
);

subtest 'find_nodes() matches XML::XPath find() for every query' => sub {
    for my $q (@queries) {
        same_result(real_find($real, $q), ours_find(xp('find_nodes', { document_id => $doc, xpath => $q })), $q);
    }
};

subtest 'find_in_node() matches XML::XPath find() from a context node' => sub {
    my @pairs = (
        [ '//app', 'version' ], [ '//app', '@name' ], [ '//app', '../app' ], [ '/DocumentMessage/Fax', '*[2]' ],
        [ '/', 'DocumentMessage/apps' ], [ '//version', 'ancestor::app/@name' ], [ '//app', 'count(version)' ],
        [ '//app', './/text()' ], [ '//q:item', '@*' ],
    );
    for my $p (@pairs) {
        my ($outer, $inner) = @$p;
        my @real_nodes = map { $_->{node} } @{ real_find($real, $outer)->{nodes} };
        my $ours_outer = xp('find_nodes', { document_id => $doc, xpath => $outer });
        my @ids = map { $_->{node_id} } @{ $ours_outer->{result}{nodes} };
        is(scalar @ids, scalar @real_nodes, "$outer: same context count");
        for my $i (0 .. $#real_nodes) {
            my $got = ours_find(xp('find_in_node', { node_id => $ids[$i], xpath => $inner }));
            same_result(real_find($real_nodes[$i], $inner), $got, "$outer [$i] -> $inner");
        }
    }
};

subtest 'load_xml_string() gives the same answers as a file' => sub {
    my $r = xp('load_xml_string', { xml_string => $XML });
    ok($r->{success}, 'loaded');
    my $real_s = XML::XPath->new(xml => $XML);
    for my $q ('//ToName', '//q:item', '//Note', 'string(/)') {
        same_result(real_find($real_s, $q), ours_find(xp('find_nodes', { document_id => $r->{result}{document_id}, xpath => $q })), "string: $q");
    }
    my $disp = xp('dispose_document', { document_id => $r->{result}{document_id} });
    is($disp->{result}, 'Document disposed', 'dispose_document result text');
};

subtest 'errors: malformed XML, missing file, bad XPath, unknown handles' => sub {
    my $bad = xp('load_xml_string', { xml_string => '<a><b></a>' });
    ok(!$bad->{success}, 'malformed XML fails');
    like($bad->{error}, qr/^Cannot parse XML: .*mismatch/i, 'clear parse error');
    like($bad->{error}, qr/^Cannot parse XML: Opening and ending tag mismatch: "b" != "a" at line 1, column \d+$/, 'one message with its position, no parser-internal wrapping');
    ok(!eval { XML::XPath->new(xml => '<a><b></a>')->find('/'); 1 }, 'real XML::XPath also rejects it');
    my $missing = xp('load_file', { filename => "$dir/nope.xml" });
    is($missing->{error}, "Cannot open file '$dir/nope.xml'", 'missing file');
    ok(!eval { XML::XPath->new(filename => "$dir/nope.xml")->find('/'); 1 }, 'real XML::XPath fails too');
    like($@, qr/^\QCannot open file '$dir\/nope.xml'\E at /, 'with the same words');
    is($missing->{error_type}, 'FileNotFoundError', 'error_type');
    my $badq = xp('find_nodes', { document_id => $doc, xpath => '//app[' });
    ok(!$badq->{success}, 'bad expression fails');
    like($badq->{error}, qr/^Invalid XPath expression '\/\/app\['/, 'names the expression');
    ok(!eval { $real->find('//app['); 1 }, 'real XML::XPath also rejects it');
    like(xp('find_nodes', { document_id => 'nope', xpath => '/' })->{error}, qr/^Unknown document_id 'nope'/, 'unknown document');
    like(xp('find_in_node', { node_id => 'nope', xpath => '.' })->{error}, qr/^Unknown node_id 'nope'/, 'unknown node');
};

subtest 'whitelisted extras: new, find, findnodes, findvalue, exists, check_lxml_availability' => sub {
    my $n = xp('new', { xml => $XML });
    my $id = $n->{result}{document_id};
    ok($id, 'new(xml => ...)');
    is(xp('find', { document_id => $id, xpath => '//app' })->{result}{size}, 2, 'find');
    is(xp('findnodes', { document_id => $id, xpath => '//version' })->{result}{size}, 3, 'findnodes');
    is(xp('findvalue', { document_id => $id, xpath => '//ToName' })->{result}{value}, $real->findvalue('//ToName')->value, 'findvalue = XML::XPath findvalue');
    is(xp('exists', { document_id => $id, xpath => '//Empty' })->{result}{exists}, 1, 'exists');
    ok(!xp('exists', { document_id => $id, xpath => '//None' })->{result}{exists}, 'not exists');
    ok(xp('check_lxml_availability', {})->{result}{available}, 'availability');
    chdir $dir;
    my $f = xp('new', { filename => 'config.xml' });
    chdir $old_cwd;
    ok($f->{success}, 'new(filename => relative)');
};

subtest 'dispose_document() frees the document and its node ids' => sub {
    my $n = xp('find_nodes', { document_id => $doc, xpath => '//app' });
    my $node = $n->{result}{nodes}[0]{node_id};
    ok(xp('find_in_node', { node_id => $node, xpath => 'version' })->{success}, 'node usable before');
    ok(xp('dispose_document', { document_id => $doc })->{success}, 'disposed');
    ok(!xp('find_in_node', { node_id => $node, xpath => 'version' })->{success}, 'node id gone');
    ok(!xp('find_nodes', { document_id => $doc, xpath => '/' })->{success}, 'document id gone');
};

$d->stop;
done_testing;
