package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/assets"
	"otscope/model"
	"otscope/scan/capture"
	"otscope/scan/decode"
)

// Precision next to recall (issue 14, item 21). TestReadRealCaptures
// checks that every endpoint tshark sees is an asset; this checks the other
// way: every asset is a device that sent a frame or received a unicast one
// (an address known only from a payload — a DHCP client's previous lease,
// a DNS answer — or a subnet broadcast is not a device), and a gateway is a
// MAC that sent from several source addresses, as a router does.

// headerAddrs are the addresses a capture's frame headers carry.
type headerAddrs struct {
	ips  map[netip.Addr]bool
	macs map[model.MAC]bool
	// srcIPs are the IPv4 source addresses each MAC sent from
	srcIPs map[model.MAC]map[netip.Addr]bool
}

// readHeaders collects senders (source MAC, source IP, ARP sender) and
// unicast receivers (destination MAC and IP of a frame to a unicast MAC).
// ok is false for a capture whose link type has no IP headers to read.
func readHeaders(t *testing.T, path string) (headerAddrs, bool) {
	h := headerAddrs{ips: map[netip.Addr]bool{}, macs: map[model.MAC]bool{}, srcIPs: map[model.MAC]map[netip.Addr]bool{}}
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		t.Logf("%s: %v", path, err)
		return h, false
	}
	defer src.Close()
	for {
		data, _, err := src.ZeroCopyReadPacketData()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("%s: %v", path, err)
			}
			break
		}
		var smac, dmac model.MAC
		var p []byte
		var et uint16
		switch src.LinkType() {
		case layers.LinkTypeEthernet:
			if len(data) < 14 {
				continue
			}
			dmac, smac = model.MACFrom(data[0:6]), model.MACFrom(data[6:12])
			off := 12
			et = binary.BigEndian.Uint16(data[off:])
			for (et == 0x8100 || et == 0x88a8) && len(data) >= off+6 {
				off += 4
				et = binary.BigEndian.Uint16(data[off:])
			}
			p = data[off+2:]
		case layers.LinkTypeLinuxSLL:
			if len(data) < 16 {
				continue
			}
			if binary.BigEndian.Uint16(data[4:]) == 6 {
				smac = model.MACFrom(data[6:12])
			}
			et, p = binary.BigEndian.Uint16(data[14:]), data[16:]
		case layers.LinkTypeRaw, 12, 14, 228, 229:
			if len(data) > 0 && data[0]>>4 == 4 {
				et = 0x0800
			} else {
				et = 0x86dd
			}
			p = data
		default:
			return h, false
		}
		unicast := dmac.IsUnicast()
		if smac.IsUnicast() {
			h.macs[smac] = true
		}
		if unicast {
			h.macs[dmac] = true
		}
		var sip, dip netip.Addr
		switch {
		case et == 0x0800 && len(p) >= 20:
			sip, dip = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
		case et == 0x86dd && len(p) >= 40:
			sip, dip = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))
		case et == 0x0806 && len(p) >= 28:
			sip = netip.AddrFrom4([4]byte(p[14:18]))
		default:
			continue
		}
		h.ips[sip] = true
		if unicast || src.LinkType() != layers.LinkTypeEthernet && !dip.IsMulticast() {
			h.ips[dip] = true
		}
		if sip.Is4() && et == 0x0800 && smac.IsUnicast() && !sip.IsUnspecified() {
			if h.srcIPs[smac] == nil {
				h.srcIPs[smac] = map[netip.Addr]bool{}
			}
			h.srcIPs[smac][sip] = true
		}
	}
	return h, true
}

// minGatewaySources is how many source addresses a MAC must send from to
// be a gateway: a router forwards for several; a host with a second
// address, or readdressed during the capture, sends from one or two.
const minGatewaySources = 3

func TestAssetPrecision(t *testing.T) {
	truths := loadTruths(t)
	dir := t.TempDir()
	var assets, devices, gateways, realGateways int
	var notDevices, falseGateways []string
	for i, truth := range truths {
		capPath := filepath.Join(sharedPcaps, truth.File)
		hdr, ok := readHeaders(t, capPath)
		if !ok {
			continue
		}
		session := fmt.Sprintf("p%03d", i)
		if code, _, errs := otscope(t, append([]string{"read", capPath, "--session", session, "-q"}, dbArgs(dir)...)...); code != 0 {
			t.Errorf("%s: exit %d: %s", truth.File, code, errs)
			continue
		}
		for _, a := range exportAssets(t, dir, session) {
			if strings.HasPrefix(string(a.ID), "sub:") {
				continue // a device behind a protocol router: its address is in the payload by design
			}
			assets++
			seen := false
			for _, m := range a.MACs {
				seen = seen || hdr.macs[m]
			}
			for _, ip := range a.IPs {
				seen = seen || hdr.ips[ip]
			}
			if seen {
				devices++
			} else {
				notDevices = append(notDevices, fmt.Sprintf("%s %s (ips %v) %s", truth.File, a.ID, a.IPs, strings.Join(a.Names, ",")))
			}
			if !a.Gateway {
				continue
			}
			gateways++
			n := 0
			for _, m := range a.MACs {
				n += len(hdr.srcIPs[m])
			}
			if n >= minGatewaySources {
				realGateways++
			} else {
				falseGateways = append(falseGateways, fmt.Sprintf("%s %s: sent from %d source address(es)", truth.File, a.ID, n))
			}
		}
	}
	sort.Strings(notDevices)
	t.Logf("assets that are devices (sent a frame or received a unicast one): %d/%d (%.1f%%)", devices, assets, pct(devices, assets))
	t.Logf("gateway roles on a MAC that sent from %d+ source addresses: %d/%d (%.1f%%)", minGatewaySources, realGateways, gateways, pct(realGateways, gateways))
	for _, s := range notDevices {
		t.Errorf("not a device: %s", s)
	}
	for _, s := range falseGateways {
		t.Errorf("not a gateway: %s", s)
	}
}

