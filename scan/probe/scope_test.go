package probe

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		name    string
		targets []string
		o       ScopeOptions
		n       int
		first   string
		last    string
		err     string // part of the error; "" for success
	}{
		{name: "one address", targets: []string{"10.0.0.5"}, n: 1, first: "10.0.0.5", last: "10.0.0.5"},
		{name: "full range", targets: []string{"10.0.0.5-10.0.0.20"}, n: 16, first: "10.0.0.5", last: "10.0.0.20"},
		{name: "short range", targets: []string{"10.0.0.5-20"}, n: 16, first: "10.0.0.5", last: "10.0.0.20"},
		{name: "cidr drops network and broadcast", targets: []string{"192.168.1.0/24"}, n: 254, first: "192.168.1.1", last: "192.168.1.254"},
		{name: "/31 keeps both", targets: []string{"10.1.1.0/31"}, n: 2, first: "10.1.1.0", last: "10.1.1.1"},
		{name: "/32", targets: []string{"10.1.1.7/32"}, n: 1, first: "10.1.1.7"},
		{name: "cidr edges with --allow-broadcast", targets: []string{"192.168.1.0/30"}, o: ScopeOptions{AllowBroadcast: true}, n: 4, first: "192.168.1.0", last: "192.168.1.3"},
		{name: "list and overlap", targets: []string{"10.0.0.1,10.0.0.2 10.0.0.1-3"}, n: 3, first: "10.0.0.1", last: "10.0.0.3"},
		{name: "exclusions", targets: []string{"10.0.0.0/29"}, o: ScopeOptions{Exclude: []string{"10.0.0.2", "10.0.0.4-5"}}, n: 3, first: "10.0.0.1", last: "10.0.0.6"},
		{name: "shared space", targets: []string{"100.64.0.1"}, n: 1},
		{name: "loopback", targets: []string{"127.0.0.2-7"}, n: 6},
		{name: "link-local", targets: []string{"169.254.10.10"}, n: 1},
		{name: "ipv6 ula", targets: []string{"fd00::1"}, n: 1, first: "fd00::1"},
		{name: "ipv6 /112", targets: []string{"fd00::/112"}, n: 65536},
		{name: "v4-mapped", targets: []string{"::ffff:10.0.0.9"}, n: 1, first: "10.0.0.9"},
		{name: "a /16 is allowed", targets: []string{"10.5.0.0/16"}, n: 65534},
		{name: "large with flag", targets: []string{"10.0.0.0/15"}, o: ScopeOptions{AllowLarge: true}, n: 131070},
		{name: "public with flag", targets: []string{"8.8.8.8"}, o: ScopeOptions{AllowPublic: true}, n: 1},
		{name: "limited broadcast with flag", targets: []string{"255.255.255.255"}, o: ScopeOptions{AllowBroadcast: true}, n: 1},
		{name: "a wide subnet's .255 is a host", targets: []string{"10.0.0.255"}, o: ScopeOptions{Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}, n: 1},
		{name: "a /16 CIDR keeps its inner .0 and .255", targets: []string{"10.7.0.0/16", "10.7.3.255"}, n: 65534},
		{name: "directed broadcast with flag", targets: []string{"10.0.0.255"}, o: ScopeOptions{AllowBroadcast: true}, n: 1},
		{name: "range over a /24 edge, excluded", targets: []string{"10.0.0.250-10.0.1.5"}, o: ScopeOptions{Exclude: []string{"10.0.0.255,10.0.1.0"}}, n: 10},

		{name: "larger than /16", targets: []string{"10.0.0.0/15"}, err: "--allow-large-scope"},
		{name: "sum larger than /16", targets: []string{"10.0.0.0/16", "10.1.0.0/17"}, err: "--allow-large-scope"},
		{name: "ipv6 /111", targets: []string{"fd00::/111"}, err: "--allow-large-scope"},
		{name: "ipv6 /64 even with flag", targets: []string{"fd00::/64"}, o: ScopeOptions{AllowLarge: true}, err: "even with --allow-large-scope"},
		{name: "public", targets: []string{"8.8.8.8"}, err: "--allow-public"},
		{name: "range leaving private", targets: []string{"192.168.255.250-192.169.0.5"}, err: "--allow-public"},
		{name: "public ipv6", targets: []string{"2001:db8::1"}, err: "--allow-public"},
		{name: "broadcast", targets: []string{"255.255.255.255"}, err: "--allow-broadcast"},
		// directed broadcasts (issue 13, item 15)
		{name: "a .255", targets: []string{"10.0.0.255"}, err: "10.0.0.255 is the .255 of its /24"},
		{name: "a .0", targets: []string{"192.168.3.0"}, err: "192.168.3.0 is the .0 of its /24"},
		{name: "a range over a /24 edge", targets: []string{"10.0.0.250-10.0.1.5"}, err: "10.0.0.255 is the .255"},
		{name: "a /32 is an address", targets: []string{"10.0.0.255/32"}, err: "--allow-broadcast"},
		{name: "broadcast of a CIDR in scope", targets: []string{"10.0.0.0/25", "10.0.0.127"}, err: "10.0.0.127 is the broadcast address of 10.0.0.0/25"},
		{name: "network of a CIDR in scope", targets: []string{"10.0.0.0/16", "10.0.4.0/24"}, err: "10.0.4.0 is the network address of 10.0.4.0/24"},
		{name: "broadcast of the local subnet", targets: []string{"10.0.0.63"}, o: ScopeOptions{Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/26")}}, err: "10.0.0.63 is the broadcast address of 10.0.0.0/26"},
		{name: "local subnet inside a wider CIDR", targets: []string{"10.0.0.0/16"}, o: ScopeOptions{Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.9.0/24")}}, err: "10.0.9.0 is the network address"},
		{name: "multicast", targets: []string{"239.1.1.1"}, o: ScopeOptions{AllowPublic: true, AllowBroadcast: true, AllowLarge: true}, err: "multicast"},
		{name: "multicast in a range", targets: []string{"223.255.255.250-224.0.0.3"}, o: ScopeOptions{AllowPublic: true}, err: "multicast"},
		{name: "ipv6 multicast", targets: []string{"ff02::1"}, o: ScopeOptions{AllowPublic: true}, err: "multicast"},
		{name: "unspecified", targets: []string{"0.0.0.0"}, o: ScopeOptions{AllowPublic: true}, err: "unspecified"},
		{name: "reserved", targets: []string{"240.0.0.1"}, o: ScopeOptions{AllowPublic: true}, err: "reserved"},
		{name: "empty", targets: nil, err: "empty scope"},
		{name: "blank", targets: []string{" , "}, err: "empty scope"},
		{name: "all excluded", targets: []string{"10.0.0.1"}, o: ScopeOptions{Exclude: []string{"10.0.0.0/24"}}, err: "empty scope"},
		{name: "garbage", targets: []string{"plc1"}, err: "bad address"},
		{name: "bad cidr", targets: []string{"10.0.0.0/33"}, err: "bad CIDR"},
		{name: "reversed range", targets: []string{"10.0.0.9-3"}, err: "end before start"},
		{name: "octet", targets: []string{"10.0.0.1-256"}, err: "last octet"},
		{name: "mixed families", targets: []string{"10.0.0.1-fd00::1"}, err: "mixes"},
		{name: "bad exclude", targets: []string{"10.0.0.1"}, o: ScopeOptions{Exclude: []string{"x"}}, err: "exclude"},
		{name: "zone", targets: []string{"fe80::1%eth0"}, err: "zones"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseScope(tc.targets, tc.o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("multi-line error %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			addrs := s.Addrs()
			if s.Len() != tc.n || len(addrs) != tc.n {
				t.Fatalf("Len %d, %d addrs, want %d", s.Len(), len(addrs), tc.n)
			}
			if tc.first != "" && addrs[0].String() != tc.first {
				t.Fatalf("first %s, want %s", addrs[0], tc.first)
			}
			if tc.last != "" && addrs[len(addrs)-1].String() != tc.last {
				t.Fatalf("last %s, want %s", addrs[len(addrs)-1], tc.last)
			}
			for i, a := range addrs {
				if !s.Contains(a) || (i > 0 && !addrs[i-1].Less(a)) {
					t.Fatalf("address %s: contained %v, order broken", a, s.Contains(a))
				}
			}
		})
	}
}

func TestScopeContains(t *testing.T) {
	s, err := ParseScope([]string{"10.0.0.0/24", "fd00::5"}, ScopeOptions{Exclude: []string{"10.0.0.7"}})
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{
		"10.0.0.1": true, "10.0.0.7": false, "10.0.0.0": false, "10.0.0.255": false, "10.0.1.1": false,
		"fd00::5": true, "fd00::6": false, "::ffff:10.0.0.2": true,
	} {
		if got := s.Contains(netip.MustParseAddr(a)); got != want {
			t.Errorf("Contains(%s) = %v", a, got)
		}
	}
	if got := s.String(); got != "10.0.0.0/24,fd00::5 except 10.0.0.7 (254 addresses)" {
		t.Fatalf("String %q", got)
	}
	var nilScope *Scope
	if nilScope.Contains(netip.MustParseAddr("10.0.0.1")) {
		t.Fatal("a nil scope contains an address")
	}
}

// FuzzParseScope: any input either fails with one line, or gives a scope
// whose every address is contained, private, unicast and within the cap.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"10.0.0.5", "10.0.0.5-20", "192.168.1.0/24", "fd00::/120", "8.8.8.8", "255.255.255.255",
		"10.0.0.0/8", "1.2.3.4-1.2.3.1", "::ffff:10.1.2.3/120", "172.16.0.0/12,10.0.0.1", "224.0.0.1", "0.0.0.0/0"} {
		f.Add(s, "10.0.0.7")
	}
	f.Fuzz(func(t *testing.T, target, exclude string) {
		s, err := ParseScope([]string{target}, ScopeOptions{Exclude: []string{exclude}})
		if err != nil {
			if err.Error() == "" || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		addrs := s.Addrs()
		if len(addrs) == 0 || len(addrs) > MaxScope || s.Len() != len(addrs) {
			t.Fatalf("%q: %d addresses, Len %d", target, len(addrs), s.Len())
		}
		for _, a := range []netip.Addr{addrs[0], addrs[len(addrs)-1]} {
			if !s.Contains(a) || a.IsMulticast() || a.IsUnspecified() || a == limitedBroadcast {
				t.Fatalf("%q gives %s", target, a)
			}
			if !(addrRange{a, a}).private() {
				t.Fatalf("%q gives public %s without --allow-public", target, a)
			}
			if b := a.As16(); a.Is4() && (b[15] == 0 || b[15] == 255) && !strings.Contains(target, "/") {
				t.Fatalf("%q gives %s, a directed broadcast, without --allow-broadcast", target, a)
			}
		}
	})
}
