# database through a client that behaves like CPANBridge.pm v2.00, with DBIHelper-style calls
# (the request shapes DBIHelper.pm sends), against a real PostgreSQL 15 started by this test and a
# SQLite file. The same steps run through the real DBI + DBD::Pg / DBD::SQLite, and rows, NULLs,
# column names, row counts and errors are compared. Also: 32 concurrent Perl client processes with
# their own connections, a backend killed with pg_terminate_backend, a wrong password that must
# not show up in errors or logs, a relative SQLite path, and the round-trip latency of a SELECT.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use Time::HiRes qw(time);
use DBI;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use TestServer;
use BridgeClient;

my $pg = TestServer->start('postgres.ts');
my $PG = $pg->facts;

my $d = TestDaemon->start(CPAN_BRIDGE_DEBUG => 1);
my $c = BridgeClient->new;
# JSON booleans as 1/0, so is_deeply can compare results with plain data.
sub plain { my ($v) = @_; ref $v eq "HASH" ? { map { $_ => plain($v->{$_}) } keys %$v } : ref $v eq "ARRAY" ? [map { plain($_) } @$v] : JSON::PP::is_bool($v) ? ($v ? 1 : 0) : $v }
sub db { plain($c->call_python('database', @_)) }

# --- DBIHelper-style handles: the calls and parameter shapes DBIHelper.pm sends ---------------
{
    package Bridge::DBH;
    sub connect {
        my ($class, $dsn, $user, $pass, $attr) = @_;
        my $r = main::db('connect', { dsn => $dsn, username => $user, password => $pass, db_type => 'oracle', options => $attr || {} });
        return (undef, $r->{error}) unless $r->{success};
        return bless { id => $r->{connection_id}, attr => $attr || {} }, $class;
    }
    sub do {
        my ($self, $sql, $attr, @bind) = @_;
        my $r = main::db('execute_immediate', { connection_id => $self->{id}, sql => $sql, bind_values => \@bind });
        $self->{errstr} = $r->{success} ? undef : $r->{error};
        return $r->{success} ? $r->{rows_affected} : undef;
    }
    sub prepare {
        my ($self, $sql) = @_;
        my $r = main::db('prepare', { connection_id => $self->{id}, sql => $sql });
        $self->{errstr} = $r->{success} ? undef : $r->{error};
        return undef unless $r->{success};
        return bless { dbh => $self, id => $r->{statement_id}, bind_params => {} }, 'Bridge::STH';
    }
    sub begin_work { main::db('begin_transaction', { connection_id => $_[0]{id} })->{success} }
    sub commit     { main::db('commit',   { connection_id => $_[0]{id} })->{success} }
    sub rollback   { main::db('rollback', { connection_id => $_[0]{id} })->{success} }
    sub disconnect { main::db('disconnect', { connection_id => $_[0]{id} })->{success} }
    sub errstr     { $_[0]{errstr} }

    package Bridge::STH;
    sub bind_param { my ($s, $p, $v, $a) = @_; $s->{bind_params}{$p} = { value => $v, attr => $a }; 1 }
    sub execute {
        my ($s, @bind) = @_;
        my %bp = %{ $s->{bind_params} };
        my @final = @bind ? @bind : map { $bp{$_}{value} } sort keys %bp;    # as DBIHelper.pm does
        my $r = main::db('execute_statement', { connection_id => $s->{dbh}{id}, statement_id => $s->{id},
            bind_values => \@final, bind_params => $s->{bind_params} });
        $s->{errstr} = $r->{success} ? undef : $r->{error};
        return undef unless $r->{success};
        my $ci = $r->{column_info};
        $s->{NAME} = $ci ? $ci->{names} : [];
        $s->{NUM_OF_FIELDS} = $ci ? $ci->{count} : 0;
        $s->{TYPE} = $ci ? $ci->{types} : [];
        return $r->{rows_affected} == 0 ? "0E0" : $r->{rows_affected};
    }
    sub fetchrow_array {
        my $r = main::db('fetch_row', { connection_id => $_[0]{dbh}{id}, statement_id => $_[0]{id}, format => 'array' });
        return $r->{success} && $r->{row} ? @{ $r->{row} } : ();
    }
    sub fetchrow_hashref {
        my $r = main::db('fetch_row', { connection_id => $_[0]{dbh}{id}, statement_id => $_[0]{id}, format => 'hash' });
        return $r->{success} ? $r->{row} : undef;
    }
    sub fetchall_arrayref {
        my ($s, $attr) = @_;
        my $r = main::db('fetch_all', { connection_id => $s->{dbh}{id}, statement_id => $s->{id}, format => $attr ? 'hash' : 'array' });
        return $r->{success} ? $r->{rows} : undef;
    }
    sub finish { main::db('finish_statement', { connection_id => $_[0]{dbh}{id}, statement_id => $_[0]{id} })->{success} }
    sub errstr { $_[0]{errstr} }
}

