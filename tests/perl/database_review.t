# database, SQLite review findings: the same DBI calls through a DBIHelper-style model over the
# bridge (helpers contract §3.1 request shapes, CPANBridge.pm v2.00 client) and through the real
# DBI + DBD::SQLite 1.72, compared with is_deeply: placeholders as SQLite reads them ($name,
# @name, ?NNN, [..] and backtick quoting, only the first of several statements), the
# NUM_OF_PARAMS check, unbound parameters as NULL, AutoCommit off with BEGIN / SAVEPOINT and
# DBD::SQLite's BEGIN IMMEDIATE locking, ATTACH, a trigger body. Then, with CPAN_BRIDGE_ALLOWED_PATHS, ATTACH and
# VACUUM INTO are held to the path rules (a deliberate difference: DBD::SQLite has no such rule).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use DBI qw(:sql_types);
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;
use DBIHelperModel;

my $d = TestDaemon->start;
my $c = BridgeClient->new;
sub db { DBIHelperModel::db(@_) }

DBIHelperModel::client($c);

sub q_ {
    my ($dbh, $sql, $binds, $named) = @_;
    my $sth = $dbh->prepare($sql) or return { prepare => undef, err => $dbh->errstr };
    my @b = @{ $binds || [] };
    if ($named) { $sth->bind_param($_, $named->{$_}) for sort keys %$named }
    my $ret = $sth->execute(@b);
    return { execute => undef, err => $sth->errstr } unless defined $ret;
    return { execute => $ret, names => [@{ $sth->{NAME} }], data => $sth->fetchall_arrayref };
}
sub do_ { DBIHelperModel::do_(@_) }
sub same { DBIHelperModel::same(@_) }

my $work = tempdir('cb_dbr_XXXXXX', TMPDIR => 1, CLEANUP => 1);

# --- placeholders (finding 8) ---------------------------------------------------------------------
{
    my $bs = Bridge::DBH->connect("dbi:SQLite:dbname=$work/b.db", '', '', { AutoCommit => 1 }) or die $Bridge::DBH::errstr;
    my $rs = DBI->connect("dbi:SQLite:dbname=$work/r.db", '', '', { AutoCommit => 1, RaiseError => 0, PrintError => 0 }) or die;
    my $S = sub { same("SQLite: $_[0]", $bs, $rs, $_[1]) };
    $S->('CREATE', sub { do_($_[0], "CREATE TABLE t (a, b TEXT)") });
    $S->('$name takes the bind', sub { do_($_[0], q{INSERT INTO t VALUES ($v, 'dollar')}, 5) });
    $S->('@name takes the bind', sub { do_($_[0], q{INSERT INTO t VALUES (@v, 'at')}, 6) });
    $S->('$name and @name together', sub { do_($_[0], q{INSERT INTO t VALUES ($v, @w)}, 7, 'w') });
    $S->('$name with a byte string', sub { do_($_[0], q{INSERT INTO t VALUES ($v, 'bytes')}, "Z\xc3\xbcrich") });
    $S->('rows stored', sub { q_($_[0], "SELECT a, typeof(a), hex(a), b FROM t ORDER BY rowid") });
    $S->('?1 twice takes one bind', sub { q_($_[0], "SELECT ?1 AS x, ?1 AS y WHERE ?1 = '1'", [1]) });
    $S->('?1 twice with two binds is a count error', sub { q_($_[0], "SELECT ?1 AS x, ?1 AS y", [1, 2]) });
    $S->('?2 then ? (index 3)', sub { q_($_[0], "SELECT ?2 AS x, ? AS y", [1, 2, 3]) });
    $S->('?5 needs five', sub { q_($_[0], "SELECT ?5 AS x", [1]) });
    $S->('?5 with five', sub { q_($_[0], "SELECT ?5 AS x", [1, 2, 3, 4, 5]) });
    $S->('[what?] is an identifier', sub { q_($_[0], "SELECT 1 AS [what?], ? AS v", [7]) });
    $S->('`a?b` is an identifier', sub { q_($_[0], "SELECT 1 AS `a?b`, ? AS v", [7]) });
    $S->('? in literals and comments', sub { q_($_[0], "SELECT '?' AS \"q?\", ? AS v -- ?\n/* ? */", [0]) });
    $S->('a bind with no placeholder is an error', sub { q_($_[0], "SELECT 1 AS one", [5]) });
    $S->('execute() leaves $v NULL', sub { q_($_[0], q{SELECT $v IS NULL AS n, ? IS NULL AS m}) });
    $S->('do without binds: ?1 is NULL (sqlite3_exec)', sub { do_($_[0], "INSERT INTO t VALUES (?1, 'exec')") });
    $S->('do without binds, with ";": ?1 is NULL', sub { do_($_[0], "INSERT INTO t VALUES (?1, 'q1'); ") });
    $S->('do with too few binds', sub { do_($_[0], "INSERT INTO t VALUES (?, ?)", 1) });
    $S->('do with extra binds takes NUM_OF_PARAMS', sub { do_($_[0], "INSERT INTO t VALUES (?, 'extra')", 8, 9) });
    $S->('do of two statements runs the first', sub { do_($_[0], "INSERT INTO t VALUES (102,'m1'); INSERT INTO t VALUES (103,?)", 'x') });
    $S->('do of two statements without binds runs the first', sub { do_($_[0], "INSERT INTO t VALUES (104,'m1'); INSERT INTO t VALUES (105,'m2')") });
    $S->('prepare of two statements runs the first', sub { q_($_[0], "SELECT 1 AS a; SELECT 2 AS b") });
    $S->('prepare: second statement\'s placeholders do not count', sub { q_($_[0], "SELECT ? AS a; SELECT ?, ?", [1]) });
    $S->('do of a query with ";"', sub { do_($_[0], "SELECT 1;") });
    $S->('do of DML with ";" counts rows', sub { do_($_[0], "UPDATE t SET b = b WHERE a >= 100;") });
    $S->('CREATE TRIGGER with ";" in its body is one statement', sub {
        [do_($_[0], "CREATE TABLE log (a)"),
         do_($_[0], "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); INSERT INTO log VALUES (?); END"),
         do_($_[0], "INSERT INTO t VALUES (?, 'trig')", 55), q_($_[0], "SELECT a FROM log ORDER BY rowid")] });
    $S->('table after all', sub { q_($_[0], "SELECT a, b FROM t ORDER BY rowid") });
    $S->('bind_param by number for $v', sub { q_($_[0], q{SELECT $v AS v, :w AS w}, [], { 1 => 'one', 2 => 'two' }) });
    $S->('ATTACH of a file (no path rules)', sub {
        my $h = $_[0];
        my $f = "$work/att_" . ref($h) . ".db";
        [do_($h, "ATTACH '$f' AS x"), do_($h, "CREATE TABLE x.u (v)"), do_($h, "INSERT INTO x.u VALUES (1)"),
         q_($h, "SELECT v FROM x.u"), do_($h, "DETACH x"), -s $f ? 1 : 0];
    });
    $bs->disconnect;
    $rs->disconnect;
}

