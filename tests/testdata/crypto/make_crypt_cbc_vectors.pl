# Regenerate: perl tests/testdata/crypto/make_crypt_cbc_vectors.pl > tests/testdata/crypto/crypt_cbc_vectors.json
use strict; use warnings; use Crypt::CBC; use JSON::PP;
my @v;
my $pt = "Grüße, world! \x{1F30D} 0123456789"; utf8::encode($pt);
sub add { my ($name, $opts, $wire, $plain) = @_;
  my $c = Crypt::CBC->new(%$opts, -nodeprecate => 1);
  my $ct = $c->encrypt($plain);
  my $back = Crypt::CBC->new(%$opts, -nodeprecate => 1)->decrypt($ct);
  push @v, { name => $name, wire => $wire, plaintext_hex => unpack("H*", $plain), ciphertext_hex => unpack("H*", $ct),
             decrypted_hex => unpack("H*", $back) };
}
for my $cipher (qw(Blowfish Rijndael)) {
  for my $pad (qw(standard null space oneandzeroes none)) {
    for my $n (0, 5, 16, length $pt) {
      next if $pad eq 'none' && $n == 0;
      my $plain = substr($pt, 0, $n);
      add("$cipher salt $pad n=$n", { -key => "my secret", -cipher => $cipher, -salt => "SaLt1234", -padding => $pad },
          { key => "my secret", cipher => $cipher, salt => "SaLt1234", padding_mode => $pad, header => "salt" }, $plain);
    }
  }
  add("$cipher rijndael_compat", { -key => "k", -cipher => $cipher, -salt => "abcdefgh", -padding => 'rijndael_compat' },
      { key => "k", cipher => $cipher, salt => "abcdefgh", padding_mode => 'rijndael_compat' }, "x" x 32);
  for my $kdf (qw(opensslv2 pbkdf2)) {
    add("$cipher $kdf", { -key => "pass", -cipher => $cipher, -salt => "12345678", -pbkdf => $kdf },
        { key => "pass", cipher => $cipher, salt => "12345678", pbkdf => $kdf }, $pt);
  }
  add("$cipher pbkdf2 sha1 iter 1000", { -key => "pass", -cipher => $cipher, -salt => "12345678", -pbkdf => 'pbkdf2', -hasher => 'HMACSHA1', -iter => 1000 },
      { key => "pass", cipher => $cipher, salt => "12345678", pbkdf => 'pbkdf2', hasher => 'HMACSHA1', iter => 1000 }, $pt);
  my $ks = $cipher eq 'Blowfish' ? 56 : 32; my $bs = $cipher eq 'Blowfish' ? 8 : 16;
  my $key = join '', map { chr(($_ * 37 + 11) % 256) } 1..$ks;
  my $iv = join '', map { chr(($_ * 53 + 200) % 256) } 1..$bs;
  add("$cipher literal key none header", { -key => $key, -literal_key => 1, -iv => $iv, -cipher => $cipher, -header => 'none' },
      { key => $key, literal_key => 1, iv => $iv, cipher => $cipher, header => 'none' }, $pt);
  add("$cipher keysize 24", { -key => "pass", -cipher => $cipher, -salt => "12345678", -keysize => 24 },
      { key => "pass", cipher => $cipher, salt => "12345678", keysize => 24 }, $pt x 3);
  add("$cipher keysize 16", { -key => "pass", -cipher => $cipher, -salt => "12345678", -keysize => 16 },
      { key => "pass", cipher => $cipher, salt => "12345678", keysize => 16 }, $pt);
  add("$cipher header none salt", { -key => "pass", -cipher => $cipher, -salt => "12345678", -header => 'none' },
      { key => "pass", cipher => $cipher, salt => "12345678", header => 'none' }, $pt);
}
add("Blowfish randomiv", { -key => "pass", -cipher => 'Blowfish', -header => 'randomiv', -iv => "ivivivIV" },
    { key => "pass", cipher => 'Blowfish', header => 'randomiv', iv => "ivivivIV" }, $pt);
add("AES via Crypt::Cipher::AES", { -key => "pass", -cipher => 'Crypt::Cipher::AES', -salt => "12345678" },
    { key => "pass", cipher => 'AES', salt => "12345678" }, $pt);
print JSON::PP->new->ascii->canonical->pretty->encode(\@v);
