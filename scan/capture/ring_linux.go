//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"golang.org/x/sys/unix"
)

// The receive ring: TPACKET_V3 blocks the kernel fills and hands over whole,
// so a busy interface costs a system call per block, not per frame. 16
// blocks of 512 KiB hold ~4 s of a 1 Gbit/s link's worth of small frames
// at 100 Mbit/s; a block is handed over partly filled after ringBlockTimeout.
const (
	ringBlockSize    = 1 << 19
	ringBlocks       = 16
	ringFrameSize    = 1 << 11 // only sizes the request; V3 packs frames
	ringBlockTimeout = 50      // ms
)

// Offsets in the kernel's structures (linux/if_packet.h).
const (
	blockStatusOff = 8  // tpacket_block_desc.hdr.bh1.block_status
	blockNumOff    = 12 // .num_pkts
	blockFirstOff  = 16 // .offset_to_first_pkt
	pktNextOff     = 0  // tpacket3_hdr.tp_next_offset
	pktSecOff      = 4
	pktNsecOff     = 8
	pktSnapOff     = 12
	pktLenOff      = 16
	pktStatusOff   = 20
	pktMacOff      = 24
	pktVLANOff     = 32 // hv1.tp_vlan_tci
)

// ring is an AF_PACKET socket with a TPACKET_V3 receive ring, opened with
// golang.org/x/sys/unix. Not safe for concurrent reads; Close may run while
// a read waits (liveSource serialises them).
type ring struct {
	fd      int
	ifindex int
	mem     []byte
	block   int // the block being read
	left    int // frames left in it
	next    int // offset of the next frame in it
	held    bool
	drops   uint64 // accumulated from PACKET_STATISTICS (it resets on read)
	packets uint64
	pfd     []unix.PollFd
}

// errRingTimeout is a read that found no frame within the poll timeout.
var errRingTimeout = errors.New("no frame within the timeout")

// openRing opens the socket bound to iface, with the ring mapped.
func openRing(iface string) (*ring, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	// Protocol 0: the socket receives nothing until start binds it, after
	// the socket filter is attached, so no frame reaches the ring
	// unfiltered (on lo, both copies of every frame would).
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	r := &ring{fd: fd, ifindex: ifi.Index}
	fail := func(what string, err error) (*ring, error) {
		r.close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("PACKET_VERSION TPACKET_V3", err)
	}
	req := unix.TpacketReq3{Block_size: ringBlockSize, Block_nr: ringBlocks, Frame_size: ringFrameSize,
		Frame_nr: ringBlockSize / ringFrameSize * ringBlocks, Retire_blk_tov: ringBlockTimeout}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("PACKET_RX_RING", err)
	}
	r.mem, err = unix.Mmap(fd, 0, ringBlockSize*ringBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		r.mem = nil
		return fail("mmap of the receive ring", err)
	}
	r.pfd = []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLERR}}
	return r, nil
}

// start binds the socket to its interface for every protocol: frames flow
// into the ring from here on.
func (r *ring) start() error {
	if err := unix.Bind(r.fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: r.ifindex}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	return nil
}

// setPromiscuous puts the interface in promiscuous mode for this socket.
func (r *ring) setPromiscuous() error {
	return unix.SetsockoptPacketMreq(r.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP,
		&unix.PacketMreq{Ifindex: int32(r.ifindex), Type: unix.PACKET_MR_PROMISC})
}

// setBPF attaches a classic BPF program (bpf.Assemble output) to the socket.
func (r *ring) setBPF(prog []unix.SockFilter) error {
	if len(prog) == 0 {
		return nil
	}
	return unix.SetsockoptSockFprog(r.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]})
}

func (r *ring) status(b int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[b*ringBlockSize+blockStatusOff]))
}

// read returns the next frame, valid until the next read. It waits at most
// timeout for one (errRingTimeout); tci is the VLAN tag the kernel took out
// of the frame (vlan false when there was none).
func (r *ring) read(timeout time.Duration) (data []byte, ci gopacket.CaptureInfo, tci uint16, vlan bool, err error) {
	for r.left == 0 {
		if r.held {
			// hand the finished block back to the kernel
			atomic.StoreUint32(r.status(r.block), unix.TP_STATUS_KERNEL)
			r.held = false
			r.block = (r.block + 1) % ringBlocks
		}
		if atomic.LoadUint32(r.status(r.block))&unix.TP_STATUS_USER == 0 {
			n, err := unix.Poll(r.pfd, int(timeout/time.Millisecond))
			if err != nil && !errors.Is(err, unix.EINTR) {
				return nil, ci, 0, false, err
			}
			if n == 0 || errors.Is(err, unix.EINTR) {
				return nil, ci, 0, false, errRingTimeout
			}
			if atomic.LoadUint32(r.status(r.block))&unix.TP_STATUS_USER == 0 {
				return nil, ci, 0, false, errRingTimeout
			}
		}
		base := r.block * ringBlockSize
		r.held = true
		r.left = int(binary.NativeEndian.Uint32(r.mem[base+blockNumOff:]))
		r.next = base + int(binary.NativeEndian.Uint32(r.mem[base+blockFirstOff:]))
	}
	h := r.mem[r.next:]
	snap := int(binary.NativeEndian.Uint32(h[pktSnapOff:]))
	mac := int(binary.NativeEndian.Uint16(h[pktMacOff:]))
	st := binary.NativeEndian.Uint32(h[pktStatusOff:])
	ci.Timestamp = time.Unix(int64(binary.NativeEndian.Uint32(h[pktSecOff:])), int64(binary.NativeEndian.Uint32(h[pktNsecOff:])))
	ci.CaptureLength = snap
	ci.Length = int(binary.NativeEndian.Uint32(h[pktLenOff:]))
	ci.InterfaceIndex = r.ifindex
	if st&unix.TP_STATUS_VLAN_VALID != 0 {
		tci, vlan = uint16(binary.NativeEndian.Uint32(h[pktVLANOff:])), true
	}
	data = h[mac : mac+snap : mac+snap]
	r.left--
	r.packets++
	r.next += int(binary.NativeEndian.Uint32(h[pktNextOff:]))
	return data, ci, tci, vlan, nil
}

// kernelDrops returns the frames the kernel dropped since the socket
// opened (the ring was full).
func (r *ring) kernelDrops() uint64 {
	if st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		r.drops += uint64(st.Drops)
	}
	return r.drops
}

// close unmaps the ring and closes the socket.
func (r *ring) close() {
	if r.mem != nil {
		_ = unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd >= 0 {
		_ = unix.Close(r.fd)
		r.fd = -1
	}
}
