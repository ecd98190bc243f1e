package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func TestOpenFileFormats(t *testing.T) {
	frames := testFrames(t, 50)
	dir := t.TempDir()
	pcap := writePcap(t, layers.LinkTypeEthernet, frames)
	ng := writePcapng(t, frames)
	files := map[string][]byte{
		"a.pcap":          pcap,
		"a.pcapng":        ng,
		"a.pcap.gz":       gzipBytes(t, pcap),
		"a.pcapng.gz":     gzipBytes(t, ng),
		"gzip-no-suffix":  gzipBytes(t, pcap),
		"pcapng-as.pcap":  ng,
		"big-endian.pcap": bigEndianNanoPcap(t, frames),
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, dir, name, b)
			s := mustOpen(t, path, Options{})
			if s.Name() != path || s.Live() || s.LinkType() != layers.LinkTypeEthernet {
				t.Fatalf("Name %q Live %v LinkType %v", s.Name(), s.Live(), s.LinkType())
			}
			for i, want := range frames {
				data, ci, err := s.ZeroCopyReadPacketData()
				if err != nil {
					t.Fatalf("frame %d: %v", i+1, err)
				}
				if !bytes.Equal(data, want) {
					t.Fatalf("frame %d differs", i+1)
				}
				if s.Frame() != uint64(i+1) {
					t.Fatalf("Frame() = %d, want %d", s.Frame(), i+1)
				}
				wantTS := time.Unix(1700000000, 0).Add(time.Duration(i) * time.Millisecond)
				if !ci.Timestamp.Equal(wantTS) || ci.Length != len(want) {
					t.Fatalf("frame %d: ts %v len %d, want %v %d", i+1, ci.Timestamp, ci.Length, wantTS, len(want))
				}
			}
			if _, _, err := s.ZeroCopyReadPacketData(); err != io.EOF {
				t.Fatalf("after last frame: %v, want io.EOF", err)
			}
			st := s.Stats()
			var bytesWant uint64
			for _, f := range frames {
				bytesWant += uint64(len(f))
			}
			if st.Packets != 50 || st.Bytes != bytesWant || st.Delivered() != 50 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// bigEndianNanoPcap writes a big-endian, nanosecond-resolution pcap by hand.
func bigEndianNanoPcap(t *testing.T, frames [][]byte) []byte {
	var b bytes.Buffer
	be := binary.BigEndian
	h := make([]byte, 24)
	be.PutUint32(h[0:], 0xa1b23c4d)
	be.PutUint16(h[4:], 2)
	be.PutUint16(h[6:], 4)
	be.PutUint32(h[16:], 65535)
	be.PutUint32(h[20:], 1)
	b.Write(h)
	for i, f := range frames {
		r := make([]byte, 16)
		be.PutUint32(r[0:], 1700000000)
		be.PutUint32(r[4:], uint32(i)*1e6)
		be.PutUint32(r[8:], uint32(len(f)))
		be.PutUint32(r[12:], uint32(len(f)))
		b.Write(r)
		b.Write(f)
	}
	return b.Bytes()
}

func TestTruncatedPcap(t *testing.T) {
	frames := testFrames(t, 10)
	full := writePcap(t, layers.LinkTypeEthernet, frames)
	wantOff := int64(24)
	for _, f := range frames[:7] {
		wantOff += int64(16 + len(f))
	}
	cases := map[string]int64{
		"mid-data":   wantOff + 16 + 5, // record 8 header complete, data cut
		"mid-header": wantOff + 7,      // record 8 header cut
		"no-data":    wantOff + 16,     // record 8 header only
	}
	for name, cut := range cases {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "cut.pcap", full[:cut])
			checkTruncated(t, path, 7, wantOff, false)
			gz := writeFile(t, t.TempDir(), "cut.pcap.gz", gzipBytes(t, full[:cut]))
			checkTruncated(t, gz, 7, wantOff, true)
		})
	}
}

