//go:build linux

package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// liveReadTimeout bounds how long a read blocks before it checks whether the
// source was closed.
const liveReadTimeout = 250 * time.Millisecond

// OpenLive captures from a Linux network interface with an AF_PACKET socket
// and a TPACKET_V3 memory-mapped receive ring (golang.org/x/sys/unix; no
// libpcap, no cgo): the kernel fills blocks of frames and a busy interface
// costs a system call per block, not per frame. Frames the kernel had to
// drop because the ring was full are counted in Stats().KernelDrops.
// Options.SnapLen caps the
// frame length, Options.Promisc enables promiscuous mode, and
// Options.Filter is compiled with CompileFilter and attached to the socket,
// so the kernel drops non-matching frames. A missing interface gives an
// error wrapping ErrNoInterface that lists the available ones; missing
// privileges give ErrPermission with the setcap command to run.
func OpenLive(iface string, o Options) (Source, error) {
	if err := checkInterface(iface); err != nil {
		return nil, err
	}
	lt, loopback, err := ifaceLinkType(iface)
	if err != nil {
		return nil, err
	}
	var prog []bpf.Instruction
	if o.Filter != "" {
		if prog, err = CompileFilter(o.Filter, lt); err != nil {
			return nil, fmt.Errorf("%s: %w", liveName(iface), err)
		}
	}
	h, err := openRing(iface)
	if err != nil {
		return nil, liveOpenError(iface, err)
	}
	src := &liveSource{iface: iface, name: liveName(iface), lt: lt, h: h, c: &counters{}, reportIdle: o.ReportIdle,
		snap: o.snapLen()}
	src.vlanBuf = make([]byte, src.snap+4)
	if o.Promisc {
		if err := h.setPromiscuous(); err != nil {
			h.close()
			return nil, liveOpenError(iface, err)
		}
	}
	if prog != nil {
		// The userland copy also catches frames queued before the socket
		// filter was attached, and is the only one used for "vlan": the
		// kernel strips VLAN tags before socket filters see the frame.
		if src.vm, err = bpf.NewVM(prog); err != nil {
			h.close()
			return nil, fmt.Errorf("%s: %w: %v", liveName(iface), ErrFilter, err)
		}
	}
	var kernel []bpf.Instruction
	if loopback {
		// On lo every frame passes the socket twice, outgoing and incoming;
		// like libpcap, keep only the incoming copy.
		kernel = []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipFalse: 1},
			bpf.RetConstant{Val: 0},
		}
	}
	if prog != nil && !usesVLAN(o.Filter) {
		kernel = append(kernel, prog...)
	} else if kernel != nil {
		kernel = append(kernel, bpf.RetConstant{Val: MaxFrameLen})
	}
	if kernel != nil {
		raw, err := bpf.Assemble(kernel)
		if err == nil {
			prog := make([]unix.SockFilter, len(raw))
			for i, ins := range raw {
				prog[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
			}
			err = h.setBPF(prog)
		}
		if err != nil {
			h.close()
			return nil, liveOpenError(iface, err)
		}
	}
	// Bound only now, with the filter in place: no frame came through
	// unfiltered, so none is read twice on lo.
	if err := h.start(); err != nil {
		h.close()
		return nil, liveOpenError(iface, err)
	}
	return src, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// checkInterface checks that the interface exists.
func checkInterface(iface string) error {
	if iface == "" || strings.ContainsAny(iface, "/") {
		return noInterfaceError(iface)
	}
	// by netlink, so the calling thread's network namespace is the one asked
	// (/sys/class/net shows the namespace sysfs was mounted in)
	if _, err := net.InterfaceByName(iface); err != nil {
		return noInterfaceError(iface)
	}
	return nil
}

// hardwareType asks the kernel (SIOCGIFHWADDR, in the calling thread's
// network namespace) for the interface's ARPHRD type.
func hardwareType(iface string) (string, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return "", err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return "", err
	}
	return strconv.Itoa(int(ifr.Uint16())), nil
}

