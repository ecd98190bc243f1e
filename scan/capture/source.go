package capture

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// MaxFrameLen is the largest captured frame length accepted from a file
// (libpcap's and Wireshark's limit, 256 KiB). A record header claiming more is
// reported as corrupt instead of being allocated.
const MaxFrameLen = 262144

// DefaultSnapLen is the live capture length used when Options.SnapLen is 0.
const DefaultSnapLen = MaxFrameLen

// Source is a packet source. It is not safe for concurrent use: one goroutine
// reads it. Stats and Close may be called from other goroutines.
type Source interface {
	// ZeroCopyReadPacketData returns the next frame; data is valid until the
	// next call. It returns io.EOF at a clean end. A *TruncatedError or an
	// error opening the next file of a multi-file source ends that file only:
	// the next call continues with the following file.
	ZeroCopyReadPacketData() (data []byte, ci gopacket.CaptureInfo, err error)
	// LinkType is the link type of the frame returned last (before the first
	// read: of the first frame). It may change at a file boundary or between
	// pcapng interfaces.
	LinkType() layers.LinkType
	// Name is the origin for provenance: the current file path as given, or
	// "iface:eth0" for a live source.
	Name() string
	// Frame is the 1-based number of the frame returned last within the
	// current file (tshark's frame.number), counting frames dropped by the
	// filter. For a live source it counts frames received since OpenLive.
	Frame() uint64
	// Live reports whether the source is a live interface.
	Live() bool
	// Stats returns counters accumulated since the source was opened (over
	// all files of a multi-file source).
	Stats() Stats
	// Close releases the file or socket. A blocked live read returns io.EOF.
	Close() error
}

// Options configure a source.
type Options struct {
	// Filter is a capture filter in the subset of tcpdump syntax that
	// CompileFilter accepts. Empty means every frame.
	Filter string
	// SnapLen caps the bytes kept per frame; 0 means DefaultSnapLen.
	SnapLen int
	// Promisc puts a live interface into promiscuous mode.
	Promisc bool
	// ReportIdle makes a live read return ErrIdle when no frame arrived
	// within a quarter second, instead of waiting on.
	ReportIdle bool
}

func (o Options) snapLen() int {
	if o.SnapLen <= 0 || o.SnapLen > MaxFrameLen {
		return DefaultSnapLen
	}
	return o.SnapLen
}

// Stats are a source's counters.
type Stats struct {
	// Packets is the number of frames read from the source, including those
	// dropped by the userland filter or skipped.
	Packets uint64
	// Bytes is the captured length of those frames.
	Bytes uint64
	// KernelDrops is the number of frames the kernel dropped because the
	// reader was too slow (live only, from PACKET_STATISTICS).
	KernelDrops uint64
	// Filtered is the number of frames dropped by a userland filter.
	Filtered uint64
	// Skipped is the number of frames not returned because their pcapng
	// interface has an unsupported link type.
	Skipped uint64
}

// Delivered is the number of frames returned to the reader.
func (s Stats) Delivered() uint64 { return s.Packets - s.Filtered - s.Skipped }

// counters are updated by the reading goroutine and read by Stats from any
// goroutine.
type counters struct {
	packets, bytes, drops, filtered, skipped atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Packets:     c.packets.Load(),
		Bytes:       c.bytes.Load(),
		KernelDrops: c.drops.Load(),
		Filtered:    c.filtered.Load(),
		Skipped:     c.skipped.Load(),
	}
}

// Link types handled besides those named in layers.
const (
	linkTypeRawDLT12   = layers.LinkType(12)  // DLT_RAW on most systems
	linkTypeRawDLT14   = layers.LinkType(14)  // DLT_RAW on OpenBSD
	linkTypeLinuxSLL2  = 276                  // LINKTYPE_LINUX_SLL2; does not fit layers.LinkType
	linkTypeIPv4       = layers.LinkTypeIPv4  // 228
	linkTypeIPv6       = layers.LinkTypeIPv6  // 229
	linkTypeMSTP       = layers.LinkType(165) // LINKTYPE_BACNET_MS_TP
	supportedLinkTypes = "Ethernet (1), Linux cooked (113, 276), raw IP (101, 12, 14, 228, 229), BSD loopback (0, 108), BACnet MS/TP (165)"
)

// supportedLinkType reports whether frames of the file link type lt (as
// stored in the file, up to 32 bits) can be handed out, and the
// layers.LinkType they are handed out as.
func supportedLinkType(lt uint32) (layers.LinkType, bool) {
	switch lt {
	case uint32(layers.LinkTypeEthernet), uint32(layers.LinkTypeLinuxSLL),
		uint32(layers.LinkTypeRaw), uint32(linkTypeRawDLT12), uint32(linkTypeRawDLT14),
		uint32(linkTypeIPv4), uint32(linkTypeIPv6),
		uint32(layers.LinkTypeNull), uint32(layers.LinkTypeLoop), uint32(linkTypeMSTP):
		return layers.LinkType(lt), true
	case linkTypeLinuxSLL2:
		return layers.LinkTypeLinuxSLL, true
	}
	return 0, false
}

// linkTypeName names a file link type for error messages.
func linkTypeName(lt uint32) string {
	if lt == linkTypeLinuxSLL2 {
		return "276 (Linux SLL2)"
	}
	if lt < 256 {
		if s := layers.LinkType(lt).String(); s != "" && !strings.HasPrefix(s, "Unknown") {
			return fmt.Sprintf("%d (%s)", lt, s)
		}
	}
	return fmt.Sprint(lt)
}

// linkTypeError builds the one-line error for an unsupported link type.
func linkTypeError(where string, lt uint32) error {
	return fmt.Errorf("%s: %w: %s; otscope reads %s: capture on a wired interface or a SPAN/mirror port, or convert the file to Ethernet",
		where, ErrLinkType, linkTypeName(lt), supportedLinkTypes)
}