func TestTruncatedPcapng(t *testing.T) {
	frames := testFrames(t, 10)
	full := writePcapng(t, frames)
	last := int64(binary.LittleEndian.Uint32(full[len(full)-4:]))
	start := int64(len(full)) - last
	path := writeFile(t, t.TempDir(), "cut.pcapng", full[:len(full)-10])
	checkTruncated(t, path, 9, start, false)
}

func TestTruncatedGzipStream(t *testing.T) {
	frames := testFrames(t, 20)
	gz := gzipBytes(t, writePcap(t, layers.LinkTypeEthernet, frames))
	path := writeFile(t, t.TempDir(), "cut.gz", gz[:len(gz)-30])
	s := mustOpen(t, path, Options{})
	got, err := readAll(t, s)
	var te *TruncatedError
	if !errors.As(err, &te) || !te.Compressed || te.Packets != len(got) {
		t.Fatalf("err %v (got %d frames), want *TruncatedError in the uncompressed stream", err, len(got))
	}
	if !strings.Contains(err.Error(), "of the uncompressed data") {
		t.Fatalf("message %q does not say the offset is uncompressed", err)
	}
}

func checkTruncated(t *testing.T, path string, packets int, off int64, compressed bool) {
	t.Helper()
	s := mustOpen(t, path, Options{})
	got, err := readAll(t, s)
	if len(got) != packets {
		t.Fatalf("read %d frames before the error, want %d", len(got), packets)
	}
	var te *TruncatedError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TruncatedError", err)
	}
	if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v does not match ErrTruncated and io.ErrUnexpectedEOF", err)
	}
	if te.Offset != off || te.Packets != packets || te.Path != path || te.Compressed != compressed {
		t.Fatalf("got %+v, want offset %d packets %d", te, off, packets)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, path+": capture truncated at byte ") ||
		!strings.Contains(msg, "the packets before it were read") {
		t.Fatalf("message %q", msg)
	}
	if _, _, err := s.ZeroCopyReadPacketData(); err != io.EOF {
		t.Fatalf("after truncation: %v, want io.EOF", err)
	}
}

func TestCorruptRecordHeader(t *testing.T) {
	frames := testFrames(t, 3)
	b := writePcap(t, layers.LinkTypeEthernet, frames)
	off := 24 + 16 + len(frames[0])
	binary.LittleEndian.PutUint32(b[off+8:], 0xfffffff0) // caplen of record 2: ~4 GiB
	path := writeFile(t, t.TempDir(), "corrupt.pcap", b)
	s := mustOpen(t, path, Options{})
	got, err := readAll(t, s)
	var te *TruncatedError
	if len(got) != 1 || !errors.As(err, &te) || te.Offset != int64(off) || te.Packets != 1 || !strings.Contains(te.Reason, "corrupt") {
		t.Fatalf("got %d frames, err %v", len(got), err)
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	frames := testFrames(t, 2)
	cases := []struct {
		name   string
		path   string
		want   error
		inText string
	}{
		{"directory", dir, ErrIsDirectory, "is a directory"},
		{"empty", writeFile(t, dir, "empty.pcap", nil), ErrEmptyFile, "empty"},
		{"empty gzip", writeFile(t, dir, "empty.gz", gzipBytes(t, nil)), ErrEmptyFile, "empty"},
		{"garbage", writeFile(t, dir, "garbage.pcap", []byte("<?xml version=\"1.0\"?>")), ErrNotCapture, "not a pcap or pcapng file"},
		{"tiny", writeFile(t, dir, "tiny.pcap", []byte{0xd4, 0xc3}), ErrNotCapture, "only 2 bytes"},
		{"802.11", writeFile(t, dir, "wifi.pcap", writePcap(t, layers.LinkTypeIEEE802_11, frames)), ErrLinkType, "105"},
		{"header cut", writeFile(t, dir, "hdr.pcap", writePcap(t, layers.LinkTypeEthernet, nil)[:20]), ErrTruncated, "file header cut short"},
		{"missing", dir + "/nope.pcap", os.ErrNotExist, "check the path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := OpenFile(c.path, Options{})
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			msg := err.Error()
			if !errors.Is(err, c.want) || !strings.Contains(msg, c.inText) || !strings.Contains(msg, c.path) || strings.Contains(msg, "\n") {
				t.Fatalf("err %q, want %v containing %q and the path on one line", msg, c.want, c.inText)
			}
		})
	}
}

