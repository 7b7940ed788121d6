package TestBinary;
# The single binary for Perl tests: dist/cpan-bridge, built first (scripts/build_binary.sh) when it
# is missing or older than any of its sources.
#   my $dist = TestBinary::ensure_built();
use strict;
use warnings;
use File::Find qw(find);
use Time::HiRes qw(time);
use Test::More ();
use TestDaemon;

sub newest_source {
    my $root = TestDaemon::root();
    my $newest = 0;
    my @roots = map { "$root/$_" } qw(main.ts deno.json deno.lock src helpers scripts/build_binary.sh scripts/build
      tools/esbuild/package-lock.json);
    find({ no_chdir => 1, wanted => sub { my $m = (lstat $_)[9]; $newest = $m if -f _ && $m > $newest } },
        grep { -e } @roots);
    return $newest;
}

sub ensure_built {
    my $root = TestDaemon::root();
    my $dist = "$root/dist/cpan-bridge";
    if (!-x $dist || (stat $dist)[9] < newest_source()) {
        Test::More::diag('building dist/cpan-bridge (scripts/build_binary.sh)');
        my $t0 = time;
        system('bash', "$root/scripts/build_binary.sh") == 0
          or Test::More::BAIL_OUT('scripts/build_binary.sh failed');
        Test::More::diag(sprintf 'built in %.0f s', time - $t0);
    }
    return $dist;
}

1;
