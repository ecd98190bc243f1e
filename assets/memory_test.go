package assets

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"otscope/model"
)

// TestAssetMemory measures the inventory's cost per asset for a typical
// plant device: a MAC and an IP, a vendor, a hostname, DHCP facts, two
// services and its conversations' protocols. It must stay under 2 KB.
func TestAssetMemory(t *testing.T) {
	const n = 10000
	origin := "plant.pcap"
	mk := func(i int) []model.Observation {
		m := model.MAC{0x00, 0x1b, 0x1b, byte(i >> 16), byte(i >> 8), byte(i)}
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		ep := model.Endpoint{MAC: m, IP: ip, VLAN: 10}
		src := model.Source{Kind: model.Passive, Protocol: "dhcp", Origin: origin, Frame: uint64(i), Time: t0, IP: ip}
		obs := []model.Observation{{Kind: model.ObsHost, Subject: ep, Packets: 10, Bytes: 900, First: t0, Last: t0}}
		for _, f := range [][2]string{
			{model.FieldHostname, fmt.Sprintf("PLC-%05d", i)},
			{model.FieldDHCPVendorClass, "MSFT 5.0"},
			{model.FieldDHCPParamList, "1,3,6,15,31,33,43,44,46,47,119,121,249,252"},
		} {
			obs = append(obs, model.Observation{Kind: model.ObsFact, Subject: ep, First: t0, Last: t0,
				Fact: model.Fact{Field: f[0], Value: f[1], Source: src, LastSeen: t0, Count: 1}})
		}
		for _, p := range []uint16{102, 502} {
			obs = append(obs, model.Observation{Kind: model.ObsService, Subject: ep, First: t0, Last: t0,
				Service: model.Service{Transport: "tcp", Port: p, Protocol: "modbus", IP: ip, FirstSeen: t0, LastSeen: t0}})
		}
		return obs
	}
	inv := NewInventory(func(model.MAC) string { return "Siemens" })
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		inv.Apply(model.Batch{Obs: mk(i)})
	}
	inv.Changes(ForStore)
	inv.Changes(ForUI)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("inventory: %.0f bytes per asset (%d assets, %d facts each)", per, n, len(inv.assets[model.MACAssetID(model.MAC{0, 0x1b, 0x1b, 0, 0, 1})].Facts))
	if per > 2048 {
		t.Errorf("%.0f bytes per asset, want <= 2048", per)
	}
	runtime.KeepAlive(inv)
}
