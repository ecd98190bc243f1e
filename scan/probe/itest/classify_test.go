//go:build itest

package itest

import (
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"otscope/scan/internal/dnp3crc"
	"otscope/scan/testenv"
)

// oracleCase is one frame the scanner might send and what the wire check
// must make of it: the allow-listed kind, or "" for a refusal.
type oracleCase struct {
	name    string
	udp     bool
	port    uint16
	payload []byte
	l2      []byte // a whole Ethernet frame instead of TCP/UDP
	want    string
}

func mbap(pdu ...byte) []byte {
	return append([]byte{0, 1, 0, 0, 0, byte(len(pdu) + 1), 1}, pdu...)
}

func s7(s7pdu ...byte) []byte {
	b := []byte{3, 0, 0, byte(7 + len(s7pdu)), 2, 0xf0, 0x80}
	return append(b, s7pdu...)
}

func bvlc(npduAPDU ...byte) []byte {
	return append([]byte{0x81, 0x0a, 0, byte(4 + len(npduAPDU))}, npduAPDU...)
}

func dnp3Link(ctrl byte) []byte {
	h := []byte{0x05, 0x64, 5, ctrl, 1, 0, 3, 0}
	return binary.LittleEndian.AppendUint16(h, dnp3crc.Sum(h))
}

func enipRR(cip ...byte) []byte {
	data := []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0}
	data = binary.LittleEndian.AppendUint16(data, uint16(len(cip)))
	data = append(data, cip...)
	h := []byte{0x6f, 0}
	h = binary.LittleEndian.AppendUint16(h, uint16(len(data)))
	h = append(h, make([]byte, 20)...)
	return append(h, data...)
}

func opcuaMSG(service uint16) []byte {
	body := []byte{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x01, 0x00}
	body = binary.LittleEndian.AppendUint16(body, service)
	body = append(body, make([]byte, 24)...)
	return append(binary.LittleEndian.AppendUint32([]byte("MSGF"), uint32(8+len(body))), body...)
}

func dcpFrame(dst net.HardwareAddr, frameID uint16, service byte) []byte {
	src, _ := net.ParseMAC(scannerMAC)
	b := append(append(append([]byte{}, dst...), src...), 0x88, 0x92)
	b = binary.BigEndian.AppendUint16(b, frameID)
	b = append(b, service, 0, 0, 0, 0x12, 0x34, 0, 1, 0, 4, 0xff, 0xff, 0, 0)
	return append(b, make([]byte, 60-len(b))...)
}