func TestLinkTypeErrorListsSupported(t *testing.T) {
	path := writeFile(t, t.TempDir(), "usb.pcap", writePcap(t, layers.LinkTypeLinuxUSB, nil))
	_, err := OpenFile(path, Options{})
	if !errors.Is(err, ErrLinkType) || !strings.Contains(err.Error(), "Ethernet (1)") || !strings.Contains(err.Error(), "220 (USB)") {
		t.Fatalf("err %v", err)
	}
}

func TestOtherLinkTypes(t *testing.T) {
	frame := udpFrame(t, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, 1, 2, nil)
	ipOnly := frame[14:]
	for _, lt := range []layers.LinkType{layers.LinkTypeRaw, 12, 228, layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeLinuxSLL} {
		path := writeFile(t, t.TempDir(), "x.pcap", writePcap(t, lt, [][]byte{ipOnly}))
		s, err := OpenFile(path, Options{})
		if err != nil {
			t.Fatalf("link type %d: %v", lt, err)
		}
		if s.LinkType() != lt {
			t.Fatalf("LinkType %d, want %d", s.LinkType(), lt)
		}
		s.Close()
	}
}

func TestSLL2IsHandedOutAsSLL(t *testing.T) {
	ip := udpFrame(t, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, 1, 2, nil)[14:]
	sll2 := make([]byte, 20, 20+len(ip))
	binary.BigEndian.PutUint16(sll2[0:], 0x0800) // protocol
	binary.BigEndian.PutUint32(sll2[4:], 3)      // ifindex
	binary.BigEndian.PutUint16(sll2[8:], 1)      // ARPHRD_ETHER
	sll2[10] = 4                                 // outgoing
	sll2[11] = 6
	copy(sll2[12:], macA)
	sll2 = append(sll2, ip...)
	var b bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 276)
	b.Write(h)
	r := make([]byte, 16)
	binary.LittleEndian.PutUint32(r[8:], uint32(len(sll2)))
	binary.LittleEndian.PutUint32(r[12:], uint32(len(sll2)))
	b.Write(r)
	b.Write(sll2)
	path := writeFile(t, t.TempDir(), "sll2.pcap", b.Bytes())
	s := mustOpen(t, path, Options{Filter: "udp and host 10.0.0.2"})
	data, ci, err := s.ZeroCopyReadPacketData()
	if err != nil {
		t.Fatal(err)
	}
	if s.LinkType() != layers.LinkTypeLinuxSLL || ci.CaptureLength != len(ip)+16 {
		t.Fatalf("LinkType %v caplen %d", s.LinkType(), ci.CaptureLength)
	}
	p := gopacket.NewPacket(data, layers.LayerTypeLinuxSLL, gopacket.Default)
	sll, _ := p.Layer(layers.LayerTypeLinuxSLL).(*layers.LinuxSLL)
	if sll == nil || sll.EthernetType != layers.EthernetTypeIPv4 || sll.PacketType != layers.LinuxSLLPacketTypeOutgoing ||
		!bytes.Equal(sll.Addr, macA) || p.Layer(layers.LayerTypeUDP) == nil {
		t.Fatalf("decoded %v", p)
	}
}

