//go:build itest

package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"otscope/model"
)

// The scan's budget, as the command line gives it; the wire must keep it.
const (
	globalCap  = 50
	perHostCap = 5
)

// want is one identity value a server holds and the scan must find as a
// fact with source kind "active".
type want struct {
	server string // the peer that holds it (skipped with it)
	host   string
	proto  string // the fact's source protocol
	field  string
	value  string
	prefix bool // value is a prefix (version strings of the installed package)
}

var wants = []want{
	{"snmpd", "plc1", "snmp", model.FieldSNMPSysDescr, "Schneider Electric BMX P34 2020 Modicon M340 CPU v3.20", false},
	{"snmpd", "plc1", "snmp", model.FieldSNMPSysName, "plc1-pump-station", false},
	{"snmpd", "plc1", "snmp", model.FieldSNMPSysLocation, "Line 1 pump house", false},
	// FC43 basic objects, then regular ones (product name, model, application)
	{"pymodbus", "plc1", "modbus", model.FieldVendor, "Schneider Electric", false},
	{"pymodbus", "plc1", "modbus", model.FieldOrderNumber, "BMX P34 2020", false},
	{"pymodbus", "plc1", "modbus", model.FieldFirmware, "v3.20", false},
	{"pymodbus", "plc1", "modbus", model.FieldProduct, "Modicon M340", false},
	{"pymodbus", "plc1", "modbus", "modbus.user_application_name", "pump-station-2", false},
	// no FC43: the scanner falls back to FC17, which libmodbus answers with "LMB" and its version
	{"libmodbus", "rtu", "modbus", "modbus.server_id", "0xb4 LMB3.", true},
	// Snap7's built-in SZL data
	{"snap7", "plc2", "s7comm", model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", false},
	{"snap7", "plc2", "s7comm", model.FieldSerial, "S C-C2UR28922012", false},
	{"snap7", "plc2", "s7comm", model.FieldProduct, "CPU 315-2 PN/DP", false},
	{"snap7", "plc2", "s7comm", model.FieldOperatingMode, "RUN", false},
	{"dcp", "plc2", "pn-dcp", model.FieldStationName, dcpStation, false},
	{"dcp", "plc2", "pn-dcp", model.FieldPNVendorID, "42", false},
	{"dcp", "plc2", "pn-dcp", model.FieldPNDeviceID, "269", false},
	{"opcua", "hmi", "opcua", model.FieldOPCUAAppURI, "urn:acme:testplc:server", false},
	{"opcua", "hmi", "opcua", model.FieldOPCUAProductURI, "urn:acme:testplc", false},
	{"bacnet", "hvac", "bacnet", model.FieldBACnetInstance, "1234", false},
	{"bacnet", "hvac", "bacnet", model.FieldVendor, "Delta Controls", false},
	{"bacnet", "hvac", "bacnet", model.FieldProduct, "eBCON", false},
	{"bacnet", "hvac", "bacnet", model.FieldFirmware, "3.40", false},
	{"http", "web", "http", "http.server", "SimpleHTTP/", true},
	// ours (otsim): what its ListIdentity / link status / TESTFR answers carry
	// (otsim's identity: vendor id 1, revision 20.11, serial 0x60a1b2c3; the name is given on its command line)
	{"otsim-enip", "enip", "enip", model.FieldVendor, "Rockwell Automation/Allen-Bradley", false},
	{"otsim-enip", "enip", "enip", model.FieldProduct, "1756-L61/B LOGIX5561", false},
	{"otsim-enip", "enip", "enip", model.FieldFirmware, "20.11", false},
	{"otsim-enip", "enip", "enip", model.FieldSerial, "0x60a1b2c3", false},
	// link address 1: what the probe asks when nothing passive names another
	{"otsim-dnp3-iec104", "dnp", "dnp3", model.FieldDNP3Address, "1", false},
	// TESTFR carries no identity: the answer shows the station speaks IEC 104
	{"otsim-dnp3-iec104", "dnp", "", "service:tcp/2404", "iec104", false},
}

type factJSON struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Source struct {
		Kind     string `json:"kind"`
		Protocol string `json:"protocol"`
		IP       string `json:"ip"`
	} `json:"source"`
}

type assetJSON struct {
	ID       string     `json:"id"`
	MACs     []string   `json:"macs"`
	IPs      []string   `json:"ips"`
	Facts    []factJSON `json:"facts"`
	Services []struct {
		Transport string `json:"transport"`
		Port      int    `json:"port"`
		Protocol  string `json:"protocol"`
	} `json:"services"`
}