var oracleCases = func() []oracleCase {
	snmpSet := snmpGetSysDescr("public")
	snmpSet[13] = 0xa3 // GetRequest PDU tag -> SetRequest
	mcast, _ := net.ParseMAC("01:0e:cf:00:00:00")
	dev, _ := net.ParseMAC(hosts["plc2"].mac)
	return []oracleCase{
		{name: "modbus FC43/14", port: 502, payload: mbap(0x2b, 0x0e, 1, 0), want: "modbus.read_device_id"},
		{name: "modbus FC17", port: 502, payload: mbap(0x11), want: "modbus.report_server_id"},
		{name: "modbus FC6 write register", port: 502, payload: mbap(6, 0, 1, 0, 3)},
		{name: "modbus FC8 restart", port: 502, payload: mbap(8, 0, 1, 0, 0)},
		{name: "modbus FC43/13 CANopen", port: 502, payload: mbap(0x2b, 0x0d, 0, 0, 0, 0, 0, 0)},
		{name: "s7 setup communication", port: 102, payload: s7(0x32, 1, 0, 0, 0, 0, 0, 8, 0, 0, 0xf0, 0, 0, 1, 0, 1, 1, 0xe0), want: "s7.setup_communication"},
		{name: "s7 PLC stop", port: 102, payload: s7(0x32, 1, 0, 0, 0, 1, 0, 16, 0, 0, 0x29, 0, 0, 0, 0, 0, 9, 'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'M')},
		{name: "s7 write var", port: 102, payload: s7(0x32, 1, 0, 0, 0, 2, 0, 14, 0, 5, 5, 1, 0x12, 10, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0, 0, 0, 4, 0, 8, 0xab)},
		{name: "snmp get", udp: true, port: 161, payload: snmpGetSysDescr("public"), want: "snmp.get"},
		{name: "snmp set", udp: true, port: 161, payload: snmpSet},
		{name: "bacnet read device", udp: true, port: 47808, payload: bvlc(1, 4, 0, 5, 1, 0x0c, 0x0c, 2, 0, 4, 0xd2, 0x19, 0x4d), want: "bacnet.read_property"},
		{name: "bacnet read analog input", udp: true, port: 47808, payload: bvlc(1, 4, 0, 5, 1, 0x0c, 0x0c, 0, 0, 0, 1, 0x19, 0x55)},
		{name: "bacnet write property", udp: true, port: 47808, payload: bvlc(1, 4, 0, 5, 1, 0x0f, 0x0c, 0, 0, 0, 1, 0x19, 0x55, 0x3e, 0x44, 0x42, 0xc8, 0, 0, 0x3f)},
		{name: "bacnet reinitialize", udp: true, port: 47808, payload: bvlc(1, 4, 0, 5, 2, 0x14, 0x09, 1)},
		{name: "http get /", port: 80, payload: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), want: "http.get"},
		{name: "http post", port: 80, payload: []byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")},
		{name: "http get other path", port: 80, payload: []byte("GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")},
		{name: "dnp3 link status", port: 20000, payload: dnp3Link(0xc9), want: "dnp3.request_link_status"},
		{name: "dnp3 reset link", port: 20000, payload: dnp3Link(0xc0)},
		{name: "iec104 testfr", port: 2404, payload: []byte{0x68, 4, 0x43, 0, 0, 0}, want: "iec104.testfr_act"},
		{name: "iec104 startdt", port: 2404, payload: []byte{0x68, 4, 0x07, 0, 0, 0}},
		{name: "iec104 interrogation", port: 2404, payload: []byte{0x68, 0x0e, 0, 0, 0, 0, 100, 1, 6, 0, 1, 0, 0, 0, 0, 0x14}},
		{name: "cip get attribute all identity", port: 44818, payload: enipRR(0x01, 0x02, 0x20, 0x01, 0x24, 0x01), want: "cip.get_attribute_all"},
		{name: "cip set attribute single", port: 44818, payload: enipRR(0x10, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07, 'x')},
		{name: "cip reset", port: 44818, payload: enipRR(0x05, 0x02, 0x20, 0x01, 0x24, 0x01)},
		{name: "opcua write", port: 4840, payload: opcuaMSG(673)},
		{name: "opcua browse", port: 4840, payload: opcuaMSG(527)},
		{name: "udp elsewhere", udp: true, port: 9999, payload: []byte("hello")},
		{name: "dcp identify", l2: dcpFrame(mcast, 0xfefe, 5), want: "dcp.identify"},
		{name: "dcp set", l2: dcpFrame(dev, 0xfefd, 4)},
	}
}()

// TestOracle proves the wire check itself: tshark must dissect each
// allowed request as its kind and each write, control or restart request
// as a refusal. Without it a lenient check would pass any scanner.
func TestOracle(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		testenv.Skip(t, "needs tshark: apt-get install tshark")
	}
	file := filepath.Join(t.TempDir(), "oracle.pcap")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	src, _ := net.ParseMAC(scannerMAC)
	dst, _ := net.ParseMAC(hosts["plc1"].mac)
	t0 := time.Now()
	for i, c := range oracleCases {
		data := c.l2
		if data == nil {
			eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}
			ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.ParseIP(scannerIP), DstIP: net.ParseIP(hosts["plc1"].ip)}
			var l4 gopacket.SerializableLayer
			if c.udp {
				ip.Protocol = layers.IPProtocolUDP
				u := &layers.UDP{SrcPort: layers.UDPPort(40000 + i), DstPort: layers.UDPPort(c.port)}
				u.SetNetworkLayerForChecksum(ip)
				l4 = u
			} else {
				ip.Protocol = layers.IPProtocolTCP
				tc := &layers.TCP{SrcPort: layers.TCPPort(40000 + i), DstPort: layers.TCPPort(c.port), Seq: 1000, Ack: 1, PSH: true, ACK: true, Window: 512}
				tc.SetNetworkLayerForChecksum(ip)
				l4 = tc
			}
			buf := gopacket.NewSerializeBuffer()
			opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
			if err := gopacket.SerializeLayers(buf, opts, eth, ip, l4, gopacket.Payload(c.payload)); err != nil {
				t.Fatal(err)
			}
			data = buf.Bytes()
		}
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	frames := readFrames(t, file)
	if len(frames) != len(oracleCases) {
		t.Fatalf("tshark read %d frames, wrote %d", len(frames), len(oracleCases))
	}
	for i, c := range oracleCases {
		kind, err := classify(frames[i])
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%s: accepted as %s, must be refused", c.name, kind)
		case c.want != "" && err != nil:
			t.Errorf("%s: refused (%v), want %s", c.name, err, c.want)
		case c.want != "" && kind != c.want:
			t.Errorf("%s: %s, want %s", c.name, kind, c.want)
		}
	}
}
