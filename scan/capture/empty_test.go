package capture

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
)

// Zero-length records are no packets: they are neither counted nor
// returned, and a long run of them ends the file with a clear error
// instead of "reading" millions of packets (issue 13 item 17).
func TestZeroLengthRecords(t *testing.T) {
	real := testFrames(t, 3)
	for _, format := range []string{"pcap", "pcapng"} {
		write := func(frames [][]byte) []byte {
			if format == "pcap" {
				return writePcap(t, layers.LinkTypeEthernet, frames)
			}
			return writePcapng(t, frames)
		}
		// a few empty records between real ones: skipped
		mixed := [][]byte{real[0], {}, {}, real[1], {}, real[2]}
		path := writeFile(t, t.TempDir(), "mixed."+format, write(mixed))
		s, err := OpenFile(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, s)
		if err != nil || len(got) != 3 || s.Stats().Packets != 3 {
			t.Errorf("%s: %d frames, %d packets counted, err %v; want the 3 real ones", format, len(got), s.Stats().Packets, err)
		}
		s.Close()

		// a flood of empty records, gzipped: refused after maxEmptyRun
		flood := [][]byte{real[0]}
		for range 200_000 {
			flood = append(flood, []byte{})
		}
		flood = append(flood, real[1])
		path = writeFile(t, t.TempDir(), "flood."+format+".gz", gzipBytes(t, write(flood)))
		s, err = OpenFile(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err = readAll(t, s)
		var te *TruncatedError
		if !errors.As(err, &te) || len(got) != 1 || te.Packets != 1 || !strings.Contains(err.Error(), "hold no packet data") {
			t.Errorf("%s flood: %d frames, err %v; want 1 and a truncation naming the empty records", format, len(got), err)
		}
		if te != nil && (te.Offset <= 0 || !te.Compressed) {
			t.Errorf("%s flood: offset %d compressed %v", format, te.Offset, te.Compressed)
		}
		s.Close()
	}
}
