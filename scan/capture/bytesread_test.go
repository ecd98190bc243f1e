package capture

import (
	"net"
	"os"
	"testing"

	"github.com/google/gopacket/layers"
)

// TestBytesRead: a file source reports how much of the file it has read
// (of the compressed file for a gzipped one), the whole file at its end,
// for a progress bar.
func TestBytesRead(t *testing.T) {
	frames := make([][]byte, 3000)
	for i := range frames {
		frames[i] = udpFrame(t, net.IPv4(10, 0, 0, 1), net.IPv4(10, 0, 0, 2), 1000, 2000, make([]byte, 100))
	}
	dir := t.TempDir()
	raw := writePcap(t, layers.LinkTypeEthernet, frames)
	for name, b := range map[string][]byte{"x.pcap": raw, "x.pcap.gz": gzipBytes(t, raw)} {
		path := writeFile(t, dir, name, b)
		st, _ := os.Stat(path)
		src, err := OpenFile(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		br, ok := src.(interface{ BytesRead() int64 })
		if !ok {
			t.Fatal("file source has no BytesRead")
		}
		if got := br.BytesRead(); got >= st.Size() && name == "x.pcap" {
			t.Errorf("%s: %d bytes read after the header of a %d-byte file", name, got, st.Size())
		}
		for {
			if _, _, err := src.ZeroCopyReadPacketData(); err != nil {
				break
			}
		}
		if got := br.BytesRead(); got != st.Size() {
			t.Errorf("%s: BytesRead = %d at the end, file is %d bytes", name, got, st.Size())
		}
		src.Close()
	}
}
