#!/usr/bin/perl
# excel through the daemon (every wire function), and differentially against the real
# Excel::Writer::XLSX (Debian libexcel-writer-xlsx-perl): the same calls make two files, which an
# independent reader (Debian python3-openpyxl, test-only) dumps and compares cell by cell.
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use JSON::PP;
use lib "tests/perl/lib";
use TestDaemon;
use BridgeClient;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $HAVE_XLSX = eval { require Excel::Writer::XLSX; 1 };
my $PY = '/usr/bin/python3';

my $DUMP = <<'PY';
import json, sys
import openpyxl
def color(c):
    if c is None: return None
    if c.type == "rgb": return c.rgb
    if c.type == "theme": return "theme:%d" % c.theme
    if c.type == "indexed": return "indexed:%d" % c.indexed
    return None
def link(h):
    if h is None: return None
    t, l = h.target or "", h.location or ""
    if l and (not t or t == l): return "#" + l
    return t + ("#" + l if l else "")
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style: continue
            f, fill, b, a = c.font, c.fill, c.border, c.alignment
            cells[c.coordinate] = {
                "value": c.value, "type": c.data_type, "bold": bool(f.b), "italic": bool(f.i),
                "underline": f.u, "font_color": color(f.color), "font_name": f.name, "font_size": f.sz,
                "fill": fill.fill_type, "fill_fg": color(fill.fgColor) if fill.fill_type else None,
                "halign": a.horizontal, "valign": a.vertical, "wrap": bool(a.wrap_text),
                "num_format": c.number_format,
                "border": [b.left.style, b.right.style, b.top.style, b.bottom.style],
                "hyperlink": link(c.hyperlink),
            }
    out.append({"name": ws.title, "cells": cells})
print(json.dumps(out, sort_keys=True, default=str))
PY

sub dump_xlsx {
    my ($path) = @_;
    open my $fh, '-|', $PY, '-c', $DUMP, $path or die "python3: $!";
    local $/;
    my $json = <$fh>;
    close $fh;
    die "openpyxl could not read $path\n" if $?;
    return JSON::PP->new->utf8->decode($json);
}

my $d = TestDaemon->start();
my $c = BridgeClient->new;
my $dir = tempdir(CLEANUP => 1);
my $orig = getcwd();

sub call {
    my ($f, $p) = @_;
    my $r = $c->call_python('excel', $f, $p);
    return $r;
}

# --- errors are returned, not thrown --------------------------------------------------------
my $r;
$r = call('create_workbook', { filename => "$dir/no/such/dir/x.xlsx" });
ok(!$r->{success}, 'create_workbook in a missing directory fails');
like($r->{error}, qr{^Cannot create workbook .*no/such/dir/x\.xlsx: }, '... with the path in the message');
$r = call('add_worksheet', { workbook_id => 'nope', name => 'x' });
is($r->{error}, 'Invalid workbook ID: nope', 'unknown workbook id');

# --- the same script through the bridge and through Excel::Writer::XLSX -------------------
# Each step: [method, args...] as an ExcelHelper.pm user would write it.
my @formats = (
    { bold => 1, color => 'red', bg_color => 'yellow', align => 'center', border => 1 },
    { italic => 1, num_format => '0.00', font => 'Arial', size => 14, valign => 'vcenter' },
    { num_format => 14, color => '#1F497D', text_wrap => 1, bottom => 2, align => 'right' },
    { bg_color => 'gray', underline => 1 },
);
my @writes = (
    # sheet, row, col, data, format index or undef
    [0, 0, 0, 'Name', 0], [0, 0, 1, 'Amount', 0], [0, 0, 2, 'Text', 0],
    [0, 1, 0, 'Zürich ✓ 日本語 😀', undef], [0, 1, 1, '123', 1], [0, 1, 2, '00123', undef],
    [0, 2, 0, 'plain', 3], [0, 2, 1, 45.25, 1], [0, 2, 2, '1.5e3', undef],
    [0, 3, 0, '-.5', undef], [0, 3, 1, '=SUM(B2:B3)', 1], [0, 3, 2, '12abc', undef],
    [0, 4, 0, 'http://example.com/a?b=1#frag', undef], [0, 4, 1, 'mailto:ops@example.com', undef],
    [0, 4, 2, '  42', undef], [0, 5, 0, '', 2], [0, 5, 1, 44197, 2], [0, 5, 2, '+7', undef],
    [0, 6, 0, [1, 'two', ['down1', 'down2']], undef],
    [1, 0, 0, 'second sheet', undef], [1, 1, 1, "line1\nline2", 2], [1, 2, 0, '1E5', undef],
    [1, 3, 0, 'internal:Sheet1!A1', undef], [1, 3, 1, 'external:c:/temp/foo.xlsx', undef], [1, 3, 2, 'ftp://files.example.com/x.csv', undef],
);

sub run_real {
    my ($file) = @_;
    my $wb = Excel::Writer::XLSX->new($file) or die "new: $!";
    my @ws = ($wb->add_worksheet(), $wb->add_worksheet('Données'));
    my @fmt = map { $wb->add_format(%$_) } @formats;
    $fmt[3]->set_bold();    # after the add, as ExcelHelper's set_bold does
    for my $w (@writes) {
        my ($s, $row, $col, $data, $fi) = @$w;
        $ws[$s]->write($row, $col, $data, defined $fi ? $fmt[$fi] : ());
    }
    $fmt[0]->set_italic();  # after the cells were written: applies at close
    $wb->close() or die "close: $!";
}

