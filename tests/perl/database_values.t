# database, value by value: the same DBI calls through a DBIHelper-style model over the bridge
# (request shapes of helpers contract §3.1, through a client that behaves like CPANBridge.pm v2.00)
# and through the real DBI + DBD::SQLite 1.72 / DBD::Pg 3.16, compared with is_deeply: what
# execute/do return, $sth->rows, every fetched value, and errstr. Byte strings, wide characters,
# "0", "", undef, binary 0..255 (TEXT, BLOB, bytea, with and without SQL_BLOB / pg_type 17), long
# values, "0E0" counts, numbers, arrays, and error paths (bad SQL, constraint, wrong password,
# refused connection, missing file). PostgreSQL 15 comes from tests/_support/postgres.ts.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use DBI qw(:sql_types);
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;
use DBIHelperModel;

my $pg = TestServer->start('postgres.ts');
my $PG = $pg->facts;

my $d = TestDaemon->start;
my $c = BridgeClient->new;
sub db { DBIHelperModel::db(@_) }

DBIHelperModel::client($c);

# What a script sees from prepare/bind_param/execute/rows/fetchall_arrayref.
sub q_ {
    my ($dbh, $sql, $binds, $attrs) = @_;
    my $sth = $dbh->prepare($sql) or return { prepare => undef, err => $dbh->errstr };
    my @b = @{ $binds || [] };
    if ($attrs) { $sth->bind_param($_ + 1, $b[$_], $attrs->[$_]) for 0 .. $#b }
    my $ret = $attrs ? $sth->execute : $sth->execute(@b);
    return { execute => undef, err => $sth->errstr } unless defined $ret;
    my $rows = $sth->rows;
    return { execute => $ret, rows => $rows, names => [@{ $sth->{NAME} }], data => $sth->fetchall_arrayref };
}
sub do_ { DBIHelperModel::do_(@_) }
sub same { DBIHelperModel::same(@_) }

my $all = join '', map { chr } 0 .. 255;
my $long_bin = join '', map { chr(($_ * 7 + 3) % 256) } 1 .. 100_000;
my $long_txt = "Z\xc3\xbcrich-" x 20_000;

# --- SQLite ---------------------------------------------------------------------------------------
my $work = tempdir('cb_dbv_XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $bs = Bridge::DBH->connect("dbi:SQLite:dbname=$work/bridge.db", "", "", { AutoCommit => 1 });
ok($bs, "SQLite connect through the bridge") or diag($Bridge::DBH::errstr);
my $rs = DBI->connect("dbi:SQLite:dbname=$work/real.db", "", "", { RaiseError => 0, PrintError => 0, AutoCommit => 1 });
{
    my $S = sub { same("SQLite: $_[0]", $bs, $rs, $_[1]) };
    $S->('do CREATE says 0E0', sub { do_($_[0], "CREATE TABLE t (k TEXT, v, b BLOB, n INTEGER, r REAL)") });
    for my $case (["byte string", "Z\xc3\xbcrich"], ["wide characters", "\x{65e5}\x{672c}"], ["Latin-1 bytes", "caf\xe9"],
                  ["'0'", "0"], ["empty", ""], ["NUL and high bytes", "ab\0cd\xff\xfe"], ["binary 0..255", $all],
                  ["long text", $long_txt], ["long binary", $long_bin]) {
        my ($label, $v) = @$case;
        $S->("$label: INSERT by bind", sub { do_($_[0], "INSERT INTO t (k, v) VALUES (?, ?)", $v, $v) });
        $S->("$label: SELECT by the same key finds the row, bytes intact",
            sub { q_($_[0], "SELECT v, typeof(v), length(CAST(v AS BLOB)), hex(k) = hex(?) FROM t WHERE k = ?", [$v, $v]) });
        $S->("$label: DELETE by key", sub { do_($_[0], "DELETE FROM t WHERE k = ?", $v) });
    }
    $S->('undef binds NULL', sub { q_($_[0], "SELECT ?, typeof(?), ? IS NULL", [undef, undef, undef]) });
    for my $case (["SQL_BLOB", SQL_BLOB], ["{TYPE => SQL_BLOB}", { TYPE => SQL_BLOB }], ["SQL_VARBINARY", SQL_VARBINARY], ["no type", undef]) {
        my ($label, $type) = @$case;
        $S->("binary 0..255 bound with $label", sub { q_($_[0], "SELECT ?, typeof(?), length(?)", [$all, $all, $all], [$type, $type, $type]) });
        $S->("empty string bound with $label", sub { q_($_[0], "SELECT ?, typeof(?)", ["", ""], [$type, $type]) });
    }
    $S->('BLOB round trip through a table with SQL_BLOB', sub {
        my $h = shift;
        my @o = (do_($h, "DELETE FROM t"), q_($h, "INSERT INTO t (b) VALUES (?)", [$long_bin], [SQL_BLOB]));
        push @o, q_($h, "SELECT b, typeof(b), length(b) FROM t");
        \@o;
    });
    $S->("X'00FF10415A' comes back as its bytes", sub { q_($_[0], "SELECT X'00FF10415A', CAST(X'C3A9' AS TEXT), ''") });
    $S->('numbers print as Perl prints them', sub {
        q_($_[0], "SELECT 0.1+0.2, 1e300, -0.0, 9223372036854775807, -9223372036854775808, 1e15, 1e14, 1e-5, 123.0, 0.5, 2.5e-300, 1/0.0, 1e999, -1e999, 3/2, 7/2.0")
    });
    $S->('binds are TEXT by default (typeof, comparisons)', sub {
        q_($_[0], "SELECT typeof(?), typeof(?), typeof(?), ? = 3, ? < 10, ? || ?", [1, 1.5, "x", 3, 9, 2, 0.25])
    });
    $S->('SQL_INTEGER / SQL_DOUBLE binds are numbers', sub {
        q_($_[0], "SELECT ?, typeof(?), ?, typeof(?)", [5, 5, "1.5", "1.5"], [SQL_INTEGER, SQL_INTEGER, SQL_DOUBLE, SQL_DOUBLE])
    });
    $S->('a byte-string SQL literal is its bytes', sub { q_($_[0], "SELECT 'Z\xc3\xbcrich', hex('Z\xc3\xbcrich') AS \"Z\xc3\xbcrich\"") });
    $S->('a byte-string literal and a byte-string bind find the same row', sub {
        my $h = shift;
        [do_($h, "INSERT INTO t (k) VALUES ('Gr\xc3\xbc\xc3\x9fe')"), q_($h, "SELECT count(*) FROM t WHERE k = ?", ["Gr\xc3\xbc\xc3\x9fe"]),
         do_($h, "DELETE FROM t WHERE k = ?", "Gr\xc3\xbc\xc3\x9fe")];
    });
    # Counts: do and execute as DBD::SQLite gives them (including its sqlite3_changes() quirks).
    $S->('do / execute counts', sub {
        my $h = shift;
        [do_($h, "INSERT INTO t (n) VALUES (1), (2), (3), (4)"),
         do_($h, "UPDATE t SET n = n WHERE n > ?", 99),
         do_($h, "UPDATE t SET n = n WHERE n > ?", 2),
         do_($h, "CREATE TABLE t2 (x)"),
         do_($h, "SELECT * FROM t"),
         do_($h, "SELECT * FROM t WHERE n > ?", 0),
         do_($h, "DROP TABLE t2"),
         q_($h, "SELECT n FROM t ORDER BY n DESC"),
         q_($h, "UPDATE t SET n = n WHERE n > ?", [99]),
         q_($h, "UPDATE t SET n = n WHERE n >= ?", [3]),
         q_($h, "DELETE FROM t WHERE n IS NOT NULL")];
    });
    $S->('fetchrow_hashref keys and values', sub {
        my $h = shift;
        my $sth = $h->prepare("SELECT 1 AS one, NULL AS nada, '0' AS zero, '' AS empty, X'FF' AS byte");
        $sth->execute;
        $sth->fetchrow_hashref;
    });
    $S->('prepare of bad SQL returns undef and sets errstr', sub { q_($_[0], "SELEC 1") });
    $S->('a syntax error next to a placeholder names it as written', sub { [q_($_[0], "SELECT ? ?", [1, 2]), do_($_[0], "SELECT ? ?", 1, 2)] });
    $S->('prepare on a missing table fails at prepare', sub { q_($_[0], "SELECT * FROM no_such_table") });
    $S->('do of bad SQL', sub { do_($_[0], "INSERT INTO no_such_table VALUES (1)") });
    $S->('constraint violation at execute', sub {
        my $h = shift;
        [do_($h, "CREATE TABLE u (id INTEGER PRIMARY KEY)"), do_($h, "INSERT INTO u VALUES (?)", 1),
         q_($h, "INSERT INTO u VALUES (?)", [1]), do_($h, "INSERT INTO u VALUES (1)"), do_($h, "DROP TABLE u")];
    });
    $S->('bind count: execute with too many values, do ignores extras', sub {
        my $h = shift;
        [q_($h, "SELECT ?", [1, 2]), q_($h, "SELECT ?, ?", [1]), do_($h, "SELECT ?", 1, 2)];
    });
    $S->('query shapes read through the byte-preserving wrapper keep order, names and types', sub {
        my $h = shift;
        [do_($h, "CREATE TABLE w (g TEXT, x INTEGER, y REAL)"),
         do_($h, "INSERT INTO w VALUES ('b\xc3\xa9', 1, 0.5), ('a', 2, 1.25), ('b\xc3\xa9', 3, NULL), ('c', 4, 1e20)"),
         q_($h, "SELECT g, SUM(x), MAX(y) FROM w GROUP BY g ORDER BY g DESC"),
         q_($h, "SELECT x FROM w UNION SELECT x + 10 FROM w ORDER BY 1 DESC LIMIT 3 OFFSET 1"),
         q_($h, "SELECT g, x, SUM(x) OVER (PARTITION BY g ORDER BY x) FROM w ORDER BY x"),
         q_($h, "WITH r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n, 'Z\xc3\xbc' FROM r"),
         q_($h, "SELECT a.x, b.x, a.g FROM w a JOIN w b ON a.x = b.x - 1 ORDER BY a.x"),
         q_($h, "SELECT * FROM w WHERE g = ? ORDER BY x;  ", ["b\xc3\xa9"]),
         q_($h, "VALUES (1, 'x'), (2, 'y')"),
         q_($h, "PRAGMA table_info(w)"),
         q_($h, "INSERT INTO w VALUES (?, 5, 2.5) RETURNING g, x, y", ["d\xc3\xa9"]),
         do_($h, "DROP TABLE w")];
    });
    $S->('named :name placeholders with bind_param', sub {
        my $h = shift;
        my $sth = $h->prepare("SELECT :a || '-' || :b, :a") or return $h->errstr;
        $sth->bind_param(':a', "Z\xc3\xbc");
        $sth->bind_param(':b', 0);
        [$sth->execute, [@{ $sth->{NAME} }], $sth->fetchall_arrayref, q_($h, "SELECT ? + :x", [1, 2]), q_($h, "SELECT :x - ?", [1, 2])];
    });
    $S->('numbers computed in Perl bind as Perl prints them', sub {
        q_($_[0], "SELECT ?, ?, ?, ?, typeof(?)", [0.1 + 0.2, 1e300, -1 * 0.0, 2**40, 1e-7])
    });
    # Documented difference: $sth->rows after fetching (DBD::SQLite counts fetched rows; DBIHelper's
    # rows is the execute reply).
    {
        do_($_, "INSERT INTO t (n) VALUES (1), (2), (3), (4)") for $bs, $rs;
        my %rows;
        for my $h ([bridge => $bs], [real => $rs]) {
            my $sth = $h->[1]->prepare("SELECT n FROM t WHERE n IS NOT NULL");
            $sth->execute;
            $sth->fetchall_arrayref;
            $rows{ $h->[0] } = $sth->rows;
        }
        is_deeply(\%rows, { real => 4, bridge => 0 }, "SQLite: documented difference: rows after fetching all (DBI 4, DBIHelper the execute count)");
    }
    # Documented difference: the wire cannot tell a character string whose characters are all
    # <= U+00FF (use utf8; "caf\x{e9}") from the byte string with the same ordinals; DBD::SQLite
    # stores the first as UTF-8 and the second as bytes; the bridge follows the byte string.
    {
        my $chars = "caf\xe9";
        utf8::upgrade($chars);
        my ($bh) = $bs->prepare("SELECT hex(?)");
        $bh->execute($chars);
        my ($rh) = $rs->selectrow_array("SELECT hex(?)", undef, $chars);
        is_deeply([$bh->fetchall_arrayref->[0][0], $rh], ["636166E9", "636166C3A9"],
            "SQLite: documented difference: a Latin-1 character string is stored as its bytes, as the byte string is");
    }
    my $missing = "/nonexistent/dir/$$/x.db";
    my $bad = Bridge::DBH->connect("dbi:SQLite:dbname=$missing", "", "", {});
    my $bad_err = $Bridge::DBH::errstr;
    DBI->connect("dbi:SQLite:dbname=$missing", "", "", { PrintError => 0 });
    $DBIHelperModel::cases++;
    is_deeply([$bad, $bad_err], [undef, $DBI::errstr], "SQLite: connect to a file in a missing directory: the same errstr");
}

# --- PostgreSQL -----------------------------------------------------------------------------------
my $bp = Bridge::DBH->connect($PG->{dsn}, $PG->{user}, $PG->{password}, { AutoCommit => 1 });
ok($bp, "PostgreSQL connect through the bridge") or diag($Bridge::DBH::errstr);
my $rp = DBI->connect($PG->{dsn}, $PG->{user}, $PG->{password}, { RaiseError => 0, PrintError => 0, PrintWarn => 0, AutoCommit => 1 }) or die $DBI::errstr;
{
    my $P = sub { same("PostgreSQL: $_[0]", $bp, $rp, $_[1]) };
    my $tbl = 0;
    # Each stack gets its own table, so both see the same state.
    my $T = sub { $_[0] == $bp ? "vb" : "vr" };
    for my $h ($bp, $rp) { do_($h, "DROP TABLE IF EXISTS " . $T->($h)) }
    $P->('do CREATE says 0E0', sub { do_($_[0], "CREATE TABLE " . $T->($_[0]) . " (k TEXT, v TEXT, b BYTEA, n INT)") });
    for my $case (["byte string", "Z\xc3\xbcrich"], ["wide characters", "\x{65e5}\x{672c}"], ["Latin-1 bytes", "caf\xe9"],
                  ["'0'", "0"], ["empty", ""], ["NUL cut as libpq does", "ab\0cd"], ["long text", $long_txt]) {
        my ($label, $v) = @$case;
        $P->("$label: INSERT by bind", sub { do_($_[0], "INSERT INTO " . $T->($_[0]) . " (k, v) VALUES (?, ?)", $v, $v) });
        $P->("$label: SELECT by the same key finds the row",
            sub { q_($_[0], "SELECT v, length(v), octet_length(v) FROM " . $T->($_[0]) . " WHERE k = ?", [$v]) });
        $P->("$label: DELETE by key", sub { do_($_[0], "DELETE FROM " . $T->($_[0]) . " WHERE k = ?", $v) });
    }
    $P->('undef binds NULL', sub { q_($_[0], "SELECT ?::text, ?::int IS NULL", [undef, undef]) });
    for my $case (["{pg_type => 17}", { pg_type => 17 }], ["SQL_BLOB", SQL_BLOB], ["SQL_VARBINARY", SQL_VARBINARY], ["no type", undef]) {
        my ($label, $type) = @$case;
        for my $v (["0..255", $all], ["ab\\0cd\\xff\\xfe", "ab\0cd\xff\xfe"], ["long binary", $long_bin], ["empty", ""]) {
            $P->("bytea $v->[0] bound with $label: stored and returned as bytes", sub {
                my $h = shift;
                [q_($h, "INSERT INTO " . $T->($h) . " (b) VALUES (?) RETURNING b, octet_length(b)", [$v->[1]], [$type]),
                 do_($h, "DELETE FROM " . $T->($h))];
            });
        }
    }
    $P->('bytea results are bytes', sub { q_($_[0], "SELECT '\\x00ff10415a'::bytea, ''::bytea, 'Z\xc3\xbc'::bytea, NULL::bytea, '\\000\\377'::bytea") });
    $P->('numbers as DBD::Pg returns them', sub {
        q_($_[0], "SELECT 0.1::float8 + 0.2::float8, -0.0::float8, 1e300::float8, 'NaN'::float8, 'Infinity'::float8, '-Infinity'::float8, "
            . "0.1::float4, 9223372036854775807::int8, 12345678901234567890::numeric, 1.50::numeric(6,2), -0.0::numeric, 7::int2, 5::oid, 1e15::float8, 1e-5::float8")
    });
    $P->('booleans, NULL, dates, json', sub {
        q_($_[0], q{SELECT true, false, NULL::bool, NULL, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05', '{"a":1}'::json, 'c'::char(3)})
    });
    $P->('arrays are array refs', sub {
        q_($_[0], q{SELECT ARRAY[1,2,3], ARRAY['a b','c"d',NULL,'NULL','x,y','\\'], ARRAY[[1,2],[3,4]], '{}'::int[], ARRAY[true,false], }
            . q{ARRAY[0.1::float8 + 0.2::float8, -0.0], ARRAY[1.50::numeric], ARRAY[9223372036854775807::int8], '[0:1]={5,6}'::int[], '{{NULL}}'::int[], ARRAY['é'], ARRAY['\x00ff'::bytea]})
    });
    $P->('bind typing: the server infers', sub { q_($_[0], "SELECT ?::int + 1, ?::numeric * 2, ?::bool", [41, "1.25", 1]) });
    $P->('do / execute counts', sub {
        my $h = shift;
        my $t = $T->($h);
        [do_($h, "INSERT INTO $t (n) VALUES (1), (2), (3), (4)"),
         do_($h, "UPDATE $t SET n = n WHERE n > ?", 99),
         do_($h, "UPDATE $t SET n = n WHERE n > ?", 2),
         do_($h, "SELECT * FROM $t"),
         do_($h, "SELECT * FROM $t WHERE n > ?", 2),
         q_($h, "SELECT n FROM $t ORDER BY n"),
         q_($h, "SELECT n FROM $t WHERE false"),
         q_($h, "UPDATE $t SET n = n WHERE n > ?", [99]),
         q_($h, "DELETE FROM $t WHERE n >= ?", [3])];
    });
    $P->('named :name placeholders with bind_param', sub {
        my $h = shift;
        my $sth = $h->prepare("SELECT :a::text || '-' || :b::text, :a::text") or return $h->errstr;
        $sth->bind_param(':a', "Z\xc3\xbc");
        $sth->bind_param(':b', 0);
        [$sth->execute, $sth->fetchall_arrayref];
    });
    $P->('numbers computed in Perl bind as Perl prints them', sub {
        q_($_[0], "SELECT ?::text, ?::text, ?::text, ?::text, ?::float8", [0.1 + 0.2, 1e300, -1 * 0.0, 2**40, 1e-7])
    });
    $P->('fetchrow_hashref with a non-ASCII alias', sub {
        my $h = shift;
        my $sth = $h->prepare(qq{SELECT 1 AS "Z\xc3\xbcrich", NULL AS nada, 'x'::bytea AS b, ARRAY[1] AS a});
        $sth->execute;
        $sth->fetchrow_hashref;
    });
    $P->('bad SQL: execute fails with the full libpq text', sub { q_($_[0], "SELECT * FROM no_such_table WHERE x = ?", [1]) });
    $P->('syntax error with LINE and cursor', sub { do_($_[0], "SELEC 1") });
    $P->('an error on line 2', sub { do_($_[0], "SELECT 1,\n  nope_col\nFROM pg_class") });
    $P->('a long line is cut as libpq cuts it', sub { do_($_[0], "SELECT " . join(", ", map { "$_ AS c$_" } 1 .. 30) . ", nope_col FROM pg_class, " . join(", ", map { "x$_" } 1 .. 20)) });
    $P->('unique violation with DETAIL', sub {
        my $h = shift;
        [do_($h, "CREATE TEMP TABLE u (id int primary key)"), do_($h, "INSERT INTO u VALUES (?)", 1), q_($h, "INSERT INTO u VALUES (?)", [1]), do_($h, "DROP TABLE u")];
    });
    $P->('RAISE with HINT and CONTEXT', sub { do_($_[0], q{DO $$BEGIN RAISE EXCEPTION 'boom %', 1 USING HINT = 'hint here'; END$$}) });
    $P->('invalid input for a parameter (CONTEXT)', sub { q_($_[0], "SELECT 1 WHERE 1 = ?", ["x"]) });
    $P->('division by zero', sub { do_($_[0], "SELECT 1/0") });
    $P->('bind count mismatch', sub { do_($_[0], "SELECT ?", 1, 2) });
    for my $h ($bp, $rp) { do_($h, "DROP TABLE " . $T->($h)) }

    my $conn_err = sub {
        my ($dsn, $user, $pass) = @_;
        my $b = Bridge::DBH->connect($dsn, $user, $pass, {});
        my $berr = $Bridge::DBH::errstr;
        DBI->connect($dsn, $user, $pass, { PrintError => 0, RaiseError => 0 });
        return ([$b, $berr], [undef, $DBI::errstr]);
    };
    for my $case (["wrong password", $PG->{dsn}, $PG->{user}, "wrong-$$"],
                  ["refused connection", "dbi:Pg:dbname=cbtest;host=127.0.0.1;port=1", $PG->{user}, "x"],
                  ["missing database", "dbi:Pg:dbname=nodb;host=127.0.0.1;port=$PG->{port}", $PG->{user}, $PG->{password}],
                  ["unknown role over the Unix socket", "dbi:Pg:dbname=cbtest;host=$PG->{socket_dir};port=$PG->{port}", "nouser", "x"],
                  ["refused on a hostname", "dbi:Pg:dbname=cbtest;host=localhost;port=1", $PG->{user}, "x"]) {
        my ($label, @args) = @$case;
        my ($got, $want) = $conn_err->(@args);
        $DBIHelperModel::cases++;
        is_deeply($got, $want, "PostgreSQL: connect, $label: the same errstr") or diag(explain({ got => $got, want => $want }));
    }
}

diag("differential cases compared: $DBIHelperModel::cases");
$bs->disconnect;
$bp->disconnect;
$rp->disconnect;
$d->stop;
done_testing();
