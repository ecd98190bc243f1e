package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/google/gopacket"
)

// pcapng block types and constants.
const (
	ngBlockSHB       = 0x0a0d0d0a
	ngBlockIDB       = 0x00000001
	ngBlockPB        = 0x00000002 // obsolete Packet Block
	ngBlockSPB       = 0x00000003
	ngBlockEPB       = 0x00000006
	ngByteOrderMagic = 0x1a2b3c4d
	ngOptEnd         = 0
	ngOptTsresol     = 9
	ngOptTsoffset    = 14
	ngMaxInterfaces  = 1 << 16
)

// ngIface is what the reader keeps of an Interface Description Block.
type ngIface struct {
	lt       uint32
	snaplen  uint32
	units    uint64 // timestamp units per second (if_tsresol)
	tsoffset int64  // seconds added to every timestamp (if_tsoffset)
}

// ngReader reads pcapng: several sections, several interfaces, any byte order.
type ngReader struct {
	s      *stream
	big    bool
	ifaces []ngIface
	b      [24]byte
	buf    []byte

	// The packet block whose header was read but whose data was not.
	pending    bool
	blockStart int64
	blockLen   uint32
	iface      int
	caplen     uint32
	toTrailer  int64 // bytes between the packet data and the trailing length
	ci         gopacket.CaptureInfo

	// pendingErr is an error met while looking for the first packet at open.
	pendingErr error
}