// ifaceLinkType maps the interface's ARPHRD type to the link type of the
// frames an AF_PACKET SOCK_RAW socket returns.
// It also reports whether the interface is a loopback.
func ifaceLinkType(iface string) (layers.LinkType, bool, error) {
	t, err := hardwareType(iface)
	if err != nil {
		b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
		if err != nil {
			return layers.LinkTypeEthernet, false, nil
		}
		t = strings.TrimSpace(string(b))
	}
	switch t {
	case "1": // ARPHRD_ETHER
		return layers.LinkTypeEthernet, false, nil
	case "772": // ARPHRD_LOOPBACK: Ethernet header with zero MACs
		return layers.LinkTypeEthernet, true, nil
	case "65534", "776", "778": // ARPHRD_NONE (tun, WireGuard), SIT, IPGRE: bare IP
		return layers.LinkTypeRaw, false, nil
	default:
		return 0, false, fmt.Errorf("%s: %w: interface hardware type %s (see /sys/class/net/%s/type); otscope captures on Ethernet, loopback and tun interfaces: use a wired interface or a SPAN/mirror port",
			liveName(iface), ErrLinkType, t, iface)
	}
}

// usesVLAN reports whether a filter contains the vlan primitive.
func usesVLAN(filter string) bool {
	for _, t := range tokenizeFilter(filter) {
		if strings.EqualFold(t, "vlan") {
			return true
		}
	}
	return false
}

// liveSource reads from an interface.
type liveSource struct {
	iface, name string
	lt          layers.LinkType
	vm          *bpf.VM
	c           *counters
	frame       uint64
	vlanBuf     []byte
	reportIdle  bool
	snap        int

	// mu guards h (its descriptor) and the fields below against Close and
	// Stats running on other goroutines.
	mu      sync.Mutex
	h       *ring
	reading bool
	closed  bool
	hClosed bool
}

// ZeroCopyReadPacketData returns the next frame that passes the filter.
func (s *liveSource) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.closeHandleLocked()
			s.mu.Unlock()
			return nil, gopacket.CaptureInfo{}, io.EOF
		}
		s.reading = true
		s.mu.Unlock()

		data, ci, tci, vlan, err := s.h.read(liveReadTimeout)

		s.mu.Lock()
		s.reading = false
		closed := s.closed
		s.mu.Unlock()
		if closed {
			continue
		}
		if err != nil {
			if errors.Is(err, errRingTimeout) {
				if s.reportIdle {
					return nil, gopacket.CaptureInfo{}, ErrIdle
				}
				continue
			}
			return nil, gopacket.CaptureInfo{}, fmt.Errorf("%s: %w", s.name, err)
		}
		s.frame++
		s.c.packets.Add(1)
		s.c.bytes.Add(uint64(len(data)))
		if len(data) > s.snap {
			data = data[:s.snap]
			ci.CaptureLength = s.snap
		}
		if vlan {
			data, ci = insertVLAN(s.vlanBuf, data, ci, tci)
		}
		if s.vm != nil {
			if n, err := s.vm.Run(data); err != nil || n == 0 {
				s.c.filtered.Add(1)
				continue
			}
		}
		return data, ci, nil
	}
}

// insertVLAN puts back an 802.1Q tag that the kernel moved into packet
// metadata, writing the frame into buf (len(buf) >= len(data)+4).
func insertVLAN(buf, data []byte, ci gopacket.CaptureInfo, tci uint16) ([]byte, gopacket.CaptureInfo) {
	ci.AncillaryData = nil
	if len(data) < 12 || len(buf) < len(data)+4 {
		return data, ci
	}
	out := buf[:len(data)+4]
	copy(out[0:12], data[0:12])
	out[12], out[13] = 0x81, 0x00
	out[14], out[15] = byte(tci>>8), byte(tci)
	copy(out[16:], data[12:])
	ci.CaptureLength += 4
	ci.Length += 4
	return out, ci
}

func (s *liveSource) closeHandleLocked() {
	if !s.hClosed {
		s.hClosed = true
		s.h.close()
	}
}

// LinkType is Ethernet (raw IP on tun-like interfaces).
func (s *liveSource) LinkType() layers.LinkType { return s.lt }

// Name is "iface:NAME".
func (s *liveSource) Name() string { return s.name }

// Frame counts frames received since OpenLive.
func (s *liveSource) Frame() uint64 { return s.frame }

// Live reports true.
func (s *liveSource) Live() bool { return true }

// Stats returns the counters, adding the kernel's drop count.
func (s *liveSource) Stats() Stats {
	s.mu.Lock()
	if !s.hClosed {
		s.c.drops.Store(s.h.kernelDrops())
	}
	s.mu.Unlock()
	return s.c.snapshot()
}

// Close closes the socket. It may be called from another goroutine while a
// read is blocked; that read returns io.EOF within liveReadTimeout.
func (s *liveSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if !s.reading {
		s.closeHandleLocked()
	}
	return nil
}
