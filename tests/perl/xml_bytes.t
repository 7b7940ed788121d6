# The Perl string rule for the three XML helpers (docs/helpers/README.md), differentially: the same
# document string goes through the bridge exactly as XMLHelper.pm (xml_in), XPathHelper.pm
# (load_xml_string + find_nodes) and XMLDOMHelper.pm (create_parser + parse_string + to_string,
# get_child_nodes) send it, and through the real XML::Simple 2.25, XML::XPath 1.48 and XML::DOM
# 1.46 in this process; the answers are compared with is_deeply. No `use utf8` here: "\xe6\x97\xa5"
# is a byte string, as in most Perl code. Also files read raw, /dev/zero, a FIFO and the size limit.
use strict;
use warnings;
use Test::More;
use FindBin;
use File::Temp qw(tempdir);
use POSIX qw(mkfifo);
use Time::HiRes qw(time);
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;
use XML::Simple ();
use XML::XPath;
use XML::DOM;

my $d = TestDaemon->start;
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);

sub upgraded { my $s = shift; utf8::upgrade($s); return $s }

# [name, document, what XML::Simple does with it when that differs from the bridge ('fails')]
my $ALL_BYTES = join '', map { chr } grep { $_ >= 0x20 && !($_ >= 0x7f && $_ <= 0x9f) && chr($_) !~ /[<&"]/ } 0x20 .. 0xff;
my @DOCS = (
    [ 'UTF-8 bytes, no declaration', "<opt><n>\xe6\x97\xa5\xe6\x9c\xac</n><m a=\"Z\xc3\xbcrich\"/></opt>" ],
    [ 'wide characters', "<opt><n>\x{65e5}\x{672c}</n><m a=\"Z\x{fc}rich \x{1F600}\"/></opt>" ],
    [ 'use utf8 Latin-1 characters (upgraded)', upgraded("<opt><n>caf\xe9</n><m a=\"\xfc\"/></opt>") ],
    [ 'UTF-8 declaration, UTF-8 bytes', qq{<?xml version="1.0" encoding="UTF-8"?>\n<opt><n>\xe2\x82\xac</n></opt>} ],
    [ 'ISO-8859-1 declaration, bytes', qq{<?xml version="1.0" encoding="ISO-8859-1"?>\n<opt><n>caf\xe9 na\xefve</n><m a="\xfc"/></opt>} ],
    [ 'ISO-8859-1 declaration, wide string', qq{<?xml version="1.0" encoding="ISO-8859-1"?><opt><n>\x{65e5}</n></opt>} ],
    [ 'windows-1252 declaration', qq{<?xml version="1.0" encoding="windows-1252"?><opt><n>\x80 \x93q\x94</n></opt>} ],
    [ 'ISO-8859-15 declaration', qq{<?xml version='1.0' encoding='ISO-8859-15'?><opt><n>\xa4</n></opt>} ],
    [ 'UTF-8 BOM bytes', "\xef\xbb\xbf<opt><n>\xe6\x97\xa5</n></opt>" ],
    [ 'every printable byte under ISO-8859-1', qq{<?xml version="1.0" encoding="ISO-8859-1"?><opt><n>$ALL_BYTES</n><m a="$ALL_BYTES"/></opt>} ],
    [ '"0", empty and whitespace', "<opt><n>0</n><e></e><f/><w>  </w><z a=\"0\" b=\"\"/></opt>" ],
    [ 'whitespace text nodes', "<opt>\n  <a>1</a>\n  <b>2</b>\n</opt>" ],
    [ 'character references and entities', '<opt><n>&#233;&#x65E5;&#x1F600; &lt;&amp;&gt;&quot;&apos;</n></opt>' ],
    [ 'CR LF and tabs', "<opt a=\"x\ty\r\nz\"><n>l1\r\nl2\rl3</n></opt>" ],
    [ 'CDATA with bytes', "<opt><n><![CDATA[<\xe6\x97\xa5>&]]></n></opt>" ],
    [ 'invalid UTF-8, no declaration', "<opt><n>caf\xe9</n></opt>", 'fails' ],
    [ 'UTF-16 declaration on UTF-8 content', qq{<?xml version="1.0" encoding="UTF-16"?><opt/>} ],
    [ 'unknown encoding', qq{<?xml version="1.0" encoding="x-no-such"?><opt/>} ],
    [ 'control character', "<opt><n>a\x01b</n></opt>" ],
    [ 'invalid character reference', '<opt><n>&#1;</n></opt>' ],
    [ 'malformed', "<opt><n>\xe6\x97\xa5</opt>" ],
    [ '"]]>" in text', '<opt><n>a]]>b</n></opt>' ],
    [ '"]]>" in an attribute, a CDATA section and a comment', '<opt a="]]>"><n><![CDATA[x]]></n><!-- ]]> --></opt>' ],
    [ 'space before the XML declaration', qq{ <?xml version="1.0"?><opt/>} ],
    [ 'declaration without version', qq{<?xml encoding="UTF-8"?><opt/>} ],
    [ '"--" inside a comment', '<!-- a -- b --><opt/>' ],
    [ '"<" in an attribute', q{<opt a='<'/>} ],
    [ 'undeclared namespace prefix', q{<opt xmlns:a="urn:a"><a:b a:x="1"/><c:d c:y="2">t</c:d></opt>} ],
    [ 'internal entities', qq{<!DOCTYPE opt [<!ENTITY e "v\xc3\xa9"><!ENTITY m "<b>x&e;</b>">]><opt a="&e;">&e; &m; &amp;</opt>} ],
    [ 'internal subset declarations', qq{<?xml version="1.0"?>\n<!DOCTYPE opt [\n<!ENTITY e 'q"'>\n<!ENTITY  f  SYSTEM "f.txt">\n<!ELEMENT opt (#PCDATA)>\n<!ATTLIST opt a CDATA "d">\n<!ENTITY % p "x">\n]>\n<opt a="1">&e;</opt>} ],
    [ 'entity with a character reference to &', q{<!DOCTYPE opt [<!ENTITY e "a&#38;b">]><opt>&e;</opt>} ],
    [ 'recursive entities', q{<!DOCTYPE opt [<!ENTITY a "&b;"><!ENTITY b "&a;">]><opt>&a;</opt>} ],
    [ 'entity amplification', '<!DOCTYPE opt [<!ENTITY l0 "lollollollol">'
        . join('', map { "<!ENTITY l$_ \"" . ("&l" . ($_ - 1) . ";") x 10 . "\">" } 1 .. 9) . ']><opt>&l9;</opt>', undef, 'expat only' ],
);

# --- XML::Simple ---------------------------------------------------------------------------
sub real_xmlin {
    my ($src) = @_;
    local $SIG{__WARN__} = sub { };
    my $r = eval { XML::Simple->new->XMLin($src) };
    return $@ ? { error => $@ } : { ok => $r };
}
sub bridge_xmlin {
    my ($src, $type) = @_;
    return $c->call_python('xml', 'xml_in', { source => $src, source_type => $type // ($src =~ /^\s*</ ? 'string' : 'file'), options => {} });
}

# --- XML::XPath: every element's name, string-value and attributes, and every attribute -------
sub real_xpath {
    my ($xp) = @_;
    my $r = eval {
        my @n = map { { name => $_->getName, value => $_->string_value,
            attributes => { map { ($_->getName => $_->getValue) } $_->getAttributes } } } $xp->findnodes('//*');
        my @a = map { $_->string_value } $xp->findnodes('//@*');
        { elements => \@n, attributes => \@a };
    };
    return $@ ? { error => $@ } : $r;
}
sub bridge_xpath {
    my ($loaded) = @_;
    return { error => $loaded->{error} } unless $loaded->{success};
    my $doc = $loaded->{result}{document_id};
    my $els = $c->call_python('xpath', 'find_nodes', { document_id => $doc, xpath => '//*' });
    my $ats = $c->call_python('xpath', 'find_nodes', { document_id => $doc, xpath => '//@*' });
    $c->call_python('xpath', 'dispose_document', { document_id => $doc });
    return { error => $els->{error} // $ats->{error} } unless $els->{success} && $ats->{success};
    return { elements => [ map { { name => $_->{name}, value => $_->{value}, attributes => $_->{attributes} } } @{ $els->{result}{nodes} } ],
        attributes => [ map { $_->{value} } @{ $ats->{result}{nodes} } ] };
}

# --- XML::DOM: toString, and the root's children (names and values) ---------------------------
sub real_dom {
    my ($doc) = @_;
    my $r = eval {
        my $root = $doc->getDocumentElement;
        { string => $doc->toString,
          children => [ map { [ $_->getNodeName, $_->getNodeType == ELEMENT_NODE ? '' : $_->getNodeValue ] } $root->getChildNodes ] };
    };
    return $@ ? { error => $@ } : $r;
}
my $parser = $c->call_python('xml_dom_helper', 'create_parser', {})->{result}{parser_id};
sub bridge_dom {
    my ($parsed) = @_;
    return { error => $parsed->{error} } unless $parsed->{success};
    my ($doc, $root) = @{ $parsed->{result} }{qw(document_id root_node_id)};
    my $s = $c->call_python('xml_dom_helper', 'to_string', { document_id => $doc });
    my $kids = $c->call_python('xml_dom_helper', 'get_child_nodes', { node_id => $root });
    my @children;
    for my $k (@{ $kids->{result}{node_ids} }) {
        my $name = $c->call_python('xml_dom_helper', 'get_tag_name', { node_id => $k })->{result}{tag_name};
        my $el = $c->call_python('xml_dom_helper', 'is_element_node', { node_id => $k })->{result}{is_element};
        push @children, [ $name, $el ? '' : $c->call_python('xml_dom_helper', 'get_node_value', { node_id => $k })->{result}{value} ];
    }
    $c->call_python('xml_dom_helper', 'dispose_document', { document_id => $doc });
    return { string => $s->{result}{xml_string}, children => \@children };
}

sub same {
    my ($got, $want, $label) = @_;
    if ($want->{error}) {
        ok($got->{error}, "$label: fails like the module") or diag explain $got;
        return;
    }
    is_deeply($got, $want, "$label: same answer as the module")
      or diag explain { got => $got, want => $want };
}

for my $case (@DOCS) {
    my ($name, $xml, $simple_differs, $expat_only) = @$case;
    my $real = real_xmlin($xml);
    my $got = bridge_xmlin($xml);
    if ($simple_differs) {
        # Deliberate (docs/helpers/xml_helper.md): the wire cannot tell this byte string from the
        # `use utf8` character string with the same ordinals, which the modules parse.
        ok($real->{error}, "XMLin $name: the module rejects the byte string");
        is_deeply($got->{result}, real_xmlin(upgraded($xml))->{ok}, "XMLin $name: the bridge reads it as the use-utf8 string");
        is_deeply(bridge_xpath($c->call_python('xpath', 'load_xml_string', { xml_string => $xml })),
            real_xpath(XML::XPath->new(xml => upgraded($xml))), "XML::XPath $name: read as the use-utf8 string");
        is_deeply(bridge_dom($c->call_python('xml_dom_helper', 'parse_string', { parser_id => $parser, xml_string => $xml })),
            real_dom(XML::DOM::Parser->new->parse(upgraded($xml))), "XML::DOM $name: read as the use-utf8 string");
        next;
    }
    same($got->{success} ? { ok => $got->{result} } : { error => $got->{error} }, $real, "XMLin $name");
    same(bridge_xpath($c->call_python('xpath', 'load_xml_string', { xml_string => $xml })),
        (eval { real_xpath(XML::XPath->new(xml => $xml)) } // { error => $@ }), "XML::XPath $name");
    # XML::DOM takes ~50 s to reach expat's amplification limit: XML::XPath's expat answers for it.
    same(bridge_dom($c->call_python('xml_dom_helper', 'parse_string', { parser_id => $parser, xml_string => $xml })),
        $expat_only ? (eval { XML::XPath->new(xml => $xml)->findnodes('/'); { ok => 1 } } // { error => $@ })
          : (eval { real_dom(XML::DOM::Parser->new->parse($xml)) } // { error => $@ }), "XML::DOM $name");
}

# Results are Perl characters: the module's and the bridge's strings are the same ordinals.
{
    my $got = bridge_xmlin("<opt><n>\xe6\x97\xa5\xe6\x9c\xac</n></opt>");
    is($got->{result}{n}, "\x{65e5}\x{672c}", 'XMLin of UTF-8 bytes gives the two characters (the issue\'s example)');
    my $dom = $c->call_python('xml_dom_helper', 'parse_string', { parser_id => $parser, xml_string => "<opt>\n <a/>\n <b/>\n</opt>" });
    is($c->call_python('xml_dom_helper', 'get_child_nodes', { node_id => $dom->{result}{root_node_id} })->{result}{length},
        scalar(my @k = XML::DOM::Parser->new->parse("<opt>\n <a/>\n <b/>\n</opt>")->getDocumentElement->getChildNodes),
        'getChildNodes counts whitespace text nodes (5)');
}

# Query strings are Perl strings too: the modules compare them as characters with the decoded
# document, so a UTF-8 byte-string expression does not match, a Latin-1 one does.
{
    my $xml = "<r><gr\xc3\xb6\xc3\x9fe>caf\xc3\xa9</gr\xc3\xb6\xc3\x9fe></r>";
    my $real = XML::XPath->new(xml => $xml);
    my $doc = $c->call_python('xpath', 'load_xml_string', { xml_string => $xml })->{result}{document_id};
    for my $q ("count(//*[.='caf\xc3\xa9'])", "count(//*[.='caf\xe9'])", "count(//*[.='caf\x{e9}\x{65e5}'])", "count(//gr\xc3\xb6\xc3\x9fe)", "name(/r/*)") {
        my $want = eval { local *STDERR; open STDERR, '>', '/dev/null'; $real->find($q)->value };
        my $got = $c->call_python('xpath', 'find_nodes', { document_id => $doc, xpath => $q });
        my $label = "XML::XPath query as characters: " . join('', map { ord > 126 ? sprintf('\\x{%x}', ord) : $_ } split //, $q);
        if (defined $want) { is($got->{result}{value}, $want, $label) }
        else { ok(!$got->{success}, "$label: fails like the module") or diag explain $got }
    }
    my $rd = XML::DOM::Parser->new->parse($xml);
    my $p = $c->call_python('xml_dom_helper', 'parse_string', { parser_id => $parser, xml_string => $xml })->{result};
    for my $tag ("gr\xc3\xb6\xc3\x9fe", "gr\xf6\xdfe") {
        is($c->call_python('xml_dom_helper', 'get_elements_by_tag_name', { document_id => $p->{document_id}, tag_name => $tag })->{result}{length},
            scalar(my @l = $rd->getElementsByTagName($tag)), "XML::DOM getElementsByTagName as characters: " . join('', map { sprintf '\\x%02x', ord } split //, $tag));
    }
    # Values set through the DOM are kept as given (XML::DOM stores the Perl string).
    my $root = $rd->getDocumentElement;
    $root->setAttribute('b', "\xe6\x97\xa5");
    $root->appendChild($rd->createTextNode("Z\xc3\xbcrich"));
    $c->call_python('xml_dom_helper', 'set_attribute', { node_id => $p->{root_node_id}, attr_name => 'b', value => "\xe6\x97\xa5" });
    my $t = $c->call_python('xml_dom_helper', 'create_text_node', { document_id => $p->{document_id}, data => "Z\xc3\xbcrich" })->{result}{node_id};
    $c->call_python('xml_dom_helper', 'append_child', { parent_id => $p->{root_node_id}, child_id => $t });
    is($c->call_python('xml_dom_helper', 'to_string', { document_id => $p->{document_id} })->{result}{xml_string}, $rd->toString,
        'XML::DOM toString after setting byte-string values');
}

# Values set through the DOM print as XML::DOM prints them: control characters, "]]>", quotes,
# NUL, "0", empty, wide and byte strings.
for my $v ("a\nb\tc\rd", "x]]>y", "q'\"<&>", "\x00z", "0", "", "\x{1F600}", "\xe6\x97\xa5", join('', map { chr } 0 .. 255)) {
    my $rd = XML::DOM::Parser->new->parse('<r/>');
    my $re = $rd->getDocumentElement;
    $re->setAttribute('a', $v);
    $re->appendChild($rd->createTextNode($v));
    my $r = $c->call_python('xml_dom_helper', 'parse_string', { parser_id => $parser, xml_string => '<r/>' })->{result};
    $c->call_python('xml_dom_helper', 'set_attribute', { node_id => $r->{root_node_id}, attr_name => 'a', value => $v });
    my $t = $c->call_python('xml_dom_helper', 'create_text_node', { document_id => $r->{document_id}, data => $v })->{result}{node_id};
    $c->call_python('xml_dom_helper', 'append_child', { parent_id => $r->{root_node_id}, child_id => $t });
    my $got = $c->call_python('xml_dom_helper', 'to_string', { document_id => $r->{document_id} })->{result}{xml_string};
    ok($got eq $rd->toString, 'XML::DOM toString of a set value: ' . (length($v) > 20 ? 'bytes 0..255' : join('', map { ord($_) > 126 || ord($_) < 32 ? sprintf('\\x{%x}', ord) : $_ } split //, $v)))
      or diag explain { got => $got, want => $rd->toString };
}

# Element and attribute names: XML::DOM checks a name's UTF-8, so a UTF-8 byte-string name is
# valid and kept as bytes; invalid names fail in both. ("gr\xf6\xdfe" as bytes fails in XML::DOM
# but is the use-utf8 "größe" on the wire: compared with the upgraded string.)
for my $n ("gr\xc3\xb6\xc3\x9fe", "\x{65e5}\x{672c}", "x:y", "1bad", "a b", "", "gr\xf6\xdfe") {
    my $real_name = $n eq "gr\xf6\xdfe" ? upgraded($n) : $n;
    my $rd = XML::DOM::Parser->new->parse('<r/>');
    my $want = eval { my $e = $rd->createElement($real_name); $e->setAttribute($real_name, 'v'); $rd->getDocumentElement->appendChild($e); $rd->toString };
    my $r = $c->call_python('xml_dom_helper', 'parse_string', { parser_id => $parser, xml_string => '<r/>' })->{result};
    my $el = $c->call_python('xml_dom_helper', 'create_element', { document_id => $r->{document_id}, tag_name => $n });
    my $label = join('', map { ord($_) > 126 ? sprintf('\\x{%x}', ord($_)) : $_ } split //, $n);
    if (!defined $want) {
        ok(!$el->{success}, "create_element '$label' fails like createElement");
        next;
    }
    ok($el->{success}, "create_element '$label' succeeds like createElement") or next;
    $c->call_python('xml_dom_helper', 'set_attribute', { node_id => $el->{result}{node_id}, attr_name => $n, value => 'v' });
    $c->call_python('xml_dom_helper', 'append_child', { parent_id => $r->{root_node_id}, child_id => $el->{result}{node_id} });
    my $got = $c->call_python('xml_dom_helper', 'to_string', { document_id => $r->{document_id} })->{result}{xml_string};
    ok($got eq $want, "create_element '$label': same toString") or diag explain { got => $got, want => $want };
}

# Empty, blank and "0" documents: every module fails, and so does the bridge.
for my $xml ('', '   ', '0', "\n") {
    (my $label = $xml) =~ s/\n/\\n/;
    ok(!eval { XML::XPath->new(xml => $xml)->findnodes('/'); 1 }, "XML::XPath rejects '$label'");
    my $r = $c->call_python('xpath', 'load_xml_string', { xml_string => $xml });
    ok(!$r->{success}, "xpath load_xml_string '$label' fails too");
    like($r->{error}, qr/^Cannot parse XML: /, "xpath '$label': as a parse error");
    ok(!eval { XML::DOM::Parser->new->parse($xml); 1 }, "XML::DOM rejects '$label'");
    ok(!$c->call_python('xml_dom_helper', 'parse_string', { parser_id => $parser, xml_string => $xml })->{success}, "xml_dom_helper parse_string '$label' fails too");
}

# XML::DOM::Parser options that change what is parsed: KeepCDATA, ProtocolEncoding.
for my $o ([ KeepCDATA => 1 ], [ ProtocolEncoding => 'ISO-8859-1' ], [ ProtocolEncoding => 'UTF-8' ], [ KeepCDATA => 0 ]) {
    my $p = $c->call_python('xml_dom_helper', 'create_parser', {@$o})->{result}{parser_id};
    for my $xml ("<r>a<![CDATA[<\xc3\xa9>]]>c<x/></r>", qq{<?xml version="1.0" encoding="ISO-8859-1"?><r>\xc3\xa9</r>}) {
        my $want = eval { real_dom(XML::DOM::Parser->new(@$o)->parse($xml)) } // { error => $@ };
        same(bridge_dom($c->call_python('xml_dom_helper', 'parse_string', { parser_id => $p, xml_string => $xml })), $want,
            "XML::DOM @$o: " . ($xml =~ /CDATA/ ? 'CDATA' : 'declared Latin-1'));
    }
}

# XMLout keeps the data's characters as they are (byte strings stay bytes, wide stays wide); with
# OutputFile the module writes through a :utf8 layer, so the file's bytes must match too.
{
    my @OUT = (
        [ 'byte strings', { a => "\xe6\x97\xa5", b => ["Z\xc3\xbcrich", "0", ""], c => { d => "\xff\x00\x01" } } ],
        [ 'wide and bytes mixed', { a => "\x{65e5}", b => "caf\xe9", '0' => '0' } ],
        [ 'NumericEscape 2 on bytes', { a => "\xe6\x97\xa5", b => "\x{1F600}" }, NumericEscape => 2 ],
        [ 'NumericEscape 1 on bytes', { a => "\xe6\x97\xa5", b => "\x{1F600}" }, NumericEscape => 1 ],
        [ 'NoAttr XMLDecl', { a => "\xe6\x97\xa5", b => '' }, NoAttr => 1, XMLDecl => 1 ],
    );
    my $n = 0;
    for my $case (@OUT) {
        my ($name, $data, %o) = @$case;
        my $want = XML::Simple->new->XMLout($data, %o);
        my $got = $c->call_python('xml', 'xml_out', { data => $data, options => \%o });
        is($got->{result}, $want, "XMLout $name: same string");
        my ($mine, $theirs) = ("$dir/out" . $n . "_bridge.xml", "$dir/out" . $n++ . "_module.xml");
        XML::Simple->new->XMLout($data, %o, OutputFile => $theirs);
        $got = $c->call_python('xml', 'xml_out', { data => $data, options => { %o, OutputFile => $mine } });
        is($got->{result}, 1, "XMLout $name OutputFile: returns 1");
        my ($a, $b) = map { open my $fh, '<:raw', $_ or die "$_: $!"; local $/; scalar <$fh> } $mine, $theirs;
        ok($a eq $b, "XMLout $name OutputFile: the same bytes on disk") or diag explain { bridge => $a, module => $b };
    }
    for my $v ("\xe6\x97\xa5 <&>\"'", "\x{65e5}&", "0", "") {
        is($c->call_python('xml', 'escape_xml', { value => $v })->{result}, XML::Simple->new->escape_value($v), 'escape_xml keeps bytes as bytes');
    }
}

# Files are read raw and decoded by their declared encoding, as the modules read them.
my $dom_parser = XML::DOM::Parser->new;
my $i = 0;
for my $case (@DOCS) {
    my ($name, $xml, undef, $expat_only) = @$case;
    next if $xml =~ /[^\x00-\xff]/ || $expat_only;    # files hold bytes; the string case covers it
    my $file = "$dir/doc" . $i++ . ".xml";
    open my $fh, '>:raw', $file or die "$file: $!";
    print $fh $xml;
    close $fh;
    my $got = bridge_xmlin($file, 'file');
    same($got->{success} ? { ok => $got->{result} } : { error => $got->{error} }, real_xmlin($file), "file XMLin $name");
    same(bridge_xpath($c->call_python('xpath', 'load_file', { filename => $file })),
        (eval { real_xpath(XML::XPath->new(filename => $file)) } // { error => $@ }), "file XML::XPath $name");
    same(bridge_dom($c->call_python('xml_dom_helper', 'parse_file', { parser_id => $parser, filename => $file })),
        (eval { real_dom($dom_parser->parsefile($file)) } // { error => $@ }), "file XML::DOM $name");
}

# File names are bytes too: a UTF-8 byte-string name reaches the same file as Perl's open().
{
    my $sub = "$dir/caf\xc3\xa9";
    mkdir $sub or die "$sub: $!";
    my $file = "$sub/d\xc3\xa9j\xc3\xa0.xml";
    open my $fh, '>:raw', $file or die "$file: $!";
    print $fh "<opt><n>\xe6\x97\xa5</n></opt>";
    close $fh;
    my $got = bridge_xmlin($file, 'file');
    is_deeply($got->{result}, real_xmlin($file)->{ok}, 'XMLin: a UTF-8 byte-string file name');
    $got = $c->call_python('xml', 'xml_in', { source => "d\xc3\xa9j\xc3\xa0.xml", source_type => 'file', options => { SearchPath => [$sub] } });
    is_deeply($got->{result}, XML::Simple->new->XMLin("d\xc3\xa9j\xc3\xa0.xml", SearchPath => [$sub]), 'XMLin: the same through SearchPath');
    is_deeply(bridge_xpath($c->call_python('xpath', 'load_file', { filename => $file })), real_xpath(XML::XPath->new(filename => $file)),
        'XML::XPath: a UTF-8 byte-string file name');
    is_deeply(bridge_dom($c->call_python('xml_dom_helper', 'parse_file', { parser_id => $parser, filename => $file })),
        real_dom($dom_parser->parsefile($file)), 'XML::DOM: a UTF-8 byte-string file name');
    my ($mine, $theirs) = ("$sub/\xc3\xbc_bridge.xml", "$sub/\xc3\xbc_module.xml");
    XML::Simple->new->XMLout({ a => 1 }, OutputFile => $theirs);
    $c->call_python('xml', 'xml_out', { data => { a => 1 }, options => { OutputFile => $mine } });
    ok(-f $mine && -s $mine == -s $theirs, 'XMLout OutputFile: a UTF-8 byte-string file name is created as those bytes');
}

# A missing file: the module's own words.
{
    my $f = "$dir/missing.xml";
    my $got = bridge_xmlin($f, 'file');
    my $real = real_xmlin($f)->{error};
    $real =~ s/ at \S+ line \d+\.?\n//;
    is($got->{error}, $real, 'XMLin missing file: same message');
    is($got->{error_type}, 'FileNotFoundError', 'XMLin missing file: error_type');
    eval { XML::XPath->new(filename => $f)->find('/') };
    (my $xp_err = $@) =~ s/ at \S+ line \d+\.?\n//;
    is($c->call_python('xpath', 'load_file', { filename => $f })->{error}, $xp_err, 'XML::XPath missing file: same message');
    eval { $dom_parser->parsefile($f) };
    (my $dom_err = $@) =~ s/ at \S+ line \d+\.?\n//;
    is($c->call_python('xml_dom_helper', 'parse_file', { parser_id => $parser, filename => $f })->{error},
        "XML parsing failed: $dom_err", 'XML::DOM missing file: same message after the helper prefix');
}

# Sources that are not regular files: a clear error, promptly (the modules would read /dev/zero
# until memory runs out, or block on the FIFO forever).
my $fifo = "$dir/pipe.xml";
mkfifo($fifo, 0600) or die "mkfifo: $!";
for my $src ('/dev/zero', $fifo, $dir) {
    my $t0 = time;
    my @r = (
        [ xml => bridge_xmlin($src, 'file') ],
        [ xpath => $c->call_python('xpath', 'load_file', { filename => $src }) ],
        [ xml_dom_helper => $c->call_python('xml_dom_helper', 'parse_file', { parser_id => $parser, filename => $src }) ],
    );
    my $secs = time - $t0;
    for (@r) {
        my ($mod, $r) = @$_;
        ok(!$r->{success}, "$mod $src: fails");
        like($r->{error}, qr/\Q$src\E.*(not a regular file|a directory)/, "$mod $src: says it is not a regular file");
    }
    cmp_ok($secs, '<', 5, sprintf('%s: all three answered in %.2f s', $src, $secs));
}
{
    my $t0 = time;
    my $r = $c->call_python('xml', 'xml_out', { data => { a => 1 }, options => { OutputFile => $fifo } });
    ok(!$r->{success}, 'XMLout OutputFile on a FIFO is refused (the module would block until a reader comes)');
    like($r->{error}, qr/^open\(\Q$fifo\E\): not a regular file$/, 'XMLout FIFO: in open()\'s words');
    cmp_ok(time - $t0, '<', 5, 'XMLout FIFO: promptly');
    my $nodir = "$dir/no/such/dir/out.xml";
    $r = $c->call_python('xml', 'xml_out', { data => { a => 1 }, options => { OutputFile => $nodir } });
    my $want = eval { XML::Simple->new->XMLout({ a => 1 }, OutputFile => $nodir); '' } // $@;
    $want =~ s/ at \S+ line \d+\.?\n//;
    is($r->{error}, $want, 'XMLout OutputFile in a missing directory: the module\'s message');
    $r = $c->call_python('xml', 'xml_out', { data => { a => 1 }, options => { OutputFile => $dir } });
    $want = eval { XML::Simple->new->XMLout({ a => 1 }, OutputFile => $dir); '' } // $@;
    $want =~ s/ at \S+ line \d+\.?\n//;
    is($r->{error}, $want, 'XMLout OutputFile on a directory: the module\'s message');
}
my $alive = $c->call_python('xml', 'xml_in', { source => '<opt><a>1</a></opt>', source_type => 'string', options => {} });
is_deeply($alive->{result}, { a => 1 }, 'the daemon still serves after them');
$d->stop;

# A file over CPAN_BRIDGE_MAX_FILE_BYTES: refused with the limit named, not read.
my $small = TestDaemon->start(CPAN_BRIDGE_MAX_FILE_BYTES => 1000);
$c = BridgeClient->new;
$parser = $c->call_python('xml_dom_helper', 'create_parser', {})->{result}{parser_id};
my $big = "$dir/big.xml";
open my $fh, '>:raw', $big or die $!;
print $fh '<opt>' . ('<a>x</a>' x 200) . '</opt>';
close $fh;
my $ok = "$dir/ok.xml";
open $fh, '>:raw', $ok or die $!;
print $fh "<opt><a>\xe6\x97\xa5</a></opt>";
close $fh;
for (
    [ xml => bridge_xmlin($big, 'file') ],
    [ xpath => $c->call_python('xpath', 'load_file', { filename => $big }) ],
    [ xml_dom_helper => $c->call_python('xml_dom_helper', 'parse_file', { parser_id => $parser, filename => $big }) ],
) {
    my ($mod, $r) = @$_;
    ok(!$r->{success}, "$mod: a 1605-byte file over a 1000-byte limit fails");
    like($r->{error}, qr/\Q$big\E.*larger than 1000 bytes \(CPAN_BRIDGE_MAX_FILE_BYTES\)/, "$mod: the message names the file and the setting");
}
is(bridge_xmlin($big, 'file')->{error_type}, 'FileTooLargeError', 'xml: error_type FileTooLargeError');
is_deeply(bridge_xmlin($ok, 'file')->{result}, real_xmlin($ok)->{ok}, 'a file under the limit is still read');
$small->stop;

done_testing;
