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
// Devices lists the 45 stations. They carry registered OUIs of their
// vendors, so vendor lookup works as on a real network:
//
//	plant-lan     untagged 10.10.1.0/24: Cisco Catalyst 9300 core switch
//	              (routes the cells, CDP), FortiGate firewall (default gateway,
//	              office beyond it), Hirschmann RSP35 switch, Windows DNS/DHCP
//	              server, Meinberg NTP server, OSIsoft PI historian, AVEVA SCADA
//	              server, two engineering workstations (TIA Portal, Studio
//	              5000), a Zabbix monitoring host, two operator stations, an
//	              Axis camera and a Brother printer (these four use DHCP)
//	cell-a        VLAN 10: Siemens SCALANCE XC208, S7-1500, S7-300 (end of
//	              life), ET 200SP, TP1200 Comfort panel, SIMATIC IPC477D
//	              HMI running Windows 7 Professional SP1
//	cell-b        VLAN 20: Moxa EDS-510E, ControlLogix 5580, CompactLogix 5380,
//	              POINT I/O adapter, PanelView Plus 7
//	cell-c        VLAN 30: Hirschmann GRS1040, Modicon M580 and M340,
//	              WAGO PFC200, Magelis HMI
//	pump-station  QinQ S-VLAN 100 / C-VLAN 40: Phoenix Contact AXC F 2152
//	building      VLAN 50: Johnson Controls Metasys NAE (BACnet device and
//	              router to MS/TP network 5, where two field controllers
//	              sit: SubDevices), Metasys BMS workstation
//	substation    VLAN 60: Siemens SICAM A8000 gateway (IEC 104 controlled
//	              station, IEC 61850 client), SEL-3530 RTAC (DNP3
//	              outstation), SIPROTEC 5 and ABB REF615 relays (GOOSE, MMS)
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
// pace fills the asset table gradually. Then, at about 140 frames per
// second, mostly industrial polling. Identity values are those the real
// products send:
//
//   - Modbus/TCP: HMI and SCADA polling of the Schneider, WAGO and Phoenix
//     controllers (function 3); when the SCADA connects, Read Device
//     Identification 43/14 (regular objects 0-6 from the M580, M340 and
//     PFC200, basic from the AXC F) and Report Server ID (function 17).
//   - S7comm: COTP connect with TSAPs, Setup Communication and cyclic Read Var
//     from the Siemens panel, the engineering workstation and the historian;
//     the engineering workstation reads SZL 0x0011 (order number, firmware
//     'V' 2.9.4 in ausbg/ausbe), 0x001C (AS name, module name, plant id,
//     serial number, module type, memory card) and 0x0424 (RUN) of the
//     S7-1500 and the S7-300 (6ES7 315-2EH14-0AB0).
//   - S7comm-plus: TIA Portal's session setup to the S7-1500 every ~3 min
//     (COTP TSAP "SIMATIC-ROOT-ES", CreateObject; the response carries
//     "1;6ES7 516-3AN02-0AB0;V2.9" as real S7-1500s send it).
//   - EtherNet/IP: RegisterSession, Identity Get_Attributes_All and cyclic
//     Read Tag (SendRRData); ListIdentity over UDP; CIP class 1 I/O on
//     UDP 2222 between the ControlLogix, its POINT I/O and the CompactLogix.
//     Identity: vendor 1, device type 14 (controllers) / 12 (the POINT I/O
//     adapter), product code, revision, serial, "1756-L83E/B"; the status
//     word has the key switch in REMOTE RUN (0x3060) on the ControlLogix and
//     in PROGRAM (0x2070) on the CompactLogix.
//   - PROFINET (cell A): at start-up the S7-1500 (IO controller) searches
//     its ET 200SP by name (DCP Identify with a NameOfStation filter),
//     connects (PNIO-CM Connect over DCE/RPC, UDP 34964, ARBlockReq with
//     CMInitiatorStationName "plc-a1", AlarmCRBlockReq) and exchanges RT
//     class 1 cyclic frames (frame ids 0x8000/0x8001, 128 ms at Scale 1);
//     the Windows 7 service IPC sends DCP Identify All every 5 min and the
//     S7-1500 and ET 200SP answer (NameOfStation, DeviceVendorValue, vendor
//     id 0x002a, device id, role, IP suite). Their LLDP carries the
//     PROFINET and IEEE 802.3 organisational TLVs.
//   - BACnet/IP (building): the workstation's global Who-Is, the NAE's
//     I-Am-Router-To-Network 5 and I-Am for itself and, with SNET 5 / SADR,
//     for AHU-01 and VAV-2-07 behind it; ReadPropertyMultiple of each Device
//     object (object-name, vendor-name, model-name, firmware-revision,
//     application-software-version, location, vendor-identifier).
//   - Substation: the SCADA server polls the RTAC with DNP3 class 0 reads
//     (master 1, outstation 10, TCP 20000) and the SICAM gateway with IEC
//     60870-5-104 (STARTDT, general interrogation, spontaneous M_ME_NC_1,
//     common address 21); the relays publish GOOSE every second
//     ("IED1CTRL/LLN0$GO$gcb01", data set, goID, confRev) and answer the
//     gateway's MMS association and Identify (vendor, model, revision).
//   - OPC UA: Hello/Acknowledge to the S7-1500; GetEndpoints on the SCADA
//     server, which offers one endpoint with SecurityMode None / policy None
//     and one with SignAndEncrypt / Basic256Sha256.
//   - Link layer: LLDP every 30 s (switches, firewall, PROFINET devices),
//     CDP every 60 s from the Cisco core, ARP, IPv6 neighbour advertisements.
//   - IT: DHCP (options 12, 55, 60, 61), DNS (A, PTR, NXDOMAIN), mDNS from
//     the printer and camera, NetBIOS name registration and browser host
//     announcements from Windows hosts (NT 6.1 from the Windows 7 HMI), NTP,
//     ICMP echo and SNMPv2c (community "public"; sysDescr, sysObjectID,
//     sysUpTime, sysName, sysLocation) from the monitoring host, HTTP to the
//     switch and camera web
//     interfaces, SMB2 negotiation, RDP (X.224 then TLS) and HTTPS from the
//     office to the historian.
//
// # Policy scenarios
//
// Traffic the default policy pack and the lifecycle catalog are meant to
// flag, at fixed points of the plant timeline (Seed varies them by at most
// ~2 s):
//
//   - always: the S7-300 CPU 315-2 PN/DP (6ES7 315-2EH14-0AB0, end of life)
//     answers SZL reads; hmi-a2 runs Windows 7 (browser announcement
//     version 6.1; the monitoring host's SMB1 scan gets an NTLMSSP challenge
//     with version 6.1 build 7601 and native OS "Windows 7 Professional 7601
//     Service Pack 1"); SNMPv2c with community "public"; the SCADA server's
//     OPC UA endpoint with security None.
//   - from ~30 s, every ~5 min: the monitoring host logs in to the Moxa
//     switch sw-cellb over Telnet (TCP 23; banner with model, firmware and
//     serial, cleartext login).
//   - ~3 min (180 s): office PC off-pc01 (192.168.50.21, through the
//     firewall) downloads OB 1 to the S7-300 once with S7comm: request
//     download, download block, download ended.
//   - ~4.5 min (270 s): office PC off-pc03 writes four holding registers of
//     the M580 once (Modbus function 16).
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
