package model

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestMAC(t *testing.T) {
	for _, s := range []string{"00:1b:1b:aa:bb:cc", "00-1B-1B-AA-BB-CC", "001b1baabbcc", "001b.1baa.bbcc"} {
		m, err := ParseMAC(s)
		if err != nil || m.String() != "00:1b:1b:aa:bb:cc" {
			t.Errorf("ParseMAC(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseMAC("00:1b:1b"); !errors.Is(err, ErrBadMAC) {
		t.Errorf("short MAC: %v", err)
	}
	m := MAC{0x00, 0x1b, 0x1b, 1, 2, 3}
	if m.OUI() != 0x001b1b || !m.IsUnicast() || m.IsLocal() {
		t.Errorf("OUI/unicast/local wrong for %s", m)
	}
	if !(MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).IsBroadcast() || !(MAC{0x01, 0x80, 0xc2, 0, 0, 0x0e}).IsMulticast() || (MAC{}).IsUnicast() {
		t.Error("broadcast/multicast/zero classification")
	}
	b, _ := json.Marshal(m)
	var back MAC
	if err := json.Unmarshal(b, &back); err != nil || back != m {
		t.Errorf("JSON round trip: %s %v %v", b, back, err)
	}
}

func TestConflictsAndMatches(t *testing.T) {
	a := Asset{
		ID: "mac:00:1b:1b:01:02:03", IPs: []netip.Addr{netip.MustParseAddr("10.10.1.10")}, Vendor: "Siemens",
		Names: []string{"PLC-A1"},
		Facts: []Fact{
			{Field: FieldHostname, Value: "PLC-A1"}, {Field: FieldHostname, Value: "plc-a1-old"},
			{Field: FieldRole, Value: RoleSwitch}, {Field: FieldRole, Value: RoleRouter},
			{Field: FieldNetBIOSName, Value: "PLC<00>"}, {Field: FieldNetBIOSName, Value: "PLC<20>"},
		},
	}
	if c := a.Conflicts(); len(c) != 0 {
		t.Errorf("Conflicts = %v, want none (names, roles and NetBIOS names are multi-valued)", c)
	}
	a.Facts = append(a.Facts, Fact{Field: FieldFirmware, Value: "V3.2.7", Source: Source{Kind: Passive}},
		Fact{Field: FieldFirmware, Value: "v3.2.7", Source: Source{Kind: Passive}},
		Fact{Field: FieldVendor, Value: "Siemens AG", Source: Source{Kind: Derived}},
		Fact{Field: FieldVendor, Value: "Siemens", Source: Source{Kind: Passive}})
	if c := a.Conflicts(); len(c) != 0 {
		t.Errorf("Conflicts = %v: case and derived values are not conflicts", c)
	}
	a.Facts = append(a.Facts, Fact{Field: FieldFirmware, Value: "V3.2", Source: Source{Kind: Passive}},
		Fact{Field: FieldProduct, Value: "S7-300", Source: Source{Kind: Passive}},
		Fact{Field: FieldProduct, Value: "CPU 315-2 PN/DP", Source: Source{Kind: Passive}})
	if c := a.Conflicts(); len(c) != 0 {
		t.Errorf("Conflicts = %v: a coarser version and another product name are not conflicts", c)
	}
	a.Facts = append(a.Facts, Fact{Field: FieldFirmware, Value: "V3.2.6", Source: Source{Kind: Passive}})
	if c := a.Conflicts(); len(c) != 1 || c[0] != FieldFirmware {
		t.Errorf("Conflicts = %v, want firmware", c)
	}
	if got := a.FactValues(FieldHostname); len(got) != 2 {
		t.Errorf("FactValues = %v", got)
	}
	for q, want := range map[string]bool{"": true, "siemens": true, "SIEMENS plc": true, "10.10.1": true, "rockwell": false, "old": true} {
		if a.Matches(q) != want {
			t.Errorf("Matches(%q) = %v", q, !want)
		}
	}
	if a.Label() != "PLC-A1" {
		t.Errorf("Label = %q", a.Label())
	}
}

func TestConversationKeyUsesAddresses(t *testing.T) {
	c := Conversation{Client: "mac:x", Server: "mac:y", ClientIP: netip.MustParseAddr("10.0.0.1"), ServerIP: netip.MustParseAddr("10.0.0.2"),
		Transport: "tcp", Port: 502, Protocol: "modbus"}
	k := c.Key()
	c.Client = "ip:10.0.0.1"
	if c.Key() != k {
		t.Error("key changed when the client moved to another asset")
	}
	if k != "10.0.0.1>10.0.0.2|tcp/502" {
		t.Errorf("key = %q", k)
	}
	l2 := Conversation{ClientMAC: MAC{0, 1, 2, 3, 4, 5}, ServerMAC: MAC{0, 1, 2, 3, 4, 6}, Transport: "l2", Protocol: "goose"}
	if l2.Key() != "00:01:02:03:04:05>00:01:02:03:04:06|l2/0" {
		t.Errorf("l2 key = %q", l2.Key())
	}
}

func TestSourceKindText(t *testing.T) {
	for _, k := range []SourceKind{Passive, Active, Manual, Derived} {
		b, _ := k.MarshalText()
		var back SourceKind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%v round trip = %v", k, back)
		}
	}
}

func TestObservationPool(t *testing.T) {
	s := append(NewObservations(), Observation{Kind: ObsHost, Fact: Fact{Value: "x"}})
	RecycleObservations(s)
	r := NewObservations()
	if len(r) != 0 {
		t.Fatalf("recycled slice not empty: %d", len(r))
	}
	if cap(r) > 0 && r[:1][0].Fact.Value != "" {
		t.Error("recycled slice still references old values")
	}
}

// parseMACReference is ParseMAC's definition written plainly: drop every
// separator, then exactly 12 hex digits.
func parseMACReference(s string) (MAC, bool) {
	clean := strings.NewReplacer(":", "", "-", "", ".", "").Replace(s)
	var m MAC
	if len(clean) != 12 {
		return m, false
	}
	if _, err := hex.Decode(m[:], []byte(clean)); err != nil {
		return m, false
	}
	return m, true
}

func TestParseMACRefuses(t *testing.T) {
	for _, s := range []string{"", "00:1b:1b:aa:bb:cc:dd", "00:1b:1b:aa:bb:cg", "00:1b:1b:aa:bb:c", "00 1b 1b aa bb cc", "０0:1b:1b:aa:bb:cc"} {
		if m, err := ParseMAC(s); !errors.Is(err, ErrBadMAC) {
			t.Errorf("ParseMAC(%q) = %v, %v; want ErrBadMAC", s, m, err)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseMAC("00:1b:1b:aa:bb:cc") }); n != 0 {
		t.Errorf("ParseMAC allocates %v times", n)
	}
}

func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"00:1b:1b:aa:bb:cc", "00-1B-1B-AA-BB-CC", "001b.1baa.bbcc", "::::", "0:1:2:3:4:5:6:7:8:9:a:b", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMAC(s)
		want, ok := parseMACReference(s)
		if (err == nil) != ok || ok && m != want {
			t.Fatalf("ParseMAC(%q) = %v, %v; reference %v, %v", s, m, err, want, ok)
		}
	})
}

// TestServiceCompare orders services by transport, then port, then address.
func TestServiceCompare(t *testing.T) {
	a1, a2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	ordered := []Service{
		{Transport: "tcp", Port: 80, IP: a2},
		{Transport: "tcp", Port: 102, IP: a1},
		{Transport: "tcp", Port: 102, IP: a2},
		{Transport: "udp", Port: 53, IP: a1},
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := ordered[i].Compare(ordered[j]); got < 0 && want >= 0 || got > 0 && want <= 0 || got == 0 && want != 0 {
				t.Errorf("%v.Compare(%v) = %d, want sign %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}
