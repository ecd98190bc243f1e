package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket"
)

// pcap file magic numbers as read little-endian from the first four bytes.
const (
	magicPcapMicro     = 0xa1b2c3d4
	magicPcapNano      = 0xa1b23c4d
	magicPcapMicroSwap = 0xd4c3b2a1
	magicPcapNanoSwap  = 0x4d3cb2a1
	magicPcapKuznetzov = 0xa1b2cd34
	magicPcapKuzSwap   = 0x34cdb2a1
	magicPcapng        = 0x0a0d0d0a
)

// badRecord is how the record readers report an unreadable record; the file
// source turns it into a *TruncatedError.
type badRecord struct {
	off    int64
	reason string
	err    error
}

func (b *badRecord) Error() string { return fmt.Sprintf("byte %d: %s", b.off, b.reason) }

// recordReader reads the packet records of one capture file.
type recordReader interface {
	// next returns the next packet record and the link type of its
	// interface, io.EOF at a clean end, or a *badRecord.
	next() (data []byte, ci gopacket.CaptureInfo, lt uint32, err error)
	// firstLinkType is the link type of the first record (or of the first
	// interface if there is no record yet), and whether one is known.
	firstLinkType() (uint32, bool)
	// offset is the byte offset of the next record.
	offset() int64
}

// pcapReader reads the classic libpcap format.
type pcapReader struct {
	s       *stream
	order   binary.ByteOrder
	nanos   bool
	lt      uint32
	snaplen uint32
	hdr     [16]byte
	buf     []byte
}

// newPcapReader reads the 24-byte file header.
func newPcapReader(s *stream) (*pcapReader, error) {
	var h [24]byte
	if err := s.readFull(h[:]); err != nil {
		reason, cause := cutShort("pcap file header", err)
		return nil, &badRecord{off: 0, reason: reason, err: cause}
	}
	r := &pcapReader{s: s}
	switch binary.LittleEndian.Uint32(h[0:4]) {
	case magicPcapMicro:
		r.order = binary.LittleEndian
	case magicPcapNano:
		r.order, r.nanos = binary.LittleEndian, true
	case magicPcapMicroSwap:
		r.order = binary.BigEndian
	case magicPcapNanoSwap:
		r.order, r.nanos = binary.BigEndian, true
	default:
		return nil, ErrNotCapture
	}
	if major := r.order.Uint16(h[4:6]); major != 2 {
		return nil, &badRecord{off: 4, reason: fmt.Sprintf("pcap version %d.%d is not supported", major, r.order.Uint16(h[6:8]))}
	}
	r.snaplen = r.order.Uint32(h[16:20])
	// The upper bits carry FCS information (libpcap's LT_LINKTYPE mask).
	r.lt = r.order.Uint32(h[20:24]) & 0x03ffffff
	return r, nil
}

func (r *pcapReader) firstLinkType() (uint32, bool) { return r.lt, true }

func (r *pcapReader) offset() int64 { return r.s.off }

func (r *pcapReader) next() ([]byte, gopacket.CaptureInfo, uint32, error) {
	var ci gopacket.CaptureInfo
	start := r.s.off
	if err := r.s.readFull(r.hdr[:]); err != nil {
		if err == io.EOF {
			return nil, ci, r.lt, io.EOF
		}
		reason, cause := cutShort("record header", err)
		return nil, ci, r.lt, &badRecord{off: start, reason: reason, err: cause}
	}
	caplen := r.order.Uint32(r.hdr[8:12])
	origlen := r.order.Uint32(r.hdr[12:16])
	if caplen > MaxFrameLen {
		return nil, ci, r.lt, &badRecord{off: start, reason: fmt.Sprintf(
			"record header claims %d captured bytes, more than %d: corrupt record header", caplen, MaxFrameLen)}
	}
	r.buf = frameBuf(r.buf, int(caplen))
	if err := r.s.readFull(r.buf); err != nil {
		reason, cause := cutShort(fmt.Sprintf("packet data (%d bytes)", caplen), err)
		return nil, ci, r.lt, &badRecord{off: start, reason: reason, err: cause}
	}
	sec := int64(r.order.Uint32(r.hdr[0:4]))
	frac := int64(r.order.Uint32(r.hdr[4:8]))
	if !r.nanos {
		frac *= 1000
	}
	ci.Timestamp = time.Unix(sec, frac).UTC()
	ci.CaptureLength = int(caplen)
	ci.Length = int(origlen)
	return r.buf, ci, r.lt, nil
}
