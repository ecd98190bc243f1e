package ui

import (
	"net/netip"
	"time"

	"otscope/model"
)

// fixtureNow is the pinned clock of every test.
var fixtureNow = time.Date(2025, 3, 4, 10, 5, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return fixtureNow.Add(-d) }

func mac(s string) model.MAC {
	m, err := model.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func src(kind model.SourceKind, proto, origin string, frame uint64, t time.Time) model.Source {
	return model.Source{Kind: kind, Protocol: proto, Origin: origin, Frame: frame, Time: t}
}

func fact(field, value string, s model.Source, count uint64) model.Fact {
	return model.Fact{Field: field, Value: value, Source: s, LastSeen: s.Time, Count: count}
}

func svc(transport string, port uint16, proto, addr string, first, last time.Duration) model.Service {
	return model.Service{Transport: transport, Port: port, Protocol: proto, IP: ip(addr), FirstSeen: ago(first), LastSeen: ago(last)}
}

// Fixture asset IDs.
var (
	idPLC     = model.MACAssetID(mac("00:1b:1b:6a:10:01"))
	idPLC2    = model.MACAssetID(mac("00:1b:1b:6a:10:09"))
	idHMI     = model.MACAssetID(mac("00:1b:1b:6a:10:20"))
	idSwitch  = model.MACAssetID(mac("00:80:63:12:34:56"))
	idEWS     = model.MACAssetID(mac("f8:bc:12:4e:01:50"))
	idGateway = model.MACAssetID(mac("00:09:0f:aa:bb:01"))
	idHist    = model.IPAssetID(ip("10.10.5.20"))
	idCLX     = model.MACAssetID(mac("00:00:bc:3a:00:11"))
	idMeter   = model.MACAssetID(mac("00:80:f4:10:22:33"))
	idIO      = model.MACAssetID(mac("28:63:36:77:01:03"))
	idCamera  = model.MACAssetID(mac("00:40:8c:d1:e2:f3"))
)

// fixtureAssets is a small plant: an S7-300 (CPU 315-2 PN/DP with order
// number, serial, module and a firmware conflict between S7comm and SNMP,
// plus a conflicting hostname from a live interface), a second S7 PLC that
// told nothing about itself, an HMI that polls the controllers over
// S7comm, EtherNet/IP and Modbus, a Hirschmann switch known through LLDP,
// an engineering workstation that downloaded to a PLC (s7comm.function
// "0x1a request download", category program), a FortiGate gateway, a
// historian behind it, a ControlLogix with two modules in REMOTE RUN, a
// Modbus gateway answering for three unit ids, a PROFINET ET 200SP
// without an IP and a camera.
func fixtureAssets() []model.Asset {
	const pcap, eth = "plant.pcap", "iface:eth0"
	P, D := model.Passive, model.Derived
	why := func(f model.Fact, detail string) model.Fact { f.Detail = detail; return f }
	cpu := model.Module{Rack: 0, Slot: 2, Product: "CPU 315-2 PN/DP", OrderNumber: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.7", Serial: "S C-B1U393142011"}
	clxCPU := model.Module{Rack: 0, Slot: 0, Product: "1756-L83E/B", OrderNumber: "1756-L83E", Firmware: "33.11", Serial: "60A1B2C3"}
	clxEN := model.Module{Rack: 0, Slot: 2, Product: "1756-EN2T/D", OrderNumber: "1756-EN2T", Firmware: "11.002", Serial: "D1E2F301"}
	s7 := src(P, "s7comm", pcap, 1348, ago(4*time.Minute+10*time.Second))
	cip := src(P, "enip", pcap, 980, ago(4*time.Minute))
	dcp := src(P, "profinet-dcp", pcap, 1199, ago(4*time.Minute+12*time.Second))
	mb := src(P, "modbus", pcap, 2044, ago(3*time.Minute+40*time.Second))
	return []model.Asset{
		{
			ID: idPLC, MACs: []model.MAC{mac("00:1b:1b:6a:10:01")}, IPs: []netip.Addr{ip("10.20.1.10")}, VLANs: []uint16{20},
			Vendor: "Siemens AG", Names: []string{"PLC-LINE1"}, Roles: []string{"plc"},
			Protocols: []string{"lldp", "profinet-dcp", "s7comm", "snmp"},
			Services: []model.Service{
				svc("tcp", 102, "s7comm", "10.20.1.10", 4*time.Minute+50*time.Second, 3*time.Second),
				svc("udp", 161, "snmp", "10.20.1.10", 2*time.Minute, 1*time.Minute+30*time.Second),
			},
			FirstSeen: ago(4*time.Minute + 58*time.Second), LastSeen: ago(3 * time.Second), Packets: 48211, Bytes: 6_114_000,
			Product: cpu.Product, OrderNumber: cpu.OrderNumber, Firmware: "V3.2.7", HardwareVersion: "1", Serial: cpu.Serial,
			OperatingMode: "RUN", Modules: []model.Module{cpu},
			ProtocolIDs: &model.ProtocolIDs{ProfinetStationName: "plc-line1"},
			Facts: []model.Fact{
				fact("vendor", "Siemens AG", src(D, "oui", pcap, 1, ago(4*time.Minute+58*time.Second)), 1),
				fact("hostname", "PLC-LINE1", src(P, "profinet-dcp", pcap, 1201, ago(4*time.Minute+12*time.Second)), 14),
				fact("hostname", "plc-line1-old", src(P, "dhcp", eth, 88, ago(2*time.Minute+57*time.Second)), 1),
				fact("station_name", "plc-line1", src(P, "profinet-dcp", pcap, 1201, ago(4*time.Minute+12*time.Second)), 14),
				fact("product", "CPU 315-2 PN/DP", src(P, "s7comm", pcap, 1352, ago(4*time.Minute+10*time.Second)), 3),
				fact("order_number", "6ES7 315-2EH14-0AB0", s7, 3),
				fact("firmware", "V3.2.7", s7, 3),
				fact("firmware", "V3.2.6", src(P, "snmp", eth, 2210, ago(1*time.Minute+30*time.Second)), 1),
				fact("hardware_version", "1", s7, 3),
				fact("serial", "S C-B1U393142011", src(P, "s7comm", pcap, 1352, ago(4*time.Minute+10*time.Second)), 3),
				fact("operating_mode", "RUN", src(P, "s7comm", pcap, 1360, ago(4*time.Minute+9*time.Second)), 2),
				fact("module", model.FormatModule(cpu), src(P, "s7comm", pcap, 1352, ago(4*time.Minute+10*time.Second)), 3),
				why(fact("role", "plc", src(D, "rules", pcap, 0, ago(4*time.Minute+10*time.Second)), 1), "answers S7comm on tcp/102; CPU 315-2 PN/DP"),
			},
		},
		{
			ID: idPLC2, MACs: []model.MAC{mac("00:1b:1b:6a:10:09")}, IPs: []netip.Addr{ip("10.20.1.9")}, VLANs: []uint16{20},
			Vendor: "Siemens AG", Names: []string{"PLC-PACK2"}, Roles: []string{"plc"}, Protocols: []string{"s7comm"},
			Services:  []model.Service{svc("tcp", 102, "s7comm", "10.20.1.9", 4*time.Minute, 12*time.Second)},
			FirstSeen: ago(4 * time.Minute), LastSeen: ago(12 * time.Second), Packets: 9120, Bytes: 1_020_400,
			Facts: []model.Fact{fact("vendor", "Siemens AG", src(D, "oui", pcap, 40, ago(4*time.Minute)), 1)},
		},
		{
			ID: idHMI, MACs: []model.MAC{mac("00:1b:1b:6a:10:20")}, IPs: []netip.Addr{ip("10.20.1.20")}, VLANs: []uint16{20},
			Vendor: "Siemens AG", Names: []string{"HMI-LINE1"}, Roles: []string{"hmi"}, Protocols: []string{"enip", "http", "modbus", "s7comm"},
			Services:  []model.Service{svc("tcp", 80, "http", "10.20.1.20", 3*time.Minute, 40*time.Second)},
			FirstSeen: ago(4*time.Minute + 55*time.Second), LastSeen: ago(1 * time.Second), Packets: 40877, Bytes: 3_500_000,
			Facts: []model.Fact{
				fact("vendor", "Siemens AG", src(D, "oui", pcap, 2, ago(4*time.Minute+55*time.Second)), 1),
				fact("hostname", "HMI-LINE1", src(P, "nbns", pcap, 311, ago(4*time.Minute+30*time.Second)), 6),
				why(fact("s7comm.function", "0x04 read var", src(P, "s7comm", pcap, 1402, ago(3*time.Minute+52*time.Second)), 9120), "read"),
				why(fact("s7comm.function", "0x05 write var", src(P, "s7comm", pcap, 1490, ago(3*time.Minute+50*time.Second)), 14), "write"),
				why(fact("cip.function", "0x4c read tag", src(P, "enip", pcap, 1003, ago(3*time.Minute+58*time.Second)), 2600), "read"),
				why(fact("modbus.function", "3 read holding registers", src(P, "modbus", pcap, 2040, ago(3*time.Minute+40*time.Second)), 1500), "read"),
				why(fact("role", "hmi", src(D, "rules", pcap, 0, ago(4*time.Minute)), 1), "polls 3 controllers (s7comm, enip, modbus) and serves HTTP"),
			},
		},
		{
			ID: idSwitch, MACs: []model.MAC{mac("00:80:63:12:34:56")}, IPs: []netip.Addr{ip("10.20.0.2")}, VLANs: []uint16{1, 20},
			Vendor: "Hirschmann Automation and Control GmbH", Names: []string{"RS20-LINE1"}, Roles: []string{"network switch"},
			Protocols: []string{"lldp", "snmp"},
			Services:  []model.Service{svc("udp", 161, "snmp", "10.20.0.2", 2*time.Minute, 30*time.Second)},
			FirstSeen: ago(4*time.Minute + 59*time.Second), LastSeen: ago(25 * time.Second), Packets: 310, Bytes: 98_000,
			Facts: []model.Fact{
				fact("vendor", "Hirschmann Automation and Control GmbH", src(D, "oui", pcap, 5, ago(4*time.Minute+59*time.Second)), 1),
				fact("lldp.system_name", "RS20-LINE1", src(P, "lldp", pcap, 5, ago(4*time.Minute+59*time.Second)), 10),
				fact("lldp.system_description", "Hirschmann Railswitch RS20-0800T1T1SDAUHC HW: 1.10 SW: 09.0.06", src(P, "lldp", pcap, 5, ago(4*time.Minute+59*time.Second)), 10),
				fact("lldp.port_id", "1.3", src(P, "lldp", pcap, 5, ago(4*time.Minute+59*time.Second)), 10),
				fact("lldp.capabilities", "bridge", src(P, "lldp", pcap, 5, ago(4*time.Minute+59*time.Second)), 10),
				fact("lldp.management_address", "10.20.0.2", src(P, "lldp", pcap, 5, ago(4*time.Minute+59*time.Second)), 10),
				fact("role", "network switch", src(D, "rules", pcap, 0, ago(4*time.Minute+59*time.Second)), 1),
			},
		},
		{
			ID: idEWS, MACs: []model.MAC{mac("f8:bc:12:4e:01:50")}, IPs: []netip.Addr{ip("10.20.1.50")}, VLANs: []uint16{20},
			Vendor: "Dell Inc.", Names: []string{"ENG-WS01"}, Roles: []string{"engineering workstation", "it host"},
			Protocols: []string{"dhcp", "dns", "enip", "nbns", "s7comm", "smb"},
			Services:  []model.Service{svc("tcp", 445, "smb", "10.20.1.50", 4*time.Minute, 2*time.Minute)},
			FirstSeen: ago(4*time.Minute + 50*time.Second), LastSeen: ago(4 * time.Second), Packets: 22015, Bytes: 2_900_000,
			Facts: []model.Fact{
				fact("vendor", "Dell Inc.", src(D, "oui", pcap, 9, ago(4*time.Minute+50*time.Second)), 1),
				fact("hostname", "ENG-WS01", src(P, "dhcp", pcap, 1234, ago(2*time.Minute+57*time.Second)), 2),
				fact("os", "Windows 10 / 11", src(D, "dhcp-fingerprint", pcap, 1234, ago(2*time.Minute+57*time.Second)), 1),
				fact("dhcp.vendor_class", "MSFT 5.0", src(P, "dhcp", pcap, 1234, ago(2*time.Minute+57*time.Second)), 2),
				fact("netbios.name", "ENG-WS01", src(P, "nbns", eth, 412, ago(1*time.Minute)), 4),
				fact("domain", "plant.local", src(P, "dhcp", pcap, 1234, ago(2*time.Minute+57*time.Second)), 2),
				why(fact("s7comm.function", "0x04 read var", src(P, "s7comm", pcap, 1501, ago(3*time.Minute+20*time.Second)), 310), "read"),
				why(fact("s7comm.function", "0x1a request download", src(P, "s7comm", eth, 1877, ago(1*time.Minute+5*time.Second)), 1), "program"),
				why(fact("role", "engineering workstation", src(D, "rules", eth, 0, ago(1*time.Minute+5*time.Second)), 1), "S7comm 0x1a request download: sent a program to a PLC"),
				why(fact("role", "it host", src(D, "rules", pcap, 0, ago(2*time.Minute+57*time.Second)), 1), "Windows DHCP fingerprint; serves SMB"),
			},
		},
		{
			ID: idGateway, MACs: []model.MAC{mac("00:09:0f:aa:bb:01")}, IPs: []netip.Addr{ip("10.20.0.1")}, VLANs: []uint16{1, 20},
			Vendor: "Fortinet", Names: []string{"FW-CELL"}, Roles: []string{"gateway", "router"}, Protocols: []string{"arp", "dns"},
			Services:  []model.Service{svc("udp", 53, "dns", "10.20.0.1", 4*time.Minute, 4*time.Second)},
			FirstSeen: ago(5 * time.Minute), LastSeen: ago(2 * time.Second), Packets: 15230, Bytes: 4_200_000, Gateway: true,
			Facts: []model.Fact{fact("vendor", "Fortinet", src(D, "oui", pcap, 3, ago(5*time.Minute)), 1)},
		},
		{
			ID: idHist, IPs: []netip.Addr{ip("10.10.5.20")}, Names: []string{"HIST-SRV"}, Roles: []string{"historian"},
			Protocols: []string{"modbus", "opc-ua", "s7comm"},
			Services:  []model.Service{svc("tcp", 4840, "opc-ua", "10.10.5.20", 3*time.Minute, 9*time.Second)},
			FirstSeen: ago(4*time.Minute + 40*time.Second), LastSeen: ago(9 * time.Second), Packets: 7700, Bytes: 1_900_000,
			Facts: []model.Fact{
				fact("dns_name", "hist-srv.plant.local", src(P, "dns", pcap, 77, ago(4*time.Minute+40*time.Second)), 3),
				why(fact("s7comm.function", "0x04 read var", src(P, "s7comm", pcap, 1420, ago(3*time.Minute+56*time.Second)), 2600), "read"),
				why(fact("modbus.function", "3 read holding registers", src(P, "modbus", pcap, 2050, ago(3*time.Minute+39*time.Second)), 3000), "read"),
			},
		},
		{
			ID: idCLX, MACs: []model.MAC{mac("00:00:bc:3a:00:11")}, IPs: []netip.Addr{ip("10.20.2.10")}, VLANs: []uint16{30},
			Vendor: "Rockwell Automation", Names: []string{"CLX-PRESS"}, Roles: []string{"plc"}, Protocols: []string{"cip", "enip"},
			Services: []model.Service{
				svc("tcp", 44818, "enip", "10.20.2.10", 4*time.Minute, 6*time.Second),
				svc("udp", 2222, "cip-io", "10.20.2.10", 4*time.Minute, 1*time.Second),
			},
			FirstSeen: ago(4*time.Minute + 45*time.Second), LastSeen: ago(1 * time.Second), Packets: 60400, Bytes: 5_300_000,
			Product: "1756-L83E/B", Firmware: "33.11", Serial: "60A1B2C3", DeviceType: "Programmable Logic Controller",
			OperatingMode: "REMOTE RUN", Modules: []model.Module{clxCPU, clxEN},
			ProtocolIDs: &model.ProtocolIDs{CIPVendorID: "1", CIPProductCode: "166"},
			Facts: []model.Fact{
				fact("vendor", "Rockwell Automation", src(D, "oui", pcap, 14, ago(4*time.Minute+45*time.Second)), 1),
				fact("product", "1756-L83E/B", cip, 2),
				fact("firmware", "33.11", cip, 2),
				fact("serial", "60A1B2C3", cip, 2),
				fact("device_type", "Programmable Logic Controller", cip, 2),
				fact("cip.vendor_id", "1", cip, 2),
				fact("cip.product_code", "166", cip, 2),
				fact("operating_mode", "REMOTE PROGRAM", src(P, "enip", pcap, 410, ago(4*time.Minute+30*time.Second)), 1),
				fact("operating_mode", "REMOTE RUN", src(P, "enip", pcap, 990, ago(4*time.Minute)), 5),
				fact("module", model.FormatModule(clxCPU), src(P, "enip", pcap, 984, ago(4*time.Minute)), 1),
				fact("module", model.FormatModule(clxEN), src(P, "enip", pcap, 986, ago(4*time.Minute)), 1),
				why(fact("role", "plc", src(D, "rules", pcap, 0, ago(4*time.Minute)), 1), "CIP device type Programmable Logic Controller"),
			},
		},
		{
			ID: idMeter, MACs: []model.MAC{mac("00:80:f4:10:22:33")}, IPs: []netip.Addr{ip("10.20.2.30")}, VLANs: []uint16{30},
			Vendor: "Schneider Electric", Names: []string{"LINK150-FEED"}, Roles: []string{"protocol gateway"}, Protocols: []string{"modbus"},
			Services:  []model.Service{svc("tcp", 502, "modbus", "10.20.2.30", 4*time.Minute, 5*time.Second)},
			FirstSeen: ago(4*time.Minute + 20*time.Second), LastSeen: ago(5 * time.Second), Packets: 3100, Bytes: 250_000,
			Product: "Link150", Firmware: "V5.1.0", ProtocolIDs: &model.ProtocolIDs{ModbusUnitIDs: []string{"1", "2", "3"}},
			Facts: []model.Fact{
				fact("vendor", "Schneider Electric", src(D, "oui", pcap, 60, ago(4*time.Minute+20*time.Second)), 1),
				fact("product", "Link150", mb, 1),
				fact("firmware", "V5.1.0", mb, 1),
				fact("modbus.unit_id", "1", src(P, "modbus", pcap, 2040, ago(3*time.Minute+40*time.Second)), 1500),
				fact("modbus.unit_id", "2", src(P, "modbus", pcap, 2041, ago(3*time.Minute+40*time.Second)), 800),
				fact("modbus.unit_id", "3", src(P, "modbus", pcap, 2042, ago(3*time.Minute+40*time.Second)), 700),
				why(fact("role", "protocol gateway", src(D, "rules", pcap, 0, ago(3*time.Minute+40*time.Second)), 1), "answers Modbus/TCP for 3 unit ids"),
			},
		},
		{
			ID: idIO, MACs: []model.MAC{mac("28:63:36:77:01:03")}, VLANs: []uint16{20},
			Vendor: "Siemens AG", Names: []string{"et200sp-line1"}, Roles: []string{"io device"}, Protocols: []string{"profinet-dcp", "profinet-rt"},
			FirstSeen: ago(4*time.Minute + 57*time.Second), LastSeen: ago(0), Packets: 120500, Bytes: 8_400_000,
			Product: "ET200SP", DeviceType: "IO-Device",
			ProtocolIDs: &model.ProtocolIDs{ProfinetStationName: "et200sp-line1", ProfinetVendorID: "0x002a", ProfinetDeviceID: "0x0313"},
			Facts: []model.Fact{
				fact("vendor", "Siemens AG", src(D, "oui", pcap, 4, ago(4*time.Minute+57*time.Second)), 1),
				fact("station_name", "et200sp-line1", dcp, 14),
				fact("product", "ET200SP", dcp, 14),
				fact("device_type", "IO-Device", dcp, 14),
				fact("profinet.vendor_id", "0x002a", dcp, 14),
				fact("profinet.device_id", "0x0313", dcp, 14),
				why(fact("role", "io device", src(D, "rules", pcap, 0, ago(4*time.Minute+12*time.Second)), 1), "PROFINET DCP role IO-Device; cyclic RT data from PLC-LINE1"),
			},
		},
		{
			ID: idCamera, MACs: []model.MAC{mac("00:40:8c:d1:e2:f3")}, IPs: []netip.Addr{ip("10.20.1.100")}, VLANs: []uint16{20},
			Vendor: "Axis Communications", Names: []string{"CAM-DOCK"}, Roles: []string{"camera"}, Protocols: []string{"http", "rtsp"},
			Services:  []model.Service{svc("tcp", 554, "rtsp", "10.20.1.100", 4*time.Minute, 20*time.Second)},
			FirstSeen: ago(4 * time.Minute), LastSeen: ago(20 * time.Second), Packets: 90210, Bytes: 98_000_000,
			Facts: []model.Fact{fact("vendor", "Axis Communications", src(D, "oui", pcap, 88, ago(4*time.Minute)), 1)},
		},
	}
}

func conv(client, server model.AssetID, cip, sip, transport string, port uint16, proto string, pkts, bytes uint64, last time.Duration) model.Conversation {
	opt := func(s string) netip.Addr {
		if s == "" {
			return netip.Addr{}
		}
		return ip(s)
	}
	return model.Conversation{
		Client: client, Server: server, ClientIP: opt(cip), ServerIP: opt(sip), Transport: transport, Port: port,
		Protocol: proto, Packets: pkts, Bytes: bytes, Flows: 1 + pkts/5000, FirstSeen: ago(4 * time.Minute), LastSeen: ago(last),
	}
}

func fixtureConversations() []model.Conversation {
	s := time.Second
	return []model.Conversation{
		conv(idHMI, idPLC, "10.20.1.20", "10.20.1.10", "tcp", 102, "s7comm", 38200, 3_100_000, 1*s),
		conv(idEWS, idPLC, "10.20.1.50", "10.20.1.10", "tcp", 102, "s7comm", 4100, 612_000, 4*s),
		// ended before the download to PLC-LINE1: not credited with it
		conv(idEWS, idPLC2, "10.20.1.50", "10.20.1.9", "tcp", 102, "s7comm", 900, 101_000, 2*time.Minute),
		conv(idHist, idPLC, "10.10.5.20", "10.20.1.10", "tcp", 102, "s7comm", 2600, 410_000, 9*s),
		conv(idEWS, idHist, "10.20.1.50", "10.10.5.20", "tcp", 4840, "opc-ua", 1800, 520_000, 30*s),
		conv(idHMI, idCLX, "10.20.1.20", "10.20.2.10", "tcp", 44818, "enip", 5200, 640_000, 6*s),
		conv(idEWS, idCLX, "10.20.1.50", "10.20.2.10", "tcp", 44818, "enip", 700, 98_000, 50*s),
		conv(idHist, idMeter, "10.10.5.20", "10.20.2.30", "tcp", 502, "modbus", 3000, 240_000, 5*s),
		conv(idHMI, idMeter, "10.20.1.20", "10.20.2.30", "tcp", 502, "modbus", 1500, 120_000, 2*s),
		conv(idEWS, idCamera, "10.20.1.50", "10.20.1.100", "tcp", 554, "rtsp", 88000, 97_000_000, 20*s),
		conv(idEWS, idSwitch, "10.20.1.50", "10.20.0.2", "udp", 161, "snmp", 300, 60_000, 30*s),
		conv(idEWS, idGateway, "10.20.1.50", "10.20.0.1", "udp", 53, "dns", 420, 51_000, 4*s),
		conv(idPLC, idIO, "", "", "l2", 0, "profinet-rt", 60000, 4_300_000, 0),
	}
}

// fixtureStats returns the two sources' counters after step seconds of the
// rate history the capture golden shows.
func fixtureStats(step int) []model.CaptureStats {
	file := model.CaptureStats{
		Source: "plant.pcap", Packets: 184_320, Bytes: 96_200_000, Truncated: 2, Undecodable: 14, DecodeErrors: 1,
		ActiveFlows: 0, EvictedFlows: 412, FirstPacket: time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC),
		LastPacket: time.Date(2025, 3, 1, 6, 42, 17, 0, time.UTC), Started: ago(5 * time.Minute), Updated: ago(4 * time.Minute), Done: true,
	}
	var live uint64 = 52_113
	for i := range step {
		live += uint64(150 + 90*((i*7)%11))
	}
	eth := model.CaptureStats{
		Source: "iface:eth0", Live: true, Packets: live, Bytes: live * 180, Undecodable: 3, DecodeErrors: 3, KernelDrops: 12,
		ActiveFlows: 37, EvictedFlows: 5, FirstPacket: ago(3 * time.Minute), LastPacket: ago(0), Started: ago(3 * time.Minute), Updated: ago(0),
	}
	return []model.CaptureStats{file, eth}
}

// fixtureSnapshot is the whole fixture as one Reset update.
func fixtureSnapshot() model.Update {
	return model.Update{Reset: true, Assets: fixtureAssets(), Conversations: fixtureConversations(), Stats: fixtureStats(0)}
}