# The same scenario for both stacks; returns what a script would observe.
sub scenario {
    my ($dbh, $flavour) = @_;
    my %o;
    $dbh->do("DROP TABLE IF EXISTS fruit");
    $dbh->do("CREATE TABLE fruit (id INTEGER, name VARCHAR(20), price NUMERIC(6,2), picked DATE)");
    $o{insert} = [map { $dbh->do("INSERT INTO fruit VALUES (?, ?, ?, ?)", undef, @$_) }
        [1, 'apple', '1.25', '2024-01-02'], [2, 'pear', undef, undef], [3, 'plum', '10', '2024-12-31']];
    $o{update} = $dbh->do("UPDATE fruit SET name = name WHERE id > ?", undef, 1);
    $o{update_none} = $dbh->do("UPDATE fruit SET name = name WHERE id > ?", undef, 99);    # "0E0"
    my $sth = $dbh->prepare("SELECT id, name, price, picked FROM fruit WHERE id >= ? ORDER BY id");
    $sth->execute(1);
    $o{names} = [@{ $sth->{NAME} }];
    $o{num_fields} = $sth->{NUM_OF_FIELDS};
    $o{first} = [$sth->fetchrow_array];
    $o{second} = $sth->fetchrow_hashref;
    $o{rest} = $sth->fetchall_arrayref;
    $sth->finish;
    my $named = $dbh->prepare("SELECT name FROM fruit WHERE id = :id");
    $named->bind_param(':id', 3);
    $named->execute;
    $o{named} = [$named->fetchrow_array];
    my $bp = $dbh->prepare("SELECT name FROM fruit WHERE id = ? OR id = ? ORDER BY id");
    $bp->bind_param(1, 1);
    $bp->bind_param(2, 2);
    $bp->execute;
    $o{bind_param} = $bp->fetchall_arrayref;
    # DBD::SQLite fails at prepare (undef, errstr set), DBD::Pg at execute.
    my $bad = $dbh->prepare("SELECT * FROM no_such_table");
    $o{bad_prepared} = $bad ? 1 : 0;
    $bad->execute if $bad;
    $o{error} = ($bad && $bad->errstr) // $dbh->errstr // '';
    $o{txn} = [];
    $dbh->begin_work;
    $dbh->do("INSERT INTO fruit VALUES (9, 'gone', NULL, NULL)");
    $dbh->rollback;
    my $cnt = $dbh->prepare("SELECT COUNT(*) FROM fruit");
    $cnt->execute;
    push @{ $o{txn} }, $cnt->fetchrow_array;
    $dbh->do("DROP TABLE fruit");
    return \%o;
}

sub real_dbh {
    my ($dsn, $u, $p) = @_;
    return DBI->connect($dsn, $u, $p, { RaiseError => 0, PrintError => 0, PrintWarn => 0, AutoCommit => 1 }) || die $DBI::errstr;
}

# --- differential: PostgreSQL --------------------------------------------------------------------
my ($pdbh, $perr) = Bridge::DBH->connect($PG->{dsn}, $PG->{user}, $PG->{password}, { AutoCommit => 1 });
ok($pdbh, "connect to PostgreSQL through the bridge") or diag($perr);
my $real_pg = real_dbh($PG->{dsn}, $PG->{user}, $PG->{password});
my $want = scenario($real_pg, 'pg');
my $got = scenario($pdbh, 'pg');
is_deeply($got, $want, "PostgreSQL: the bridge matches DBI + DBD::Pg (rows, NULLs, names, counts, errstr)")
  or diag(explain({ got => $got, want => $want }));
