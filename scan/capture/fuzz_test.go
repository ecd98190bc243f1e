package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/gopacket/layers"
)

// openBytes opens an in-memory capture file.
func openBytes(b []byte, o Options) (*fileSource, error) {
	return newFileSource("mem", io.NopCloser(bytes.NewReader(b)), o, &counters{})
}

func FuzzReadFile(f *testing.F) {
	frames := testFrames(f, 3)
	pcap := writePcap(f, layers.LinkTypeEthernet, frames)
	ng := writePcapng(f, frames)
	f.Add(pcap)
	f.Add(ng)
	f.Add(gzipBytes(f, pcap))
	f.Add(gzipBytes(f, ng))
	f.Add(pcap[:len(pcap)-7])
	f.Add(ng[:40])
	f.Add(writePcap(f, layers.LinkTypeRaw, [][]byte{frames[0][14:]}))
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, o := range []Options{{}, {Filter: "udp and port 502"}} {
			s, err := openBytes(b, o)
			if err != nil {
				continue
			}
			for i := 0; ; i++ {
				if i > len(b) {
					t.Fatalf("more frames (%d) than input bytes", i)
				}
				data, ci, err := s.ZeroCopyReadPacketData()
				if err == io.EOF {
					break
				}
				if err != nil {
					var te *TruncatedError
					if !errors.As(err, &te) {
						t.Fatalf("untyped read error %v", err)
					}
					if !te.Compressed && te.Offset > int64(len(b)) {
						t.Fatalf("offset %d beyond the %d input bytes", te.Offset, len(b))
					}
					if _, _, err := s.ZeroCopyReadPacketData(); err != io.EOF {
						t.Fatalf("after %v: %v", te, err)
					}
					break
				}
				if len(data) != ci.CaptureLength || len(data) > MaxFrameLen {
					t.Fatalf("frame of %d bytes, CaptureLength %d", len(data), ci.CaptureLength)
				}
			}
			_ = s.Close()
		}
	})
}

func TestTsUnits(t *testing.T) {
	for v, want := range map[byte]uint64{0: 1, 6: 1e6, 9: 1e9, 19: 1e19, 0x80: 1, 0x8a: 1024, 0xbf: 1 << 63} {
		if got, ok := tsUnits(v); !ok || got != want {
			t.Errorf("tsUnits(%#x) = %d %v, want %d", v, got, ok, want)
		}
	}
	for _, v := range []byte{20, 127, 0xc0, 0xff} {
		if _, ok := tsUnits(v); ok {
			t.Errorf("tsUnits(%#x) accepted", v)
		}
	}
}
