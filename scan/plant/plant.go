package plant

import (
	"strings"
	"time"
)

// onlineMS is when each device comes up, in ms of plant time: the network
// first, then servers, controllers, HMIs and workstations, the office last,
// so a real-time replay fills the asset table over about twenty seconds.
var onlineMS = map[string]int64{
	"core-sw01": 100, "fw01": 300, "sw-plant01": 600, "sw-cella": 900, "sw-cellb": 1200, "sw-cellc": 1500,
	"dc01": 2000, "ntp01": 2500, "nms01": 3200, "hist01": 4000, "scada01": 4800,
	"plc-a1": 5500, "plc-a2": 6000, "io-a1": 6400, "plc-b1": 7000, "plc-b2": 7500, "io-b1": 7800,
	"plc-c1": 8500, "plc-c2": 9000, "plc-c3": 9500, "rtu-p1": 10200,
	"hmi-a1": 11000, "hmi-b1": 11600, "hmi-c1": 12200, "ews01": 13000, "ews02": 13800,
	"ops01": 14500, "ops02": 15200, "cam01": 16000, "prn01": 16800,
	"off-srv01": 17500, "off-wsus01": 18000, "off-erp01": 18500, "off-pc01": 19000, "off-pc02": 19500,
	"off-pc03": 20000, "off-pc04": 20500, "off-lap01": 21500,
	"hmi-a2": 11300, "ied01": 8200, "ied02": 8700, "sub-rtu01": 9700, "sub-gw01": 10000,
	"bms-nae01": 10600, "bms-ws01": 13400,
}

func (g *Generator) online(name string) int64 { return onlineMS[name] * ms }

func zoneIndex(name string) int {
	for i, z := range zones {
		if z.name == name {
			return i
		}
	}
	return 0
}

// profile sets the stack behaviour of a node from its device: TTL, TCP
// window, delayed ACK and how fast it answers.
func profile(n *node) {
	d := n.dev
	n.ttl, n.win, n.proc, n.delAck = 64, 29200, 400*us, 40*ms
	switch {
	case strings.Contains(d.Software, "Windows"):
		n.ttl, n.win, n.proc, n.delAck, n.windows = 128, 64240, 500*us, 200*ms, true
	case d.Vendor == "Siemens" && d.Role == RolePLC:
		n.ttl, n.win, n.proc, n.delAck = 30, 8192, 2*ms, 100*ms
		if strings.Contains(d.Model, "S7-300") {
			n.proc = 8 * ms
		}
	case d.Vendor == "Siemens":
		n.ttl, n.win, n.proc, n.delAck = 64, 8192, 3*ms, 100*ms
	case d.Vendor == "Rockwell Automation":
		n.ttl, n.win, n.proc, n.delAck = 64, 4096, 1500*us, 50*ms
	case d.Vendor == "Schneider Electric":
		n.ttl, n.win, n.proc, n.delAck = 64, 2920, 4*ms, 100*ms
	case d.Vendor == "Cisco Systems":
		n.ttl, n.win, n.proc = 255, 4128, 2*ms
	case d.Role == RoleCamera || d.Role == RolePrinter:
		n.proc = 3 * ms
	case d.Vendor == "Hirschmann" || d.Vendor == "Moxa":
		n.win, n.proc = 5840, 4*ms
	}
	if d.Routed && !n.windows {
		n.ttl = 63
	} else if d.Routed {
		n.ttl = 127
	}
}

// Shared scripts.
var (
	setupOpen      = [][2]uint8{{mOpen, mOpened}}
	setupOpenIdent = [][2]uint8{{mOpen, mOpened}, {mSetup, mSetupd}}

	s7Slow = tcpPoll(setupOpenIdent, mReq, mResp, true)
	s7Fast = tcpPoll(setupOpenIdent, mReq, mResp, false)
	s7EWS  = tcpPoll([][2]uint8{{mOpen, mOpened}, {mSetup, mSetupd}, {mIdent, mIdentd}, {mIdentC, mIdentCd},
		{mState, mStated}}, mReq, mResp, true)
	enipSlow    = tcpPoll(setupOpenIdent, mReq, mResp, true)
	enipFast    = tcpPoll(setupOpenIdent, mReq, mResp, false)
	mbSlow      = tcpPoll(nil, mReq, mResp, true)
	mbFast      = tcpPoll(nil, mReq, mResp, false)
	mbIdentSlow = tcpPoll(mbSetup, mReq, mResp, true)
	mbIdentFast = tcpPoll(mbSetup, mReq, mResp, false)
	mbSetup     = [][2]uint8{{mSetup, mSetupd}, {mReport, mReportd}}
	mbWrite     = tcpOnce([][2]uint8{{mReq, mResp}}, false)
	s7plus      = tcpOnce([][2]uint8{{mOpen, mOpened}, {mSetup, mSetupd}}, false)
	rdpScript   = tcpPoll([][2]uint8{{mOpen, mOpened}, {mSetup, mSetupd}, {mKeyX, mKeyXd}}, mReq, mResp, true)
	httpScript  = tcpOnce([][2]uint8{{mReq, mResp}}, true)
	httpsScript = tcpOnce([][2]uint8{{mSetup, mSetupd}, {mKeyX, mKeyXd}, {mReq, mResp}}, false)
	smbScript   = tcpOnce([][2]uint8{{mReq, mResp}}, false)
	opcuaScript = tcpOnce(setupOpen, false)
)

