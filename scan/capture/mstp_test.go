package capture

import (
	"bytes"
	"testing"

	"github.com/google/gopacket/layers"
)

// A BACnet MS/TP capture (link type 165, as mstpcap and Wireshark write
// it) is read, not refused (issue 14, item 18); the decoder takes it from
// there.
func TestMSTPLinkTypeAccepted(t *testing.T) {
	token := []byte{0x55, 0xff, 0x00, 0x01, 0x72, 0x00, 0x00, 0x84}
	path := writeFile(t, t.TempDir(), "mstp.pcap", writePcap(t, linkTypeMSTP, [][]byte{token}))
	s, err := OpenFile(path, Options{})
	if err != nil {
		t.Fatalf("link type 165 refused: %v", err)
	}
	defer s.Close()
	data, _, err := s.ZeroCopyReadPacketData()
	if err != nil || !bytes.Equal(data, token) {
		t.Fatalf("frame % x, %v", data, err)
	}
	if s.LinkType() != layers.LinkType(165) {
		t.Errorf("LinkType %d, want 165", s.LinkType())
	}
}