// summary collects what the CI log shows at the end.
type summary struct {
	servers    []string
	identities string
	scanTime   time.Duration
	sent       int
	maxPPS     int
	maxHost    int
	maxHostIP  string
	requests   map[string]int
	logged     int
	panicStop  string
}

func (s *summary) print(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n==== otscope itest summary ====\n")
	fmt.Fprintf(&b, "servers up (%d): %s\n", len(s.servers), strings.Join(s.servers, ", "))
	fmt.Fprintf(&b, "identities found: %s\n", s.identities)
	fmt.Fprintf(&b, "scan: %s, %d frames from the scanner, %d packet-log records\n", s.scanTime.Round(time.Millisecond), s.sent, s.logged)
	fmt.Fprintf(&b, "max frames in 1 s: %d global (cap %d), %d to one host %s (cap %d)\n", s.maxPPS, globalCap, s.maxHost, s.maxHostIP, perHostCap)
	keys := slices.Sorted(maps.Keys(s.requests))
	var parts []string
	n := 0
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, s.requests[k]))
		n += s.requests[k]
	}
	fmt.Fprintf(&b, "frames dissected by tshark (%d): %s\n", n, strings.Join(parts, ", "))
	fmt.Fprintf(&b, "panic stop: %s\n", s.panicStop)
	t.Log(b.String())
}