is($got->{error}, qq{ERROR:  relation "no_such_table" does not exist\nLINE 1: SELECT * FROM no_such_table\n                      ^},
    'PostgreSQL error text as DBD::Pg shows it, with libpq\'s LINE display');

# --- differential: SQLite (relative path: the caller's cwd) -------------------------------------
my $work = tempdir('cb_db_t_XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $oldcwd = getcwd();
chdir $work or die "chdir $work: $!";
my ($sdbh, $serr) = Bridge::DBH->connect("dbi:SQLite:dbname=bridge.db", "", "", {});
ok($sdbh, "connect to SQLite through the bridge") or diag($serr);
ok(-f "$work/bridge.db", "a relative SQLite dbname is created in the Perl caller's cwd");
my $real_sq = real_dbh("dbi:SQLite:dbname=$work/real.db", "", "");
$want = scenario($real_sq, 'sqlite');
$got = scenario($sdbh, 'sqlite');
is_deeply($got, $want, "SQLite: the bridge matches DBI + DBD::SQLite (prepare fails on a missing table)")
  or diag(explain({ got => $got, want => $want }));
is_deeply([@$got{qw(bad_prepared error update_none)}], [0, 'no such table: no_such_table', '0E0'], 'SQLite: prepare returned undef with errstr; do said 0E0');
chdir $oldcwd;

# --- differential: SQLite :memory: (the bridge opens it at its first statement) -----------------
{
    my ($mdbh, $merr) = Bridge::DBH->connect("dbi:SQLite:dbname=:memory:", "", "", {});
    ok($mdbh, "connect to SQLite :memory: through the bridge") or diag($merr);
    my $real_m = real_dbh("dbi:SQLite:dbname=:memory:", "", "");
    my ($w, $g) = (scenario($real_m, 'sqlite'), scenario($mdbh, 'sqlite'));
    is_deeply($g, $w, "SQLite :memory:: the bridge matches DBI + DBD::SQLite") or diag(explain({ got => $g, want => $w }));
    # Connections never used: commit, rollback and disconnect answer as DBD::SQLite's do.
    my ($u1) = Bridge::DBH->connect("dbi:SQLite:dbname=:memory:", "", "", {});
    my ($u2) = Bridge::DBH->connect("dbi:SQLite:dbname=:memory:", "", "", {});
    my $r1 = real_dbh("dbi:SQLite:dbname=:memory:", "", "");
    my $r2 = real_dbh("dbi:SQLite:dbname=:memory:", "", "");
    local $SIG{__WARN__} = sub { };    # DBD::SQLite: "commit ineffective with AutoCommit enabled"
    is_deeply([map { $_ ? 1 : 0 } $u1->commit, $u1->rollback, $u1->disconnect, $u2->disconnect],
        [map { $_ ? 1 : 0 } $r1->commit, $r1->rollback, $r1->disconnect, $r2->disconnect],
        "SQLite :memory: never used: commit, rollback, disconnect as DBD::SQLite");
    my $again = db('execute_immediate', { connection_id => $u2->{id}, sql => 'SELECT 1', bind_values => [] });
    ok(!$again->{success}, "SQLite :memory: never used, then disconnected: a statement fails");
    $mdbh->disconnect;
}

# --- wrong password: never echoed, never logged -------------------------------------------------
my $secret = 'Zq-wrong-Pa55-' . $$;
my $wp = db('connect', { dsn => $PG->{dsn}, username => $PG->{user}, password => $secret, options => {} });
ok(!$wp->{success}, "a wrong password fails");
like($wp->{error}, qr/password authentication failed for user "cbtest"/, "the error names the cause");
unlike($wp->{error}, qr/\Q$secret\E/, "the error does not contain the password");
my $logs = join '', map { local $/; open my $fh, '<', $_ or next; <$fh> } glob($d->dir . "/*.log");
unlike($logs, qr/\Q$secret\E/, "the daemon logs do not contain the wrong password");
unlike($logs, qr/\Q$PG->{password}\E/, "the daemon logs do not contain the right password");

# --- a killed backend: clear error, then the handle reconnects ----------------------------------
{
    my $k = db('connect', { dsn => $PG->{dsn}, username => $PG->{user}, password => $PG->{password}, options => {} });
    $real_pg->do("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cpan-bridge'");
    my $t0 = time;
    my $r1 = db('execute_immediate', { connection_id => $k->{connection_id}, sql => 'SELECT 1', bind_values => [] });
    ok(!$r1->{success}, "the first call after pg_terminate_backend fails");
    like($r1->{error}, qr/Database connection lost: .*reconnects/s, "with a clear 'connection lost' error");
    my $r2 = db('execute_immediate', { connection_id => $k->{connection_id}, sql => 'SELECT 2', bind_values => [] });
    is_deeply($r2->{rows}, [["2"]], "the next call reconnects");
    cmp_ok(time - $t0, '<', 10, "no hang");
    db('disconnect', { connection_id => $k->{connection_id} });
}

# --- 32 concurrent Perl clients, each with its own connection -----------------------------------
{
    $real_pg->do("CREATE TABLE conc (client INTEGER, n INTEGER)");
    my @pids;
    for my $i (1 .. 32) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $ok = eval {
                my $cc = BridgeClient->new;
                my $call = sub { plain($cc->call_python('database', @_)) };
                my $h = $call->('connect', { dsn => $PG->{dsn}, username => $PG->{user}, password => $PG->{password}, options => { AutoCommit => 0 } });
                die "connect: $h->{error}" unless $h->{success};
                my $id = $h->{connection_id};
                for my $n (1 .. 5) {
                    my $r = $call->('do_statement', { connection_id => $id, sql => 'INSERT INTO conc VALUES (?, ?)', bind_values => [$i, $n] });
                    die "insert: $r->{error}" unless $r->{success};
                }
                my $s = $call->('do_statement', { connection_id => $id, sql => 'SELECT client, SUM(n) FROM conc GROUP BY client', bind_values => [] });
                # Own uncommitted rows are visible; other clients' rows only once committed, so rows
                # of the clients that roll back (even numbers) must never be seen by anyone else.
                my %seen = map { $_->[0] => $_->[1] } @{ $s->{rows} };
                die "own rows: saw " . encode_json($s->{rows}) unless ($seen{$i} // '') eq '15';
                my @dirty = grep { $_ != $i && $_ % 2 == 0 } keys %seen;
                die "isolation: saw uncommitted rows of clients @dirty" if @dirty;
                $call->($i % 2 ? 'commit' : 'rollback', { connection_id => $id });
                $call->('disconnect', { connection_id => $id });
                1;
            };
            print STDERR "client $i: $@" unless $ok;
            POSIX::_exit($ok ? 0 : 1);
        }
        push @pids, $pid;
    }
    my $failed = 0;
    for (@pids) { waitpid($_, 0); $failed++ if $? }
    is($failed, 0, "32 concurrent clients: each sees its own uncommitted rows and no one else's");
    my $rows = $real_pg->selectall_arrayref("SELECT COUNT(DISTINCT client), COUNT(*) FROM conc");
    is_deeply($rows, [[16, 80]], "the 16 committing clients' rows are there, the 16 rolled-back are not");
}

# --- latency of a simple SELECT through the daemon ----------------------------------------------
{
    my $h = db('connect', { dsn => $PG->{dsn}, username => $PG->{user}, password => $PG->{password}, options => {} });
    my @ms;
    for (1 .. 200) {
        my $t = time;
        my $r = db('execute_immediate', { connection_id => $h->{connection_id}, sql => 'SELECT 1', bind_values => [] });
        push @ms, (time - $t) * 1000;
        die $r->{error} unless $r->{success};
    }
    @ms = sort { $a <=> $b } @ms;
    my @dbi;
    for (1 .. 200) { my $t = time; $real_pg->selectall_arrayref('SELECT 1'); push @dbi, (time - $t) * 1000 }
    @dbi = sort { $a <=> $b } @dbi;
    diag(sprintf("SELECT 1 round trip, 200 calls: bridge median %.2f ms, p95 %.2f ms; DBI+DBD::Pg median %.3f ms",
        $ms[100], $ms[190], $dbi[100]));
    cmp_ok($ms[100], '<', 250, "median SELECT round trip through the daemon is below 250 ms");
    db('disconnect', { connection_id => $h->{connection_id} });
}

$real_pg->disconnect;
$d->stop;
done_testing();