// dial schedules a dialog from client cn to server sn, starting after both
// are online plus delay.
func (g *Generator) dial(proto byte, cn, sn string, sport uint16, sc *script, a app,
	interval, idle, delay time.Duration) *dialog {
	c, s := g.byName[cn], g.byName[sn]
	d := &dialog{proto: proto, c: c, s: s, cdst: g.hop(c, s), sdst: g.hop(s, c), sport: sport, sc: sc, app: a,
		interval: interval.Microseconds(), idle: idle.Microseconds(), net: 150 * us}
	switch {
	case c.dev.Routed || s.dev.Routed:
		d.net = 1200 * us
	case c.zone != s.zone:
		d.net = 450 * us
	}
	at := max(g.online(cn), g.online(sn)) + delay.Microseconds() + g.between(0, 1500*ms)
	g.add(d, at)
	return d
}

// poll schedules a persistent polling dialog whose rate follows
// Options.Scale; it picks the script without a separate ACK when the poll
// interval is shorter than the client's delayed-ACK timer.
func (g *Generator) poll(cn, sn string, port uint16, slow, fast *script, a app, interval time.Duration) *dialog {
	iv := interval / time.Duration(g.scale)
	sc := slow
	if iv.Microseconds() < g.byName[cn].delAck+50*ms {
		sc = fast
	}
	return g.dial(protoTCP, cn, sn, port, sc, a, iv, 0, 500*time.Millisecond)
}

// build creates the nodes and schedules every task of the plant.
func (g *Generator) build() {
	g.devs = Devices()
	for i := range g.devs {
		d := &g.devs[i]
		n := &node{dev: d, mac: d.MAC, ip: d.IP.As4(), vlan: d.VLAN, outer: d.OuterVLAN, zone: zoneIndex(d.Zone)}
		profile(n)
		g.byName[d.Name] = n
	}
	g.fw = g.byName["fw01"]
	g.core = g.byName["core-sw01"]
	for _, d := range g.devs {
		if d.Routed {
			g.byName[d.Name].mac = g.byName[d.Via].mac
		}
	}
	g.cores = make([]*node, len(zones))
	g.cores[0] = g.core
	for zi := 1; zi < len(zones)-1; zi++ {
		z := zones[zi]
		g.cores[zi] = &node{dev: g.core.dev, mac: g.core.mac, ip: z.gw.As4(), vlan: z.vlan, outer: z.outer,
			zone: zi, ttl: 255, win: 4128, proc: 2 * ms, delAck: 40 * ms}
	}
	g.buildLink()
	g.buildIT()
	g.buildIndustrial()
	g.buildBuilding()
	g.buildSubstation()
	g.buildScenarios()
	g.buildOffice()
	g.buildFleet()
}

