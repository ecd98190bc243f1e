package plant

import (
	"net/netip"

	"otscope/model"
)

// Device is one station of the demo plant. The generator derives every frame
// it writes from this table, so a test (or a curious user) can check what
// otscope is expected to find.
type Device struct {
	// Name is the host name (NetBIOS, DNS, LLDP system name, DHCP option 12).
	Name string
	// Role is what the device does in the plant: one of the model.Role*
	// constants where one fits ("network switch", "router", "dhcp server"),
	// otherwise a short lower-case noun ("plc", "hmi", "historian").
	Role string
	// Vendor is the manufacturer; MAC carries one of its registered OUIs.
	Vendor string
	// Model is the product name and, where the device announces it, the
	// order number.
	Model string
	// Software is the firmware or operating system the device reports on the
	// wire (LLDP, CDP, SNMP, CIP identity, Modbus device identification).
	Software string
	// MAC is the station's own address. It is the zero MAC for Routed devices:
	// the capture only ever sees the router's MAC in front of them.
	MAC model.MAC
	// IP is the device's IPv4 address (leased by DHCP when DHCP is set).
	IP netip.Addr
	// VLAN is the 802.1Q VLAN its frames carry on the capture port (0 =
	// untagged). For the QinQ station it is the inner (customer) VLAN.
	VLAN uint16
	// OuterVLAN is the 802.1ad service VLAN (ethertype 0x88a8) of a QinQ
	// tagged station, 0 for all others.
	OuterVLAN uint16
	// Zone is the plant zone: "plant-lan", "cell-a", "cell-b", "cell-c",
	// "pump-station", "building", "substation" or "office".
	Zone string
	// Routed is set for hosts behind the firewall: their frames carry the
	// MAC of the device named by Via.
	Routed bool
	// Via names the router in front of a Routed device ("" otherwise).
	Via string
	// DHCP is set for devices that lease their address at start-up.
	DHCP bool
}

// Zone names used by Devices.
const (
	ZonePlantLAN    = "plant-lan"
	ZoneCellA       = "cell-a"
	ZoneCellB       = "cell-b"
	ZoneCellC       = "cell-c"
	ZonePumpStation = "pump-station"
	ZoneBuilding    = "building"
	ZoneSubstation  = "substation"
	ZoneOffice      = "office"
)

// Roles used by Devices besides the model.Role* constants.
const (
	RolePLC         = "plc"
	RoleHMI         = "hmi"
	RoleRemoteIO    = "remote i/o"
	RoleRTU         = "rtu"
	RoleEWS         = "engineering workstation"
	RoleHistorian   = "historian"
	RoleSCADA       = "scada server"
	RoleOperator    = "operator station"
	RoleMonitoring  = "monitoring server"
	RoleNTP         = "ntp server"
	RoleCamera      = "ip camera"
	RolePrinter     = "printer"
	RoleFileServer  = "file server"
	RoleERP         = "erp server"
	RoleUpdate      = "update server"
	RoleWorkstation = "office workstation"
	RoleLaptop      = "vendor laptop"
	RoleBMS         = "building controller"
	RoleBMSStation  = "bms workstation"
	RoleGateway     = "substation gateway"
	RoleIED         = "protection relay"
)

// zoneDef describes one IP subnet of the plant.
type zoneDef struct {
	name   string
	vlan   uint16
	outer  uint16
	prefix netip.Prefix
	gw     netip.Addr // address of the core switch (or the firewall for the office)
}

var zones = []zoneDef{
	{ZonePlantLAN, 0, 0, netip.MustParsePrefix("10.10.1.0/24"), netip.MustParseAddr("10.10.1.254")},
	{ZoneCellA, 10, 0, netip.MustParsePrefix("10.10.10.0/24"), netip.MustParseAddr("10.10.10.254")},
	{ZoneCellB, 20, 0, netip.MustParsePrefix("10.10.20.0/24"), netip.MustParseAddr("10.10.20.254")},
	{ZoneCellC, 30, 0, netip.MustParsePrefix("10.10.30.0/24"), netip.MustParseAddr("10.10.30.254")},
	{ZonePumpStation, 40, 100, netip.MustParsePrefix("10.10.40.0/24"), netip.MustParseAddr("10.10.40.254")},
	{ZoneBuilding, 50, 0, netip.MustParsePrefix("10.10.50.0/24"), netip.MustParseAddr("10.10.50.254")},
	{ZoneSubstation, 60, 0, netip.MustParsePrefix("10.10.60.0/24"), netip.MustParseAddr("10.10.60.254")},
	{ZoneOffice, 0, 0, netip.MustParsePrefix("192.168.50.0/24"), netip.MustParseAddr("10.10.1.1")},
}

