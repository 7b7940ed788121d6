# xml_dom_helper (XMLDOMHelper.pm → XML::DOM + XML::XQL) through a real daemon, compared with the
# real XML::DOM 1.46 and XML::XQL 0.68: same document, same calls, same counts, names, values and
# toString output, including after the same sequence of modifications.
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
use XML::DOM;
use XML::XQL;
use XML::XQL::DOM;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $XML = <<'XML';
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
    <Cipher>Rijndael</Cipher>
    <Key>/path/to/key.pem</Key>
    <Sites>
        <Site Name="site1" ShortName="s1" Net="192.168.1.0">
            <Owner>Admin</Owner>
        </Site>
        <Site Name="site2" ShortName="s2" Net="192.168.2.0">
            <Owner>User</Owner>
        </Site>
    </Sites>
    <Environment Name="PROD">
        <Owner>
            <ID Key="keyfile">produser</ID>
        </Owner>
        <Server Name="server1" Location="datacenter1"/>
        <Server Name="server2" Location="Zürich — 東京"/>
    </Environment>
    <Property Name="LogLevel" Type="STRING">DEBUG</Property>
    <Property Name="Quote" Type="STRING">a &amp; b &lt;c&gt; "d" 'e' € ☺</Property>
    <!-- a comment -->
    <?app-config reload="yes"?>
    <Mixed>lead <b>bold</b> tail<![CDATA[ <raw> ]]></Mixed>
    <Empty></Empty>
</Configuration>
XML

