package capture

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"

	"otscope/scan/testenv"
)

// realPcaps is ../shared/pcaps beside the repository (the project's test data).
var realPcaps = filepath.Join("..", "..", "..", "shared", "pcaps")

// TestRealCaptures reads every capture under ../shared/pcaps to the end
// and checks the packet count against MANIFEST.tsv (tshark's count).
func TestRealCaptures(t *testing.T) {
	f, err := os.Open(filepath.Join(realPcaps, "MANIFEST.tsv"))
	if err != nil {
		testenv.Skipf(t, "real captures not available: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var col = -1
	n := 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col < 0 {
			for i, h := range fields {
				if h == "packets" {
					col = i
				}
			}
			if col < 0 {
				t.Fatal("MANIFEST.tsv has no packets column")
			}
			continue
		}
		if len(fields) <= col {
			continue
		}
		rel := fields[0]
		want, err := strconv.ParseUint(fields[col], 10, 64)
		if err != nil {
			t.Fatalf("%s: packets %q", rel, fields[col])
		}
		n++
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(realPcaps, rel)
			s := mustOpen(t, path, Options{})
			ref := pcapgoReader(t, path)
			var frames uint64
			for {
				data, ci, err := s.ZeroCopyReadPacketData()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d frames: %v", frames, err)
				}
				frames++
				wantData, wantCI, err := ref.ReadPacketData()
				if err != nil {
					t.Fatalf("pcapgo, frame %d: %v", frames, err)
				}
				if !bytes.Equal(data, wantData) || !ci.Timestamp.Equal(wantCI.Timestamp) || ci.Length != wantCI.Length {
					t.Fatalf("frame %d differs from pcapgo's: ts %v len %d, pcapgo ts %v len %d",
						frames, ci.Timestamp, ci.Length, wantCI.Timestamp, wantCI.Length)
				}
				if s.Frame() != frames {
					t.Fatalf("Frame() %d, want %d", s.Frame(), frames)
				}
			}
			if st := s.Stats(); frames != want || st.Packets != want {
				t.Fatalf("read %d frames (stats %+v), manifest says %d", frames, st, want)
			}
		})
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("MANIFEST.tsv lists no captures")
	}
}

// pcapgoReader opens path with gopacket's own readers, as a reference.
func pcapgoReader(t *testing.T, path string) gopacket.PacketDataSource {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if magic == [4]byte{0x0a, 0x0d, 0x0d, 0x0a} {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
