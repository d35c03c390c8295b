#!/usr/bin/perl
# Writes the MaxMind DB files the geoip tests read, so no binary .mmdb is ever committed.
# Usage: make_test_mmdb.pl <output-dir>
# Writes, into <output-dir>:
#   city.mmdb     GeoIP2/GeoLite2-City / DB-IP City shape (nested country / subdivisions / city / location)
#   city-v2.mmdb  the same shape with different answers, for the reload tests
#   flat.mmdb     the npm @ip-location-db/*-city-mmdb shape (flat country_code / state1 / city / latitude ...)
# The networks are documentation and benchmarking ranges (RFC 5737, 3849, 2544), which the writer
# would drop as reserved unless told not to.
use strict;
use warnings;
use utf8;

use MaxMind::DB::Writer::Tree;

my $dir = shift @ARGV or die "usage: $0 <output-dir>\n";

# The nested schema as MaxMind documents it; latitude/longitude are doubles there.
my %nested_types = (
    city         => 'map',
    continent    => 'map',
    country      => 'map',
    subdivisions => [ 'array', 'map' ],
    location     => 'map',
    names        => 'map',
    en           => 'utf8_string',
    de           => 'utf8_string',
    ja           => 'utf8_string',
    code         => 'utf8_string',
    iso_code     => 'utf8_string',
    geoname_id   => 'uint32',
    latitude     => 'double',
    longitude    => 'double',
    time_zone    => 'utf8_string',
);

# ip-location-db's flat schema: "country_code, state1, state2, city, postcode, latitude, longitude,
# timezone" (its README). Consumers read the coordinates as 32-bit floats, so the test stores floats,
# which also exercises the reader's float path.
my %flat_types = (
    country_code => 'utf8_string',
    state1       => 'utf8_string',
    state2       => 'utf8_string',
    city         => 'utf8_string',
    postcode     => 'utf8_string',
    latitude     => 'float',
    longitude    => 'float',
    timezone     => 'utf8_string',
);

sub new_tree {
    my ( $type, $types ) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 28,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "matomo-gateway test database ($type)" },
        remove_reserved_networks => 0,
        map_key_type_callback    => sub { $types->{ $_[0] } },
    );
}

