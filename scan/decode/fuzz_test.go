package decode

import (
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/scan/testenv"
)

// seedFrames returns up to n frames (at most 8 of each capture) from the
// real Ethernet captures in ../shared (when present) to seed the fuzzer.
func seedFrames(tb testing.TB, n int) [][]byte {
	var out [][]byte
	for _, path := range soCaptures("*") {
		taken := 0
		eachFrame(path, func(link layers.LinkType, data []byte) bool {
			if link != layers.LinkTypeEthernet || len(out) >= n {
				return false
			}
			out = append(out, append([]byte(nil), data...))
			taken++
			return taken < 8
		})
	}
	return out
}

// FuzzDecode feeds arbitrary frames to every link type: no panic may escape,
// and the counters must stay consistent.
func FuzzDecode(f *testing.F) {
	for _, fr := range seedFrames(f, 400) {
		f.Add(fr, uint8(layers.LinkTypeEthernet))
	}
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}, uint8(layers.LinkTypeRaw))
	f.Add(mstpFrameBytes(6, 255, 114, append([]byte{0x01, 0x00}, bacIAmAPDU(86114, 260)...)), uint8(linkTypeMSTP))
	f.Fuzz(func(t *testing.T, data []byte, link uint8) {
		d := New(Options{Origin: "fuzz"})
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(data), Length: len(data)}
		d.Decode(data, ci, layers.LinkType(link), 0)
		d.Decode(data, ci, layers.LinkType(link), 0)
		b := d.Flush()
		if b.Stats.Packets != 2 {
			t.Fatalf("packets = %d", b.Stats.Packets)
		}
		for _, o := range b.Obs {
			if len(o.Fact.Value) > 4*maxText {
				t.Fatalf("unbounded fact value (%d bytes)", len(o.Fact.Value))
			}
		}
	})
}

// FuzzNBNS and FuzzBrowser drive the hand-written parsers directly.
func FuzzNBNS(f *testing.F) {
	p := []byte{0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1}
	p = append(p, nbEncode("ENG-WS01", 0)...)
	p = append(p, 0, 0x20, 0, 1, 0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0, 0, 0, 6, 0, 0, 10, 0, 0, 1)
	f.Add(p)
	f.Fuzz(func(t *testing.T, p []byte) {
		d := New(Options{})
		fi := &frameInfo{}
		d.onNBNS(fi, netipZero, p)
		d.onBrowser(fi, netipZero, p)
	})
}

func TestSeedCapturesDecodeWithoutPanic(t *testing.T) {
	frames := seedFrames(t, 1000)
	if len(frames) == 0 {
		testenv.Skip(t, "../shared/pcaps not present")
	}
	d := New(Options{Origin: "seed"})
	for _, fr := range frames {
		d.Decode(fr, gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(fr), Length: len(fr)}, layers.LinkTypeEthernet, 0)
	}
	if st := d.Flush().Stats; st.Packets != uint64(len(frames)) {
		t.Fatalf("packets = %d, want %d", st.Packets, len(frames))
	}
}

var netipZero = netipAddr()