// buildLink schedules ARP, LLDP, CDP, DHCP and the Windows broadcasts.
func (g *Generator) buildLink() {
	// ARP: announcements, then gateway resolution.
	viaCore := map[string]bool{"hist01": true, "scada01": true, "ews01": true, "ews02": true, "nms01": true}
	for _, d := range g.devs {
		if d.Routed {
			continue
		}
		n := g.byName[d.Name]
		t := &arpTask{n: n}
		switch {
		case d.Name == "core-sw01":
			for zi := 1; zi < len(zones)-1; zi++ {
				g.add(&arpTask{n: g.cores[zi]}, g.online(d.Name)+int64(zi)*40*ms)
			}
		case d.Name == "fw01":
		case n.zone != 0 || viaCore[d.Name]:
			t.gw = g.cores[n.zone]
		default:
			t.gw = g.fw
		}
		at := g.online(d.Name)
		if d.DHCP {
			at += 1500 * ms
		}
		g.add(t, at)
	}

	// LLDP from the switches, the firewall and the PROFINET devices.
	lldp := []struct {
		name string
		info lldpInfo
	}{
		{"sw-plant01", lldpInfo{"1/1", "Module: 1 Port: 1 - 1 Gbit", "sw-plant01",
			"Hirschmann Rail Switch Power Enhanced RSP35 - HW: 1.00 - SW: HiOS-3S 08.7.03", lldpCapBridge, 1, false}},
		{"sw-cella", lldpInfo{"P0.1", "Siemens, SIMATIC NET, Ethernet Port, X1 P1", "sw-cella",
			"Siemens, SIMATIC NET, SCALANCE XC208, 6GK5 208-0BA00-2AC2, HW: Version 3, FW: Version V4.3",
			lldpCapBridge, 1, false}},
		{"sw-cellb", lldpInfo{"1", "100TX,RJ45.", "sw-cellb", "EDS-510E-3GTXSFP Firmware V5.5 build 20061114",
			lldpCapBridge, 1, false}},
		{"sw-cellc", lldpInfo{"1/1", "Module: 1 Port: 1 - 1 Gbit", "sw-cellc",
			"Hirschmann Gigabit Rail Switch GRS1040 - HW: 1.02 - SW: HiOS-2A 09.0.04", lldpCapBridge, 1, false}},
		{"fw01", lldpInfo{"internal1", "internal1", "fw01", "FortiGate-60F v7.0.12,build0523,230531 (GA.M)",
			lldpCapRouter, 5, false}},
		{"plc-a1", lldpInfo{"port-001.plc-a1", "Siemens, SIMATIC S7, CPU 1516-3 PN/DP, X2 P1", "plc-a1",
			"Siemens, SIMATIC S7, CPU 1516-3 PN/DP, 6ES7 516-3AN02-0AB0, HW: 4, FW: V2.9.4", lldpCapStation, 1, true}},
		{"io-a1", lldpInfo{"port-001.io-a1", "Siemens, SIMATIC ET 200SP, IM 155-6 PN ST, X1 P1", "io-a1",
			"Siemens, SIMATIC ET 200SP, IM 155-6 PN ST, 6ES7 155-6AU01-0BN0, HW: 3, FW: V4.2.1",
			lldpCapStation, 1, true}},
	}
	for i, l := range lldp {
		n := g.byName[l.name]
		g.add(&replay{frame: lldpFrame(n, l.info), every: 30 * sec}, g.online(l.name)+400*ms+int64(i)*7*ms)
	}
	g.add(&replay{every: 60 * sec, frame: cdpFrame(g.core, cdpInfo{
		deviceID: "core-sw01.plant.local",
		portID:   "GigabitEthernet1/0/24",
		software: "Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4, " +
			"RELEASE SOFTWARE (fc3)\nTechnical Support: http://www.cisco.com/techsupport\n" +
			"Copyright (c) 1986-2021 by Cisco Systems, Inc.\nCompiled Wed 30-Jun-21 21:21 by mcpre",
		platform: "cisco C9300-24T",
		caps:     0x29, // router, switch, IGMP
		native:   1,
	})}, g.online("core-sw01")+250*ms)

	// DHCP clients.
	winParams := []byte{1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252}
	dhcp := []struct {
		name, host, class string
		params            []byte
	}{
		{"ops01", "OPS01", "MSFT 5.0", winParams},
		{"ops02", "OPS02", "MSFT 5.0", winParams},
		{"cam01", "axis-accc8e123456", "AXIS,Fixed Dome Network Camera,P3245-LVE,10.12.153",
			[]byte{1, 3, 6, 12, 15, 28, 42, 40, 41}},
		{"prn01", "BRN3C2AF412ABCD", "", []byte{1, 3, 6, 15, 44, 46, 47, 81}},
	}
	dc := g.byName["dc01"]
	for _, c := range dhcp {
		g.add(&dhcpTask{c: g.byName[c.name], srv: dc, hostname: c.host, vendorClass: c.class, params: c.params,
			router: g.fw.ip, dns: dc.ip}, g.online(c.name))
	}

	// Windows hosts: NetBIOS names, browser announcements, IPv6 link-local.
	for _, d := range g.devs {
		n := g.byName[d.Name]
		if !n.windows || d.Routed {
			continue
		}
		bcast := zones[n.zone].prefix.Addr().As4()
		bcast[3] = 255
		at := g.online(d.Name) + 2*sec
		if d.DHCP {
			at += 2 * sec
		}
		nb := strings.ToUpper(d.Name)
		g.add(&nbnsTask{n: n, bcast: bcast, tid: uint16(0x8000 + len(g.sched)*97), names: []nbName{
			{nb, 0x00, false}, {"PLANT", 0x00, true}, {nb, 0x20, false}}}, at)
		typ := uint32(0x00011003)
		if strings.Contains(d.Software, "Server") {
			typ |= 0x8000
		}
		major, minor := byte(10), byte(0)
		if strings.Contains(d.Software, "Windows 7") {
			major, minor = 6, 1
		}
		g.add(&browserTask{n: n, name: nb, workgrp: "PLANT", comment: d.Model, srvType: typ, bcast: bcast,
			major: major, minor: minor}, at+3*sec)
		g.add(&beacon{every: 15 * 60 * sec, jitter: 0.1, emit: func(g *Generator) { g.neighborAdvert(n) }},
			at-1500*ms)
	}
}

