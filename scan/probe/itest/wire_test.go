//go:build itest

package itest

import (
	"bufio"
	"bytes"
	"fmt"
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
)

// capture is tcpdump on the monitor port (a hub port: it sees every frame
// of the plant), started before the scanner and stopped after it.
type capture struct {
	file string
	p    *proc
}

func startCapture(t *testing.T, e *env, name string) *capture {
	t.Helper()
	file := filepath.Join(e.out, name+".pcap")
	// -U: write each packet at once, so SIGINT loses nothing
	p := start(t, e, "tcpdump-"+name, monitorNS, e.out, nil, "tcpdump", "-i", "eth0", "-n", "-Z", "root", "-U", "-s", "0", "-w", file)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(p.log); bytes.Contains(b, []byte("listening on")) {
			break
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("tcpdump on %s did not start:\n%s", monitorNS, p.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &capture{file: file, p: p}
}

// stop waits a little for frames in flight, then ends tcpdump.
func (c *capture) stop(t *testing.T) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	syscall.Kill(c.p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-c.p.done:
	case <-time.After(5 * time.Second):
		c.p.stop()
	}
}

// The tshark fields the assertions read: addressing, then one or two
// fields per protocol that say which request a frame carries.
var fieldNames = []string{
	"frame.number", "frame.time_epoch", "frame.len", "eth.src", "eth.dst", "eth.type",
	"arp.opcode", "arp.dst.proto_ipv4", "ip.src", "ip.dst", "ip.proto", "icmp.type",
	"tcp.srcport", "tcp.dstport", "tcp.len", "tcp.flags.syn", "tcp.flags.fin", "tcp.flags.reset",
	"tcp.analysis.retransmission", "tcp.payload", "udp.srcport", "udp.dstport", "udp.length", "udp.payload",
	"_ws.col.Protocol", "_ws.malformed",
	"modbus.func_code", "modbus.mei", "modbus.read_device_id", "modbus.object_id", "modbus.exception_code", "mbtcp.unit_id",
	"cotp.type", "s7comm.header.rosctr", "s7comm.param.func", "s7comm.param.userdata.type",
	"s7comm.param.userdata.funcgroup", "s7comm.param.userdata.subfunc", "s7comm.data.userdata.szl_id",
	"enip.command", "cip.sc", "cip.class",
	"bacapp.type", "bacapp.confirmed_service", "bacapp.unconfirmed_service", "bacapp.objectType",
	"snmp.community", "snmp.data",
	"opcua.transport.type", "opcua.servicenodeid.numeric", "opcua.security.spu",
	"http.request.method", "http.request.uri",
	"dnp3.ctl.prifunc", "dnp3.ctl.prm",
	"iec60870_104.type", "iec60870_104.utype",
	"pn_dcp.service_id", "pn_dcp.service_type",
}

// frame is one captured frame as tshark dissected it.
type frame struct {
	no  int
	ts  time.Time
	f   map[string][]string
	src string // Ethernet source
}

// get returns every occurrence of a field (several PDUs in one segment
// give several).
func (fr *frame) get(name string) []string { return fr.f[name] }

func (fr *frame) one(name string) string {
	if v := fr.f[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (fr *frame) num(name string) int {
	n, _ := strconv.ParseInt(fr.one(name), 0, 64)
	return int(n)
}

func (fr *frame) has(name string) bool { return len(fr.f[name]) > 0 }

func (fr *frame) fromScanner() bool { return fr.src == scannerMAC }

// payloadLen is the TCP or UDP payload size.
func (fr *frame) payloadLen() int {
	if fr.has("tcp.len") {
		return fr.num("tcp.len")
	}
	if fr.has("udp.length") {
		return fr.num("udp.length") - 8
	}
	return 0
}

// dstPort is the TCP or UDP destination port.
func (fr *frame) dstPort() int {
	if fr.has("tcp.dstport") {
		return fr.num("tcp.dstport")
	}
	return fr.num("udp.dstport")
}

// target is the lab address a frame is for: the IP destination, or the
// address an ARP request asks for.
func (fr *frame) target() string {
	if fr.has("ip.dst") {
		return fr.one("ip.dst")
	}
	if fr.one("arp.opcode") == "1" {
		return fr.one("arp.dst.proto_ipv4")
	}
	return ""
}

func (fr *frame) String() string {
	return fmt.Sprintf("#%d %s %s->%s %s", fr.no, fr.one("_ws.col.Protocol"), fr.one("ip.src"), fr.target(), fr.one("eth.type"))
}

// readFrames dissects a capture with tshark.
func readFrames(t *testing.T, file string) []*frame {
	t.Helper()
	args := []string{"-r", file, "-n", "-T", "fields", "-E", "header=n", "-E", "separator=/t", "-E", "occurrence=a",
		"-E", "aggregator=\x1f", "-E", "quote=n"}
	for _, f := range fieldNames {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", file, err, stderr.Bytes())
	}
	var frames []*frame
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != len(fieldNames) {
			t.Fatalf("tshark: %d columns, want %d: %q", len(cols), len(fieldNames), sc.Text())
		}
		fr := &frame{f: map[string][]string{}}
		for i, c := range cols {
			if c != "" {
				fr.f[fieldNames[i]] = strings.Split(c, "\x1f")
			}
		}
		fr.no = fr.num("frame.number")
		sec, err := strconv.ParseFloat(fr.one("frame.time_epoch"), 64)
		if err != nil {
			t.Fatalf("tshark: bad time %q", fr.one("frame.time_epoch"))
		}
		fr.ts = time.Unix(0, int64(sec*1e9))
		fr.src = fr.one("eth.src")
		frames = append(frames, fr)
	}
	return frames
}

func scannerFrames(frames []*frame) []*frame {
	var s []*frame
	for _, fr := range frames {
		if fr.fromScanner() {
			s = append(s, fr)
		}
	}
	return s
}

// maxWindow is the most frames in any sliding 1-second window [t, t+1s).
func maxWindow(frames []*frame) (max int, at time.Time) {
	j := 0
	for i := range frames {
		for frames[i].ts.Sub(frames[j].ts) >= time.Second {
			j++
		}
		if n := i - j + 1; n > max {
			max, at = n, frames[j].ts
		}
	}
	return max, at
}

// in reports whether s is one of the allowed values (tshark prints hex
// fields as 0x.., others in decimal).
func in(s string, allowed ...int) bool {
	n, err := strconv.ParseInt(s, 0, 64)
	return err == nil && slices.Contains(allowed, int(n))
}

func all(vals []string, ok func(string) bool) bool {
	if len(vals) == 0 {
		return false
	}
	for _, v := range vals {
		if !ok(v) {
			return false
		}
	}
	return true
}

// classify names what a scanner frame is. Requests must be exactly one of
// the allow-listed kinds, as tshark (not otscope) dissects them; the other
// frames are the TCP/IP plumbing of a connection (handshake, ACK, FIN, RST)
// and the kernel's own replies (ARP reply, ICMP unreachable for a late
// UDP answer). Anything else is an error.
func classify(fr *frame) (string, error) {
	switch {
	case fr.one("eth.type") == "0x0806" || fr.has("arp.opcode"):
		switch fr.one("arp.opcode") {
		case "1":
			return "arp.request", nil
		case "2":
			return "arp.reply (kernel)", nil
		}
		return "", fmt.Errorf("ARP opcode %s", fr.one("arp.opcode"))
	case fr.one("eth.type") == "0x8892":
		if in(fr.one("pn_dcp.service_id"), 5) && in(fr.one("pn_dcp.service_type"), 0) {
			return "dcp.identify", nil
		}
		return "", fmt.Errorf("PROFINET frame, DCP service %s/%s, not Identify request", fr.one("pn_dcp.service_id"), fr.one("pn_dcp.service_type"))
	case fr.one("eth.type") != "0x0800":
		return "", fmt.Errorf("ethertype %s", fr.one("eth.type"))
	case fr.one("ip.proto") == "1":
		if fr.one("icmp.type") == "3" {
			return "icmp.unreachable (kernel)", nil
		}
		return "", fmt.Errorf("ICMP type %s", fr.one("icmp.type"))
	}
	if fr.payloadLen() == 0 {
		if fr.has("tcp.srcport") {
			switch {
			case fr.one("tcp.flags.syn") == "1":
				return "tcp.syn", nil
			case fr.one("tcp.flags.reset") == "1":
				return "tcp.rst", nil
			case fr.one("tcp.flags.fin") == "1":
				return "tcp.fin", nil
			}
			return "tcp.ack", nil
		}
		return "", fmt.Errorf("empty UDP datagram")
	}
	if fr.has("tcp.analysis.retransmission") {
		// tshark does not hand retransmitted bytes to the application
		// dissector; the caller checks they repeat an allowed request
		return "tcp.retransmission", nil
	}
	port := fr.dstPort()
	switch port {
	case 502:
		if all(fr.get("modbus.func_code"), func(s string) bool { return in(s, 17) }) {
			return "modbus.report_server_id", nil
		}
		if all(fr.get("modbus.func_code"), func(s string) bool { return in(s, 43) }) &&
			all(fr.get("modbus.mei"), func(s string) bool { return in(s, 14) }) {
			return "modbus.read_device_id", nil
		}
		return "", fmt.Errorf("modbus function %v mei %v", fr.get("modbus.func_code"), fr.get("modbus.mei"))
	case 102:
		types := fr.get("cotp.type")
		switch {
		case all(types, func(s string) bool { return in(s, 0x0e) }):
			return "s7.cotp_connect", nil
		case all(types, func(s string) bool { return in(s, 0x08) }):
			return "s7.cotp_disconnect", nil
		case !all(types, func(s string) bool { return in(s, 0x0f) }):
			return "", fmt.Errorf("COTP PDU types %v", types)
		}
		ros := fr.get("s7comm.header.rosctr")
		if all(ros, func(s string) bool { return in(s, 1) }) && all(fr.get("s7comm.param.func"), func(s string) bool { return in(s, 0xf0) }) {
			return "s7.setup_communication", nil
		}
		if all(ros, func(s string) bool { return in(s, 7) }) &&
			all(fr.get("s7comm.param.userdata.type"), func(s string) bool { return in(s, 4) }) &&
			all(fr.get("s7comm.param.userdata.funcgroup"), func(s string) bool { return in(s, 4) }) &&
			all(fr.get("s7comm.param.userdata.subfunc"), func(s string) bool { return in(s, 1) }) {
			return "s7.szl_read " + strings.Join(fr.get("s7comm.data.userdata.szl_id"), ","), nil
		}
		return "", fmt.Errorf("S7 rosctr %v function %v userdata %v/%v", ros, fr.get("s7comm.param.func"),
			fr.get("s7comm.param.userdata.funcgroup"), fr.get("s7comm.param.userdata.subfunc"))
	case 44818:
		cmds := fr.get("enip.command")
		if len(cmds) != 1 {
			return "", fmt.Errorf("ENIP commands %v", cmds)
		}
		switch n, _ := strconv.ParseInt(cmds[0], 0, 64); n {
		case 0x63:
			return "enip.list_identity", nil
		case 0x04:
			return "enip.list_services", nil
		case 0x65:
			return "enip.register_session", nil
		case 0x66:
			return "enip.unregister_session", nil
		case 0x6f:
			if all(fr.get("cip.sc"), func(s string) bool { return in(s, 0x01) }) && all(fr.get("cip.class"), func(s string) bool { return in(s, 0x01) }) {
				return "cip.get_attribute_all", nil
			}
			return "", fmt.Errorf("CIP service %v class %v", fr.get("cip.sc"), fr.get("cip.class"))
		}
		return "", fmt.Errorf("ENIP command %s", cmds[0])
	case 47808:
		switch {
		case in(fr.one("bacapp.type"), 1) && in(fr.one("bacapp.unconfirmed_service"), 8):
			return "bacnet.who_is", nil
		case in(fr.one("bacapp.type"), 0) && in(fr.one("bacapp.confirmed_service"), 12) && in(fr.one("bacapp.objectType"), 8):
			return "bacnet.read_property", nil
		}
		return "", fmt.Errorf("BACnet APDU type %s service %s%s object type %s", fr.one("bacapp.type"),
			fr.one("bacapp.confirmed_service"), fr.one("bacapp.unconfirmed_service"), fr.one("bacapp.objectType"))
	case 161:
		if all(fr.get("snmp.data"), func(s string) bool { return in(s, 0, 1) }) {
			return "snmp.get", nil
		}
		return "", fmt.Errorf("SNMP PDU %v", fr.get("snmp.data"))
	case 4840:
		mt := fr.get("opcua.transport.type")
		if len(mt) != 1 {
			return "", fmt.Errorf("OPC UA messages %v", mt)
		}
		switch mt[0] {
		case "HEL":
			return "opcua.hello", nil
		case "OPN":
			if all(fr.get("opcua.security.spu"), func(s string) bool { return strings.HasSuffix(s, "#None") }) {
				return "opcua.open_secure_channel", nil
			}
			return "", fmt.Errorf("OPC UA OPN with policy %v", fr.get("opcua.security.spu"))
		case "CLO":
			return "opcua.close_secure_channel", nil
		case "MSG":
			switch fr.one("opcua.servicenodeid.numeric") {
			case "422":
				return "opcua.find_servers", nil
			case "428":
				return "opcua.get_endpoints", nil
			}
			return "", fmt.Errorf("OPC UA service %s", fr.one("opcua.servicenodeid.numeric"))
		}
		return "", fmt.Errorf("OPC UA message %s", mt[0])
	case 80:
		m, u := fr.get("http.request.method"), fr.get("http.request.uri")
		if len(m) == 1 && (m[0] == "HEAD" || m[0] == "GET") && len(u) == 1 && u[0] == "/" {
			return "http." + strings.ToLower(m[0]), nil
		}
		return "", fmt.Errorf("HTTP %v %v", m, u)
	case 20000:
		if all(fr.get("dnp3.ctl.prifunc"), func(s string) bool { return in(s, 9) }) && all(fr.get("dnp3.ctl.prm"), func(s string) bool { return s == "1" || s == "True" }) {
			return "dnp3.request_link_status", nil
		}
		return "", fmt.Errorf("DNP3 link function %v primary %v", fr.get("dnp3.ctl.prifunc"), fr.get("dnp3.ctl.prm"))
	case 2404:
		if all(fr.get("iec60870_104.type"), func(s string) bool { return in(s, 3) }) && all(fr.get("iec60870_104.utype"), func(s string) bool { return in(s, 0x10) }) {
			return "iec104.testfr_act", nil
		}
		return "", fmt.Errorf("IEC 104 APCI %v U %v", fr.get("iec60870_104.type"), fr.get("iec60870_104.utype"))
	}
	return "", fmt.Errorf("payload to port %d: no allow-listed protocol there", port)
}

// inScope reports whether a is a host address of the lab range (the scan's
// scope: 10.99.0.0/24 without its network and broadcast addresses).
func inScope(a string) bool {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return false
	}
	p := netip.MustParsePrefix(labNet)
	return p.Contains(ip) && ip != p.Addr() && ip != netip.MustParseAddr("10.99.0.255")
}