my $d = TestDaemon->start;
my $c = BridgeClient->new;
sub dom { my ($f, $p) = @_; return $c->call_python('xml_dom_helper', $f, $p // {}) }
sub res { my $r = shift; return $r->{success} ? $r->{result} : { error => $r->{error} } }

my $real_doc = XML::DOM::Parser->new->parse($XML);
my $real_root = $real_doc->getDocumentElement;
my $parser_id = res(dom('create_parser', {}))->{parser_id};
ok($parser_id, 'create_parser');
my $parsed = res(dom('parse_string', { parser_id => $parser_id, xml_string => $XML }));
my ($doc, $root) = @$parsed{qw(document_id root_node_id)};
ok($doc && $root, 'parse_string') or diag explain $parsed;

# The same facts about a node, from XML::DOM and from the helper.
sub real_value {    # get_node_value: an element's leading text, else XML::DOM's getNodeValue
    my $n = shift;
    return $n->getNodeValue // '' unless $n->getNodeType == ELEMENT_NODE;
    my $s = '';
    for my $k ($n->getChildNodes) { last if $k->getNodeType == ELEMENT_NODE; $s .= $k->getData if $k->getNodeType == TEXT_NODE || $k->getNodeType == CDATA_SECTION_NODE }
    return $s;
}
sub real_fact { my $n = shift; return [ $n->getNodeName, real_value($n) ] }
sub our_fact {
    my $id = shift;
    return [ res(dom('get_tag_name', { node_id => $id }))->{tag_name}, res(dom('get_node_value', { node_id => $id }))->{value} ];
}
sub real_elements { my $n = shift; return grep { $_->getNodeType == ELEMENT_NODE } $n->getChildNodes }

subtest 'get_elements_by_tag_name() matches XML::DOM getElementsByTagName' => sub {
    for my $tag (qw(* Site Owner Server Property Configuration Missing)) {
        my @real = $real_doc->getElementsByTagName($tag);
        my $ours = res(dom('get_elements_by_tag_name', { document_id => $doc, tag_name => $tag }));
        is($ours->{length}, scalar @real, "$tag: length");
        is(res(dom('get_nodelist_length', { nodelist_id => $ours->{nodelist_id} }))->{length}, scalar @real, "$tag: get_nodelist_length");
        is_deeply([ map { our_fact($_) } @{ $ours->{node_ids} } ], [ map { real_fact($_) } @real ], "$tag: names and values");
        my $last = res(dom('get_nodelist_item', { nodelist_id => $ours->{nodelist_id}, index => $#real }));
        is($last->{node_id}, $ours->{node_ids}[-1], "$tag: get_nodelist_item") if @real;
        is(res(dom('get_nodelist_item', { nodelist_id => $ours->{nodelist_id}, index => scalar @real }))->{node_id}, undef, "$tag: item out of range");
    }
    my @real_env = $real_doc->getElementsByTagName('Environment');
    my $env = res(dom('get_elements_by_tag_name', { document_id => $doc, tag_name => 'Environment' }))->{node_ids}[0];
    for my $tag (qw(Owner * Environment)) {
        my @real = $real_env[0]->getElementsByTagName($tag);
        my $ours = res(dom('get_elements_by_tag_name_from_node', { node_id => $env, tag_name => $tag }));
        is_deeply([ map { our_fact($_) } @{ $ours->{node_ids} } ], [ map { real_fact($_) } @real ], "from node, $tag");
    }
};

subtest 'navigation and attributes match XML::DOM' => sub {
    my @ids = @{ res(dom('get_elements_by_tag_name', { document_id => $doc, tag_name => '*' }))->{node_ids} };
    my @real = $real_doc->getElementsByTagName('*');
    is($ids[0], $root, 'root_node_id is the first element and keeps its id');
    is(res(dom('get_document_root', { document_id => $doc }))->{root_node_id}, $root, 'get_document_root');
    for my $i (0 .. $#real) {
        my ($r, $id) = ($real[$i], $ids[$i]);
        my $name = $r->getNodeName;
        my $kids = res(dom('get_child_nodes', { node_id => $id }));
        is($kids->{length}, scalar(my @rk = $r->getChildNodes), "$name [$i]: getChildNodes length (text nodes included)");
        is_deeply([ map { our_fact($_) } @{ $kids->{node_ids} } ], [ map { real_fact($_) } $r->getChildNodes ], "$name [$i]: all children");
        my $first = res(dom('get_first_child', { node_id => $id }))->{node_id};
        is_deeply($first ? our_fact($first) : undef, $r->getFirstChild ? real_fact($r->getFirstChild) : undef, "$name [$i]: first child");
        my $parent = res(dom('get_parent_node', { node_id => $id }))->{node_id};
        is(res(dom('get_tag_name', { node_id => $parent }))->{tag_name}, $r->getParentNode->getNodeName, "$name [$i]: parent");
        for my $attr (qw(Name Key Location Nope)) {
            is(res(dom('get_attribute', { node_id => $id, attr_name => $attr }))->{value}, $r->getAttribute($attr), "$name [$i]: getAttribute $attr");
            is(!!res(dom('has_attribute', { node_id => $id, attr_name => $attr }))->{has_attribute}, !!$r->getAttributeNode($attr), "$name [$i]: has $attr");
        }
        ok(res(dom('is_element_node', { node_id => $id }))->{is_element}, "$name [$i]: is_element_node");
    }
    my $mixed = $ids[-3];
    is(res(dom('get_text_contents', { node_id => $mixed }))->{text_content}, 'lead bold tail <raw> ', 'get_text_contents');
    is(res(dom('get_text_contents', { node_id => $mixed, trim => 1 }))->{text_content}, 'lead bold tail <raw>', 'get_text_contents trim');
};

subtest 'to_string() equals XML::DOM toString' => sub {
    is(res(dom('to_string', { document_id => $doc }))->{xml_string}, $real_doc->toString, 'parsed document');
    for my $x ('<a/>', "<a b='1' c=\"2\">x</a>", '<?xml version="1.0"?><r><e></e><!--c--><?pi?><t>&#169;&#x1F600;</t></r>',
        "<?xml version='1.0' standalone='yes'?>\n<!-- top --><r>\n<x a=\"&lt;&amp;&gt;&quot;'\"/>]]&gt;</r><?tail x?>") {
        my $p = res(dom('parse_string', { parser_id => $parser_id, xml_string => $x }));
        is(res(dom('to_string', { document_id => $p->{document_id} }))->{xml_string}, XML::DOM::Parser->new->parse($x)->toString, "toString of $x");
        dom('dispose_document', { document_id => $p->{document_id} });
    }
};

subtest 'the same modifications give the same toString' => sub {
    my $p = res(dom('parse_string', { parser_id => $parser_id, xml_string => $XML }));
    my ($md, $mroot) = @$p{qw(document_id root_node_id)};
    my $rd = XML::DOM::Parser->new->parse($XML);
    my $rroot = $rd->getDocumentElement;
    my $ours = sub { my ($f, %a) = @_; my $r = dom($f, \%a); ok($r->{success}, "$f") or diag $r->{error}; return $r->{result} };

    my $site = $ours->('create_element', document_id => $md, tag_name => 'Site')->{node_id};
    my $rsite = $rd->createElement('Site');
    $ours->('set_attribute', node_id => $site, attr_name => $_->[0], value => $_->[1]), $rsite->setAttribute(@$_)
      for [ Name => 'site3' ], [ Net => '10.0.0.0' ], [ Note => 'ä & <b> "q"' ];
    $ours->('remove_attribute', node_id => $site, attr_name => 'Net');
    $rsite->removeAttribute('Net');
    my $text = $ours->('create_text_node', document_id => $md, data => 'Grüße & <tschüss>')->{node_id};
    $ours->('append_child', parent_id => $site, child_id => $text);
    $rsite->appendChild($rd->createTextNode('Grüße & <tschüss>'));

    my $sites = $ours->('get_elements_by_tag_name', document_id => $md, tag_name => 'Sites')->{node_ids}[0];
    my ($rsites) = $rd->getElementsByTagName('Sites');
    $ours->('append_child', parent_id => $sites, child_id => $site);
    $rsites->appendChild($rsite);

    my $kids = $ours->('get_child_nodes', node_id => $mroot)->{node_ids};
    my @rkids = $rroot->getChildNodes;
    my $clone = $ours->('clone_node', node_id => $site, deep => 1)->{node_id};
    my $rclone = $rsite->cloneNode(1);
    $ours->('insert_before', parent_id => $mroot, new_child_id => $clone, ref_child_id => $kids->[0]);
    $rroot->insertBefore($rclone, $rkids[0]);
    my $shallow = $ours->('clone_node', node_id => $site, deep => 0)->{node_id};
    my $rshallow = $rsite->cloneNode(0);
    $ours->('replace_child', parent_id => $mroot, new_child_id => $shallow, old_child_id => $kids->[1]);
    $rroot->replaceChild($rshallow, $rkids[1]);
    $ours->('remove_child', parent_id => $mroot, child_id => $kids->[2]);
    $rroot->removeChild($rkids[2]);

    is(res(dom('to_string', { document_id => $md }))->{xml_string}, $rd->toString, 'modified document');
    my $pretty = res(dom('to_string', { document_id => $md, indent => '  ' }))->{xml_string};
    like($pretty, qr/^<\?xml version="1\.0" \?>\n<Configuration>\n  <Site Name="site3" Note="ä &amp; &lt;b&gt; &quot;q&quot;">Grüße &amp; &lt;tschüss&gt;<\/Site>\n/, 'pretty form');
    my $disp = res(dom('dispose_document', { document_id => $md }));
    ok($disp->{disposed} && $disp->{nodes_cleaned} > 5, "dispose_document cleaned $disp->{nodes_cleaned} node ids");
    like(dom('get_tag_name', { node_id => $site })->{error}, qr/^Unknown node_id/, 'node ids die with their document');
};

subtest 'xql_query() matches XML::XQL xql() (nested result shape, contract §2.5)' => sub {
    my @ctx = ([ $root, $real_root, 'root' ]);
    my $env = res(dom('get_elements_by_tag_name', { document_id => $doc, tag_name => 'Environment' }))->{node_ids}[0];
    push @ctx, [ $env, ($real_doc->getElementsByTagName('Environment'))[0], 'Environment' ];
    my @queries = (
        'Cipher', 'Key', 'Sites/Site', 'Sites/Site[0]', 'Sites/Site[1]', 'Sites/Site[-1]', "//Site[\@Name='site1']",
        './/Server', "//Environment[\@Name='PROD']/Owner/ID", "//Property[\@Name='LogLevel']",
        "Sites/Site[\@Name \$eq\$ 'site2']", "//Site[\@Name='site1' \$and\$ Owner]", "//Site[\@Name='x' \$or\$ \@Net='192.168.2.0']",
        'Sites/Site/@Name', 'Sites/Site[end()]', '//NonExistentElement', '*', '//Server/@Location', 'Owner/ID',
        'Sites/Site/textNode()', '//Property[1]', 'Server[@Name="server2"]', '../Cipher', '//Mixed/b',
    );
    for my $cx (@ctx) {
        my ($id, $rn, $label) = @$cx;
        for my $q (@queries) {
            my @real = $rn->xql($q);
            my $r = dom('xql_query', { node_id => $id, xpath_expression => $q });
            ok($r->{success} && $r->{result}{success}, "$label $q: success at both levels") or diag explain $r;
            my $data = $r->{result}{result};
            is($data->{type}, 'nodelist', "$label $q: type");
            is($data->{length}, scalar @real, "$label $q: count");
            is_deeply([ map { our_fact($_) } @{ $data->{node_ids} } ], [ map { real_fact($_) } @real ], "$label $q: nodes");
        }
    }
    my @n = $real_root->xql('count(//Site)');
    is(dom('xql_query', { node_id => $root, xpath_expression => 'count(//Site)' })->{result}{result}{value}, $n[0]->xql_toString, 'scalar = XML::XQL::Number');
    my $bad = dom('xql_query', { node_id => $root, xpath_expression => '///[[[invalid' });
    ok(!$bad->{success}, 'invalid expression fails (the wrapper returns an empty list)');
    like($bad->{error}, qr/^Invalid XQL expression/, 'clear message');
    like(dom('xql_query', { node_id => 'gone', xpath_expression => 'x' })->{error}, qr/^Unknown node_id 'gone'/, 'unknown node');
};

subtest 'xql_find_nodes(), xql_find_value(), xql_exists()' => sub {
    is(res(dom('xql_find_nodes', { node_id => $root, xpath => '//Site' }))->{length}, 2, 'xql_find_nodes');
    is(res(dom('xql_find_nodes', { node_id => $root, xpath => 'count(//Site)' }))->{length}, 0, 'scalar gives an empty list');
    is(res(dom('xql_find_value', { node_id => $root, xpath => 'Cipher' }))->{value}, 'Rijndael', 'xql_find_value');
    is(res(dom('xql_find_value', { node_id => $root, xpath => '//Server[1]/@Location' }))->{value}, 'Zürich — 東京', 'xql_find_value Unicode');
    ok(res(dom('xql_exists', { node_id => $root, xpath => 'Cipher' }))->{exists}, 'xql_exists');
    ok(!res(dom('xql_exists', { node_id => $root, xpath => 'Nope' }))->{exists}, 'xql_exists false');
};

subtest 'parse_file() relative to the caller cwd, errors, info, dispose' => sub {
    my $dir = tempdir(CLEANUP => 1);
    open my $fh, '>:encoding(UTF-8)', "$dir/c.xml" or die $!;
    print $fh $XML;
    close $fh;
    my $old = getcwd();
    chdir $dir;
    my $f = dom('parse_file', { parser_id => $parser_id, filename => 'c.xml' });
    chdir $old;
    ok($f->{success}, 'parse_file with a relative path') or diag $f->{error};
    is(res(dom('to_string', { document_id => $f->{result}{document_id} }))->{xml_string}, XML::DOM::Parser->new->parsefile("$dir/c.xml")->toString, 'same as XML::DOM parsefile');
    is(dom('parse_file', { parser_id => $parser_id, filename => "$dir/none.xml" })->{error}, "XML parsing failed: Couldn't open $dir/none.xml:\nNo such file or directory", 'missing file');
    ok(!eval { XML::DOM::Parser->new->parsefile("$dir/none.xml"); 1 }, 'XML::DOM fails too');
    like($@, qr/^\QCouldn't open $dir\/none.xml:\E\nNo such file or directory/, 'with the same words');
    my $bad = dom('parse_string', { parser_id => $parser_id, xml_string => '<a><b></a>' });
    like($bad->{error}, qr/^XML parsing failed: Cannot parse XML: .*mismatch/i, 'malformed XML');
    ok(!eval { XML::DOM::Parser->new->parse('<a><b></a>'); 1 }, 'XML::DOM rejects it too');
    like(dom('parse_string', { parser_id => 'nope', xml_string => '<a/>' })->{error}, qr/^Unknown parser_id 'nope'/, 'unknown parser');
    like(dom('get_nodelist_item', { nodelist_id => 'nope', index => 0 })->{error}, qr/^Unknown nodelist_id 'nope'/, 'unknown nodelist');
    like(dom('create_element', { document_id => $doc, tag_name => '1bad' })->{error}, qr/^Invalid tag name: 1bad/, 'bad tag name');
    my $info = res(dom('get_module_info'));
    is($info->{module}, 'xml_dom_helper', 'get_module_info');
    ok($info->{active_documents} >= 2, 'counts documents');
    my $one = res(dom('get_elements_by_tag_name', { document_id => $doc, tag_name => 'Key' }))->{node_ids}[0];
    ok(res(dom('dispose_node', { node_id => $one }))->{disposed}, 'dispose_node');
    like(dom('get_tag_name', { node_id => $one })->{error}, qr/^Unknown node_id/, 'disposed node id is gone');
    my $disp = res(dom('dispose_document', { document_id => $doc }));
    ok($disp->{disposed}, 'dispose_document');
    ok(!dom('dispose_document', { document_id => $doc })->{success}, 'second dispose reports the unknown id');
    like(dom('get_tag_name', { node_id => $root })->{error}, qr/^Unknown node_id/, 'root id gone');
};

$d->stop;
done_testing;