// buildIT schedules DNS, NTP, mDNS, ICMP, SNMP, HTTP, SMB2 and RDP.
func (g *Generator) buildIT() {
	a := func(name string) dnsQ { return dnsQ{name: name + ".plant.local", a: g.byName[name].ip} }
	ptr := func(name string) dnsQ {
		p := g.byName[name].ip
		return dnsQ{name: itoa(p[3]) + "." + itoa(p[2]) + "." + itoa(p[1]) + "." + itoa(p[0]) + ".in-addr.arpa",
			ptr: name + ".plant.local"}
	}
	nx := func(name string) dnsQ { return dnsQ{name: name, nx: true} }
	dns := map[string][]dnsQ{
		"ews01":   {a("plc-a1"), a("plc-a2"), nx("wpad.plant.local"), ptr("plc-a1"), a("off-srv01")},
		"ews02":   {a("plc-b1"), a("plc-b2"), ptr("io-b1"), nx("wpad.plant.local")},
		"ops01":   {a("scada01"), a("hist01"), a("cam01"), nx("wpad.plant.local")},
		"ops02":   {a("scada01"), a("prn01"), ptr("scada01")},
		"hist01":  {a("plc-a2"), a("plc-b2"), a("plc-c3"), ptr("off-erp01")},
		"scada01": {a("plc-c1"), a("plc-c2"), a("rtu-p1"), ptr("ops01")},
		"nms01":   {ptr("sw-plant01"), ptr("sw-cella"), ptr("cam01"), a("ntp01")},
	}
	for _, c := range []string{"ews01", "ews02", "ops01", "ops02", "hist01", "scada01", "nms01"} {
		g.dial(protoUDP, c, "dc01", 53, udpOnce, &dnsApp{qs: dns[c]}, 0, 25*time.Second, 300*time.Millisecond)
	}

	// NTP: controllers, servers and switches against the Meinberg.
	for _, c := range []string{"dc01", "hist01", "scada01", "ews01", "ews02", "ops01", "ops02", "plc-a1", "plc-a2",
		"hmi-a1", "plc-b1", "plc-c1", "plc-c3", "rtu-p1", "sw-plant01", "sw-cella", "sw-cellc"} {
		d := g.dial(protoUDP, c, "ntp01", 123, udpOnce, &ntpApp{refID: [4]byte{'P', 'P', 'S', 0}}, 0, 64*time.Second,
			time.Second)
		d.fixedPort = 123
	}

	// mDNS announcements from the printer and the camera.
	prn, cam := g.byName["prn01"], g.byName["cam01"]
	txt := func(kv ...string) []byte {
		var b []byte
		for _, s := range kv {
			b = append(b, byte(len(s)))
			b = append(b, s...)
		}
		return b
	}
	srvRec := func(port uint16, target string) []byte {
		return appendName(be16([]byte{0, 0, 0, 0}, port), target)
	}
	for _, m := range []struct {
		n    *node
		recs []mdnsRecord
	}{
		{prn, []mdnsRecord{
			{"_ipp._tcp.local", 12, false, 4500, appendName(nil, "Brother HL-L5100DN series._ipp._tcp.local")},
			{"Brother HL-L5100DN series._ipp._tcp.local", 33, true, 120, srvRec(631, "BRN3C2AF412ABCD.local")},
			{"Brother HL-L5100DN series._ipp._tcp.local", 16, true, 4500,
				txt("txtvers=1", "qtotal=1", "usb_MFG=Brother", "usb_MDL=HL-L5100DN series", "ty=Brother HL-L5100DN series",
					"product=(Brother HL-L5100DN series)", "adminurl=http://BRN3C2AF412ABCD.local./")},
			{"BRN3C2AF412ABCD.local", 1, true, 120, prn.ip[:]},
		}},
		{cam, []mdnsRecord{
			{"_axis-video._tcp.local", 12, false, 4500, appendName(nil, "AXIS P3245-LVE - ACCC8E123456._axis-video._tcp.local")},
			{"AXIS P3245-LVE - ACCC8E123456._axis-video._tcp.local", 33, true, 120, srvRec(80, "axis-accc8e123456.local")},
			{"AXIS P3245-LVE - ACCC8E123456._axis-video._tcp.local", 16, true, 4500,
				txt("macaddress=ACCC8E123456")},
			{"axis-accc8e123456.local", 1, true, 120, cam.ip[:]},
		}},
	} {
		n, payload := m.n, mdnsAnnouncement(m.recs)
		g.add(&beacon{every: 120 * sec, jitter: 0.05, emit: func(g *Generator) {
			g.udp(n, mdnsMAC, n.ip, mdnsIP, 5353, 5353, payload)
		}}, g.online(n.dev.Name)+3*sec)
	}

	// Monitoring: ICMP echo to the field devices, SNMP to the network gear.
	for i, t := range []string{"plc-a1", "plc-a2", "io-a1", "hmi-a1", "plc-b1", "plc-b2", "io-b1", "hmi-b1",
		"plc-c1", "plc-c2", "plc-c3", "hmi-c1", "rtu-p1", "cam01", "prn01"} {
		g.dial(protoICMP, "nms01", t, 0, udpOnce, &pingApp{id: uint16(0x100 + i)}, 0, 30*time.Second, 2*time.Second)
	}
	snmp := []struct {
		name, descr string
		oid         []uint32
		location    string
	}{
		{"sw-plant01", "Hirschmann Rail Switch Power Enhanced RSP35 HiOS-3S-08.7.03", []uint32{1, 3, 6, 1, 4, 1, 248, 11, 2, 1, 1},
			"Server room rack 2"},
		{"sw-cella", "Siemens, SIMATIC NET, SCALANCE XC208, 6GK5 208-0BA00-2AC2, HW: Version 3, FW: Version V4.3",
			[]uint32{1, 3, 6, 1, 4, 1, 4329, 20, 1, 1, 1, 1, 79}, "Hall 1 cabinet 01"},
		{"sw-cellb", "EDS-510E-3GTXSFP", []uint32{1, 3, 6, 1, 4, 1, 8691, 7, 60}, "Hall 2 packaging cabinet"},
		{"sw-cellc", "Hirschmann Gigabit Rail Switch GRS1040 HiOS-2A-09.0.04", []uint32{1, 3, 6, 1, 4, 1, 248, 11, 2, 1, 3},
			"Utilities building"},
		{"core-sw01", "Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4, " +
			"RELEASE SOFTWARE (fc3)", []uint32{1, 3, 6, 1, 4, 1, 9, 1, 2494}, "Server room rack 1"},
		{"fw01", "FortiGate-60F v7.0.12,build0523,230531 (GA.M)", []uint32{1, 3, 6, 1, 4, 1, 12356, 101, 1, 646},
			"Server room rack 1"},
	}
	for _, s := range snmp {
		g.dial(protoUDP, "nms01", s.name, 161, udpOnce, &snmpApp{community: "public", sysDescr: s.descr,
			sysObject: s.oid, sysName: s.name, location: s.location, bootTime: -int64(len(s.name)) * 86400 * sec},
			0, 60*time.Second, 3*time.Second)
	}

	// Web interfaces.
	browser := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	g.dial(protoTCP, "ews01", "sw-plant01", 80, httpScript, &httpApp{host: "10.10.1.2", path: "/", agent: browser,
		server: "HiOS-WebServer", ctype: "text/html",
		body: htmlPage("Hirschmann RSP35 - sw-plant01", "Industrial HiVision web interface. Please log in.")},
		0, 5*time.Minute, 2*time.Second)
	camPage := &httpApp{host: "10.10.1.150", path: "/", agent: browser, server: "Apache", ctype: "text/html",
		body: htmlPage("AXIS P3245-LVE Network Camera", "Live view of the filling hall.")}
	g.dial(protoTCP, "ops01", "cam01", 80, httpScript, camPage, 0, 4*time.Minute, 5*time.Second)
	g.dial(protoTCP, "nms01", "cam01", 80, httpScript, &httpApp{host: "10.10.1.150",
		path: "/axis-cgi/basicdeviceinfo.cgi", agent: "Zabbix 6.0", server: "Apache", ctype: "text/html",
		body: htmlPage("AXIS P3245-LVE", "ProdNbr=P3245-LVE Version=10.12.153 SerialNumber=ACCC8E123456")},
		0, 2*time.Minute, 3*time.Second)

	// SMB2 and RDP between Windows hosts.
	g.dial(protoTCP, "ops01", "hist01", 445, smbScript, g.smb("ops01", "hist01"), 0, 5*time.Minute, 6*time.Second)
	g.dial(protoTCP, "ews02", "scada01", 445, smbScript, g.smb("ews02", "scada01"), 0, 6*time.Minute, 2*time.Second)
	rdp := g.dial(protoTCP, "ops02", "scada01", 3389, rdpScript, &rdpApp{user: "operator", cert: selfSignedCert("scada01")}, 400*time.Millisecond,
		8*time.Minute, 4*time.Second)
	rdp.maxCycles = 25
}

