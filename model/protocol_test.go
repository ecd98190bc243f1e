package model

import "testing"

func TestProtocolRegistry(t *testing.T) {
	seenClass := map[ProtocolClass]bool{}
	last := ClassIndustrial
	for _, p := range Protocols() {
		if p.Name == "" || p.Family == "" || p.Class == ClassUnknown {
			t.Fatalf("incomplete entry %+v", p)
		}
		if p.Class < last {
			t.Fatalf("%s (%s) after a %s protocol: industrial, then IT, then network", p.Name, p.Class, last)
		}
		last = p.Class
		seenClass[p.Class] = true
		if got, ok := LookupProtocol(p.Name); !ok || got != p {
			t.Fatalf("LookupProtocol(%q) = %+v, %v", p.Name, got, ok)
		}
	}
	if len(seenClass) != 3 {
		t.Fatalf("classes %v", seenClass)
	}
	for name, want := range map[string]ProtocolClass{
		"modbus": ClassIndustrial, "S7COMM": ClassIndustrial, "enip-io": ClassIndustrial, "http": ClassIT,
		"snmp": ClassIT, "arp": ClassNetwork, "tcp": ClassNetwork, "made-up": ClassUnknown,
	} {
		if got := ClassOf(name); got != want {
			t.Errorf("ClassOf(%q) = %s, want %s", name, got, want)
		}
		if IsIndustrial(name) != (want == ClassIndustrial) {
			t.Errorf("IsIndustrial(%q) disagrees with its class %s", name, want)
		}
	}
	for _, pair := range [][2]string{{"enip", "cip"}, {"iso-tsap", "s7comm"}, {"omron-fins", "fins"},
		{"hart-ip", "hart"}, {"c37.118", "c37118"}, {"pn-cm", "profinet"}, {"opcua-tls", "opc-ua"}} {
		a, b := pair[0], pair[1]
		if ProtocolFamily(a) != ProtocolFamily(b) {
			t.Errorf("%s (%s) and %s (%s) are not one family", a, ProtocolFamily(a), b, ProtocolFamily(b))
		}
	}
	if ProtocolFamily("Made-Up") != "made-up" {
		t.Errorf("an unknown name is not its own family: %q", ProtocolFamily("Made-Up"))
	}
	if ProtocolRank("s7comm-plus") >= ProtocolRank("modbus") || ProtocolRank("modbus") >= ProtocolRank("http") ||
		ProtocolRank("http") >= ProtocolRank("arp") || ProtocolRank("made-up") != len(Protocols()) {
		t.Error("rank does not follow the registry order")
	}
}