func mac(b0, b1, b2, b3, b4, b5 byte) model.MAC { return model.MAC{b0, b1, b2, b3, b4, b5} }

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// Devices returns the devices of the demo plant, the same list on every call,
// in a fixed order: plant LAN, cells A to C, the pump station, the office.
// The caller may modify the returned slice.
func Devices() []Device {
	lan := func(d Device) Device { d.Zone = ZonePlantLAN; return d }
	cell := func(z string, v uint16, d Device) Device { d.Zone = z; d.VLAN = v; return d }
	office := func(d Device) Device {
		d.Zone, d.Routed, d.Via = ZoneOffice, true, "fw01"
		return d
	}
	return []Device{
		// Plant LAN: infrastructure, servers, workstations (untagged).
		lan(Device{Name: "core-sw01", Role: model.RoleSwitch, Vendor: "Cisco Systems", Model: "Catalyst C9300-24T",
			Software: "IOS-XE 17.3.4", MAC: mac(0xf4, 0xbd, 0x9e, 0x6c, 0x00, 0x01), IP: ip("10.10.1.254")}),
		lan(Device{Name: "fw01", Role: model.RoleRouter, Vendor: "Fortinet", Model: "FortiGate-60F",
			Software: "FortiOS v7.0.12", MAC: mac(0x08, 0x5b, 0x0e, 0x4a, 0x1c, 0x01), IP: ip("10.10.1.1")}),
		lan(Device{Name: "sw-plant01", Role: model.RoleSwitch, Vendor: "Hirschmann", Model: "RSP35",
			Software: "HiOS-3S 08.7.03", MAC: mac(0xec, 0xe5, 0x55, 0x10, 0x20, 0x01), IP: ip("10.10.1.2")}),
		lan(Device{Name: "dc01", Role: model.RoleDHCP, Vendor: "Dell", Model: "PowerEdge R440",
			Software: "Windows Server 2019", MAC: mac(0xd4, 0xbe, 0xd9, 0x21, 0x05, 0x11), IP: ip("10.10.1.5")}),
		lan(Device{Name: "ntp01", Role: RoleNTP, Vendor: "Meinberg", Model: "LANTIME M300/GPS",
			Software: "LANTIME V7.04", MAC: mac(0xec, 0x46, 0x70, 0x00, 0x31, 0x6a), IP: ip("10.10.1.6")}),
		lan(Device{Name: "hist01", Role: RoleHistorian, Vendor: "Hewlett Packard", Model: "ProLiant DL380 Gen10",
			Software: "OSIsoft PI Data Archive 2018 SP3 on Windows Server 2019",
			MAC:      mac(0x9c, 0x7b, 0xef, 0x3d, 0x55, 0x20), IP: ip("10.10.1.20")}),
		lan(Device{Name: "scada01", Role: RoleSCADA, Vendor: "Dell", Model: "PowerEdge R640",
			Software: "AVEVA System Platform 2020 on Windows Server 2019",
			MAC:      mac(0xe4, 0xb9, 0x7a, 0x12, 0x21, 0x21), IP: ip("10.10.1.21")}),
		lan(Device{Name: "ews01", Role: RoleEWS, Vendor: "Dell", Model: "Precision 3650 Tower",
			Software: "TIA Portal V17 on Windows 10 Enterprise LTSC",
			MAC:      mac(0xb8, 0xac, 0x6f, 0x8e, 0x21, 0x30), IP: ip("10.10.1.30")}),
		lan(Device{Name: "ews02", Role: RoleEWS, Vendor: "Hewlett Packard", Model: "Z2 G5 Workstation",
			Software: "Studio 5000 V33 on Windows 10 Enterprise LTSC",
			MAC:      mac(0xa0, 0xb3, 0xcc, 0x5d, 0x21, 0x31), IP: ip("10.10.1.31")}),
		lan(Device{Name: "nms01", Role: RoleMonitoring, Vendor: "Dell", Model: "OptiPlex 7090",
			Software: "Zabbix 6.0 on Ubuntu 22.04", MAC: mac(0xc8, 0xf7, 0x50, 0x0a, 0x21, 0x40), IP: ip("10.10.1.40")}),
		lan(Device{Name: "ops01", Role: RoleOperator, Vendor: "HP", Model: "EliteDesk 800 G6",
			Software: "Windows 10 Enterprise", MAC: mac(0x04, 0x0e, 0x3c, 0x7e, 0x01, 0x01), IP: ip("10.10.1.101"), DHCP: true}),
		lan(Device{Name: "ops02", Role: RoleOperator, Vendor: "HP", Model: "EliteDesk 800 G6",
			Software: "Windows 10 Enterprise", MAC: mac(0x04, 0x0e, 0x3c, 0x7e, 0x01, 0x02), IP: ip("10.10.1.102"), DHCP: true}),
		lan(Device{Name: "cam01", Role: RoleCamera, Vendor: "Axis Communications", Model: "AXIS P3245-LVE",
			Software: "AXIS OS 10.12.153", MAC: mac(0xac, 0xcc, 0x8e, 0x12, 0x34, 0x56), IP: ip("10.10.1.150"), DHCP: true}),
		lan(Device{Name: "prn01", Role: RolePrinter, Vendor: "Brother", Model: "HL-L5100DN",
			Software: "Firmware 1.40", MAC: mac(0x3c, 0x2a, 0xf4, 0x12, 0xab, 0xcd), IP: ip("10.10.1.160"), DHCP: true}),

		// Cell A: Siemens assembly line, VLAN 10.
		cell(ZoneCellA, 10, Device{Name: "sw-cella", Role: model.RoleSwitch, Vendor: "Siemens", Model: "SCALANCE XC208 (6GK5 208-0BA00-2AC2)",
			Software: "V4.3", MAC: mac(0x20, 0x87, 0x56, 0xa0, 0x10, 0x02), IP: ip("10.10.10.2")}),
		cell(ZoneCellA, 10, Device{Name: "plc-a1", Role: RolePLC, Vendor: "Siemens", Model: "S7-1500 CPU 1516-3 PN/DP (6ES7 516-3AN02-0AB0)",
			Software: "V2.9.4", MAC: mac(0x00, 0x1b, 0x1b, 0x6e, 0x01, 0x11), IP: ip("10.10.10.11")}),
		cell(ZoneCellA, 10, Device{Name: "plc-a2", Role: RolePLC, Vendor: "Siemens", Model: "S7-300 CPU 315-2 PN/DP (6ES7 315-2EH14-0AB0)",
			Software: "V3.2.17", MAC: mac(0x00, 0x0e, 0x8c, 0x9a, 0x02, 0x12), IP: ip("10.10.10.12")}),
		cell(ZoneCellA, 10, Device{Name: "io-a1", Role: RoleRemoteIO, Vendor: "Siemens", Model: "ET 200SP IM 155-6 PN ST (6ES7 155-6AU01-0BN0)",
			Software: "V4.2.1", MAC: mac(0xec, 0x1c, 0x5d, 0x33, 0x03, 0x21), IP: ip("10.10.10.21")}),
		cell(ZoneCellA, 10, Device{Name: "hmi-a2", Role: RoleHMI, Vendor: "Siemens", Model: "SIMATIC IPC477D (6AV7 241-3XB07-0FA0)",
			Software: "WinCC Runtime Advanced V13 on Windows 7 Professional SP1", MAC: mac(0x00, 0x1f, 0xf8, 0x2b, 0x04, 0x32),
			IP: ip("10.10.10.32")}),
		cell(ZoneCellA, 10, Device{Name: "hmi-a1", Role: RoleHMI, Vendor: "Siemens", Model: "SIMATIC TP1200 Comfort (6AV2 124-0MC01-0AX0)",
			Software: "WinCC Comfort V17", MAC: mac(0x28, 0x63, 0x36, 0x77, 0x04, 0x31), IP: ip("10.10.10.31")}),

		// Cell B: Rockwell packaging line, VLAN 20.
		cell(ZoneCellB, 20, Device{Name: "sw-cellb", Role: model.RoleSwitch, Vendor: "Moxa", Model: "EDS-510E-3GTXSFP",
			Software: "V5.5 build 20061114", MAC: mac(0x00, 0x90, 0xe8, 0x7a, 0x20, 0x02), IP: ip("10.10.20.2")}),
		cell(ZoneCellB, 20, Device{Name: "plc-b1", Role: RolePLC, Vendor: "Rockwell Automation", Model: "1756-L83E ControlLogix 5580",
			Software: "33.011", MAC: mac(0x5c, 0x88, 0x16, 0xd1, 0x20, 0x11), IP: ip("10.10.20.11")}),
		cell(ZoneCellB, 20, Device{Name: "plc-b2", Role: RolePLC, Vendor: "Rockwell Automation", Model: "5069-L320ER CompactLogix 5380",
			Software: "32.011", MAC: mac(0x00, 0x00, 0xbc, 0x5e, 0x20, 0x12), IP: ip("10.10.20.12")}),
		cell(ZoneCellB, 20, Device{Name: "io-b1", Role: RoleRemoteIO, Vendor: "Rockwell Automation", Model: "1734-AENTR POINT I/O",
			Software: "7.011", MAC: mac(0x00, 0x00, 0xbc, 0x3a, 0x20, 0x21), IP: ip("10.10.20.21")}),
		cell(ZoneCellB, 20, Device{Name: "hmi-b1", Role: RoleHMI, Vendor: "Rockwell Automation", Model: "PanelView Plus 7 2711P-T10C22D9P",
			Software: "12.0", MAC: mac(0x34, 0xc0, 0xf9, 0x11, 0x20, 0x31), IP: ip("10.10.20.31")}),

		// Cell C: Schneider Electric and WAGO utilities, VLAN 30.
		cell(ZoneCellC, 30, Device{Name: "sw-cellc", Role: model.RoleSwitch, Vendor: "Hirschmann", Model: "GRS1040",
			Software: "HiOS-2A 09.0.04", MAC: mac(0x00, 0x80, 0x63, 0xe1, 0x30, 0x02), IP: ip("10.10.30.2")}),
		cell(ZoneCellC, 30, Device{Name: "plc-c1", Role: RolePLC, Vendor: "Schneider Electric", Model: "Modicon M580 BMEP582040",
			Software: "SV03.10", MAC: mac(0x00, 0x80, 0xf4, 0x0a, 0x30, 0x11), IP: ip("10.10.30.11")}),
		cell(ZoneCellC, 30, Device{Name: "plc-c2", Role: RolePLC, Vendor: "Schneider Electric", Model: "Modicon M340 BMXP342020",
			Software: "SV03.30", MAC: mac(0x00, 0x80, 0xf4, 0x0b, 0x30, 0x12), IP: ip("10.10.30.12")}),
		cell(ZoneCellC, 30, Device{Name: "plc-c3", Role: RolePLC, Vendor: "WAGO", Model: "PFC200 750-8212",
			Software: "03.10.08(22)", MAC: mac(0x00, 0x30, 0xde, 0x4c, 0x30, 0x13), IP: ip("10.10.30.13")}),
		cell(ZoneCellC, 30, Device{Name: "hmi-c1", Role: RoleHMI, Vendor: "Schneider Electric", Model: "Magelis HMIGTO5310",
			Software: "Vijeo Designer 6.2", MAC: mac(0x00, 0x80, 0xf4, 0x2d, 0x30, 0x31), IP: ip("10.10.30.31")}),

		// Pump station behind a carrier link: QinQ S-VLAN 100, C-VLAN 40.
		{Name: "rtu-p1", Role: RoleRTU, Vendor: "Phoenix Contact", Model: "AXC F 2152 (2404267)",
			Software: "PLCnext 2022.0 LTS", MAC: mac(0x00, 0xa0, 0x45, 0x9c, 0x40, 0x11), IP: ip("10.10.40.11"),
			VLAN: 40, OuterVLAN: 100, Zone: ZonePumpStation},

		// Building automation, VLAN 50: the Metasys NAE routes BACnet/IP
		// (network 1) to its MS/TP trunk (network 5); see SubDevices.
		cell(ZoneBuilding, 50, Device{Name: "bms-nae01", Role: RoleBMS, Vendor: "Johnson Controls",
			Model: "Metasys NAE MS-NAE5510-3", Software: "10.1.0.1902", MAC: mac(0x00, 0x10, 0x8d, 0x4e, 0x50, 0x10),
			IP: ip("10.10.50.10")}),
		cell(ZoneBuilding, 50, Device{Name: "bms-ws01", Role: RoleBMSStation, Vendor: "Dell", Model: "OptiPlex 7080",
			Software: "Metasys SMP 10.1 on Windows 10 Enterprise LTSC", MAC: mac(0xb0, 0x7b, 0x25, 0x1c, 0x50, 0x20),
			IP: ip("10.10.50.20")}),

		// Substation, VLAN 60: IEC 104 gateway, DNP3 RTU, IEC 61850 relays.
		cell(ZoneSubstation, 60, Device{Name: "sub-gw01", Role: RoleGateway, Vendor: "Siemens",
			Model: "SICAM A8000 CP-8050 (6MF2805-0AA00)", Software: "CPCI85 V05.30",
			MAC: mac(0xb4, 0xb1, 0x5a, 0x0c, 0x60, 0x10), IP: ip("10.10.60.10")}),
		cell(ZoneSubstation, 60, Device{Name: "sub-rtu01", Role: RoleRTU, Vendor: "Schweitzer Engineering Laboratories",
			Model: "SEL-3530 RTAC", Software: "R150-V2", MAC: mac(0x00, 0x30, 0xa7, 0x1d, 0x60, 0x11),
			IP: ip("10.10.60.11")}),
		cell(ZoneSubstation, 60, Device{Name: "ied01", Role: RoleIED, Vendor: "Siemens", Model: "SIPROTEC 5 7SJ85",
			Software: "V08.80", MAC: mac(0xb4, 0xb1, 0x5a, 0x0c, 0x60, 0x21), IP: ip("10.10.60.21")}),
		cell(ZoneSubstation, 60, Device{Name: "ied02", Role: RoleIED, Vendor: "ABB", Model: "Relion REF615",
			Software: "5.0 FP1", MAC: mac(0x00, 0x21, 0xc1, 0x3a, 0x60, 0x22), IP: ip("10.10.60.22")}),

		// Office hosts: seen only through fw01.
		office(Device{Name: "off-pc01", Role: RoleWorkstation, Vendor: "Lenovo", Model: "ThinkCentre M70q",
			Software: "Windows 10 Pro", IP: ip("192.168.50.21")}),
		office(Device{Name: "off-pc02", Role: RoleWorkstation, Vendor: "Dell", Model: "OptiPlex 5090",
			Software: "Windows 10 Pro", IP: ip("192.168.50.22")}),
		office(Device{Name: "off-pc03", Role: RoleWorkstation, Vendor: "HP", Model: "ProDesk 400 G7",
			Software: "Windows 11 Pro", IP: ip("192.168.50.23")}),
		office(Device{Name: "off-pc04", Role: RoleWorkstation, Vendor: "Lenovo", Model: "ThinkPad T14",
			Software: "Windows 11 Pro", IP: ip("192.168.50.24")}),
		office(Device{Name: "off-srv01", Role: RoleFileServer, Vendor: "Dell", Model: "PowerEdge T440",
			Software: "Windows Server 2022", IP: ip("192.168.50.10")}),
		office(Device{Name: "off-erp01", Role: RoleERP, Vendor: "HPE", Model: "ProLiant DL360 Gen10",
			Software: "SAP ERP on SUSE Linux Enterprise 15", IP: ip("192.168.50.11")}),
		office(Device{Name: "off-wsus01", Role: RoleUpdate, Vendor: "Dell", Model: "PowerEdge R350",
			Software: "WSUS on Windows Server 2022", IP: ip("192.168.50.12")}),
		office(Device{Name: "off-lap01", Role: RoleLaptop, Vendor: "Lenovo", Model: "ThinkPad P15",
			Software: "Windows 10 Pro", IP: ip("192.168.50.80")}),
	}
}