// smb builds the SMB2 negotiate app between two Windows hosts.
func (g *Generator) smb(c, s string) *smb2App {
	var cg, sg [16]byte
	cm, sm := g.byName[c].dev.MAC, g.byName[s].dev.MAC
	copy(cg[:], []byte(c))
	copy(cg[10:], cm[:])
	copy(sg[:], []byte(s))
	copy(sg[10:], sm[:])
	return &smb2App{clientGUID: cg, serverGUID: sg, bootTime: -3 * 86400 * sec, blob: spnegoInit()}
}

// buildIndustrial schedules the controller traffic of the three cells and
// the pump station.
func (g *Generator) buildIndustrial() {
	// Cell A: S7comm and OPC UA.
	g.poll("hmi-a1", "plc-a1", 102, s7Slow, s7Fast, &s7App{dstTSAP: 0x0201, db1: 1, db2: 10, len1: 20, len2: 8},
		500*time.Millisecond)
	g.poll("ews01", "plc-a1", 102, s7EWS, s7Fast, &s7App{dstTSAP: 0x0101, db1: 100, db2: 101, len1: 32, len2: 4,
		order: "6ES7 516-3AN02-0AB0", hw: 4, fw: [3]byte{2, 9, 4}, comp: &szlComponents{
			asName: "ASSEMBLY_LINE_A", module: "plc-a1", plantID: "PLANT1 =A1+CAB01", copyright: "Original Siemens Equipment",
			serial: "S V-L9K803162019", cpuType: "CPU 1516-3 PN/DP", mmc: "SMC 4D2C3A1F", location: "Hall 1 cabinet 01",
		}}, time.Second)
	g.poll("ews01", "plc-a2", 102, s7EWS, s7Fast, &s7App{dstTSAP: 0x0102, db1: 5, db2: 6, len1: 16, len2: 16,
		order: "6ES7 315-2EH14-0AB0", hw: 4, fw: [3]byte{3, 2, 17}, comp: &szlComponents{
			asName: "PRESS_LINE_A", module: "plc-a2", plantID: "PLANT1 =A2+CAB02", copyright: "Original Siemens Equipment",
			serial: "S C-H4T172242011", cpuType: "CPU 315-2 PN/DP", mmc: "MMC 2A8F31C7", location: "Hall 1 cabinet 02",
		}}, 2*time.Second)
	g.dial(protoTCP, "ews01", "plc-a1", 102, s7plus, &s7pApp{ident: "1;6ES7 516-3AN02-0AB0;V2.9", host: "EWS01"},
		0, 3*time.Minute, 8*time.Second)
	g.poll("hist01", "plc-a2", 102, s7Slow, s7Fast, &s7App{dstTSAP: 0x0302, db1: 20, db2: 21, len1: 40, len2: 12},
		time.Second)
	g.dial(protoTCP, "hist01", "plc-a1", 4840, opcuaScript, &opcuaApp{url: "opc.tcp://10.10.10.11:4840"}, 0,
		5*time.Minute, 3*time.Second)
	g.dial(protoTCP, "scada01", "plc-a1", 4840, opcuaScript, &opcuaApp{url: "opc.tcp://plc-a1.plant.local:4840"}, 0,
		7*time.Minute, 6*time.Second)

	g.buildProfinet()

	// Cell B: EtherNet/IP explicit messaging, ListIdentity, CIP I/O.
	ids := map[string]cipIdentity{
		"plc-b1": {vendor: 1, devType: 0x0e, product: 166, major: 33, minor: 11, serial: 0x60c3a1f2,
			name: "1756-L83E/B", statusID: 0x3060}, // key switch REMOTE, RUN
		"plc-b2": {vendor: 1, devType: 0x0e, product: 201, major: 32, minor: 11, serial: 0x40a9d013,
			name: "5069-L320ER/A", statusID: 0x2070}, // key switch PROGRAM, idle
		"io-b1": {vendor: 1, devType: 0x0c, product: 122, major: 7, minor: 11, serial: 0x0031b5e2,
			name: "1734-AENTR/C Twisted-Pair Media", statusID: 0x0030},
	}
	for name, id := range ids {
		id.ip = g.byName[name].ip
		ids[name] = id
	}
	g.poll("hmi-b1", "plc-b1", 44818, enipSlow, enipFast, &enipApp{id: ids["plc-b1"], tag: "Line1_Speed"},
		250*time.Millisecond)
	g.poll("ews02", "plc-b1", 44818, enipSlow, enipFast, &enipApp{id: ids["plc-b1"], tag: "Filler_Count"},
		time.Second)
	g.poll("hist01", "plc-b2", 44818, enipSlow, enipFast, &enipApp{id: ids["plc-b2"], tag: "Conveyor_State"},
		time.Second)
	for _, t := range []string{"plc-b1", "plc-b2", "io-b1"} {
		g.dial(protoUDP, "ews02", t, 44818, udpOnce, &listIdentityApp{id: ids[t]}, 0, time.Minute, time.Second)
	}
	io := []struct {
		from, to string
		size     int
		runIdle  bool
		every    time.Duration
		connID   uint32
	}{
		{"plc-b1", "io-b1", 8, true, 50 * time.Millisecond, 0x2e7a0001},
		{"io-b1", "plc-b1", 10, false, 50 * time.Millisecond, 0xff1c0002},
		{"plc-b1", "plc-b2", 16, false, 100 * time.Millisecond, 0x2e7a0003},
		{"plc-b2", "plc-b1", 4, true, 100 * time.Millisecond, 0x51d80004},
	}
	for _, c := range io {
		from, to := g.byName[c.from], g.byName[c.to]
		every := (c.every / time.Duration(g.scale)).Microseconds()
		g.add(&cipIO{from: from, to: to, dst: g.hop(from, to), connID: c.connID, size: c.size, runIdle: c.runIdle,
			every: every}, max(g.online(c.from), g.online(c.to))+2*sec+g.between(0, 100*ms))
	}

	// Cell C and the pump station: Modbus/TCP.
	mb := func(serverID string, objs ...mbObject) *modbusApp {
		return &modbusApp{unit: 1, addr: 0, qty: 10, objects: objs, serverID: serverID}
	}
	g.poll("hmi-c1", "plc-c1", 502, mbSlow, mbFast, mb(""), 200*time.Millisecond)
	g.poll("hmi-c1", "plc-c2", 502, mbSlow, mbFast, mb(""), 500*time.Millisecond)
	g.poll("scada01", "plc-c1", 502, mbIdentSlow, mbIdentFast, mb("BMEP582040 SV03.10",
		mbObject{0, "Schneider Electric"}, mbObject{1, "BMEP582040"}, mbObject{2, "v3.10"},
		mbObject{3, "http://www.se.com"}, mbObject{4, "Modicon M580"}, mbObject{5, "BMEP582040"},
		mbObject{6, "UTIL_LINE_C"}), time.Second)
	g.poll("scada01", "plc-c2", 502, mbIdentSlow, mbIdentFast, mb("BMXP342020 SV03.30",
		mbObject{0, "Schneider Electric"}, mbObject{1, "BMX P34 2020"}, mbObject{2, "v3.30"},
		mbObject{3, "http://www.se.com"}, mbObject{4, "Modicon M340"}, mbObject{5, "BMX P34 2020"},
		mbObject{6, "BOILER_HOUSE"}), time.Second)
	g.poll("scada01", "plc-c3", 502, mbIdentSlow, mbIdentFast, mb("750-8212 PFC200 CS 2ETH RS",
		mbObject{0, "WAGO Kontakttechnik GmbH & Co. KG"}, mbObject{1, "750-8212"}, mbObject{2, "03.10.08(22)"},
		mbObject{3, "http://www.wago.com"}, mbObject{4, "PFC200 CS 2ETH RS"}, mbObject{5, "750-8212"},
		mbObject{6, "CoolingWater"}), time.Second)
	g.poll("scada01", "rtu-p1", 502, mbIdentSlow, mbIdentFast, mb("AXC F 2152",
		mbObject{0, "Phoenix Contact"}, mbObject{1, "AXC F 2152"}, mbObject{2, "2022.0.6"}), 2*time.Second)
	g.poll("hist01", "plc-c3", 502, mbSlow, mbFast, &modbusApp{unit: 1, addr: 100, qty: 20}, 2*time.Second)
}