# --- AutoCommit off (finding 9) ---------------------------------------------------------------------
{
    my $bs = Bridge::DBH->connect("dbi:SQLite:dbname=$work/tb.db", '', '', { AutoCommit => 0 }) or die $Bridge::DBH::errstr;
    my $rs = DBI->connect("dbi:SQLite:dbname=$work/tr.db", '', '', { AutoCommit => 0, RaiseError => 0, PrintError => 0 }) or die;
    my $S = sub { same("SQLite AutoCommit off: $_[0]", $bs, $rs, $_[1]) };
    $S->('CREATE and COMMIT', sub { [do_($_[0], "CREATE TABLE t (a)"), do_($_[0], "COMMIT")] });
    for my $begin ("BEGIN", "  begin", "\n\tBEGIN TRANSACTION", "-- note\nBEGIN", "BEGIN IMMEDIATE", "SAVEPOINT s", "savepoint s",
                   "/* block comments are not skipped */ BEGIN") {
        (my $label = $begin) =~ s/\n/\\n/g;
        $S->("do('$label') opens the transaction itself", sub { my $r = do_($_[0], $begin); $_[0]->rollback; $r });
    }
    $S->('BEGIN, INSERT, COMMIT', sub { [do_($_[0], "BEGIN"), do_($_[0], "INSERT INTO t VALUES (1)"), do_($_[0], "COMMIT"),
        q_($_[0], "SELECT count(*) FROM t")] });
    $S->('SAVEPOINT, INSERT, RELEASE, ROLLBACK', sub { [do_($_[0], "SAVEPOINT sp1"), do_($_[0], "INSERT INTO t VALUES (2)"),
        do_($_[0], "RELEASE sp1"), do_($_[0], "ROLLBACK"), q_($_[0], "SELECT count(*) FROM t")] });
    $S->('a statement after a read-only one in a transaction', sub { [q_($_[0], "SELECT count(*) FROM t"),
        do_($_[0], "INSERT INTO t VALUES (3)"), $_[0]->rollback ? 1 : 0, q_($_[0], "SELECT count(*) FROM t")] });
    # DBD::SQLite opens BEGIN IMMEDIATE: after a mere read, another writer finds the database locked.
    $S->('a read takes the write lock (BEGIN IMMEDIATE)', sub {
        my $h = $_[0];
        my $file = ref($h) eq 'Bridge::DBH' ? "$work/tb.db" : "$work/tr.db";
        q_($h, "SELECT count(*) FROM t");
        my $other = DBI->connect("dbi:SQLite:dbname=$file", '', '', { AutoCommit => 1, RaiseError => 0, PrintError => 0 }) or die;
        $other->sqlite_busy_timeout(50);
        my $r = $other->do("INSERT INTO t VALUES (9)");
        my $e = defined $r ? undef : $other->errstr;
        $other->disconnect;
        $h->rollback;
        [$r, $e];
    });
    $bs->disconnect;
    $rs->disconnect;
}
$d->stop;

