# A Perl script that ends without closing its handles: with DBI, the connection dies with the
# process (DBI's DESTROY rolls back an open transaction and disconnects, so the row is gone and the
# database is free again). Through the bridge the connection lives in the daemon; the daemon now
# closes a handle whose owner process has exited at its next housekeeping run, which rolls back
# the same way. Both are run here on the same SQLite file and compared.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use POSIX ();
use DBI;
use FindBin;
use lib "$FindBin::Bin/lib";
use TestDaemon;
use BridgeClient;

my $d = TestDaemon->start(CPAN_BRIDGE_CLEANUP_INTERVAL => 1);
my $dir = tempdir(CLEANUP => 1);
my $file = "$dir/t.db";
{
    my $dbh = DBI->connect("dbi:SQLite:dbname=$file", "", "", { RaiseError => 1, PrintError => 0 });
    $dbh->do("CREATE TABLE t (who TEXT)");
    $dbh->disconnect;
}

# Runs $body in a child process that exits (normally) without commit or disconnect.
sub in_child {
    my ($body) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $ok = eval { $body->(); 1 };
        POSIX::_exit($ok ? 0 : 1) if !$ok;
        exit 0;    # a normal exit: Perl destroys the script's objects, as a real script's end does
    }
    waitpid($pid, 0);
    is($? >> 8, 0, "child $pid ran its steps");
    return $pid;
}

# Rows left by `who`, and whether the database can be written (no lock held by anyone).
sub state_of {
    my ($who) = @_;
    my $dbh = DBI->connect("dbi:SQLite:dbname=$file", "", "", { RaiseError => 1, PrintError => 0, sqlite_see_if_its_a_number => 1 });
    $dbh->sqlite_busy_timeout(0);
    my ($n) = $dbh->selectrow_array("SELECT count(*) FROM t WHERE who = ?", undef, $who);
    my $writable = eval { $dbh->do("BEGIN IMMEDIATE"); $dbh->do("ROLLBACK"); 1 } ? 1 : 0;
    $dbh->disconnect;
    return { rows => $n, writable => $writable };
}

# The CPAN way: DBI in the script itself.
in_child(sub {
    my $dbh = DBI->connect("dbi:SQLite:dbname=$file", "", "", { RaiseError => 1, PrintError => 0, AutoCommit => 1 });
    $dbh->begin_work;
    $dbh->do("INSERT INTO t VALUES ('script')");
});
my $cpan = state_of('script');
is_deeply($cpan, { rows => 0, writable => 1 }, "DBI: the script's uncommitted row is rolled back at its exit");

# The bridge way: the calls DBIHelper.pm sends, from a script that then exits.
my $child = in_child(sub {
    my $c = BridgeClient->new;
    my $r = $c->call_python('database', 'connect', { dsn => "dbi:SQLite:dbname=$file", username => '', password => '', options => { AutoCommit => 1 } });
    die "connect: $r->{error}" unless $r->{success};
    my $id = $r->{connection_id};
    $r = $c->call_python('database', 'begin_transaction', { connection_id => $id });
    die "begin: $r->{error}" unless $r->{success};
    $r = $c->call_python('database', 'execute_immediate', { connection_id => $id, sql => "INSERT INTO t VALUES ('bridge')", bind_values => [] });
    die "insert: $r->{error}" unless $r->{success};
});
# While the daemon holds the dead script's connection the row is pending and the file locked;
# the housekeeping run (every second here) closes it.
my $deadline = time + 20;
my $log = '';
until ($log =~ /Closed handle \S+ \(database[^)]*\): its owner, PID $child, has exited/ || time > $deadline) {
    sleep 0.1;
    $log = do { local (@ARGV, $/) = ($d->daemon_log); <> } // '';
}
like($log, qr/Closed handle \S+ \(database[^)]*\): its owner, PID $child, has exited/, "the daemon logs the handle closed because its owner exited");
is_deeply(state_of('bridge'), $cpan, "bridge: the same as DBI, the row rolled back and the database free");

# A living script keeps its handle: the same steps from this process stay open across sweeps.
my $c = BridgeClient->new;
my $r = $c->call_python('database', 'connect', { dsn => "dbi:SQLite:dbname=$file", username => '', password => '', options => {} });
ok($r->{success}, "connect from a living process");
my $id = $r->{connection_id};
my $opened = time;
my $swept = 0;
for (my $end = time + 20; !$swept && time < $end; sleep 0.1) {
    $swept = ($c->call_python('system', 'stats', {})->{last_cleanup} // 0) > $opened + 0.01;
}
ok($swept, "a housekeeping run came after the connect");
my $again = $c->call_python('database', 'execute_immediate', { connection_id => $id, sql => "SELECT 1", bind_values => [] });
ok($again->{success}, "a living owner's handle survives the sweep") or diag explain $again;
$c->call_python('database', 'disconnect', { connection_id => $id });

done_testing;