func TestPcapngMixedInterfaces(t *testing.T) {
	eth := testFrames(t, 1)[0]
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	wifi, err := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeIEEE802_11, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	write := func(iface int, data []byte) {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(data), Length: len(data), InterfaceIndex: iface}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	write(0, eth)
	write(wifi, []byte{1, 2, 3})
	write(raw, eth[14:])
	write(0, eth)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, t.TempDir(), "mixed.pcapng", b.Bytes())
	s := mustOpen(t, path, Options{})
	want := []struct {
		frame uint64
		lt    layers.LinkType
	}{{1, layers.LinkTypeEthernet}, {3, layers.LinkTypeRaw}, {4, layers.LinkTypeEthernet}}
	for _, w := range want {
		if _, _, err := s.ZeroCopyReadPacketData(); err != nil {
			t.Fatal(err)
		}
		if s.Frame() != w.frame || s.LinkType() != w.lt {
			t.Fatalf("frame %d link type %v, want %d %v", s.Frame(), s.LinkType(), w.frame, w.lt)
		}
	}
	if _, _, err := s.ZeroCopyReadPacketData(); err != io.EOF {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Packets != 4 || st.Skipped != 1 || st.Delivered() != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFileFilter(t *testing.T) {
	frames := testFrames(t, 20) // source ports 1000..1019
	path := writeFile(t, t.TempDir(), "f.pcap", writePcap(t, layers.LinkTypeEthernet, frames))
	s := mustOpen(t, path, Options{Filter: "udp and src portrange 1005-1009"})
	var got []uint64
	for {
		_, _, err := s.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s.Frame())
	}
	if len(got) != 5 || got[0] != 6 || got[4] != 10 {
		t.Fatalf("frames %v, want 6..10", got)
	}
	if st := s.Stats(); st.Packets != 20 || st.Filtered != 15 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := OpenFile(path, Options{Filter: "host example.com"}); !errors.Is(err, ErrFilter) {
		t.Fatalf("bad filter: %v", err)
	}
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	frames := testFrames(t, 10)
	a := writeFile(t, dir, "a.pcap", writePcap(t, layers.LinkTypeEthernet, frames[:3]))
	full := writePcap(t, layers.LinkTypeEthernet, frames[3:7])
	b := writeFile(t, dir, "b.pcap", full[:len(full)-3]) // last record cut
	c := writeFile(t, dir, "c.pcapng.gz", gzipBytes(t, writePcapng(t, frames[7:])))
	s, err := OpenFiles([]string{a, b, c}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type pos struct {
		name  string
		frame uint64
	}
	var got []pos
	var truncs int
	for {
		_, _, err := s.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		var te *TruncatedError
		if errors.As(err, &te) {
			if te.Path != b || s.Name() != b {
				t.Fatalf("truncation in %q (Name %q), want %q", te.Path, s.Name(), b)
			}
			truncs++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pos{s.Name(), s.Frame()})
	}
	want := []pos{{a, 1}, {a, 2}, {a, 3}, {b, 1}, {b, 2}, {b, 3}, {c, 1}, {c, 2}, {c, 3}}
	if truncs != 1 || len(got) != len(want) {
		t.Fatalf("got %v, %d truncations", got, truncs)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("frame %d at %v, want %v", i, got[i], want[i])
		}
	}
	if st := s.Stats(); st.Packets != 9 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOpenFilesReportsEveryBadFile(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.pcap", writePcap(t, layers.LinkTypeEthernet, testFrames(t, 1)))
	empty := writeFile(t, dir, "empty.pcap", nil)
	_, err := OpenFiles([]string{good, empty, dir}, Options{})
	if !errors.Is(err, ErrEmptyFile) || !errors.Is(err, ErrIsDirectory) || strings.Count(err.Error(), "\n") != 1 {
		t.Fatalf("err %q", err)
	}
	if _, err := OpenFiles(nil, Options{}); !errors.Is(err, ErrNoFiles) {
		t.Fatalf("no files: %v", err)
	}
}

func TestOpenReader(t *testing.T) {
	frames := testFrames(t, 4)
	s, err := OpenReader("demo", bytes.NewReader(gzipBytes(t, writePcapng(t, frames))), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := readAll(t, s)
	if err != nil || len(got) != 4 || s.Name() != "demo" || !bytes.Equal(got[3], frames[3]) {
		t.Fatalf("read %d frames, err %v, name %q", len(got), err, s.Name())
	}
}