func (r *ngReader) u16(b []byte) uint16 {
	if r.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *ngReader) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *ngReader) u64(b []byte) uint64 {
	if r.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// newNgReader reads up to the header of the first packet block, so that the
// link type of the first packet is known.
func newNgReader(s *stream) (*ngReader, error) {
	r := &ngReader{s: s}
	if err := r.readHeader(); err != nil {
		if err == io.EOF {
			// A file of only "0a0d0d0a": too short for a section header.
			return nil, &badRecord{off: 0, reason: "section header cut short", err: io.ErrUnexpectedEOF}
		}
		if err == ErrNotCapture {
			return nil, err
		}
		if br, ok := err.(*badRecord); ok && br.off == 0 {
			return nil, err
		}
		r.pendingErr = err
		return r, nil
	}
	r.pending = true
	return r, nil
}

func (r *ngReader) offset() int64 { return r.s.off }

func (r *ngReader) firstLinkType() (uint32, bool) {
	if r.pending {
		return r.ifaces[r.iface].lt, true
	}
	if len(r.ifaces) > 0 {
		return r.ifaces[0].lt, true
	}
	return 0, false
}

func (r *ngReader) bad(off int64, format string, args ...any) error {
	return &badRecord{off: off, reason: fmt.Sprintf(format, args...)}
}

func (r *ngReader) short(off int64, what string, err error) error {
	reason, cause := cutShort(what, err)
	return &badRecord{off: off, reason: reason, err: cause}
}

// readHeader reads blocks until the header of the next packet block, handling
// section headers and interface descriptions on the way.
func (r *ngReader) readHeader() error {
	for {
		start := r.s.off
		if err := r.s.readFull(r.b[:8]); err != nil {
			if err == io.EOF {
				return io.EOF
			}
			return r.short(start, "block header", err)
		}
		typ := r.u32(r.b[0:4])
		if typ == ngBlockSHB {
			if err := r.readSHB(start); err != nil {
				return err
			}
			continue
		}
		if start == 0 {
			return ErrNotCapture
		}
		blen := r.u32(r.b[4:8])
		if blen < 12 || blen%4 != 0 {
			return r.bad(start, "block of type 0x%x claims length %d: corrupt block header", typ, blen)
		}
		switch typ {
		case ngBlockIDB:
			if err := r.readIDB(start, blen); err != nil {
				return err
			}
		case ngBlockEPB, ngBlockPB:
			if blen < 32 {
				return r.bad(start, "packet block of length %d is shorter than its header: corrupt block header", blen)
			}
			if err := r.s.readFull(r.b[:20]); err != nil {
				return r.short(start, "packet block header", err)
			}
			var id uint32
			if typ == ngBlockEPB {
				id = r.u32(r.b[0:4])
			} else {
				id = uint32(r.u16(r.b[0:2]))
			}
			if id >= uint32(len(r.ifaces)) {
				return r.bad(start, "packet refers to interface %d but the section describes %d: corrupt block", id, len(r.ifaces))
			}
			caplen := r.u32(r.b[12:16])
			if caplen > MaxFrameLen || int64(caplen)+32 > int64(blen) {
				return r.bad(start, "packet block claims %d captured bytes in a block of %d: corrupt block header", caplen, blen)
			}
			r.iface = int(id)
			r.caplen = caplen
			r.toTrailer = int64(blen) - 32 - int64(caplen)
			r.ci = gopacket.CaptureInfo{
				Timestamp:      r.ifaces[id].time(uint64(r.u32(r.b[4:8]))<<32 | uint64(r.u32(r.b[8:12]))),
				CaptureLength:  int(caplen),
				Length:         int(r.u32(r.b[16:20])),
				InterfaceIndex: int(id),
			}
			r.blockStart, r.blockLen = start, blen
			return nil
		case ngBlockSPB:
			if blen < 16 {
				return r.bad(start, "simple packet block of length %d: corrupt block header", blen)
			}
			if len(r.ifaces) == 0 {
				return r.bad(start, "packet block before any interface description: corrupt file")
			}
			if err := r.s.readFull(r.b[:4]); err != nil {
				return r.short(start, "packet block header", err)
			}
			origlen := r.u32(r.b[0:4])
			caplen := origlen
			if sl := r.ifaces[0].snaplen; sl != 0 && caplen > sl {
				caplen = sl
			}
			if caplen > MaxFrameLen || int64(caplen)+16 > int64(blen) {
				return r.bad(start, "simple packet block claims %d bytes in a block of %d: corrupt block header", caplen, blen)
			}
			r.iface = 0
			r.caplen = caplen
			r.toTrailer = int64(blen) - 16 - int64(caplen)
			r.ci = gopacket.CaptureInfo{CaptureLength: int(caplen), Length: int(origlen)}
			r.blockStart, r.blockLen = start, blen
			return nil
		default:
			if err := r.s.discard(int64(blen) - 8); err != nil {
				return r.short(start, fmt.Sprintf("block of type 0x%x", typ), err)
			}
		}
	}
}

// readSHB reads a section header block after its first 8 bytes.
func (r *ngReader) readSHB(start int64) error {
	if err := r.s.readFull(r.b[8:12]); err != nil {
		return r.short(start, "section header", err)
	}
	switch {
	case binary.BigEndian.Uint32(r.b[8:12]) == ngByteOrderMagic:
		r.big = true
	case binary.LittleEndian.Uint32(r.b[8:12]) == ngByteOrderMagic:
		r.big = false
	default:
		if start == 0 {
			return ErrNotCapture
		}
		return r.bad(start, "section header has no byte-order magic: corrupt block")
	}
	blen := r.u32(r.b[4:8])
	if blen < 28 || blen%4 != 0 {
		return r.bad(start, "section header claims length %d: corrupt block header", blen)
	}
	if err := r.s.readFull(r.b[:12]); err != nil {
		return r.short(start, "section header", err)
	}
	if major := r.u16(r.b[0:2]); major != 1 {
		return r.bad(start, "pcapng version %d.%d is not supported", major, r.u16(r.b[2:4]))
	}
	if err := r.s.discard(int64(blen) - 28); err != nil {
		return r.short(start, "section header", err)
	}
	if err := r.trailer(start, blen); err != nil {
		return err
	}
	r.ifaces = r.ifaces[:0]
	return nil
}

// trailer reads a block's trailing length and checks it against the leading one.
func (r *ngReader) trailer(start int64, blen uint32) error {
	if err := r.s.readFull(r.b[:4]); err != nil {
		return r.short(start, "block trailer", err)
	}
	if t := r.u32(r.b[:4]); t != blen {
		return r.bad(start, "block length fields disagree (%d and %d): corrupt block", blen, t)
	}
	return nil
}

// readIDB reads an interface description block after its first 8 bytes.
func (r *ngReader) readIDB(start int64, blen uint32) error {
	if blen < 20 {
		return r.bad(start, "interface description of length %d: corrupt block header", blen)
	}
	if len(r.ifaces) >= ngMaxInterfaces {
		return r.bad(start, "more than %d interfaces in one section: corrupt file", ngMaxInterfaces)
	}
	if err := r.s.readFull(r.b[:8]); err != nil {
		return r.short(start, "interface description", err)
	}
	ifc := ngIface{lt: uint32(r.u16(r.b[0:2])), snaplen: r.u32(r.b[4:8]), units: 1e6}
	tsresol := byte(6)
	remaining := int64(blen) - 20
	for remaining >= 4 {
		if err := r.s.readFull(r.b[:4]); err != nil {
			return r.short(start, "interface option", err)
		}
		remaining -= 4
		code, olen := r.u16(r.b[0:2]), int64(r.u16(r.b[2:4]))
		if code == ngOptEnd {
			break
		}
		padded := (olen + 3) &^ 3
		if padded > remaining {
			return r.bad(start, "interface option %d of length %d overruns its block: corrupt block", code, olen)
		}
		skip := padded
		switch {
		case code == ngOptTsresol && olen >= 1:
			if err := r.s.readFull(r.b[:1]); err != nil {
				return r.short(start, "interface option", err)
			}
			tsresol = r.b[0]
			skip--
		case code == ngOptTsoffset && olen == 8:
			if err := r.s.readFull(r.b[:8]); err != nil {
				return r.short(start, "interface option", err)
			}
			ifc.tsoffset = int64(r.u64(r.b[:8]))
			skip -= 8
		}
		if err := r.s.discard(skip); err != nil {
			return r.short(start, "interface option", err)
		}
		remaining -= padded
	}
	if err := r.s.discard(remaining); err != nil {
		return r.short(start, "interface description", err)
	}
	if err := r.trailer(start, blen); err != nil {
		return err
	}
	units, ok := tsUnits(tsresol)
	if !ok {
		return r.bad(start, "interface timestamp resolution 0x%02x is out of range: corrupt block", tsresol)
	}
	ifc.units = units
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// tsUnits converts an if_tsresol value to timestamp units per second.
func tsUnits(v byte) (uint64, bool) {
	if v&0x80 != 0 {
		e := v & 0x7f
		if e > 63 {
			return 0, false
		}
		return 1 << e, true
	}
	if v > 19 {
		return 0, false
	}
	u := uint64(1)
	for range v {
		u *= 10
	}
	return u, true
}

// time converts a 64-bit pcapng timestamp of this interface.
func (ifc *ngIface) time(ts uint64) time.Time {
	sec := int64(ts/ifc.units) + ifc.tsoffset
	hi, lo := bits.Mul64(ts%ifc.units, 1e9)
	nsec, _ := bits.Div64(hi, lo, ifc.units) // hi < units because ts%units < units
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *ngReader) next() ([]byte, gopacket.CaptureInfo, uint32, error) {
	if r.pendingErr != nil {
		err := r.pendingErr
		r.pendingErr = nil
		return nil, gopacket.CaptureInfo{}, 0, err
	}
	if !r.pending {
		if err := r.readHeader(); err != nil {
			return nil, gopacket.CaptureInfo{}, 0, err
		}
	}
	r.pending = false
	lt := r.ifaces[r.iface].lt
	r.buf = frameBuf(r.buf, int(r.caplen))
	if err := r.s.readFull(r.buf); err != nil {
		return nil, r.ci, lt, r.short(r.blockStart, fmt.Sprintf("packet data (%d bytes)", r.caplen), err)
	}
	if err := r.s.discard(r.toTrailer); err != nil {
		return nil, r.ci, lt, r.short(r.blockStart, "packet block options", err)
	}
	if err := r.trailer(r.blockStart, r.blockLen); err != nil {
		return nil, r.ci, lt, err
	}
	return r.buf, r.ci, lt, nil
}
