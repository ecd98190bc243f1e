package decode

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
)

var cdpSNAP = []byte{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00}

func isCDP(llc []byte) bool { return bytes.HasPrefix(llc, cdpSNAP) }

func isSTP(llc []byte) bool { return len(llc) >= 3 && llc[0] == 0x42 && llc[1] == 0x42 }

// onARP: the sender of an ARP request or reply claims its protocol address.
func (d *Decoder) onARP(fi *frameInfo) {
	a := &d.arp
	if a.AddrType != layers.LinkTypeEthernet || a.Protocol != layers.EthernetTypeIPv4 ||
		len(a.SourceHwAddress) != 6 || len(a.SourceProtAddress) != 4 {
		return
	}
	mac := model.MACFrom(a.SourceHwAddress)
	ip := netip.AddrFrom4([4]byte(a.SourceProtAddress))
	if mac != fi.src && fi.hasMAC {
		// proxy or spoofed ARP: the frame's sender answers for another MAC.
		// Record the claim for the MAC the payload names; both are kept.
		d.claim(mac, ip, fi.vlan, "arp")
		return
	}
	d.claim(mac, ip, fi.vlan, "arp")
}

// slowLLDP decodes an LLDP frame with gopacket's LLDP layers. LLDP is sent
// every 30 s per port, so the allocations here are not on the packet path.
func (d *Decoder) slowLLDP(fi *frameInfo) {
	if !fi.hasMAC || !fi.src.IsUnicast() {
		return
	}
	d.guard(func() {
		pkt := gopacket.NewPacket(fi.payload, layers.LayerTypeLinkLayerDiscovery, gopacket.NoCopy)
		ll, ok := pkt.Layer(layers.LayerTypeLinkLayerDiscovery).(*layers.LinkLayerDiscovery)
		if !ok {
			d.stats.DecodeErrors++
			return
		}
		subj := model.Endpoint{MAC: fi.src, VLAN: fi.vlan}
		d.fact(subj, model.FieldLLDPChassisID, lldpID(byte(ll.ChassisID.Subtype), ll.ChassisID.ID), "lldp")
		d.fact(subj, model.FieldLLDPPortID, lldpID(byte(ll.PortID.Subtype), ll.PortID.ID), "lldp")
		info, ok := pkt.Layer(layers.LayerTypeLinkLayerDiscoveryInfo).(*layers.LinkLayerDiscoveryInfo)
		if !ok {
			if pkt.ErrorLayer() != nil {
				d.stats.DecodeErrors++
			}
			return
		}
		d.fact(subj, model.FieldLLDPPortDesc, cleanText([]byte(info.PortDescription)), "lldp")
		if name := cleanText([]byte(info.SysName)); name != "" {
			d.fact(subj, model.FieldLLDPSysName, name, "lldp")
			d.fact(subj, model.FieldHostname, name, "lldp")
		}
		d.fact(subj, model.FieldLLDPSysDesc, cleanLines([]byte(info.SysDescription)), "lldp")
		if c := lldpCaps(info.SysCapabilities.EnabledCap); c != "" {
			d.fact(subj, model.FieldLLDPCapabilities, c, "lldp")
			for _, role := range capsRoles(info.SysCapabilities.EnabledCap) {
				d.fact(subj, model.FieldRole, role, "lldp")
			}
		}
		if ip := mgmtAddr(info.MgmtAddress); ip.IsValid() {
			d.fact(subj, model.FieldLLDPMgmtAddress, ip.String(), "lldp")
		}
		for _, hook := range lldpHooks {
			hook(d, subj, info)
		}
	})
}

func lldpCaps(c layers.LLDPCapabilities) string {
	return joinFlags(
		flag{c.Other, "other"},
		flag{c.Repeater, "repeater"},
		flag{c.Bridge, "bridge"},
		flag{c.WLANAP, "wlan-ap"},
		flag{c.Router, "router"},
		flag{c.Phone, "phone"},
		flag{c.DocSis, "docsis"},
		flag{c.StationOnly, "station"},
		flag{c.CVLAN, "c-vlan"},
		flag{c.SVLAN, "s-vlan"},
		flag{c.TMPR, "tpmr"},
	)
}

// flag is one capability bit and its name.
type flag struct {
	on   bool
	name string
}

// joinFlags returns the names of the flags that are on, comma-separated.
func joinFlags(fs ...flag) string {
	var out []string
	for _, f := range fs {
		if f.on {
			out = append(out, f.name)
		}
	}
	return strings.Join(out, ",")
}