// buildOffice schedules the traffic of the office hosts behind the firewall.
func (g *Generator) buildOffice() {
	browser := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	pi := &httpApp{host: "hist01.plant.local", path: "/PIVision/", agent: browser, server: "Microsoft-IIS/10.0",
		ctype: "text/html", body: htmlPage("PI Vision", "Plant overview displays.")}
	for i, pc := range []string{"off-pc01", "off-pc02", "off-pc03", "off-pc04"} {
		g.dial(protoUDP, pc, "dc01", 53, udpOnce, &dnsApp{qs: []dnsQ{
			{name: "hist01.plant.local", a: g.byName["hist01"].ip},
			{name: "wpad.plant.local", nx: true},
		}}, 0, 45*time.Second, 0)
		g.dial(protoTCP, pc, "hist01", 80, httpScript, pi, 0, time.Duration(90+30*i)*time.Second, time.Second)
	}
	piTLS := &tlsApp{sni: "hist01.plant.local", cert: selfSignedCert("hist01.plant.local"), req: 380, resp: 1100}
	g.dial(protoTCP, "off-pc03", "hist01", 443, httpsScript, piTLS, 0, 2*time.Minute, 4*time.Second)
	g.dial(protoTCP, "off-erp01", "hist01", 80, httpScript, &httpApp{host: "hist01.plant.local",
		path: "/piwebapi/streams/F1DPfilling/value", agent: "Apache-HttpClient/4.5.13 (Java/11.0.20)",
		server: "Microsoft-IIS/10.0", ctype: "application/json",
		body: `{"Timestamp":"2024-03-04T06:00:00Z","Value":812.5,"UnitsAbbreviation":"bottles/min","Good":true}`},
		0, time.Minute, 0)
	g.dial(protoTCP, "ews01", "off-wsus01", 8530, httpScript, &httpApp{host: "off-wsus01:8530",
		path: "/selfupdate/wuident.cab", agent: "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50",
		server: "Microsoft-IIS/10.0", ctype: "text/xml",
		body: "<?xml version=\"1.0\"?><ServerSyncInfo><Version>10.0</Version></ServerSyncInfo>\n"},
		0, 10*time.Minute, 0)
	g.dial(protoTCP, "ews01", "off-srv01", 445, smbScript, g.smb("ews01", "off-srv01"), 0, 10*time.Minute, 0)
	g.dial(protoTCP, "off-pc02", "hist01", 445, smbScript, g.smb("off-pc02", "hist01"), 0, 7*time.Minute,
		2*time.Second)
	rdp := g.dial(protoTCP, "off-lap01", "ews01", 3389, rdpScript, &rdpApp{user: "vendor", cert: selfSignedCert("ews01")}, 300*time.Millisecond,
		10*time.Minute, 0)
	rdp.maxCycles = 40
}

