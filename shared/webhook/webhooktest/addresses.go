// Package webhooktest holds what the tests of webhook's address rules and
// of the poster's dialer share.
package webhooktest

// Addresses are addresses with whether each is public. An IPv6 address that
// carries an IPv4 one (NAT64, 6to4, mapped, compatible, translated, ISATAP,
// Teredo) is public only when that IPv4 address is: a translator or tunnel
// would carry the connection there. NAT64, Teredo and the IPv4-compatible
// form are not public whatever they carry.
var Addresses = map[string]bool{
	"8.8.8.8": true, "2001:4860:4860::8888": true, "2a00:1450:4001:830::200e": true,
	"10.0.0.1": false, "0.1.2.3": false, "100.64.0.1": false,
	// NAT64: the well-known prefix and the local-use one.
	"64:ff9b::10.0.0.1": false, "64:ff9b::127.0.0.1": false, "64:ff9b::169.254.169.254": false,
	"64:ff9b::8.8.8.8": false, "64:ff9b:1::a00:1": false, "64:ff9b:1:ffff::7f00:1": false,
	// 6to4: the IPv4 address in bits 16 to 48.
	"2002:a00:1::1": false, "2002:7f00:1::1": false, "2002:a9fe:a9fe::1": false, "2002:c0a8:101::1": false,
	"2002:6440:1::1": false, "2002:ac10:1::": false, "2002:808:808::1": true,
	// IPv4-mapped, IPv4-compatible, IPv4-translated.
	"::ffff:10.0.0.1": false, "::ffff:127.0.0.1": false, "::ffff:169.254.169.254": false, "::ffff:8.8.8.8": true,
	"::10.0.0.1": false, "::127.0.0.1": false, "::169.254.169.254": false, "::8.8.8.8": false,
	"::ffff:0:10.0.0.1": false, "::ffff:0:127.0.0.1": false, "::ffff:0:8.8.8.8": true,
	// Teredo.
	"2001:0:4136:e378:8000:63bf:3fff:fdd2": false, "2001:0:a00:1::1": false,
	// ISATAP interface ids.
	"2a00:1450::5efe:a00:1": false, "2a00:1450::200:5efe:7f00:1": false, "2a00:1450::200:5efe:808:808": true,
	// Zoned addresses are judged without their zone.
	"fe80::1%eth0": false, "64:ff9b::a00:1%eth0": false,
}
