package assetpane

import (
	"cmp"
	"slices"
	"strings"
)

func (m *Model) compare(x, y *row) int {
	var c int
	switch m.sort.By {
	case ByIP:
		c = compareAddr(x, y)
	case ByMAC:
		c = compareMAC(x, y)
	case ByVendor:
		c = compareText(x.vendor, y.vendor)
	case ByName:
		// a narrow layout has one PRODUCT/NAME column, which the name
		// sort marks: it sorts by what the column shows, not by a hidden
		// name (the product sort keeps products first, as shown)
		if m.prodNameShown() {
			c = compareText(x.prodName, y.prodName)
		} else {
			c = compareText(x.name, y.name)
		}
	case ByProduct:
		c = compareText(x.product, y.product)
	case ByFirmware:
		c = compareVersion(x.firmware, y.firmware)
	case ByLastSeen:
		c = x.a.LastSeen.Compare(y.a.LastSeen)
	case ByPackets:
		c = cmp.Compare(x.a.Packets, y.a.Packets)
	}
	if c = m.sort.Directed(c); c != 0 {
		return c
	}
	if c = compareAddr(x, y); c != 0 {
		return c
	}
	return strings.Compare(string(x.a.ID), string(y.a.ID))
}

// compareAddr orders by IP numerically (IPv4 before IPv6), assets without
// an IP last, by MAC.
func compareAddr(x, y *row) int {
	xv, yv := x.ip.IsValid(), y.ip.IsValid()
	switch {
	case xv && yv:
		return x.ip.Compare(y.ip)
	case xv != yv:
		if xv {
			return -1
		}
		return 1
	}
	return compareMAC(x, y)
}

func compareMAC(x, y *row) int {
	if x.hasMAC != y.hasMAC {
		if x.hasMAC {
			return -1
		}
		return 1
	}
	return slices.Compare(x.mac[:], y.mac[:])
}

// compareText orders empty strings last.
func compareText(x, y string) int {
	if (x == "") != (y == "") {
		if x == "" {
			return 1
		}
		return -1
	}
	return strings.Compare(x, y)
}

// compareVersion orders version strings by their digit runs as numbers
// ("v3.9" before "v3.10") and the rest as text, empty strings last.
func compareVersion(x, y string) int {
	if (x == "") != (y == "") {
		return compareText(x, y)
	}
	for x != "" && y != "" {
		if isDigit(x[0]) && isDigit(y[0]) {
			i, j := digits(x), digits(y)
			xs, ys := strings.TrimLeft(x[:i], "0"), strings.TrimLeft(y[:j], "0")
			if c := cmp.Compare(len(xs), len(ys)); c != 0 {
				return c
			}
			if c := strings.Compare(xs, ys); c != 0 {
				return c
			}
			x, y = x[i:], y[j:]
			continue
		}
		if x[0] != y[0] {
			return cmp.Compare(x[0], y[0])
		}
		x, y = x[1:], y[1:]
	}
	return cmp.Compare(len(x), len(y))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the length of the run of digits at the start of s.
func digits(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
