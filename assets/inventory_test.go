package assets

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"otscope/model"
)

var (
	t0     = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	macPLC = model.MAC{0x00, 0x1b, 0x1b, 1, 2, 3}
	macGW  = model.MAC{0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}
	macHMI = model.MAC{0x00, 0x0e, 0x8c, 0xa, 0xb, 0xc}
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func host(m model.MAC, a string) model.Observation {
	o := model.Observation{Kind: model.ObsHost, Subject: model.Endpoint{MAC: m}, Packets: 1, Bytes: 60, First: t0, Last: t0}
	if a != "" {
		o.Subject.IP = ip(a)
	}
	return o
}

func fact(m model.MAC, a, field, value string, frame uint64) model.Observation {
	o := host(m, a)
	o.Kind = model.ObsFact
	o.Fact = model.Fact{Field: field, Value: value, Source: model.Source{Kind: model.Passive, Protocol: "dhcp", Origin: "x.pcap", Frame: frame, Time: t0}}
	if a != "" {
		o.Fact.Source.IP = ip(a)
	}
	return o
}

func apply(inv *Inventory, obs ...model.Observation) {
	inv.Apply(model.Batch{Obs: obs})
}

func vendor(m model.MAC) string {
	switch m.OUI() {
	case 0x001b1b:
		return "Siemens"
	}
	return ""
}

func TestMACIsIdentityAndIPsJoin(t *testing.T) {
	inv := NewInventory(vendor)
	apply(inv, host(macPLC, "10.10.1.10"), host(macPLC, ""), host(macHMI, "10.10.1.20"))
	if inv.Len() != 2 {
		t.Fatalf("assets = %d, want 2", inv.Len())
	}
	a, ok := inv.Asset(model.MACAssetID(macPLC))
	if !ok || !slices.Equal(a.IPs, []netip.Addr{ip("10.10.1.10")}) || a.Vendor != "Siemens" || a.Packets != 2 {
		t.Fatalf("plc = %+v", a)
	}
	if a.Fact(model.FieldVendor) != "Siemens" {
		t.Error("vendor is not a fact with provenance")
	}
}

func TestRoutedHostsDoNotCollapseIntoRouter(t *testing.T) {
	inv := NewInventory(nil)
	claim := host(macGW, "10.10.1.1")
	claim.Binding = model.BindClaimed
	f := fact(macGW, "192.168.5.7", model.FieldHostname, "OFFICE-PC7", 9)
	apply(inv, claim, host(macGW, "192.168.5.7"), f)
	// one routed address is indistinguishable from a second address of the router
	apply(inv, host(macGW, "192.168.5.8"), host(macGW, "192.168.5.9"))
	gw, _ := inv.Asset(model.MACAssetID(macGW))
	if !gw.Gateway || !slices.Equal(gw.IPs, []netip.Addr{ip("10.10.1.1")}) {
		t.Fatalf("gateway = %+v, want only its claimed address", gw)
	}
	if gw.Fact(model.FieldHostname) != "" {
		t.Error("a routed host's hostname stayed on the router")
	}
	for _, a := range []string{"192.168.5.7", "192.168.5.8", "192.168.5.9"} {
		h, ok := inv.Asset(model.IPAssetID(ip(a)))
		if !ok || len(h.MACs) != 0 {
			t.Fatalf("routed host %s = %+v, %v", a, h, ok)
		}
	}
	pc7, _ := inv.Asset(model.IPAssetID(ip("192.168.5.7")))
	if pc7.Fact(model.FieldHostname) != "OFFICE-PC7" || pc7.Facts[0].Source.Frame != 9 {
		t.Errorf("routed host lost its facts or their provenance: %+v", pc7.Facts)
	}
	// later traffic for a routed host goes to it, not to the router
	apply(inv, host(macGW, "192.168.5.7"))
	pc7b, _ := inv.Asset(model.IPAssetID(ip("192.168.5.7")))
	if pc7b.Packets <= pc7.Packets {
		t.Error("routed host did not receive later traffic")
	}
	u := inv.Changes(ForUI)
	if len(u.Assets) == 0 {
		t.Error("no changes reported")
	}
}

func TestConflictingFactsAreKept(t *testing.T) {
	inv := NewInventory(nil)
	apply(inv, fact(macPLC, "10.10.1.10", model.FieldFirmware, "V3.2.7", 1), fact(macPLC, "10.10.1.10", model.FieldFirmware, "V3.2.6", 7),
		fact(macPLC, "10.10.1.10", model.FieldFirmware, "V3.2.7", 9))
	a, _ := inv.Asset(model.MACAssetID(macPLC))
	vals := a.FactValues(model.FieldFirmware)
	if !slices.Equal(vals, []string{"V3.2.7", "V3.2.6"}) {
		t.Fatalf("firmware values = %v", vals)
	}
	if !slices.Contains(a.Conflicts(), model.FieldFirmware) {
		t.Error("conflict not reported")
	}
	if a.Firmware != "V3.2.7" {
		t.Errorf("asset firmware = %q, want the value seen most", a.Firmware)
	}
	for _, f := range a.Facts {
		if f.Value == "V3.2.7" && (f.Count != 2 || f.Source.Frame != 1) {
			t.Errorf("repeated fact = %+v, want count 2 and the first frame", f)
		}
	}
}

// The vendor a MAC's OUI names is a derivation; when the device itself says
// the same, the fact becomes the frame's whole, in the derivation's place:
// its source, explanation and count (the derivation counts no observation),
// and the asset's vendor is worked out again at once (the device's own
// statements rank first, the earliest of them first).
func TestFrameReplacesDerivedFact(t *testing.T) {
	inv := NewInventory(vendor)
	snmp := fact(macPLC, "10.10.1.10", model.FieldVendor, "SIEMENS AG", 3)
	snmp.Fact.Source.Protocol = "snmp"
	pn := fact(macPLC, "10.10.1.10", model.FieldVendor, "Siemens", 88)
	pn.Fact.Source.Protocol, pn.Fact.Detail = "pn-cm", "PROFINET vendor id 42"
	apply(inv, host(macPLC, "10.10.1.10"), snmp)
	if a, _ := inv.Asset(model.MACAssetID(macPLC)); a.Vendor != "SIEMENS AG" {
		t.Fatalf("asset vendor = %q before pn-cm speaks", a.Vendor)
	}
	apply(inv, pn, pn)
	a, _ := inv.Asset(model.MACAssetID(macPLC))
	if len(a.Facts) != 2 {
		t.Fatalf("facts = %+v", a.Facts)
	}
	f := a.Facts[0]
	if f.Value != "Siemens" || f.Source.Kind != model.Passive || f.Source.Frame != 88 || f.Detail != pn.Fact.Detail || f.Count != 2 {
		t.Errorf("vendor fact = %+v, want pn-cm's in the first place, count 2", f)
	}
	if a.Vendor != "Siemens" {
		t.Errorf("asset vendor = %q, want pn-cm's, which stands first", a.Vendor)
	}
}

func TestFactForUnknownAddressWaits(t *testing.T) {
	inv := NewInventory(nil)
	dns := model.Observation{Kind: model.ObsFact, Subject: model.Endpoint{IP: ip("10.10.1.10")},
		Fact: model.Fact{Field: model.FieldDNSName, Value: "plc1.plant", Source: model.Source{Kind: model.Passive, Protocol: "dns"}}}
	apply(inv, dns)
	if inv.Len() != 0 {
		t.Fatal("a DNS answer alone created an asset")
	}
	apply(inv, host(macPLC, "10.10.1.10"))
	a, _ := inv.Asset(model.MACAssetID(macPLC))
	if !slices.Contains(a.Names, "plc1.plant") {
		t.Errorf("pending DNS name not applied: %+v", a.Names)
	}
}

func TestConversationsFollowMovedAddresses(t *testing.T) {
	inv := NewInventory(nil)
	conv := model.Observation{Kind: model.ObsConversation, Subject: model.Endpoint{MAC: macGW, IP: ip("192.168.5.7")},
		Peer: model.Endpoint{MAC: macPLC, IP: ip("10.10.1.10")}, Transport: "tcp", Port: 102, Protocol: "iso-tsap", Packets: 4, Flows: 1, First: t0, Last: t0}
	apply(inv, host(macGW, "192.168.5.7"), host(macPLC, "10.10.1.10"), conv)
	c := inv.Conversations()[0]
	if c.Client != model.MACAssetID(macGW) {
		t.Fatalf("client = %s", c.Client)
	}
	apply(inv, host(macGW, "192.168.5.8"), host(macGW, "192.168.5.9"))
	c = inv.Conversations()[0]
	if c.Client != model.IPAssetID(ip("192.168.5.7")) || c.Server != model.MACAssetID(macPLC) {
		t.Errorf("after the gateway split conversation = %s -> %s", c.Client, c.Server)
	}
	apply(inv, conv)
	if cs := inv.Conversations(); len(cs) != 1 || cs[0].Packets != 8 || cs[0].Flows != 2 {
		t.Errorf("conversation did not accumulate: %+v", cs)
	}
}

func TestRestoreRebuildsIndexes(t *testing.T) {
	inv := NewInventory(nil)
	apply(inv, host(macPLC, "10.10.1.10"))
	inv2 := NewInventory(nil)
	inv2.Restore(inv.Assets(), inv.Conversations(), inv.Stats())
	apply(inv2, host(macPLC, "10.10.1.10"))
	if inv2.Len() != 1 {
		t.Fatalf("restored inventory has %d assets, want 1", inv2.Len())
	}
	if u := inv2.Changes(ForStore); len(u.Assets) != 1 {
		t.Errorf("changes after restore = %d assets, want 1", len(u.Assets))
	}
}