// otscope runs the binary in the root namespace (database work only).
func otscope(t *testing.T, e *env, args ...string) []byte {
	t.Helper()
	args = append(args, "--log", filepath.Join(e.out, "otscope.log"))
	out, err := exec.Command(e.otscope, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("otscope %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// scanProbes names every identification probe. "all" would do for the TCP
// ones, but the scanner sends blind UDP (SNMP, BACnet) to a host nothing is
// known of only when --probes names it; "tcp" (connect only) adds nothing.
const scanProbes = "arp,dcp,modbus,s7,enip,bacnet,snmp,opcua,http,dnp3,iec104"

func scanArgs(e *env, db, session string, extra ...string) []string {
	args := []string{e.otscope, "scan", labNet, "--session", session, "--db", db,
		"--rate", strconv.Itoa(globalCap), "--per-host", strconv.Itoa(perHostCap),
		"--community", "wrongone", "--community", "public", "--probes", scanProbes, "--iface", "eth0",
		"--log", filepath.Join(e.out, "otscope-"+session+".log")}
	return append(args, extra...)
}

func TestScanLab(t *testing.T) {
	preflight(t)
	e := newEnv(t)
	labUp(t, e)
	sum := &summary{requests: map[string]int{}}
	sum.servers = startServers(t, e)
	t.Cleanup(func() { sum.print(t) })
	if out, err := exec.Command(e.otscope, "scan", "--help").CombinedOutput(); err != nil && strings.Contains(string(out), "unknown command") {
		t.Fatalf("the plant is up, but otscope has no scan command yet: %s", out)
	}
	db := filepath.Join(e.out, "db")

	t.Run("dry-run", func(t *testing.T) {
		c := startCapture(t, e, "dry-run")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, code, err := runIn(ctx, scannerNS, scanArgs(e, db, "dryrun", "--dry-run")...)
		c.stop(t)
		if err != nil || code != 0 {
			t.Fatalf("scan --dry-run: exit %d, %v\n%s", code, err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		t.Logf("plan (%d lines), first lines:\n%s", len(lines), strings.Join(lines[:min(len(lines), 12)], "\n"))
		if !strings.Contains(strings.ToLower(out), "packet") || !strings.Contains(out, "10.99.0.") {
			t.Errorf("dry run printed no plan (no packet count, no lab address):\n%s", out)
		}
		if sent := scannerFrames(readFrames(t, c.file)); len(sent) > 0 {
			t.Errorf("dry run put %d frames on the wire, first %s", len(sent), sent[0])
		}
	})

	var frames, sent []*frame
	var records []model.ScanRecord
	var assets []assetJSON
	t.Run("scan", func(t *testing.T) {
		c := startCapture(t, e, "scan")
		ctx, cancel := context.WithTimeout(context.Background(), scanTimeout())
		defer cancel()
		t0 := time.Now()
		out, code, err := runIn(ctx, scannerNS, scanArgs(e, db, "lab", "--yes")...)
		sum.scanTime = time.Since(t0)
		c.stop(t)
		t.Logf("otscope scan: exit %d in %s; last output:\n%s", code, sum.scanTime.Round(time.Millisecond), lastLines(out, 15))
		switch {
		case ctx.Err() != nil:
			// the wire is still checked: what was sent must keep every promise
			t.Errorf("otscope scan did not finish in %s (stopped with SIGINT, exit %d); checking what it sent", scanTimeout(), code)
		case err != nil || code != 0:
			t.Fatalf("otscope scan failed: exit %d, %v", code, err)
		}
		frames = readFrames(t, c.file)
		sent = scannerFrames(frames)
		sum.sent = len(sent)
		if len(sent) == 0 {
			t.Fatal("the capture holds no frame from the scanner")
		}
		if err := json.Unmarshal(otscope(t, e, "scanlog", "--session", "lab", "--db", db, "--format", "json"), &records); err != nil {
			t.Fatalf("scanlog json: %v", err)
		}
		sum.logged = len(records)
		if err := json.Unmarshal(otscope(t, e, "assets", "--session", "lab", "--db", db, "--format", "json"), &assets); err != nil {
			t.Fatalf("assets json: %v", err)
		}
	})
	if len(sent) == 0 {
		return
	}

	t.Run("identities", func(t *testing.T) { checkIdentities(t, sum, assets) })
	t.Run("budget", func(t *testing.T) { checkBudget(t, sum, sent) })
	t.Run("allow-list", func(t *testing.T) { checkAllowList(t, e, sum, sent) })
	t.Run("scope", func(t *testing.T) { checkScope(t, sent) })
	t.Run("packet-log", func(t *testing.T) { checkPacketLog(t, sent, records) })
	t.Run("peers", func(t *testing.T) { checkPeerBehaviour(t, sum, frames) })
	t.Run("panic", func(t *testing.T) { checkPanic(t, e, sum, db) })
}

// scanTimeout bounds the full scan (ITEST_SCAN_TIMEOUT, default 5 min).
// The /24 holds 9 live hosts: 245 silent addresses that each cost one
// unanswered ARP (2 s, 4 targets in flight) take about 2 min, the live
// hosts well under one; CI has 15 min for everything.
func scanTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("ITEST_SCAN_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 5 * time.Minute
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// checkIdentities: every value the running servers hold is an active fact
// on the asset of their host.
func checkIdentities(t *testing.T, sum *summary, assets []assetJSON) {
	found, total := 0, 0
	for _, w := range wants {
		if !slices.Contains(sum.servers, w.server) {
			continue
		}
		total++
		h := hosts[w.host]
		var facts []factJSON
		var services []string
		for _, a := range assets {
			if slices.Contains(a.IPs, h.ip) || slices.Contains(a.MACs, h.mac) {
				facts = append(facts, a.Facts...)
				for _, s := range a.Services {
					services = append(services, fmt.Sprintf("service:%s/%d=%s", s.Transport, s.Port, s.Protocol))
				}
			}
		}
		if strings.HasPrefix(w.field, "service:") {
			// the session had no passive capture: a service can only come from the scan
			if !slices.Contains(services, w.field+"="+w.value) {
				t.Errorf("%s on %s: no %s %s (services: %v)", w.server, h.ip, w.field, w.value, services)
				continue
			}
			found++
			continue
		}
		var hit *factJSON
		var near []string
		for i, f := range facts {
			if f.Source.Kind != "active" || f.Source.Protocol != w.proto {
				continue
			}
			if (w.field == "" || f.Field == w.field) && (f.Value == w.value || w.prefix && strings.HasPrefix(f.Value, w.value)) {
				hit = &facts[i]
				break
			}
			near = append(near, f.Field+"="+f.Value)
		}
		if hit == nil {
			t.Errorf("%s on %s: no active %s fact %s=%q (active %s facts there: %v)", w.server, h.ip, w.proto, w.field, w.value, w.proto, near)
			continue
		}
		found++
		if w.value == "" || w.prefix {
			t.Logf("%s on %s: %s=%q", w.server, h.ip, hit.Field, hit.Value)
		}
	}
	sum.identities = fmt.Sprintf("%d of %d expected values", found, total)
}

// checkBudget: the rate caps, from the wire. Every frame the scanner's MAC
// sent counts (handshakes, ACKs, closes, retransmissions, kernel replies).
func checkBudget(t *testing.T, sum *summary, sent []*frame) {
	n, at := maxWindow(sent)
	sum.maxPPS = n
	if n > globalCap {
		t.Errorf("%d frames from the scanner in the second from %s: global cap is %d", n, at.Format("15:04:05.000"), globalCap)
	}
	byHost := map[string][]*frame{}
	for _, fr := range sent {
		if tg := fr.target(); tg != "" {
			byHost[tg] = append(byHost[tg], fr)
		}
	}
	for ip, frs := range byHost {
		n, at := maxWindow(frs)
		if n > sum.maxHost {
			sum.maxHost, sum.maxHostIP = n, ip
		}
		if n > perHostCap {
			t.Errorf("%d frames to %s in the second from %s: per-host cap is %d", n, ip, at.Format("15:04:05.000"), perHostCap)
		}
	}
}

// checkAllowList: tshark dissects every frame the scanner sent; each must
// be an allow-listed request or connection plumbing, and well-formed.
func checkAllowList(t *testing.T, e *env, sum *summary, sent []*frame) {
	payloads := map[string]bool{} // payloads of allowed requests, to recognise their retransmissions
	bad := 0
	for _, fr := range sent {
		kind, err := classify(fr)
		if err == nil && kind == "tcp.retransmission" && !payloads[fr.one("tcp.payload")] {
			err = fmt.Errorf("retransmission of bytes never sent as an allowed request")
		}
		if err != nil {
			if bad++; bad <= 20 {
				t.Errorf("not on the allow-list: %s: %v", fr, err)
			}
			continue
		}
		if p := fr.one("tcp.payload"); p != "" {
			payloads[p] = true
		}
		if fr.has("_ws.malformed") {
			t.Errorf("malformed (tshark): %s %s", fr, kind)
		}
		sum.requests[kind]++
	}
	if bad > 20 {
		t.Errorf("... %d frames not on the allow-list in all", bad)
	}
}

// checkScope: nothing leaves the scope. Broadcast is only ARP requests for
// lab addresses; multicast only DCP Identify.
func checkScope(t *testing.T, sent []*frame) {
	for _, fr := range sent {
		dst := fr.one("eth.dst")
		switch {
		case fr.has("arp.opcode"):
			if tg := fr.one("arp.dst.proto_ipv4"); !inScope(tg) {
				t.Errorf("ARP for %s, outside the scope: %s", tg, fr)
			}
		case fr.one("eth.type") == "0x8892":
			if dst != "01:0e:cf:00:00:00" && !isLabMAC(dst) {
				t.Errorf("DCP frame to %s: neither the DCP multicast nor a lab host", dst)
			}
		case fr.has("ip.dst"):
			if !inScope(fr.one("ip.dst")) {
				t.Errorf("packet to %s, outside the scope: %s", fr.one("ip.dst"), fr)
			}
			if !isLabMAC(dst) {
				t.Errorf("IP packet to Ethernet %s (not a lab host): %s", dst, fr)
			}
		default:
			t.Errorf("frame of no IP/ARP/DCP to %s: %s", dst, fr)
		}
	}
}

func isLabMAC(m string) bool {
	for _, h := range hosts {
		if h.mac == m {
			return true
		}
	}
	return false
}

// checkPacketLog: the session's packet log matches the wire. Every frame
// with a payload has a record with its target, port and size, every sent
// record is on the wire, and per target the IP frames and the ARP frames
// each agree with the packets the log counts (see the tolerances below).
func checkPacketLog(t *testing.T, sent []*frame, records []model.ScanRecord) {
	type key struct {
		target string
		port   int
		bytes  int
	}
	wire, logged, maxPk := map[key]int{}, map[key]int{}, map[key]int{}
	wireIP, wireARP, wireDCP := map[string]int{}, map[string]int{}, 0
	for _, fr := range sent {
		switch {
		case fr.has("ip.dst"):
			wireIP[fr.one("ip.dst")]++
		case fr.one("arp.opcode") == "1":
			wireARP[fr.target()]++
		case fr.one("eth.type") == "0x8892":
			wireDCP++
		}
		if fr.payloadLen() > 0 {
			wire[key{fr.one("ip.dst"), fr.dstPort(), fr.payloadLen()}]++
		}
	}
	logIP, logARP, logDCP := map[string]int{}, map[string]int{}, 0
	for _, r := range records {
		tg := r.Target.String()
		switch {
		case r.Kind == "dcp.identify":
			logDCP += r.Packets
		case r.Transport == "l2":
			logARP[tg] += r.Packets
		default:
			logIP[tg] += r.Packets
		}
		if r.Transport != "l2" && r.Bytes > 0 && r.Packets > 0 {
			k := key{tg, int(r.Port), r.Bytes}
			logged[k]++
			maxPk[k] += r.Packets
		}
	}
	for k, n := range wire {
		switch {
		case logged[k] == 0:
			t.Errorf("%d payload frame(s) to %s:%d of %d bytes have no packet-log record", n, k.target, k.port, k.bytes)
		case n < logged[k]:
			t.Errorf("%s:%d %d bytes: %d records but only %d frames on the wire", k.target, k.port, k.bytes, logged[k], n)
		case n > maxPk[k]:
			t.Errorf("%s:%d %d bytes: %d frames on the wire, the records account for %d packets", k.target, k.port, k.bytes, n, maxPk[k])
		}
	}
	var unsent []string
	for k, n := range logged {
		if wire[k] == 0 && k.target != scannerIP { // the scanner's own address is reached over lo
			unsent = append(unsent, fmt.Sprintf("%d record(s) for %s:%d of %d bytes", n, k.target, k.port, k.bytes))
		}
	}
	slices.Sort(unsent)
	for i, u := range unsent {
		if i == 10 {
			t.Errorf("... %d keys logged but never on the wire in all", len(unsent))
			break
		}
		t.Errorf("%s, but no such frame on the wire", u)
	}
	if wireDCP != logDCP {
		t.Errorf("%d DCP frames on the wire, the packet log counts %d", wireDCP, logDCP)
	}
	// IP frames: the log counts a connection's packets from the kernel's
	// own segment counter, so they must agree; one frame of slack per
	// target for an ACK the kernel sends after the counter is read (a late
	// FIN of the peer).
	// ARP: the kernel resolves the target's MAC itself before the first
	// connect (the scanner's own ARP reply does not enter its neighbour
	// table) and re-probes an entry that went stale during a long target:
	// two frames of slack. More than that is the kernel sending what the
	// budget and the log never saw.
	targets := map[string]bool{}
	for _, m := range []map[string]int{wireIP, wireARP, logIP, logARP} {
		for tg := range m {
			targets[tg] = true
		}
	}
	var bad int
	var sumW, sumL int
	for _, tg := range slices.SortedFunc(maps.Keys(targets), func(a, b string) int {
		x, errA := netip.ParseAddr(a)
		y, errB := netip.ParseAddr(b)
		if errA != nil || errB != nil {
			return strings.Compare(a, b)
		}
		return x.Compare(y)
	}) {
		if tg == scannerIP {
			continue
		}
		sumW += wireIP[tg] + wireARP[tg]
		sumL += logIP[tg] + logARP[tg]
		wi, li, wa, la := wireIP[tg], logIP[tg], wireARP[tg], logARP[tg]
		if wi > li+1 || wi < li-1 || wa > la+2 || wa < la {
			if bad++; bad <= 12 {
				t.Errorf("%s: wire has %d IP + %d ARP frames, the packet log counts %d IP + %d ARP", tg, wi, wa, li, la)
			}
		}
	}
	if bad > 12 {
		t.Errorf("... %d targets disagree in all", bad)
	}
	t.Logf("packet totals: wire %d, log %d (scanner's own address left out); %d DCP frames", sumW, sumL, wireDCP)
}

// checkPeerBehaviour: what the real peers did with the scan, from the wire.
func checkPeerBehaviour(t *testing.T, sum *summary, frames []*frame) {
	if slices.Contains(sum.servers, "snmpd") {
		var asked, answered int
		for _, fr := range frames {
			// an ICMP error quotes the request, community and all: not an answer
			if fr.one("snmp.community") != "wrongone" || fr.has("icmp.type") {
				continue
			}
			if fr.fromScanner() {
				asked++
			} else if fr.one("ip.src") == hosts["plc1"].ip && fr.one("udp.srcport") == "161" {
				answered++
			}
		}
		if asked == 0 {
			t.Errorf("the scanner never tried the community wrongone")
		}
		if answered > 0 {
			t.Errorf("snmpd answered the wrong community %d times", answered)
		}
	}
	if slices.Contains(sum.servers, "libmodbus") {
		rtu := hosts["rtu"].ip
		var fc43, exc, fc17After time.Time
		for _, fr := range frames {
			switch {
			case fr.fromScanner() && fr.one("ip.dst") == rtu && slices.Contains(fr.get("modbus.func_code"), "43") && fc43.IsZero():
				fc43 = fr.ts
			case !fr.fromScanner() && fr.one("ip.src") == rtu && fr.has("modbus.exception_code") && exc.IsZero():
				if fr.one("modbus.exception_code") != "1" {
					t.Errorf("libmodbus answered FC43 with exception %s, want 01", fr.one("modbus.exception_code"))
				}
				exc = fr.ts
			case fr.fromScanner() && fr.one("ip.dst") == rtu && slices.Contains(fr.get("modbus.func_code"), "17") && !exc.IsZero() && fc17After.IsZero():
				fc17After = fr.ts
			}
		}
		if fc43.IsZero() || exc.IsZero() || fc17After.IsZero() {
			t.Errorf("libmodbus: want FC43 -> exception 01 -> FC17 on the wire, saw FC43 %v, exception %v, FC17 after %v",
				!fc43.IsZero(), !exc.IsZero(), !fc17After.IsZero())
		}
	}
}

// checkPanic: a slow scan is stopped by SIGINT; nothing the scanner sends
// may follow the signal by more than 100 ms. The RSTs that abort its open
// connections must come inside those 100 ms too. Frames the kernel sends
// in reply to a peer's late frame (RST for a closed socket, ICMP
// unreachable for a late UDP answer) are not the scanner transmitting and
// are listed, not failed.
func checkPanic(t *testing.T, e *env, sum *summary, db string) {
	c := startCapture(t, e, "panic")
	// one target, TCP probes only: at 5 pps a connection is open when the
	// signal comes, so its abort (RST) is on the wire too
	args := scanArgs(e, db, "panic", "--yes")
	args[2] = hosts["plc2"].ip
	for i, a := range args {
		switch {
		case a == strconv.Itoa(globalCap) && args[i-1] == "--rate":
			args[i] = "5"
		case a == scanProbes:
			args[i] = "s7,modbus,opcua,http"
		}
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", scannerNS}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(2 * time.Second)
	sig := time.Now()
	// ip netns exec execs otscope in place: this PID is otscope's
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	var exitAfter time.Duration
	select {
	case err := <-done:
		exitAfter = time.Since(sig)
		t.Logf("otscope exited %v after %s; output:\n%s", err, exitAfter.Round(time.Millisecond), lastLines(out.String(), 8))
	case <-time.After(10 * time.Second):
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Errorf("otscope still running 10 s after SIGINT (killed)")
	}
	time.Sleep(1500 * time.Millisecond) // late frames would show here
	c.stop(t)
	frames := readFrames(t, c.file)
	var before, after, reactive int
	var last time.Time
	var lastPeer = map[string]time.Time{} // when each peer last sent to the scanner
	for _, fr := range frames {
		if !fr.fromScanner() {
			if fr.one("ip.dst") == scannerIP {
				lastPeer[fr.one("ip.src")] = fr.ts
			}
			continue
		}
		if fr.ts.Before(sig) {
			before++
			continue
		}
		if fr.ts.Sub(sig) <= 100*time.Millisecond {
			last = fr.ts
			continue
		}
		kind, _ := classify(fr)
		if (kind == "tcp.rst" || strings.HasPrefix(kind, "icmp.unreachable") || strings.HasPrefix(kind, "arp.reply")) &&
			fr.ts.Sub(lastPeer[fr.target()]) < 10*time.Millisecond {
			reactive++
			t.Logf("kernel reply %s at +%s to a late peer frame", fr, fr.ts.Sub(sig).Round(time.Millisecond))
			continue
		}
		after++
		if after <= 10 {
			t.Errorf("scanner frame %s at +%s after SIGINT (limit 100 ms)", fr, fr.ts.Sub(sig).Round(time.Millisecond))
		}
	}
	if before == 0 {
		t.Errorf("the scan sent nothing in the 2 s before SIGINT: the test proves nothing")
	}
	var rst int
	for _, fr := range frames {
		if fr.fromScanner() && !fr.ts.Before(sig) && fr.one("tcp.flags.reset") == "1" {
			rst++
		}
	}
	stop := "no frame after the signal"
	if !last.IsZero() {
		stop = fmt.Sprintf("last frame +%s after the signal", last.Sub(sig).Round(100*time.Microsecond))
	}
	sum.panicStop = fmt.Sprintf("%d frames before SIGINT, %s (%d RST), %d later than 100 ms (%d kernel replies to late peer frames), exit after %s",
		before, stop, rst, after, reactive, exitAfter.Round(time.Millisecond))
}