func capsRoles(c layers.LLDPCapabilities) []string {
	var r []string
	if c.Router {
		r = append(r, model.RoleRouter)
	}
	if c.Bridge {
		r = append(r, model.RoleSwitch)
	}
	return r
}

func mgmtAddr(m layers.LLDPMgmtAddress) netip.Addr {
	switch {
	case m.Subtype == layers.IANAAddressFamilyIPV4 && len(m.Address) == 4:
		return netip.AddrFrom4([4]byte(m.Address))
	case m.Subtype == layers.IANAAddressFamilyIPV6 && len(m.Address) == 16:
		return netip.AddrFrom16([16]byte(m.Address))
	}
	return netip.Addr{}
}

// lldpID renders a chassis or port ID by its subtype: MACs as MACs, network
// addresses as addresses, names as text.
func lldpID(subtype byte, id []byte) string {
	switch {
	case len(id) == 6 && (subtype == 4 || subtype == 3): // MAC address (chassis 4, port 3)
		return model.MACFrom(id).String()
	case len(id) == 5 && id[0] == 1 && subtype == 5: // network address, IPv4
		return netip.AddrFrom4([4]byte(id[1:5])).String()
	}
	s := cleanText(id)
	if s == "" && len(id) > 0 {
		return "0x" + strconv.FormatUint(uint64(len(id)), 16) + " bytes"
	}
	return s
}

// slowCDP decodes a CDP frame with gopacket's CDP layers.
func (d *Decoder) slowCDP(fi *frameInfo) {
	if !fi.hasMAC || !fi.src.IsUnicast() {
		return
	}
	d.guard(func() {
		pkt := gopacket.NewPacket(fi.payload[len(cdpSNAP):], layers.LayerTypeCiscoDiscovery, gopacket.NoCopy)
		l := pkt.Layer(layers.LayerTypeCiscoDiscoveryInfo)
		if l == nil {
			if pkt.ErrorLayer() != nil {
				d.stats.DecodeErrors++
			}
			return
		}
		info := l.(*layers.CiscoDiscoveryInfo)
		subj := model.Endpoint{MAC: fi.src, VLAN: fi.vlan}
		if id := cleanText([]byte(info.DeviceID)); id != "" {
			d.fact(subj, model.FieldCDPDeviceID, id, "cdp")
			d.fact(subj, model.FieldHostname, id, "cdp")
		}
		d.fact(subj, model.FieldCDPPlatform, cleanText([]byte(info.Platform)), "cdp")
		d.fact(subj, model.FieldCDPSoftware, cleanLines([]byte(info.Version)), "cdp")
		d.fact(subj, model.FieldCDPPortID, cleanText([]byte(info.PortID)), "cdp")
		d.fact(subj, "cdp.vtp_domain", cleanText([]byte(info.VTPDomain)), "cdp")
		if info.NativeVLAN != 0 {
			d.fact(subj, model.FieldCDPNativeVLAN, strconv.Itoa(int(info.NativeVLAN)), "cdp")
		}
		caps := cdpCaps(info.Capabilities)
		d.fact(subj, model.FieldCDPCapabilities, caps, "cdp")
		if info.Capabilities.L3Router {
			d.fact(subj, model.FieldRole, model.RoleRouter, "cdp")
		}
		if info.Capabilities.L2Switch || info.Capabilities.TBBridge || info.Capabilities.SPBridge {
			d.fact(subj, model.FieldRole, model.RoleSwitch, "cdp")
		}
		for _, lst := range [][]net.IP{info.Addresses, info.MgmtAddresses} {
			for _, ip := range lst {
				if a, ok := netip.AddrFromSlice(ip); ok {
					d.fact(subj, model.FieldCDPMgmtAddress, a.Unmap().String(), "cdp")
				}
			}
		}
	})
}

func cdpCaps(c layers.CDPCapabilities) string {
	return joinFlags(
		flag{c.L3Router, "router"},
		flag{c.TBBridge, "tb-bridge"},
		flag{c.SPBridge, "sr-bridge"},
		flag{c.L2Switch, "switch"},
		flag{c.IsHost, "host"},
		flag{c.IGMPFilter, "igmp"},
		flag{c.L1Repeater, "repeater"},
		flag{c.IsPhone, "phone"},
		flag{c.RemotelyManaged, "remotely-managed"},
	)
}
