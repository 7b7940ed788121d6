package DBIHelperModel;
# DBIHelper.pm as helpers contract §3.1 describes it, for tests that run the same calls through
# real DBI: one wire call per DBI method (Bridge::DBH, Bridge::STH), values as the wrapper passes
# them on. Call DBIHelperModel::client($bridge_client) first.
use strict;
use warnings;
use JSON::PP ();
use Test::More ();

my $client;
sub client { $client = $_[0] }

# JSON booleans as Perl's 1/0, recursively, as the wrapper's callers see them.
sub plain {
    my ($v) = @_;
    return ref $v eq 'HASH' ? { map { $_ => plain($v->{$_}) } keys %$v }
      : ref $v eq 'ARRAY' ? [ map { plain($_) } @$v ]
      : JSON::PP::is_bool($v) ? ($v ? 1 : 0)
      : $v;
}

sub db { plain($client->call_python('database', @_)) }

# What a script sees from do.
sub do_ {
    my ($dbh, $sql, @b) = @_;
    my $r = $dbh->do($sql, undef, @b);
    return { do => $r, err => defined $r ? undef : $dbh->errstr };
}

# Runs one case on both stacks (Bridge::DBH and real DBI) and compares what `$code` observes;
# returns the bridge's observation. `$DBIHelperModel::cases` counts the cases compared.
our $cases = 0;
sub same {
    my ($name, $bridge, $real, $code) = @_;
    $cases++;
    my $want = $code->($real);
    my $got = $code->($bridge);
    Test::More::is_deeply($got, $want, $name) or Test::More::diag(Test::More::explain({ got => $got, want => $want }));
    Test::More::diag(Test::More::explain({ $name => $got })) if $ENV{CB_DB_SHOW};
    return $got;
}

package Bridge::DBH;
our $errstr;
sub connect {
    my ($class, $dsn, $user, $pass, $attr) = @_;
    my $r = DBIHelperModel::db('connect', { dsn => $dsn, username => $user, password => $pass, db_type => 'oracle', options => $attr || {} });
    $errstr = $r->{success} ? undef : $r->{error};
    return $r->{success} ? bless({ id => $r->{connection_id} }, $class) : undef;
}
sub do {
    my ($self, $sql, $attr, @bind) = @_;
    my $r = DBIHelperModel::db('do_statement', { connection_id => $self->{id}, sql => $sql, bind_values => \@bind });
    $self->{errstr} = $r->{success} ? undef : $r->{error};
    return $r->{success} ? $r->{rows_affected} : undef;    # passed on unchanged
}
sub prepare {
    my ($self, $sql) = @_;
    my $r = DBIHelperModel::db('prepare', { connection_id => $self->{id}, sql => $sql });
    $self->{errstr} = $r->{success} ? undef : $r->{error};
    return undef unless $r->{success};
    return bless { dbh => $self, id => $r->{statement_id}, bind_params => {} }, 'Bridge::STH';
}
sub rollback   { DBIHelperModel::db('rollback', { connection_id => $_[0]{id} })->{success} }
sub commit     { DBIHelperModel::db('commit', { connection_id => $_[0]{id} })->{success} }
sub disconnect { DBIHelperModel::db('disconnect', { connection_id => $_[0]{id} })->{success} }
sub errstr     { $_[0]{errstr} }

package Bridge::STH;
sub bind_param { my ($s, $p, $v, $a) = @_; $s->{bind_params}{$p} = { value => $v, attr => $a }; 1 }
sub execute {
    my ($s, @bind) = @_;
    my %bp = %{ $s->{bind_params} };
    my @final = @bind ? @bind : map { $bp{$_}{value} } sort keys %bp;
    my $r = DBIHelperModel::db('execute_statement', { connection_id => $s->{dbh}{id}, statement_id => $s->{id},
        bind_values => \@final, bind_params => $s->{bind_params} });
    $s->{errstr} = $r->{success} ? undef : $r->{error};
    return undef unless $r->{success};
    $s->{NAME} = $r->{column_info} ? $r->{column_info}{names} : [];
    $s->{rows} = $r->{rows_affected};    # $sth->rows reads the same reply field
    return $r->{rows_affected} == 0 ? "0E0" : $r->{rows_affected};
}
sub rows { $_[0]{rows} }
sub fetchall_arrayref {
    my $r = DBIHelperModel::db('fetch_all', { connection_id => $_[0]{dbh}{id}, statement_id => $_[0]{id}, format => 'array' });
    return $r->{success} ? $r->{rows} : undef;
}
sub fetchrow_hashref {
    my $r = DBIHelperModel::db('fetch_row', { connection_id => $_[0]{dbh}{id}, statement_id => $_[0]{id}, format => 'hash' });
    return $r->{success} ? $r->{row} : undef;
}
sub errstr { $_[0]{errstr} }

1;
