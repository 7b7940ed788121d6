# xml_helper (XMLHelper.pm → XML::Simple) through a real daemon under both wire names, `xml` (what
# XMLHelper.pm sends) and `xml_helper`, compared with the real XML::Simple 2.25 (Debian
# libxml-simple-perl): the same sources and options go to XMLin, the structures are compared with
# is_deeply; XMLout output is compared as text and by re-parsing both with XMLin.
use strict;
use warnings;
use utf8;
use Test::More;
use FindBin;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use Time::HiRes qw(time);
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;
use XML::Simple ();

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $d = TestDaemon->start;
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);
my $old_cwd = getcwd();

# XMLHelper.pm's _determine_source_type, so calls look exactly like the wrapper's.
sub source_type {
    my ($s) = @_;
    return 'filehandle' if ref $s;
    return 'string' if $s =~ /^\s*</;
    return 'url' if $s =~ m{^https?://};
    return 'file';
}

sub bridge_in {
    my ($mod, $src, %o) = @_;
    return $c->call_python($mod, 'xml_in', { source => $src, source_type => source_type($src), options => \%o });
}

# Real XMLin on a character string (upgraded, so libxml sees characters, not Latin-1 bytes).
sub real_in {
    my ($src, %o) = @_;
    utf8::upgrade($src);
    local $SIG{__WARN__} = sub { };
    my $r = eval { XML::Simple->new->XMLin($src, %o) };
    return $@ ? { error => $@ } : { ok => $r };
}

sub real_out {
    my ($data, %o) = @_;
    local $SIG{__WARN__} = sub { };
    return XML::Simple->new->XMLout($data, %o);
}

my $UNICODE = "<opt>\n  <name>Jürgen Größe — café</name>\n  <cjk lang='zh'>東京 世界</cjk>\n"
  . "  <emoji>ok 😀🎉</emoji>\n  <multi>  first line\n\tsecond line\n  third  </multi>\n</opt>";

my @IN = (
    [ 'default folding on name/key/id',
      q{<opt><server name="a" ip="1"/><server name="b" ip="2"/><x id="7" v="q"/><x>t</x><k key="z"/></opt>} ],
    [ 'KeyAttr => []', q{<opt><server name="a" ip="1"/><server name="b" ip="2"/></opt>}, KeyAttr => [] ],
    [ 'KeyAttr hash +', q{<opt><item id="1" v="a"/><item id="2" v="b"/></opt>}, KeyAttr => { item => '+id' } ],
    [ 'KeyAttr hash -', q{<opt><item id="1" v="a"/><item id="2" v="b"/></opt>}, KeyAttr => { item => '-id' } ],
    [ 'KeyAttr scalar', q{<opt><u login="x" n="1"/><u login="y" n="2"/></opt>}, KeyAttr => 'login' ],
    [ 'ForceArray 1', q{<opt><a>x</a><b name="n" v="1"/><c>y</c><d/></opt>}, ForceArray => 1 ],
    [ 'ForceArray list', q{<opt><a>x</a><b name="n" v="1"/><c>y</c></opt>}, ForceArray => ['a', 'b'] ],
    [ 'ForceArray 0', q{<opt><a>x</a></opt>}, ForceArray => 0 ],
    [ 'ContentKey', q{<opt><p k="v">text</p></opt>}, ContentKey => 'value' ],
    [ 'ContentKey -content', q{<opt><dir name="a">/x</dir><dir name="b">/y</dir></opt>}, ContentKey => '-content' ],
    [ 'ForceContent', q{<opt><p>text</p><q a="1">t</q></opt>}, ForceContent => 1 ],
    [ 'mixed content', q{<opt a="1">t1<b/>t2<!-- c -->t3<![CDATA[<x>&]]><b/></opt>} ],
    [ 'whitespace only and nbsp', "<opt>\n  <e/>\n  <f>   </f><g>\x{a0}</g><h>\x{feff}</h><i>\x{3000}x</i></opt>" ],
    [ 'SuppressEmpty default', q{<opt><e/><f></f><g>1</g></opt>} ],
    [ 'SuppressEmpty undef', q{<opt><e/><f></f><g>1</g></opt>}, SuppressEmpty => undef ],
    [ 'SuppressEmpty empty string', q{<opt><e/><f></f><g>1</g></opt>}, SuppressEmpty => '' ],
    [ 'SuppressEmpty 1', q{<opt><e/><f></f><g>1</g></opt>}, SuppressEmpty => 1 ],
    [ 'KeepRoot', q{<r a="1"><b>x</b></r>}, KeepRoot => 1 ],
    [ 'KeepRoot 0', q{<r a="1"><b>x</b></r>}, KeepRoot => 0 ],
    [ 'NoAttr', q{<r a="1"><b c="2">x</b><d e="f"/></r>}, NoAttr => 1 ],
    [ 'GroupTags', q{<r><dirs><dir>a</dir><dir>b</dir></dirs><one><dir>c</dir></one></r>}, GroupTags => { dirs => 'dir', one => 'dir' } ],
    [ 'ValueAttr list', q{<r><c v="1"/><d v="2" w="3"/></r>}, ValueAttr => ['v'] ],
    [ 'ValueAttr hash', q{<r><c v="1"/><d w="3"/></r>}, ValueAttr => { c => 'v' } ],
    [ 'NormaliseSpace 2', "<r a='  x   y '><t>  a  \n\n b </t><u>c\nd</u></r>", NormaliseSpace => 2 ],
    [ 'NormaliseSpace 1', "<r><i name='  a  b '/><i name='c'/></r>", NormaliseSpace => 1 ],
    [ 'VarAttr', q{<r><dir name="base">/opt</dir><bin path="${base}/bin">${base}/x ${nope}</bin></r>}, VarAttr => 'name', KeyAttr => [] ],
    [ 'Variables', q{<r><p path="${v}/bin">${v}</p></r>}, Variables => { v => '/usr' } ],
    [ 'namespaces kept as prefixes', q{<r xmlns="urn:d" xmlns:p="urn:p"><p:a p:x="1" y="2"/></r>} ],
    [ 'NSExpand', q{<r xmlns="urn:d" xmlns:p="urn:p"><p:a p:x="1" y="2"/></r>}, NSExpand => 1 ],
    [ 'option name spelling', q{<opt><a>x</a></opt>}, force_array => 1, KEYATTR => [] ],
    [ 'scalar document', q{<opt>just text</opt>} ],
    [ 'empty document element', q{<opt/>} ],
    [ 'attribute normalisation', "<opt a='1\n\t2' b='x&#10;y'/>" ],
    [ 'entities', q{<!DOCTYPE r><r a="&lt;&amp;&quot;">&#233;&#x1F600;&gt;</r>} ],
    [ 'unicode and multi-line text', $UNICODE ],
    [ 'unicode keys', q{<r><größe>1</größe><名前 属性="値">x</名前></r>} ],
    [ 'unknown option', q{<opt/>}, Bogus => 1 ],
    [ 'StrictMode', q{<opt/>}, StrictMode => 1 ],
    [ 'StrictMode KeyAttr without ForceArray', q{<opt/>}, StrictMode => 1, ForceArray => 0, KeyAttr => { i => 'id' } ],
    [ 'GroupTags bad', q{<opt/>}, GroupTags => { a => 'a' } ],
);

for my $mod (qw(xml xml_helper)) {
    for my $case (@IN) {
        my ($name, $src, %o) = @$case;
        my $real = real_in($src, %o);
        my $got = bridge_in($mod, $src, %o);
        if ($real->{error}) {
            is($got->{success}, 0, "$mod xml_in $name: fails like XMLin");
            (my $first = $real->{error}) =~ s/ at \S+ line \d+\.?\n.*//s;
            like($got->{error}, qr/^\Q$first\E$/, "$mod xml_in $name: same message ($first)");
            next;
        }
        ok($got->{success}, "$mod xml_in $name: success") or diag explain $got;
        is_deeply($got->{result}, $real->{ok}, "$mod xml_in $name: same structure as XMLin")
          or diag explain { got => $got->{result}, want => $real->{ok} };
    }
}

# Files: relative to the CALLER's cwd (this process's), SearchPath, encodings, errors.
mkdir "$dir/conf" or die $!;
open my $fh, '>:encoding(UTF-8)', "$dir/conf/app.xml" or die $!;
print $fh qq{<?xml version="1.0" encoding="UTF-8"?>\n$UNICODE\n};
close $fh;
open $fh, '>:raw', "$dir/latin1.xml" or die $!;
print $fh qq{<?xml version="1.0" encoding="ISO-8859-1"?>\n<r>caf\xe9 na\xefve</r>\n};
close $fh;
open $fh, '>:raw', "$dir/bad.xml" or die $!;
print $fh "<r>caf\xe9</r>";
close $fh;
chdir $dir or die $!;
for my $mod (qw(xml xml_helper)) {
    for my $case ([ 'conf/app.xml' ], [ "$dir/conf/app.xml" ], [ 'latin1.xml' ],
                  [ 'app.xml', SearchPath => ['nope', 'conf'] ], [ 'conf/app.xml', KeyAttr => [], ForceArray => 1 ]) {
        my ($file, %o) = @$case;
        my $real = real_in($file, %o);
        my $got = bridge_in($mod, $file, %o);
        ok($got->{success}, "$mod xml_in file $file: success") or diag explain $got;
        is_deeply($got->{result}, $real->{ok}, "$mod xml_in file $file: same structure as XMLin");
    }
    my $r = bridge_in($mod, 'missing.xml');
    ok(!$r->{success}, "$mod xml_in missing file fails");
    is($r->{error_type}, "FileNotFoundError", "$mod: error_type FileNotFoundError");
    like($r->{error}, qr{^File does not exist: missing\.xml \(looked for \Q$dir\E/missing\.xml\)$}, "$mod: message names the file and where");
    like(real_in('missing.xml')->{error}, qr/^File does not exist: missing\.xml/, 'XMLin gives the same first words');
    $r = bridge_in($mod, 'bad.xml');
    is($r->{error_type}, 'ParseError', "$mod xml_in invalid UTF-8 file fails");
    like($r->{error}, qr/bad\.xml: not well-formed \(invalid token\): the document is not valid UTF-8 .*declare its encoding/, "$mod: actionable encoding message");
    ok(real_in('bad.xml')->{error}, 'XMLin also rejects the file');
    for my $bad ("<r><a></r>", "<r>&nosuch;</r>", "<r/>junk", "<r a='1' a='2'/>", "<r>\n<a>\n</b></r>") {
        $r = bridge_in($mod, $bad);
        is($r->{success}, 0, "$mod xml_in malformed " . ($bad =~ s/\n/\\n/gr) . " fails");
        like($r->{error}, qr/^Cannot parse XML: .+ at line \d+, column \d+$/, "$mod: with a position");
        ok(real_in($bad)->{error}, 'XMLin also fails');
    }
    $r = bridge_in($mod, 'http://example.invalid/x.xml');
    is($r->{error_type}, 'NotImplementedError', "$mod xml_in URL is refused");
    like($r->{error}, qr/fetch the document first/, "$mod: and says what to do");
}
chdir $old_cwd or die $!;

# XMLout: the same data and options, compared as text and re-parsed.
my @OUT = (
    [ 'defaults', { name => 'x', list => [1, 2, { a => 'b' }], h => { k1 => { v => 1 }, k2 => { v => 2 } }, t => q{a<b&"c'} } ],
    [ 'NoAttr', { name => 'x', list => [1, 2], h => { k1 => { v => 1 } } }, NoAttr => 1 ],
    [ 'KeepRoot XMLDecl', { root => { a => 1, content => 'txt', kid => { x => 'y' } } }, KeepRoot => 1, XMLDecl => 1 ],
    [ 'RootName undef', { a => 1, b => [1, 2] }, RootName => undef ],
    [ 'RootName empty NoIndent', { a => 1, b => [1, 2] }, RootName => '', NoIndent => 1 ],
    [ 'RootName', { a => 1 }, RootName => 'config' ],
    [ 'unicode', { name => 'Jürgen Größe', city => '東京', mood => '😀🎉', text => ["line one\nline two\n\tindented"] } ],
    [ 'unicode NoAttr', { name => 'Jürgen Größe', city => '東京', mood => '😀🎉', text => "a\nb" }, NoAttr => 1 ],
    [ 'NumericEscape 2', { a => 'é東😀' }, NumericEscape => 2 ],
    [ 'NumericEscape 1', { a => 'é東😀' }, NumericEscape => 1, AttrIndent => 1, RootName => 'r' ],
    [ 'SuppressEmpty undef', { a => undef, b => 'x' }, SuppressEmpty => undef ],
    [ 'undef values', { a => undef, b => 'x' } ],
    [ 'SuppressEmpty 1', { a => undef, b => 'x' }, SuppressEmpty => 1 ],
    [ 'KeyAttr hash', { item => { one => { id => 1, v => 'a' }, two => { v => 'b' } } }, KeyAttr => { item => 'id' } ],
    [ 'KeyAttr []', { item => { one => { v => 'a' } } }, KeyAttr => [] ],
    [ 'GroupTags', { dirs => ['a', 'b'] }, GroupTags => { dirs => 'dir' } ],
    [ 'ValueAttr', { c => 1, d => { x => 'y' } }, ValueAttr => { c => 'v' } ],
    [ 'top-level array', [1, [2, 3], { a => 'b' }] ],
    [ 'NoEscape custom XMLDecl', { z => 1, a => 2, name => 'first' }, NoEscape => 1, XMLDecl => '<?xml version="1.0" encoding="UTF-8"?>' ],
    [ 'ContentKey -content', { -hidden => 1, shown => '<&>' }, ContentKey => '-content' ],
    [ 'content with children', { x => { content => 't', a => '1', kid => ['k1', 'k2'] } } ],
    [ 'NoSort single key', { only => { a => 1 } }, NoSort => 1 ],
);

for my $mod (qw(xml xml_helper)) {
    for my $case (@OUT) {
        my ($name, $data, %o) = @$case;
        my $want = real_out($data, %o);
        my $got = $c->call_python($mod, 'xml_out', { data => $data, options => \%o });
        ok($got->{success}, "$mod xml_out $name: success") or diag explain $got;
        is($got->{result}, $want, "$mod xml_out $name: same text as XMLout");
        my %in = (KeyAttr => $o{KeyAttr} // [qw(name key id)], ($o{NoAttr} ? (NoAttr => 1) : ()),
            (exists $o{KeepRoot} ? (KeepRoot => $o{KeepRoot}) : ()));
        my ($a, $b) = map { my $x = $_; utf8::upgrade($x); XML::Simple->new->XMLin($x, %in) }
          exists $o{RootName} && ($o{RootName} // "") eq "" ? ("<x>$got->{result}</x>", "<x>$want</x>") : ($got->{result}, $want);
        is_deeply($a, $b, "$mod xml_out $name: re-parses to the same structure");
    }
    my $r = $c->call_python($mod, 'xml_out', { data => { a => 1 }, options => { ForceArray => 1 } });
    ok(!$r->{success}, "$mod xml_out bad option fails");
    is($r->{error}, "Unrecognised option: ForceArray", "$mod: with XMLout's message");
    chdir $dir or die $!;
    $r = $c->call_python($mod, 'xml_out', { data => { a => 'é' }, options => { OutputFile => "out_$mod.xml" } });
    is($r->{result}, 1, "$mod xml_out OutputFile returns 1");
    open my $in, '<:encoding(UTF-8)', "$dir/out_$mod.xml" or die "out_$mod.xml: $!";
    is(do { local $/; <$in> }, real_out({ a => 'é' }), "$mod: file written relative to the caller's cwd");
    chdir $old_cwd or die $!;

    # escape_value / unescape_value as XMLHelper.pm calls them.
    my $xs = XML::Simple->new;
    for my $v (q{a<b>&"c'}, 'plain', "multi\nline é 東 😀", '') {
        $r = $c->call_python($mod, 'escape_xml', { value => $v });
        ok($r->{success}, "$mod escape_xml success");
        is($r->{result}, $xs->escape_value($v), "$mod escape_xml same as escape_value");
        is($c->call_python($mod, 'unescape_xml', { value => $r->{result} })->{result}, $v, "$mod unescape_xml reverses it");
    }
    $r = $c->call_python($mod, 'unescape_xml', { value => '&#233;&#x1F600;&apos;&amp;lt;' });
    is($r->{result}, "é😀'&lt;", "$mod unescape_xml numeric references, one level only");
}

# A 10 MB document read from a file through the daemon.
{
    open my $big, '>:encoding(UTF-8)', "$dir/big.xml" or die $!;
    print $big "<?xml version='1.0' encoding='UTF-8'?>\n<tickets>\n";
    my ($n, $size) = (0, 0);
    while ($size < 10 * 1024 * 1024) {
        my $rec = qq{  <ticket id="T$n" status="open"><title>Ticket $n: café 世界 😀 &amp;</title>}
          . qq{<description>line one\n    line two</description><tag>a</tag><tag>b</tag></ticket>\n};
        print $big $rec;
        $size += length(Encode::encode('UTF-8', $rec));
        $n++;
    }
    print $big "</tickets>\n";
    close $big;
    my $t0 = time;
    my $r = bridge_in('xml', "$dir/big.xml");
    my $secs = time - $t0;
    ok($r->{success}, '10 MB file: success') or diag explain $r;
    is(scalar(keys %{ $r->{result}{ticket} }), $n, "10 MB file: all $n records folded on id");
    is_deeply($r->{result}{ticket}{T7}, { status => 'open', title => 'Ticket 7: café 世界 😀 &',
        description => "line one\n    line two", tag => ['a', 'b'] }, '10 MB file: record content');
    diag sprintf('10 MB XMLin through the daemon (file source, incl. JSON reply): %.2f s', $secs);
}

$d->stop;
done_testing;