func itoa(b byte) string {
	if b >= 100 {
		return string([]byte{'0' + b/100, '0' + b/10%10, '0' + b%10})
	}
	if b >= 10 {
		return string([]byte{'0' + b/10, '0' + b%10})
	}
	return string([]byte{'0' + b})
}

// buildProfinet schedules the PROFINET traffic of cell A: the S7-1500 (IO
// controller "plc-a1") looks for its ET 200SP by name at start-up, connects
// to it and exchanges cyclic data; the service IPC browses the network
// (DCP Identify All) every few minutes.
func (g *Generator) buildProfinet() {
	plc, io := g.byName["plc-a1"], g.byName["io-a1"]
	mask, gw := [4]byte{255, 255, 255, 0}, g.cores[plc.zone].ip
	sPLC := &pnStation{n: plc, name: "plc-a1", vendor: "S7-1500", deviceID: 0x010e, role: 2, mask: mask, gw: gw}
	sIO := &pnStation{n: io, name: "io-a1", vendor: "ET 200SP", deviceID: 0x0313, role: 1, mask: mask, gw: gw}
	up := max(g.online("plc-a1"), g.online("io-a1")) + 600*ms
	g.add(&dcpTask{from: plc, filter: "io-a1", answers: []*pnStation{sIO}, xid: 0x01000000, once: true}, up)
	g.add(&pnioConnect{plc: plc, dev: io, plcName: "plc-a1", devID: 0x0313, every: 10 * 60 * sec}, up+200*ms)
	every := (128 * time.Millisecond / time.Duration(g.scale)).Microseconds()
	g.add(&pnRT{from: plc, to: io, frameID: 0x8001, size: 40, every: every}, up+400*ms)
	g.add(&pnRT{from: io, to: plc, frameID: 0x8000, size: 40, every: every}, up+400*ms+every/3)
	g.add(&dcpTask{from: g.byName["hmi-a2"], answers: []*pnStation{sPLC, sIO}, xid: 0x0a000000,
		every: 5 * 60 * sec}, g.online("hmi-a2")+20*sec)
}

// buildBuilding schedules the BACnet/IP traffic of the building VLAN.
func (g *Generator) buildBuilding() {
	nae, ws := g.byName["bms-nae01"], g.byName["bms-ws01"]
	devs := []*bacDevice{{instance: 50010, vendorID: 5, maxAPDU: 1476, props: [6]string{"NAE-01",
		"Johnson Controls, Inc.", "MS-NAE5510-3", "10.1.0.1902", "10.1", "Building 2 mechanical room"}}}
	for _, s := range SubDevices() {
		devs = append(devs, &bacDevice{net: s.Net, addr: s.Addr, instance: s.Instance, vendorID: 5, maxAPDU: 480,
			props: [6]string{s.Name, "Johnson Controls, Inc.", s.Model, s.Software, "10.1", "Building 2 level 1"}})
	}
	bcast := zones[nae.zone].prefix.Addr().As4()
	bcast[3] = 255
	g.add(&bacnetDiscovery{ws: ws, nae: nae, devs: devs, bcast: bcast}, g.online("bms-ws01")+2*sec)
	d := g.dial(protoUDP, "bms-ws01", "bms-nae01", bacnetPort, udpOnce, &bacnetRPM{devs: devs}, 0, 20*time.Second,
		3*time.Second)
	d.fixedPort = bacnetPort
}