# --- ATTACH and VACUUM INTO under CPAN_BRIDGE_ALLOWED_PATHS (finding 4; bridge only) ----------------
{
    my $ok = tempdir('cb_dbr_ok_XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $out = tempdir('cb_dbr_out_XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $g = TestDaemon->start(CPAN_BRIDGE_ALLOWED_PATHS => $ok);
    $c = BridgeClient->new;
    my $bs = Bridge::DBH->connect("dbi:SQLite:dbname=$ok/a.db", '', '', { AutoCommit => 1 }) or die $Bridge::DBH::errstr;
    is($bs->do("CREATE TABLE t (v)"), "0E0", 'guarded: CREATE in the allowed directory');
    is($bs->do("INSERT INTO t VALUES ('kept')"), 1, 'guarded: INSERT');
    my $outside = qr/not authorized: Cannot use '[^']*': it is outside CPAN_BRIDGE_ALLOWED_PATHS/;
    is($bs->do("ATTACH '$out/evil.db' AS e"), undef, 'guarded: ATTACH outside refused');
    like($bs->errstr, $outside, 'guarded: ... with the reason');
    ok(!-e "$out/evil.db", 'guarded: ... and no file created');
    is($bs->do("ATTACH 'file:$out/uri.db' AS e"), undef, 'guarded: ATTACH of a file: URI outside refused');
    ok(!-e "$out/uri.db", 'guarded: ... no file created');
    is($bs->do("VACUUM INTO '$out/copy.db'"), undef, 'guarded: VACUUM INTO outside refused');
    like($bs->errstr, qr/authorization denied: Cannot use '[^']*copy\.db': it is outside/, 'guarded: ... with the reason');
    ok(!-e "$out/copy.db", 'guarded: ... and no copy written');
    for my $own ($g->socket, $g->daemon_log) {
        is($bs->do("ATTACH '$own' AS s"), undef, "guarded: ATTACH of the daemon's own file refused");
        like($bs->errstr, qr/this daemon's own socket, lock or log file/, "guarded: ... with the reason");
    }
    is($bs->do("ATTACH ? AS p", undef, "$out/bound.db"), undef, 'guarded: ATTACH of a bound name refused');
    ok(!-e "$out/bound.db", 'guarded: ... no file created');
    ok(defined $bs->do("ATTACH ':memory:' AS m"), 'guarded: ATTACH :memory: allowed');
    ok(defined $bs->do("ATTACH '$ok/in.db' AS i"), 'guarded: ATTACH inside allowed');
    ok(defined $bs->do("CREATE TABLE i.u (v)"), 'guarded: ... usable');
    ok(defined $bs->do("VACUUM INTO '$ok/copy.db'"), 'guarded: VACUUM INTO inside allowed');
    my $copy = DBI->connect("dbi:SQLite:dbname=$ok/copy.db", '', '', { RaiseError => 1 });
    is_deeply($copy->selectall_arrayref("SELECT v FROM t"), [['kept']], 'guarded: the copy holds the rows (read by DBD::SQLite)');
    $copy->disconnect;
    is($bs->do("ATTACH 'rel_$$.db' AS r"), undef, 'guarded: a relative ATTACH name refused (SQLite would resolve it in the daemon\'s directory)');
    like($bs->errstr, qr/relative name in the daemon's directory|outside CPAN_BRIDGE_ALLOWED_PATHS/, 'guarded: ... with the reason');
    my $sth = $bs->prepare("ATTACH '$out/p.db' AS e");
    is($sth, undef, 'guarded: prepare of ATTACH outside fails at prepare, as SQLite authorizes there');
    like($bs->errstr, $outside, 'guarded: ... with the reason');
    $bs->disconnect;
    # An in-memory database is opened at its first statement: the rules hold from that one on.
    my $bm = Bridge::DBH->connect("dbi:SQLite:dbname=:memory:", '', '', { AutoCommit => 1 }) or die $Bridge::DBH::errstr;
    is($bm->do("ATTACH '$out/mem.db' AS e"), undef, 'guarded :memory:: ATTACH outside refused, as its first statement');
    like($bm->errstr, $outside, 'guarded :memory:: ... with the reason');
    ok(!-e "$out/mem.db", 'guarded :memory:: ... and no file created');
    ok(defined $bm->do("ATTACH '$ok/mem_in.db' AS i"), 'guarded :memory:: ATTACH inside allowed');
    $bm->disconnect;
    $g->stop;
}

diag("differential cases compared: $DBIHelperModel::cases");
done_testing();
