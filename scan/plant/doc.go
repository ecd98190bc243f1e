// Package plant generates the traffic of a small, realistic industrial plant:
// the demo otscope replays (`otscope demo`), writes as a capture
// (`otscope demo --write plant.pcap`) and uses for benchmarks.
//
// Every frame is complete and well formed (checksums, TCP sequence numbers,
// protocol lengths), so the same bytes go through the real decoders, read
// back from a pcap, and dissect in Wireshark without malformed or error
// frames.
//
// # The plant
//
// Devices lists the 38 stations. They carry registered OUIs of their
// vendors, so vendor lookup works as on a real network:
//
//	plant-lan     untagged 10.10.1.0/24: Cisco Catalyst 9300 core switch
//	              (routes the cells, CDP), FortiGate firewall (default gateway,
//	              office beyond it), Hirschmann RSP35 switch, Windows DNS/DHCP
//	              server, Meinberg NTP server, OSIsoft PI historian, AVEVA SCADA
//	              server, two engineering workstations (TIA Portal, Studio
//	              5000), a Zabbix monitoring host, two operator stations, an
//	              Axis camera and a Brother printer (these four use DHCP)
//	cell-a        VLAN 10: Siemens SCALANCE XC208, S7-1500, S7-300,
//	              ET 200SP, TP1200 Comfort panel
//	cell-b        VLAN 20: Moxa EDS-510E, ControlLogix 5580, CompactLogix 5380,
//	              POINT I/O adapter, PanelView Plus 7
//	cell-c        VLAN 30: Hirschmann GRS1040, Modicon M580 and M340,
//	              WAGO PFC200, Magelis HMI
//	pump-station  QinQ S-VLAN 100 / C-VLAN 40: Phoenix Contact AXC F 2152
//	office        192.168.50.0/24 behind the firewall: four PCs, a file
//	              server, an ERP server, a WSUS server and a vendor laptop.
//	              They never appear with their own MAC: their frames carry
//	              the firewall's MAC (Device.Routed).
//
// The capture point sees each frame once, on the sender's segment: a frame
// to another VLAN is addressed to the core switch, one to the office to the
// firewall.
//
// # Traffic
//
// Devices come online one after another over the first ~22 s of plant time
// (gratuitous ARP, DHCP, LLDP, first sessions), so a replay at real-time
// pace fills the asset table gradually. Then, at about 120 frames per
// second, mostly industrial polling:
//
//   - Modbus/TCP: HMI and SCADA polling of the Schneider, WAGO and Phoenix
//     controllers (function 3), with a Read Device Identification (43/14)
//     when the SCADA connects.
//   - S7comm: COTP connect with TSAPs, Setup Communication and cyclic Read Var
//     from the Siemens panel, the engineering workstation and the historian.
//   - EtherNet/IP: RegisterSession, Identity Get_Attributes_All and cyclic
//     Read Tag (SendRRData); ListIdentity over UDP; CIP class 1 I/O on
//     UDP 2222 between the ControlLogix, its POINT I/O and the CompactLogix.
//   - OPC UA Hello/Acknowledge to the S7-1500.
//   - Link layer: LLDP every 30 s (switches, firewall, PROFINET devices),
//     CDP every 60 s from the Cisco core, ARP, IPv6 neighbour advertisements.
//   - IT: DHCP (options 12, 55, 60, 61), DNS (A, PTR, NXDOMAIN), mDNS from
//     the printer and camera, NetBIOS name registration and browser host
//     announcements from Windows hosts, NTP, ICMP echo and SNMPv2c (community
//     "public") from the monitoring host, HTTP to the switch and camera web
//     interfaces, SMB2 negotiation, RDP (X.224 then TLS) and HTTPS from the
//     office to the historian.
//
// # Use
//
//	g := plant.New(plant.Options{Seed: 1, Duration: 10 * time.Minute})
//	for {
//		ci, data, ok := g.Next()
//		if !ok {
//			break
//		}
//		// data is valid until the next call of Next
//	}
//
// or plant.WritePcap(w, opts) for a capture file. Options.Scale raises the
// polling rate for large benchmark captures; the generator keeps a fixed set
// of scheduled tasks and reuses its buffers, so memory stays flat and Next
// does not allocate however many frames are produced. The same Options give
// the same bytes. A Generator is not safe for concurrent use; Devices is.
package plant
