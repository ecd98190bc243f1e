// Package oui names the vendor behind a MAC address from the IEEE
// Registration Authority's public registry, embedded in the binary so
// otscope needs no network access or system files on a plant network.
//
//	vendor := oui.Lookup(mac)      // "Siemens", "" when not registered
//	if vendor == "" {
//		vendor = oui.Describe(mac) // "LLDP", "IEC 61850 GOOSE", "locally administered", ...
//	}
//
// Lookup tries the most specific assignment first: MA-S and IAB (36-bit
// prefix), then MA-M (28-bit), then MA-L (24-bit, the classic OUI). An
// address inside a block the IEEE has sold in smaller pieces but not yet
// assigned resolves to the 24-bit holder, "IEEE Registration Authority".
// Locally administered, multicast, broadcast and all-zero addresses have no
// registered vendor; Lookup returns "" for them and Describe says what they
// are. Lookup returns a short name tidied by ShortName; LookupFull returns the
// organisation name as registered (white space collapsed).
//
// # Data
//
// The registry is compacted into oui.bin.gz (about 400 kB: a deduplicated,
// sorted name table and three sorted prefix tables, gzip'd; the layout is
// described in internal/format). It is parsed once, by the first call to
// Lookup, LookupFull, DataVersion, Len or Load, and lookups after that do not
// allocate. To refresh it from Debian's ieee-data package:
//
//	apt-get install ieee-data
//	go generate ./assets/oui
//
// The generator (internal/gen) also takes CSVs downloaded from
// https://standards-oui.ieee.org/: go run ./internal/gen -src DIR or
// -oui FILE. DataVersion reports the provenance recorded in the file; the
// data embedded now is ieee-data 20220827.1 (2022-08-27). Update this
// sentence when regenerating; a test checks it.
//
// All functions are safe for concurrent use.
package oui

//go:generate go run ./internal/gen -src /usr/share/ieee-data -out oui.bin.gz