// SubDevice is a station behind a protocol router: it has no MAC or IP on
// the captured network and is known only by its address on the router's
// other network (NPDU source network and address for BACnet).
type SubDevice struct {
	Name     string
	Vendor   string
	Model    string
	Software string
	// Via names the Device that routes for it.
	Via string
	// Sub is its address as model.Endpoint.Sub spells it, e.g.
	// "bacnet-net5:4".
	Sub string
	// Instance is its BACnet device object instance.
	Instance uint32
	// Net and Addr are its BACnet network number and MS/TP MAC address.
	Net  uint16
	Addr byte
}

// SubDevices returns the devices behind protocol routers: two Johnson
// Controls field controllers on the MS/TP trunk (BACnet network 5) of
// bms-nae01, always the same list in the same order.
func SubDevices() []SubDevice {
	return []SubDevice{
		{Name: "AHU-01", Vendor: "Johnson Controls", Model: "MS-FEC2621-0", Software: "10.1.0.2009",
			Via: "bms-nae01", Sub: "bacnet-net5:4", Instance: 5004, Net: 5, Addr: 4},
		{Name: "VAV-2-07", Vendor: "Johnson Controls", Model: "MS-VMA1630-0", Software: "10.1.0.2009",
			Via: "bms-nae01", Sub: "bacnet-net5:7", Instance: 5007, Net: 5, Addr: 7},
	}
}