sub city_record {
    my (%a) = @_;
    my %r;
    $r{country} = { iso_code => $a{country}, names => { en => $a{country_name} // $a{country} } } if $a{country};
    $r{continent} = { code => $a{continent} } if $a{continent};
    $r{subdivisions} = [ map { { iso_code => $_->[0], names => { en => $_->[1] } } } @{ $a{subdivisions} } ]
        if $a{subdivisions};
    $r{subdivisions} = [ map { { names => { en => $_ } } } @{ $a{subdivision_names} } ] if $a{subdivision_names};
    $r{city} = { names => $a{city_names} // { en => $a{city} } } if $a{city} || $a{city_names};
    $r{location} = { latitude => $a{lat}, longitude => $a{lon}, time_zone => 'UTC' } if defined $a{lat};
    return \%r;
}

sub write_tree {
    my ( $tree, $name ) = @_;
    open my $fh, '>:raw', "$dir/$name" or die "$dir/$name: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$dir/$name: $!\n";
}

# More than 255 bytes of two-byte characters, so a byte cut at 255 would split one.
my $long_city = 'Ä' x 200;

my $city = new_tree( 'GeoIP2-City', \%nested_types );
$city->insert_network( '203.0.113.0/24',
    city_record( country => 'DE', continent => 'EU', subdivisions => [ [ 'BY', 'Bavaria' ] ],
        city_names => { en => 'Munich', de => 'München' }, lat => 48.1371549, lon => 11.5761249 ) );
$city->insert_network( '203.0.114.0/24',
    city_record( country => 'DE', subdivisions => [ [ 'BY', 'Bavaria' ] ], city => 'München',
        lat => 48.1371549, lon => 11.5761249 ) );
$city->insert_network( '198.51.100.0/24',
    city_record( country => 'JP', subdivisions => [ [ '13', 'Tokyo' ] ], city => '東京',
        lat => 35.6895, lon => 139.69171 ) );
# No subdivisions at all (city-states, many DB-IP Lite records).
$city->insert_network( '192.0.2.0/24',
    city_record( country => 'SG', city => 'Singapore', lat => 1.28967, lon => 103.85007 ) );
# Matomo takes the LAST subdivision for GB (England, then the district).
$city->insert_network( '198.18.0.0/24',
    city_record( country => 'GB', subdivisions => [ [ 'ENG', 'England' ], [ 'WSM', 'Westminster' ] ],
        city => 'London', lat => 51.5073509, lon => -0.1277583 ) );
# Region stored with its country prefix (Matomo issue 19323): only the suffix is kept.
$city->insert_network( '198.18.1.0/24',
    city_record( country => 'AE', subdivisions => [ [ 'AE-DU', 'Dubai' ] ], city => 'Dubai',
        lat => 25.0657, lon => 55.17128 ) );
# A subdivision code that does not fit CHAR(3): omitted.
$city->insert_network( '198.18.2.0/24',
    city_record( country => 'FR', subdivisions => [ [ 'TOOLONG', 'Nowhere' ] ], city => 'Paris',
        lat => 48.8534, lon => 2.3488 ) );
# Country only (a Country database, or a city record without a city).
$city->insert_network( '198.18.3.0/24', city_record( country => 'NL' ) );
# A record carrying nothing Matomo stores: treated as "not found".
$city->insert_network( '198.18.4.0/24', city_record( continent => 'EU' ) );
# DB-IP City Lite style: subdivision with a name but no iso_code.
$city->insert_network( '198.18.5.0/24',
    city_record( country => 'AU', subdivision_names => ['Queensland'], city => 'South Brisbane',
        lat => -27.4767, lon => 153.017 ) );
# Rounds to -0.000 at 3 decimals: must come out as 0.
$city->insert_network( '198.18.6.0/24',
    city_record( country => 'GH', city => 'Null Island', lat => -0.0004, lon => 0.0004 ) );
$city->insert_network( '2001:db8:1::/48',
    city_record( country => 'US', subdivisions => [ [ 'CA', 'California' ] ], city => 'Mountain View',
        lat => 37.386, lon => -122.0838 ) );
$city->insert_network( '2001:db8:2::/48',
    city_record( country => 'FI', city => $long_city, lat => 60.16952, lon => 24.93545 ) );
write_tree( $city, 'city.mmdb' );

# Same addresses, different answers: a reload is visible in the lookup result.
my $v2 = new_tree( 'GeoIP2-City', \%nested_types );
$v2->insert_network( '203.0.113.0/24',
    city_record( country => 'AT', subdivisions => [ [ '9', 'Vienna' ] ], city => 'Wien',
        lat => 48.2081743, lon => 16.3738189 ) );
$v2->insert_network( '2001:db8:1::/48',
    city_record( country => 'CA', subdivisions => [ [ 'QC', 'Quebec' ] ], city => 'Montréal',
        lat => 45.50884, lon => -73.58781 ) );
write_tree( $v2, 'city-v2.mmdb' );

my $flat = new_tree( 'ip-location-db-city', \%flat_types );
$flat->insert_network( '203.0.113.0/24',
    { country_code => 'AT', state1 => 'Vienna', state2 => '', city => 'Wien', postcode => '1010',
      latitude => 48.2081743, longitude => 16.3738189, timezone => 'Europe/Vienna' } );
$flat->insert_network( '2001:db8:3::/48',
    { country_code => 'JP', state1 => 'Tokyo', city => '東京', latitude => 35.6895, longitude => 139.69171 } );
# Country only, no coordinates.
$flat->insert_network( '198.51.100.0/24', { country_code => 'NZ' } );
write_tree( $flat, 'flat.mmdb' );