sub run_bridge {
    my ($file) = @_;
    my $wb = call('create_workbook', { filename => $file });
    ok($wb->{success}, 'create_workbook') or diag explain $wb;
    my $id = $wb->{result}{workbook_id};
    is($wb->{result}{library}, 'exceljs', 'library is exceljs');
    my $s1 = call('add_worksheet', { workbook_id => $id });
    is($s1->{result}{name}, 'Sheet1', 'default sheet name as Excel::Writer::XLSX');
    my $s2 = call('add_worksheet', { workbook_id => $id, name => 'Données' });
    is($s2->{result}{name}, 'Données', 'Unicode sheet name');
    my @ws = map { $_->{result}{worksheet_id} } $s1, $s2;
    my @fmt;
    for my $p (@formats) {
        my $f = call('add_format', { workbook_id => $id, properties => $p });
        push @fmt, $f->{result}{format_id};
    }
    is_deeply(call('add_format', { workbook_id => $id, properties => $formats[0] })->{result}{properties},
        $formats[0], 'add_format echoes the properties');
    my $u = call('update_format', { workbook_id => $id, format_id => $fmt[3], property => 'bold', value => 1 });
    is($u->{result}{property}, 'bold', 'update_format echoes the property');
    for my $w (@writes) {
        my ($s, $row, $col, $data, $fi) = @$w;
        my $r = call('write_cell', { workbook_id => $id, worksheet_id => $ws[$s], row => $row, col => $col,
            data => $data, defined $fi ? (format_id => $fmt[$fi]) : () });
        ok($r->{success}, "write_cell ($s,$row,$col)") or diag explain $r;
    }
    call('update_format', { workbook_id => $id, format_id => $fmt[0], property => 'italic', value => 1 });
    my $cl = call('close_workbook', { workbook_id => $id });
    ok($cl->{success}, 'close_workbook') or diag explain $cl;
    is($cl->{result}{filename}, $file, 'close_workbook reports the filename');
    my $again = call('close_workbook', { workbook_id => $id });
    ok(!$again->{success}, 'the workbook is freed after close');
}

# Relative filename: resolved against THIS process's cwd, not the daemon's.
chdir $dir or die;
run_bridge('bridge.xlsx');
chdir $orig;
ok(-s "$dir/bridge.xlsx", 'the relative filename landed in the caller\'s cwd');

SKIP: {
    skip 'Excel::Writer::XLSX not installed (Debian libexcel-writer-xlsx-perl)', 3 unless $HAVE_XLSX;
    run_real("$dir/real.xlsx");
    my $got = dump_xlsx("$dir/bridge.xlsx");
    my $want = dump_xlsx("$dir/real.xlsx");
    is_deeply([map { $_->{name} } @$got], [map { $_->{name} } @$want], 'same sheet names');
    my @diffs;
    for my $i (0 .. $#$want) {
        my ($g, $w) = ($got->[$i]{cells}, $want->[$i]{cells});
        for my $addr (sort keys %{ { %$g, %$w } }) {
            my ($gc, $wc) = ($g->{$addr}, $w->{$addr});
            if (!$gc || !$wc) { push @diffs, "sheet $i $addr: only in " . ($gc ? 'bridge' : 'real'); next }
            for my $k (sort keys %$wc) {
                my ($a, $b) = map { defined $_ ? (ref $_ ? encode_json($_) : "$_") : 'undef' } $gc->{$k}, $wc->{$k};
                push @diffs, "sheet $i $addr $k: bridge=$a real=$b" if $a ne $b;
            }
        }
    }
    is(scalar(@diffs), 0, 'cells, types and styles equal Excel::Writer::XLSX (openpyxl reading both)')
        or diag join("\n", @diffs);
    my $cells = $want->[0]{cells};
    ok(keys %$cells > 15, 'the comparison covered the cells (' . scalar(keys %$cells) . ')');
}

# --- more error paths -------------------------------------------------------------------
my $wb = call('create_workbook', { filename => "$dir/err.xlsx" })->{result}{workbook_id};
like(call('add_worksheet', { workbook_id => $wb, name => 'a' x 32 })->{error}, qr/must be <= 31 chars/, 'long sheet name');
like(call('add_worksheet', { workbook_id => $wb, name => 'a/b' })->{error}, qr/Invalid character/, 'bad sheet name');
my $ws = call('add_worksheet', { workbook_id => $wb, name => 'Data' })->{result}{worksheet_id};
like(call('add_worksheet', { workbook_id => $wb, name => 'DATA' })->{error}, qr/already used/, 'duplicate sheet name');
like(call('write_cell', { workbook_id => $wb, worksheet_id => $ws, row => 1048576, col => 0, data => 1 })->{error},
    qr/outside Excel's limits/, 'row out of range');
is(call('write_cell', { workbook_id => $wb, worksheet_id => 'x', row => 0, col => 0, data => 1 })->{error},
    'Invalid worksheet ID: x', 'unknown worksheet');
is(call('write_cell', { workbook_id => $wb, worksheet_id => $ws, row => 0, col => 0, data => 1, format_id => 'f' })->{error},
    'Invalid format ID: f', 'unknown format');
is(call('update_format', { workbook_id => $wb, format_id => 'f', property => 'bold', value => 1 })->{error},
    'Invalid format ID: f', 'update_format with an unknown format');
ok(call('close_workbook', { workbook_id => $wb })->{success}, 'close with no cells');
is(dump_xlsx("$dir/err.xlsx")->[0]{name}, 'Data', 'the file is a valid workbook');

# --- ping (test-only) ----------------------------------------------------------------------
$r = call('ping', {});
ok($r->{success} && $r->{result}{status} eq 'ok', 'ping answers') or diag explain $r;

$d->stop;
done_testing();
