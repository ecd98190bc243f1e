package capture

import (
	"bytes"
	"compress/gzip"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// testFrames builds n distinct UDP/IPv4 Ethernet frames.
func testFrames(t testing.TB, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = udpFrame(t, net.IPv4(10, 0, 0, 1), net.IPv4(10, 0, 0, 2), uint16(1000+i), 502, bytes.Repeat([]byte{byte(i)}, i%50))
	}
	return out
}

// serialize builds a frame from layers, computing lengths and checksums.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var (
	macA = net.HardwareAddr{0x00, 0x1b, 0x1b, 0xaa, 0xbb, 0xcc}
	macB = net.HardwareAddr{0x00, 0x0e, 0x8c, 0x11, 0x22, 0x33}
)

func udpFrame(t testing.TB, src, dst net.IP, sport, dport uint16, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: dst}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, eth, ip, udp, gopacket.Payload(payload))
}

// writePcap writes frames as a pcap file with the given link type.
func writePcap(t testing.TB, lt layers.LinkType, frames [][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(65536, lt); err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, frames)
	return b.Bytes()
}

// writeFrames writes frames 1 ms apart from a fixed time.
func writeFrames(t testing.TB, w interface {
	WritePacket(gopacket.CaptureInfo, []byte) error
}, frames [][]byte) {
	t.Helper()
	ts := time.Unix(1700000000, 0)
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
}

// mustOpen opens a capture file, failing the test if it cannot, and closes
// it when the test ends.
func mustOpen(t testing.TB, path string, o Options) Source {
	t.Helper()
	s, err := OpenFile(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writePcapng writes frames as a pcapng file with one Ethernet interface.
func writePcapng(t testing.TB, frames [][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, w, frames)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads a source to its end, copying frames; it returns the frames
// and the first error other than io.EOF.
func readAll(t testing.TB, s Source) ([][]byte, error) {
	t.Helper()
	var frames [][]byte
	for {
		data, ci, err := s.ZeroCopyReadPacketData()
		if err != nil {
			if err.Error() == "EOF" {
				return frames, nil
			}
			return frames, err
		}
		if ci.CaptureLength != len(data) {
			t.Fatalf("CaptureLength %d != len(data) %d", ci.CaptureLength, len(data))
		}
		frames = append(frames, append([]byte(nil), data...))
	}
}