// A laptop's DHCP Discover asks for its previous lease (option 50), on
// another subnet; it then gets a new address and talks from it. One device:
// one asset, not a gateway, and no asset for the old lease (issue 14, item
// 21). A host readdressed once during the capture is no gateway either.
func TestPayloadAddressesAreNotAssets(t *testing.T) {
	laptop := net.HardwareAddr{0x3c, 0x52, 0x82, 1, 2, 3}
	server := net.HardwareAddr{0x00, 0x1b, 0x21, 9, 9, 9}
	frame := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		for _, l := range ls {
			if n, ok := l.(gopacket.NetworkLayer); ok {
				if u, ok := ls[len(ls)-2].(*layers.UDP); ok {
					_ = u.SetNetworkLayerForChecksum(n)
				}
			}
		}
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	discover := &layers.DHCPv4{Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6,
		ClientHWAddr: laptop, Options: layers.DHCPOptions{
			layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeDiscover)}),
			layers.NewDHCPOption(layers.DHCPOptRequestIP, net.IP{192, 168, 77, 23}),
			layers.NewDHCPOption(layers.DHCPOptHostname, []byte("ENG-LAPTOP")),
		}}
	udp := func(sip, dip net.IP, sp, dp uint16, src, dst net.HardwareAddr, payload gopacket.SerializableLayer) []byte {
		return frame(&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4},
			&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: sip, DstIP: dip},
			&layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}, payload)
	}
	bc := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	frames := [][]byte{
		udp(net.IPv4zero, net.IPv4bcast, 68, 67, laptop, bc, discover),
		// the new lease, then a readdressing: two source addresses
		udp(net.IP{10, 10, 1, 57}, net.IP{10, 10, 1, 1}, 50000, 53, laptop, server, gopacket.Payload([]byte("q"))),
		udp(net.IP{10, 10, 1, 58}, net.IP{10, 10, 1, 1}, 50001, 53, laptop, server, gopacket.Payload([]byte("q"))),
	}
	d := decode.New(decode.Options{Origin: "t"})
	for i, f := range frames {
		d.Decode(f, gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(f), Length: len(f)}, layers.LinkTypeEthernet, 0)
	}
	inv := assets.NewInventory(nil)
	inv.Apply(d.Flush())
	for _, a := range inv.Assets() {
		for _, ip := range a.IPs {
			if ip == netip.MustParseAddr("192.168.77.23") {
				t.Errorf("the requested address (option 50) is an address of %s: %v", a.ID, a.IPs)
			}
		}
		if a.Gateway {
			t.Errorf("%s is a gateway from two source addresses: %v", a.ID, a.IPs)
		}
		if len(a.MACs) == 0 && a.Fact(model.FieldHostname) == "ENG-LAPTOP" {
			t.Errorf("the laptop appears twice: %s %v", a.ID, a.IPs)
		}
	}
	a, ok := inv.Asset(model.MACAssetID(model.MACFrom(laptop)))
	if !ok || a.Fact(model.FieldHostname) != "ENG-LAPTOP" || a.Fact("dhcp.requested_address") != "192.168.77.23" {
		t.Errorf("laptop asset %+v", a)
	}
}

// A subnet's broadcast address receives (a BACnet Who-Is, a NetBIOS name
// query, a routed directed broadcast) but is no device: it must never
// become an asset, whether the frame is a link-layer broadcast or was sent
// to the router's MAC (issue 14, item 21).
func TestSubnetBroadcastIsNotAnAsset(t *testing.T) {
	host := net.HardwareAddr{0x00, 0x0e, 0x8c, 1, 2, 3}
	router := net.HardwareAddr{0x00, 0x1b, 0x21, 9, 9, 9}
	bc := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	udp := func(dip net.IP, dst net.HardwareAddr, sp, dp uint16, payload []byte) []byte {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 10, 1, 20}, DstIP: dip}
		u := &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
		_ = u.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{SrcMAC: host, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}, ip, u, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	whoIs := []byte{0x81, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08}
	nbns := []byte{0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0, 0x20,
		'E', 'B', 'E', 'F', 'E', 'C', 'E', 'F', 'E', 'B', 'E', 'F', 'E', 'C', 'C', 'A', 'C', 'A', 'C', 'A',
		'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'A', 'A', 0, 0, 0x20, 0, 1}
	frames := [][]byte{
		udp(net.IP{10, 10, 1, 255}, bc, 47808, 47808, whoIs),
		udp(net.IP{10, 10, 1, 255}, bc, 137, 137, nbns),
		// a directed broadcast to another subnet goes to the router's MAC
		udp(net.IP{10, 10, 2, 255}, router, 47808, 47808, whoIs),
		udp(net.IP{10, 10, 2, 255}, router, 47808, 47808, whoIs),
	}
	d := decode.New(decode.Options{Origin: "t"})
	for i, f := range frames {
		d.Decode(f, gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(f), Length: len(f)}, layers.LinkTypeEthernet, 0)
	}
	inv := assets.NewInventory(nil)
	inv.Apply(d.Flush())
	var ids []string
	for _, a := range inv.Assets() {
		ids = append(ids, fmt.Sprintf("%s %v", a.ID, a.IPs))
		for _, ip := range a.IPs {
			if b := ip.As4(); b[3] == 255 {
				t.Errorf("the broadcast address %s is an asset: %s", ip, a.ID)
			}
		}
	}
	if _, ok := inv.Asset(model.MACAssetID(model.MACFrom(host))); !ok {
		t.Errorf("the sender is no asset; assets: %v", ids)
	}
}
