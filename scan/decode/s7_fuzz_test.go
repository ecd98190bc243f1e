package decode

import (
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/scan/capture"
)

// Fuzz targets for the siemens-61850 group's parsers, seeded from the real
// captures' payloads. The parsers are called directly, without the
// decoder's recover, so a panic fails the fuzzer.

// s7SeedPayloads returns up to n payloads of the captures under dirs that
// pick accepts (TCP/UDP payloads, or Ethernet payloads for EtherTypes).
func s7SeedPayloads(tb testing.TB, n int, dirs []string, pick func(gopacket.Packet) []byte) [][]byte {
	var out [][]byte
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "pcaps", dir, "*.pcap*"))
		for _, f := range files {
			src, err := capture.OpenFile(f, capture.Options{})
			if err != nil {
				continue
			}
			for len(out) < n {
				data, _, err := src.ZeroCopyReadPacketData()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						tb.Logf("%s: %v", f, err)
					}
					break
				}
				pkt := gopacket.NewPacket(data, src.LinkType(), gopacket.Default)
				if p := pick(pkt); len(p) > 0 {
					out = append(out, append([]byte(nil), p...))
				}
			}
			src.Close()
		}
	}
	return out
}

func tcpPayloadOnPort(port layers.TCPPort) func(gopacket.Packet) []byte {
	return func(p gopacket.Packet) []byte {
		if t, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && (t.SrcPort == port || t.DstPort == port) {
			return t.Payload
		}
		return nil
	}
}

func etherPayload(et layers.EthernetType) func(gopacket.Packet) []byte {
	return func(p gopacket.Packet) []byte {
		e, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if !ok {
			return nil
		}
		if e.EthernetType == et {
			return e.Payload
		}
		if q, ok := p.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); ok && q.Type == et {
			return q.Payload
		}
		return nil
	}
}

// fuzzApp runs an application parser on p from both sides of one flow.
func fuzzApp(t *testing.T, fn parseFunc, p []byte) {
	d := New(Options{Origin: "fuzz"})
	d.now = time.Unix(1, 0)
	fi := &d.fi
	fi.hasMAC = true
	fi.src = [6]byte{0, 1, 2, 3, 4, 5}
	fi.dst = [6]byte{0, 1, 2, 3, 4, 6}
	f := &flowState{server: 1}
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	for i := 0; i < 2; i++ {
		for side := 0; side < 2; side++ {
			c := &appCtx{d: d, fi: fi, f: f, side: side, src: a, dst: b, sp: 50000, dp: 102}
			fn(c, p)
			// and the tail after a header-only segment
			if len(p) > 4 {
				fn(c, p[:4])
				fn(c, p[4:])
			}
		}
	}
	for _, o := range d.Flush().Obs {
		if len(o.Fact.Value) > 4*maxText {
			t.Fatalf("unbounded fact value (%d bytes)", len(o.Fact.Value))
		}
	}
}

func FuzzCOTP(f *testing.F) {
	for _, p := range s7SeedPayloads(f, 300, []string{"s7comm", "s7comm-plus", "iec61850"}, tcpPayloadOnPort(102)) {
		f.Add(p)
	}
	f.Add(tpkt(mmsIdentifyResponse("ABB", "REF615", "5.0")))
	f.Add(cotpCR([]byte{1, 2}))
	f.Fuzz(func(t *testing.T, p []byte) { fuzzApp(t, parseCOTP, p) })
}

func FuzzS7(f *testing.F) {
	for _, p := range s7SeedPayloads(f, 300, []string{"s7comm"}, tcpPayloadOnPort(102)) {
		if len(p) > 7 {
			f.Add(p[7:]) // after TPKT + COTP DT
		}
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) == 0 {
			return
		}
		fuzzApp(t, func(c *appCtx, p []byte) { cotpData(c, p) }, p)
	})
}

func FuzzMMS(f *testing.F) {
	for _, p := range s7SeedPayloads(f, 300, []string{"iec61850"}, tcpPayloadOnPort(102)) {
		if len(p) > 7 {
			f.Add(p[7:])
		}
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) == 0 {
			return
		}
		fuzzApp(t, parseSession, p)
		fuzzApp(t, func(c *appCtx, p []byte) { parseMMS(c, p, false); parseMMS(c, p, true) }, p)
		fuzzApp(t, func(c *appCtx, p []byte) { parseSessionCut(c, p, true) }, p)
	})
}

func FuzzC37118(f *testing.F) {
	for _, p := range s7SeedPayloads(f, 50, []string{"c37.118"}, tcpPayloadOnPort(4712)) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) { fuzzApp(t, parseC37118, p) })
}

// fuzzL2 runs a layer-2 parser on p as a frame's payload.
func fuzzL2(t *testing.T, fn l2Func, p []byte) {
	d := New(Options{Origin: "fuzz"})
	fi := &frameInfo{hasMAC: true, src: [6]byte{0, 1, 2, 3, 4, 5}, payload: p}
	fn(d, fi)
	fn(d, fi)
	for _, o := range d.Flush().Obs {
		if len(o.Fact.Value) > 4*maxText {
			t.Fatalf("unbounded fact value (%d bytes)", len(o.Fact.Value))
		}
	}
}

func FuzzGOOSE(f *testing.F) {
	for _, p := range s7SeedPayloads(f, 100, []string{"iec61850"}, etherPayload(0x88b8)) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) { fuzzL2(t, parseGOOSE, p) })
}

func FuzzSV(f *testing.F) {
	for _, p := range s7SeedPayloads(f, 100, []string{"iec61850"}, etherPayload(0x88ba)) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) { fuzzL2(t, parseSV, p) })
}
