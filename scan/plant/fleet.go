package plant

import (
	"fmt"
	"net/netip"
	"time"
)

// fleetCell is how many hosts one generated fleet cell holds: one Modbus/TCP
// master and the controllers it polls, on one /24.
const fleetCell = 200

// fleetZone is the zone index of fleet cell 0; it lies beyond the plant's
// zones, so hop treats each cell as its own segment.
const fleetZone = 1 << 16

// buildFleet adds Options.Fleet hosts to the plant for benchmarks at scale:
// cells of fleetCell hosts on 10.128.0.0/9 (one /24 each), each with a
// Modbus/TCP master ("fl-CCCC-m") polling every controller of its cell
// ("fl-CCCC-NNN"), and every host announcing itself by ARP. The poll interval
// grows with the fleet so the capture's packet rate stays near the demo
// plant's at the same Scale, and every host is polled within the first
// minute of plant time.
func (g *Generator) buildFleet() {
	total := g.opts.Fleet
	if total <= 0 {
		return
	}
	interval := time.Duration(max(1, total/fleetCell)) * 2 * time.Second
	g.fleet = make([]Device, 0, total)
	for k := 0; k < total; k++ {
		c, i := k/fleetCell, k%fleetCell
		d := Device{Role: RolePLC, Vendor: "WAGO", Model: "PFC200 750-8212", Software: "03.10.08(22)",
			MAC: mac(0x00, 0x30, 0xde, 0x80|byte(k>>16), byte(k>>8), byte(k)),
			IP:  netip.AddrFrom4([4]byte{10, 128 + byte(c>>8), byte(c), byte(i + 1)}), Zone: fmt.Sprintf("fleet-%04d", c)}
		if i == 0 {
			d.Name, d.Role, d.Vendor, d.Model, d.Software = fmt.Sprintf("fl-%04d-m", c), RoleHMI, "Schneider Electric",
				"Magelis HMIGTO5310", "Vijeo Designer 6.2"
			d.MAC = mac(0x00, 0x80, 0xf4, 0x80|byte(k>>16), byte(k>>8), byte(k))
		} else {
			d.Name = fmt.Sprintf("fl-%04d-%03d", c, i)
		}
		g.fleet = append(g.fleet, d)
	}
	for k := range g.fleet {
		d := &g.fleet[k]
		n := &node{dev: d, mac: d.MAC, ip: d.IP.As4(), zone: fleetZone + k/fleetCell}
		profile(n)
		g.byName[d.Name] = n
		g.add(&arpTask{n: n}, g.between(0, 2*sec))
	}
	for k := range g.fleet {
		if k%fleetCell == 0 {
			continue
		}
		master := g.fleet[k-k%fleetCell].Name
		g.poll(master, g.fleet[k].Name, 502, mbSlow, mbFast, &modbusApp{unit: 1, addr: 0, qty: 10}, interval)
	}
}
