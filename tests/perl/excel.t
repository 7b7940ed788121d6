#!/usr/bin/perl
# excel (ExcelHelper.pm → Excel::Writer::XLSX 1.10) through the daemon (every wire function), and
# differentially against the real Excel::Writer::XLSX (Debian libexcel-writer-xlsx-perl): the same
# calls make two files, which Spreadsheet::ParseXLSX (Debian libspreadsheet-parsexlsx-perl) reads
# back in this test, cell by cell: value, type, formula, font (colour, underline, bold, italic,
# name, size), fill, alignment, borders, number format; hyperlinks and the raw <v> text of number
# cells are read from the sheet XML (ParseXLSX does not report them).
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use JSON::PP;
use Archive::Zip qw(:ERROR_CODES);
use lib "tests/perl/lib";
use TestDaemon;
use BridgeClient;
use Excel::Writer::XLSX;
use Spreadsheet::ParseXLSX;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

# ---- the reader: both workbooks go through exactly this ------------------------------------
sub zip_member {
    my ($zip, $name) = @_;
    my $m = $zip->memberNamed($name) or return undef;
    my $x = $m->contents;
    utf8::decode($x);
    return $x;
}

sub unescape { my $s = shift; $s =~ s/&lt;/</g; $s =~ s/&gt;/>/g; $s =~ s/&quot;/"/g; $s =~ s/&apos;/'/g; $s =~ s/&amp;/&/g; $s }

# sheet name → { A1 => { hyperlink, v } } from the XML that ParseXLSX does not report.
sub xml_extras {
    my ($path) = @_;
    my $zip = Archive::Zip->new;
    $zip->read($path) == AZ_OK or die "cannot unzip $path";
    my $wb = zip_member($zip, 'xl/workbook.xml');
    my $rels = zip_member($zip, 'xl/_rels/workbook.xml.rels');
    my %target = $rels =~ /<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"/g;
    my %t2 = $rels =~ /<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"/g;
    %target = (%target, reverse %t2);
    my %out;
    while ($wb =~ /<sheet\b([^>]*)\/>/g) {
        my $a = $1;
        my ($name) = $a =~ /\bname="([^"]*)"/;
        my ($rid) = $a =~ /\br:id="([^"]*)"/;
        my $file = $target{$rid};
        $file =~ s{^/?(xl/)?}{xl/};
        my $xml = zip_member($zip, $file);
        my ($dir, $base) = $file =~ m{^(.*)/([^/]+)$};
        my $srels = zip_member($zip, "$dir/_rels/$base.rels") // '';
        my %link;
        while ($srels =~ /<Relationship\b([^>]*)\/>/g) {
            my $r = $1;
            my ($id) = $r =~ /\bId="([^"]*)"/;
            my ($t) = $r =~ /\bTarget="([^"]*)"/;
            $link{$id} = unescape($t);
        }
        my %cells;
        while ($xml =~ /<hyperlink\b([^>]*)\/>/g) {
            my $h = $1;
            my ($ref) = $h =~ /\bref="([^"]*)"/;
            my ($id) = $h =~ /\br:id="([^"]*)"/;
            my ($loc) = $h =~ /\blocation="([^"]*)"/;
            $cells{$ref}{link_target} = $id ? $link{$id} : undef;
            $cells{$ref}{link_location} = defined $loc ? unescape($loc) : undef;
        }
        while ($xml =~ /<c\b([^>]*?)(?:\/>|>(.*?)<\/c>)/gs) {
            my ($attrs, $body) = ($1, $2 // '');
            my ($ref) = $attrs =~ /\br="([^"]*)"/;
            my ($t) = $attrs =~ /\bt="([^"]*)"/;
            next if defined $t;    # only number cells: their <v> is the stored text
            $cells{$ref}{v} = $1 if $body =~ /<v>([^<]*)<\/v>/ && $body !~ /<f\b/;
        }
        $out{$name} = \%cells;
    }
    return \%out;
}