// buildSubstation schedules the substation: DNP3 and IEC 104 polling by the
// SCADA server, GOOSE from the relays, MMS from the gateway to the relays.
func (g *Generator) buildSubstation() {
	iv := func(d time.Duration) time.Duration { return d / time.Duration(g.scale) }
	g.dial(protoTCP, "scada01", "sub-rtu01", 20000, tcpPoll(nil, mReq, mResp, false),
		&dnp3App{master: 1, outstation: 10}, iv(2*time.Second), 0, time.Second)
	g.dial(protoTCP, "scada01", "sub-gw01", 2404, tcpPoll([][2]uint8{{mOpen, mOpened}, {mSetup, mSetupd}}, mReq, mResp,
		false), &iec104App{ca: 21}, iv(3*time.Second), 0, 2*time.Second)
	for i, r := range []struct {
		name, ref, ds, id string
		rev               uint32
		vendor, model, fw string
	}{
		{"ied01", "IED1CTRL/LLN0$GO$gcb01", "IED1CTRL/LLN0$DS_Trip", "IED1_TRIP", 3, "Siemens", "7SJ85", "V08.80"},
		{"ied02", "IED2CTRL/LLN0$GO$gcb01", "IED2CTRL/LLN0$DS_Trip", "IED2_TRIP", 1, "ABB", "REF615", "5.0.1"},
	} {
		n := g.byName[r.name]
		dst := gooseMAC
		dst[5] = byte(1 + i)
		g.add(&gooseTask{n: n, dst: dst, appID: uint16(0x0001 + i), gocbRef: r.ref, datSet: r.ds, goID: r.id,
			confRev: r.rev}, g.online(r.name)+500*ms)
		g.dial(protoTCP, "sub-gw01", r.name, 102, tcpOnce([][2]uint8{{mOpen, mOpened}, {mSetup, mSetupd},
			{mIdent, mIdentd}}, false), &mmsApp{vendor: r.vendor, model: r.model, revision: r.fw}, 0,
			4*time.Minute, 3*time.Second)
	}
}

// buildScenarios schedules the traffic the default policy pack is meant to
// flag (see doc.go for the timeline).
func (g *Generator) buildScenarios() {
	// Telnet on the Moxa switch, used by the monitoring host.
	g.dial(protoTCP, "nms01", "sw-cellb", 23, telnetScript(8), &telnetApp{text: []string{
		"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18",
		"\xff\xfd\x01\xff\xfd\x03\xff\xfc\x18",
		"\r\n\r\nModel: EDS-510E-3GTXSFP\r\nName: sw-cellb\r\nLocation: Hall 2 packaging cabinet\r\n" +
			"Firmware Version: V5.5 build 20061114\r\nSerial No: TACBB1034207\r\nIP: 10.10.20.2\r\n" +
			"MAC: 00-90-E8-7A-20-02\r\n\r\nlogin as: ",
		"admin\r\n",
		"password: ",
		"moxa\r\n",
		"\r\nEDS-510E-3GTXSFP# ",
		"show interface counters\r\n",
	}}, 0, 5*time.Minute, 25*time.Second)

	// The monitoring host's inventory scan of the Windows 7 HMI over SMB1.
	var guid [16]byte
	copy(guid[:], "HMI-A2")
	g.dial(protoTCP, "nms01", "hmi-a2", 445, smb1Script, &smb1App{server: "HMI-A2", domain: "PLANT",
		nativeOS: "Windows 7 Professional 7601 Service Pack 1", lanman: "Windows 7 Professional 6.1", guid: guid},
		0, 10*time.Minute, 5*time.Second)

	// OPC UA discovery of the SCADA server by the operator stations.
	disc := func() *opcuaDiscovery {
		return &opcuaDiscovery{hello: opcuaApp{url: "opc.tcp://scada01.plant.local:4840"},
			url: "opc.tcp://scada01.plant.local:4840", appURI: "urn:scada01:AVEVA:OIServer",
			productURI: "http://www.aveva.com/OIServer", appName: "AVEVA OI Server OPC UA",
			cert: selfSignedCert("scada01.plant.local")}
	}
	g.dial(protoTCP, "ops01", "scada01", 4840, opcuaDiscoveryScript, disc(), 0, 6*time.Minute, 8*time.Second)
	g.dial(protoTCP, "hist01", "scada01", 4840, opcuaDiscoveryScript, disc(), 0, 9*time.Minute, 15*time.Second)

	// About three minutes in: a program download (OB 1) to the S7-300 from
	// an office PC through the firewall.
	code := make([]byte, 196)
	copy(code, []byte{0x70, 0x70, 0x01, 0x01, 0x01, 0x08, 0x00, 0x01, 0x00, 0x00, 0x01, 0x1e})
	dl := g.dial(protoTCP, "off-pc01", "plc-a2", 102, s7DownloadScript, &s7DownloadApp{
		s7App: s7App{dstTSAP: 0x0102}, file: "_0800001P", code: code}, 0, 0, 160*time.Second)
	dl.once = true

	// About four and a half minutes in: another office PC writes holding
	// registers of the M580 (Modbus function 16).
	mw := g.dial(protoTCP, "off-pc03", "plc-c1", 502, mbWrite, &modbusApp{unit: 1, addr: 200, qty: 4, write: true},
		0, 0, 250*time.Second)
	mw.once = true
}