# The address Excel opens: the relationship's target, then "#" and the location.
sub link_of {
    my ($x) = @_;
    return undef unless defined $x->{link_target} || defined $x->{link_location};
    return ($x->{link_target} // '') . (defined $x->{link_location} ? "#$x->{link_location}" : '');
}

sub col_name { my $c = shift; my $s = ''; $c++; while ($c) { my $r = ($c - 1) % 26; $s = chr(65 + $r) . $s; $c = int(($c - 1) / 26) } $s }

sub read_xlsx {
    my ($path) = @_;
    # Excel::Writer::XLSX writes an array formula's cached value as <v></v>, which ParseXLSX adds to 0
    local $SIG{__WARN__} = sub { warn @_ unless $_[0] =~ /^Argument "" isn't numeric in addition .*ParseXLSX/ };
    my $book = Spreadsheet::ParseXLSX->new->parse($path) or die "ParseXLSX could not read $path";
    my $extras = xml_extras($path);
    my @sheets;
    for my $ws ($book->worksheets) {
        my %cells;
        my ($rmin, $rmax) = $ws->row_range;
        my ($cmin, $cmax) = $ws->col_range;
        for my $r ($rmin .. $rmax) {
            for my $c ($cmin .. $cmax) {
                my $cell = $ws->get_cell($r, $c) or next;
                my $f = $cell->get_format;
                my $font = $f->{Font};
                my $addr = col_name($c) . ($r + 1);
                $cells{$addr} = {
                    value => $cell->unformatted, type => $cell->type, formula => $cell->{Formula},
                    bold => $font->{Bold}, italic => $font->{Italic}, underline => $font->{Underline},
                    underline_style => $font->{UnderlineStyle}, font_color => $font->{Color},
                    font_name => $font->{Name}, font_size => $font->{Height}, strike => $font->{Strikeout},
                    fill => $f->{Fill}, halign => $f->{AlignH}, valign => $f->{AlignV}, wrap => $f->{Wrap},
                    border => $f->{BdrStyle}, border_color => $f->{BdrColor},
                    num_format => $book->{FormatStr}{ $f->{FmtIdx} },
                    link => link_of($extras->{ $ws->get_name }{$addr}),
                    v => $extras->{ $ws->get_name }{$addr}{v},
                };
            }
        }
        # hyperlinks on cells ParseXLSX skipped
        for my $addr (keys %{ $extras->{ $ws->get_name } }) {
            my $x = $extras->{ $ws->get_name }{$addr};
            $cells{$addr} //= { link => link_of($x) } if defined link_of($x);
        }
        push @sheets, { name => $ws->get_name, cells => \%cells };
    }
    return \@sheets;
}

sub show { my $v = shift; defined $v ? (ref $v ? JSON::PP->new->canonical->encode($v) : "$v") : 'undef' }

# Differences between two read-backs; numbers compare as numbers (1e+15 and 1000000000000000
# are the same double), everything else as text.
sub differences {
    my ($got, $want, %o) = @_;
    my @diffs;
    push @diffs, 'sheet names: bridge=' . show([map { $_->{name} } @$got]) . ' real=' . show([map { $_->{name} } @$want])
        if show([map { $_->{name} } @$got]) ne show([map { $_->{name} } @$want]);
    for my $i (0 .. $#$want) {
        my ($g, $w) = ($got->[$i]{cells} // {}, $want->[$i]{cells});
        for my $addr (sort keys %{ { %$g, %$w } }) {
            my ($gc, $wc) = ($g->{$addr}, $w->{$addr});
            if (!$gc || !$wc) { push @diffs, "sheet $i $addr: only in " . ($gc ? 'bridge' : 'real') . ' ' . show($gc || $wc); next }
            for my $k (sort keys %{ { %$gc, %$wc } }) {
                next if $o{skip} && $o{skip}{"$i!$addr!$k"};
                my ($a, $b) = ($gc->{$k}, $wc->{$k});
                next if $k eq 'value' && ($wc->{type} // '') eq 'Numeric' && defined $a && defined $b
                    && $a =~ /^-?[\d.]+(e[+-]?\d+)?$|^-?Inf$/i && $a == $b && ($gc->{type} // '') eq 'Numeric';
                push @diffs, "sheet $i $addr $k: bridge=" . show($a) . ' real=' . show($b) if show($a) ne show($b);
            }
        }
    }
    return @diffs;
}

# ---- the daemon ------------------------------------------------------------------------
my $d = TestDaemon->start();
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);
my $orig = getcwd();

sub call { $c->call_python('excel', @_) }

# --- errors are returned, not thrown --------------------------------------------------------
my $r;
$r = call('create_workbook', { filename => "$dir/no/such/dir/x.xlsx" });
ok(!$r->{success}, 'create_workbook in a missing directory fails');
like($r->{error}, qr{^Cannot create workbook .*no/such/dir/x\.xlsx: }, '... with the path in the message');
ok(!eval { Excel::Writer::XLSX->new("$dir/no/such/dir/x.xlsx") }, '... as Excel::Writer::XLSX->new returns undef');
$r = call('add_worksheet', { workbook_id => 'nope', name => 'x' });
is($r->{error}, 'Invalid workbook ID: nope', 'unknown workbook id');

# --- the same script through the bridge and through Excel::Writer::XLSX -------------------
my @formats = (
    { bold => 1, color => 'red', bg_color => 'yellow', align => 'center', border => 1 },
    { italic => 1, num_format => '0.00', font => 'Arial', size => 14, valign => 'vcenter' },
    { num_format => 14, color => '#1F497D', text_wrap => 1, bottom => 2, align => 'right' },
    { bg_color => 'gray', underline => 1 },
    { num_format => '#,##0.000;[Red]-#,##0.000', underline => 2, color => 'blue', font_strikeout => 1 },
    { num_format => '@' },
);
no utf8;
my $LONG = 'x' x 40_000;
my @writes = (
    # sheet, row, col, data, format index or undef
    [0, 0, 0, 'Name', 0], [0, 0, 1, 'Amount', 0], [0, 0, 2, 'Text', 0],
    [0, 1, 0, "Z\xc3\xbcrich \xe2\x9c\x93", undef],       # a UTF-8 byte string
    [0, 1, 1, '123', 1], [0, 1, 2, '00123', undef],
    [0, 2, 0, 'plain', 3], [0, 2, 1, 45.25, 1], [0, 2, 2, '1.5e3', undef],
    [0, 3, 0, '-.5', undef], [0, 3, 1, '=SUM(B2:B3)', 1], [0, 3, 2, '12abc', undef],
    [0, 4, 0, 'http://example.com/a?b=1#frag', undef], [0, 4, 1, 'mailto:ops@example.com', undef],
    [0, 4, 2, '  42', undef], [0, 5, 0, '', 2], [0, 5, 1, 44197, 2], [0, 5, 2, '+7', undef],
    [0, 6, 0, [1, 'two', ['down1', 'down2']], undef],
    [0, 7, 0, "caf\xe9", undef],                           # a Latin-1 byte string
    [0, 7, 1, "\x{65e5}\x{672c}\x{8a9e} \x{1F600} Z\x{fc}rich", undef],   # wide characters
    [0, 7, 2, '0', undef], [0, 7, 3, '0', 4], [0, 7, 4, '', undef], [0, 7, 5, undef, undef], [0, 7, 6, undef, 3],
    [0, 8, 0, 'https://example.com/x', 0], [0, 8, 1, 'ftp://files.example.com/x.csv', undef],
    [0, 8, 2, '{=SUM(B2:B3*2)}', undef], [0, 8, 3, '=A1&"x"', 5], [0, 8, 4, '123', 5],
    [0, 9, 0, $LONG, undef],
    [1, 0, 0, 'second sheet', undef], [1, 1, 1, "line1\nline2", 2], [1, 2, 0, '1E5', undef],
    [1, 3, 0, 'internal:Sheet1!A1', undef], [1, 3, 1, 'external:c:/temp/foo.xlsx', undef],
    [1, 3, 2, 'ftp://files.example.com/x.csv', undef],
    # numbers at the edges, as strings (a DB value) and as Perl numbers (JSON numbers on the wire)
    [2, 0, 0, '12345678901234567890', undef], [2, 0, 1, '9007199254740993', undef],
    [2, 1, 0, 1e308, undef], [2, 1, 1, '1e308', undef], [2, 1, 2, '1e400', undef],
    [2, 2, 0, -1e-300 * 1e-300, undef], [2, 2, 1, '-0', undef], [2, 2, 2, '-0.0', undef],
    [2, 3, 0, 0.1, undef], [2, 3, 1, 1 / 3, undef], [2, 3, 2, 2**64, undef],
    [2, 4, 0, '18446744073709551616', undef], [2, 4, 1, '-9223372036854775808', undef], [2, 4, 2, '123456789012345678901234', undef],
    [2, 5, 0, 1e15, undef], [2, 5, 1, 5e-324, undef], [2, 5, 2, '1.5e-7', 1],
    [2, 6, 0, 9007199254740992, undef], [2, 6, 1, -9007199254740991, undef],
);
# Perl integers above 2^53 travel as JSON numbers, which JavaScript's JSON.parse rounds to a double
# before any helper sees them (daemon contract W8); the strings above keep every digit.
my @wire_big = ([2, 7, 0, 12345678901234567890, undef], [2, 7, 1, 9007199254740993, undef]);
use utf8;

sub run_real {
    my ($file, $writes) = @_;
    my $wb = Excel::Writer::XLSX->new($file) or die "new: $!";
    my @ws = ($wb->add_worksheet(), $wb->add_worksheet('Données'), $wb->add_worksheet('Edges'));
    my @fmt = map { $wb->add_format(%$_) } @formats;
    $fmt[3]->set_bold();    # after the add, as ExcelHelper's set_bold does
    $fmt[5]->set_color('green'); $fmt[5]->set_bg_color('#C0C0C0'); $fmt[5]->set_align('left');
    $fmt[5]->set_border(2); $fmt[5]->set_num_format('0.0%');
    local $SIG{__WARN__} = sub { };
    for my $w (@$writes) {
        my ($s, $row, $col, $data, $fi) = @$w;
        $ws[$s]->write($row, $col, $data, defined $fi ? $fmt[$fi] : ());
    }
    $fmt[0]->set_italic();  # after the cells were written: applies at close
    $wb->close() or die "close: $!";
}

sub run_bridge {
    my ($file, $writes) = @_;
    my $wb = call('create_workbook', { filename => $file });
    ok($wb->{success}, 'create_workbook') or diag explain $wb;
    my $id = $wb->{result}{workbook_id};
    is($wb->{result}{library}, 'exceljs', 'library is exceljs');
    my $s1 = call('add_worksheet', { workbook_id => $id });
    is($s1->{result}{name}, 'Sheet1', 'default sheet name as Excel::Writer::XLSX');
    my $s2 = call('add_worksheet', { workbook_id => $id, name => 'Données' });
    is($s2->{result}{name}, 'Données', 'Unicode sheet name');
    my $s3 = call('add_worksheet', { workbook_id => $id, name => 'Edges' });
    my @ws = map { $_->{result}{worksheet_id} } $s1, $s2, $s3;
    my @fmt;
    for my $p (@formats) {
        my $f = call('add_format', { workbook_id => $id, properties => $p });
        push @fmt, $f->{result}{format_id};
    }
    is_deeply(call('add_format', { workbook_id => $id, properties => $formats[0] })->{result}{properties},
        $formats[0], 'add_format echoes the properties');
    my $u = call('update_format', { workbook_id => $id, format_id => $fmt[3], property => 'bold', value => 1 });
    is($u->{result}{property}, 'bold', 'update_format echoes the property');
    # ExcelHelper.pm's set_color sends font_color; set_bg_color, set_align, set_border, set_num_format
    for my $p ([font_color => 'green'], [bg_color => '#C0C0C0'], [align => 'left'], [border => 2], [num_format => '0.0%']) {
        my $r = call('update_format', { workbook_id => $id, format_id => $fmt[5], property => $p->[0], value => $p->[1] });
        ok($r->{success}, "update_format $p->[0]") or diag explain $r;
    }
    my $failed = 0;
    for my $w (@$writes) {
        my ($s, $row, $col, $data, $fi) = @$w;
        # what ExcelHelper.pm's write/write_string/write_number/write_formula send (no type)
        my $r = call('write_cell', { workbook_id => $id, worksheet_id => $ws[$s], row => $row, col => $col,
            data => $data, defined $fi ? (format_id => $fmt[$fi]) : () });
        $failed++, diag explain $r unless $r->{success};
    }
    is($failed, 0, 'every write_cell succeeded (' . scalar(@$writes) . ')');
    call('update_format', { workbook_id => $id, format_id => $fmt[0], property => 'italic', value => 1 });
    my $cl = call('close_workbook', { workbook_id => $id });
    ok($cl->{success}, 'close_workbook') or diag explain $cl;
    is($cl->{result}{filename}, $file, 'close_workbook reports the filename');
    my $again = call('close_workbook', { workbook_id => $id });
    ok(!$again->{success}, 'the workbook is freed after close');
}

# Relative filename: resolved against THIS process's cwd, not the daemon's.
chdir $dir or die;
run_bridge('bridge.xlsx', \@writes);
chdir $orig;
ok(-s "$dir/bridge.xlsx", 'the relative filename landed in the caller\'s cwd');
run_real("$dir/real.xlsx", \@writes);
{
    my ($got, $want) = (read_xlsx("$dir/bridge.xlsx"), read_xlsx("$dir/real.xlsx"));
    my @diffs = differences($got, $want);
    is(scalar(@diffs), 0, 'cells, types, formats and links equal Excel::Writer::XLSX (Spreadsheet::ParseXLSX reading both)')
        or diag join("\n", @diffs);
    my $n = 0;
    $n += keys %{ $_->{cells} } for @$want;
    cmp_ok($n, '>=', 57, "the comparison covered the cells ($n)");
    is($want->[1]{cells}{A4}{link}, '#Sheet1!A1', 'internal link: Excel::Writer::XLSX writes only the location ...');
    is($got->[1]{cells}{A4}{link}, '#Sheet1!A1', '... and so does the bridge (no relationship to a file "Sheet1!A1")');
    my $e = $want->[2]{cells};
    is($e->{A1}{v}, '12345678901234567890', 'Excel::Writer::XLSX stores "12345678901234567890" in full ...');
    is($got->[2]{cells}{A1}{v}, '12345678901234567890', '... and so does the bridge');
    is($got->[2]{cells}{B1}{v}, $e->{B1}{v}, '"9007199254740993" the same (' . show($e->{B1}{v}) . ')');
    is($got->[0]{cells}{A5}{font_color}, '#0000FF', 'a URL cell gets the blue hyperlink colour');
    is($got->[0]{cells}{A5}{underline}, 1, '... underlined');
    is($got->[0]{cells}{A2}{value}, $want->[0]{cells}{A2}{value}, 'a UTF-8 byte string is stored as Excel::Writer::XLSX stores it (its Latin-1 reading)');
}

chdir $dir or die;
run_bridge('bridge_big.xlsx', \@wire_big);
chdir $orig;
run_real("$dir/real_big.xlsx", \@wire_big);
{
    # The wire keeps integers beyond 2^53 as their digits (daemon contract W8).
    my @diffs = differences(read_xlsx("$dir/bridge_big.xlsx"), read_xlsx("$dir/real_big.xlsx"));
    is(scalar(@diffs), 0, 'Perl integers 12345678901234567890 and 9007199254740993 sent as numbers') or diag join("\n", @diffs);
}

# --- a file name given as a UTF-8 byte string names the file with those bytes, as in Perl ---
{
    my $name = "$dir/r\xc3\xa9sum\xc3\xa9.xlsx";
    my $real = Excel::Writer::XLSX->new("$dir/real-r\xc3\xa9sum\xc3\xa9.xlsx");
    $real->add_worksheet->write(0, 0, 'x');
    $real->close;
    ok(-s "$dir/real-r\xc3\xa9sum\xc3\xa9.xlsx", 'Excel::Writer::XLSX: the byte-string name is the file name');
    my $id = call('create_workbook', { filename => $name })->{result}{workbook_id};
    my $ws = call('add_worksheet', { workbook_id => $id })->{result}{worksheet_id};
    call('write_cell', { workbook_id => $id, worksheet_id => $ws, row => 0, col => 0, data => 'x' });
    ok(call('close_workbook', { workbook_id => $id })->{success}, 'bridge: byte-string file name written');
    ok(-s $name, 'bridge: the file has the same name bytes');
    opendir my $dh, $dir or die;
    my @mojibake = grep { /\xc3\x83/ } readdir $dh;
    is_deeply(\@mojibake, [], 'no double-encoded file name');
}

# --- more error paths -------------------------------------------------------------------
my $wb = call('create_workbook', { filename => "$dir/err.xlsx" })->{result}{workbook_id};
like(call('add_worksheet', { workbook_id => $wb, name => 'a' x 32 })->{error}, qr/must be <= 31 chars/, 'long sheet name');
like(call('add_worksheet', { workbook_id => $wb, name => 'a/b' })->{error}, qr/Invalid character/, 'bad sheet name');
my $ws = call('add_worksheet', { workbook_id => $wb, name => 'Data' })->{result}{worksheet_id};
like(call('add_worksheet', { workbook_id => $wb, name => 'DATA' })->{error}, qr/already used/, 'duplicate sheet name');
{
    my $real = Excel::Writer::XLSX->new("$dir/err_real.xlsx");
    my $rs = $real->add_worksheet('Data');
    ok(!eval { $real->add_worksheet('DATA'); 1 }, '... as Excel::Writer::XLSX croaks');
    is($rs->write(1048576, 0, 1), -2, 'Excel::Writer::XLSX: row out of range returns -2 ...');
    $real->close;
}
like(call('write_cell', { workbook_id => $wb, worksheet_id => $ws, row => 1048576, col => 0, data => 1 })->{error},
    qr/outside Excel's limits/, '... the bridge returns an error');
is(call('write_cell', { workbook_id => $wb, worksheet_id => 'x', row => 0, col => 0, data => 1 })->{error},
    'Invalid worksheet ID: x', 'unknown worksheet');
is(call('write_cell', { workbook_id => $wb, worksheet_id => $ws, row => 0, col => 0, data => 1, format_id => 'f' })->{error},
    'Invalid format ID: f', 'unknown format');
is(call('update_format', { workbook_id => $wb, format_id => 'f', property => 'bold', value => 1 })->{error},
    'Invalid format ID: f', 'update_format with an unknown format');
ok(call('close_workbook', { workbook_id => $wb })->{success}, 'close with no cells');
is(read_xlsx("$dir/err.xlsx")->[0]{name}, 'Data', 'the file is a valid workbook');

# --- ping (test-only) ----------------------------------------------------------------------
$r = call('ping', {});
ok($r->{success} && $r->{result}{status} eq 'ok', 'ping answers') or diag explain $r;

$d->stop;
done_testing();
