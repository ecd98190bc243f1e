//go:build linux

package capture

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ringNS creates a network namespace holding a veth pair (otsa, otsb) with
// no addresses: frames written on otsb arrive on otsa and can go nowhere
// else. It returns the namespace's name; the test removes it.
func ringNS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	ns := fmt.Sprintf("otscope-ring-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	run("-n", ns, "link", "add", "otsa", "type", "veth", "peer", "name", "otsb")
	run("-n", ns, "link", "set", "otsa", "up")
	run("-n", ns, "link", "set", "otsb", "up")
	return ns
}

// inNS runs fn on an OS thread that joined namespace ns; sockets it opens
// stay in ns.
func inNS(t *testing.T, ns string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			panic(err) // the thread must not go back to the pool in another namespace
		}
	}()
	fn()
}

// sender writes numbered Ethernet frames (ethertype 0x88b5, local
// experimental) on iface from an AF_PACKET socket.
type sender struct {
	fd    int
	addr  unix.SockaddrLinklayer
	frame []byte
}

func newSender(t *testing.T, iface string) *sender {
	t.Helper()
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	idx, err := ifindex(iface)
	if err != nil {
		t.Fatal(err)
	}
	s := &sender{fd: fd, addr: unix.SockaddrLinklayer{Ifindex: idx, Halen: 6}, frame: make([]byte, 60)}
	copy(s.frame[0:6], []byte{0x02, 0, 0, 0, 0, 0xaa})
	copy(s.frame[6:12], []byte{0x02, 0, 0, 0, 0, 0xbb})
	binary.BigEndian.PutUint16(s.frame[12:], 0x88b5)
	return s
}

func ifindex(iface string) (int, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return 0, err
	}
	return ifi.Index, nil
}

func (s *sender) send(t *testing.T, i uint32) {
	binary.BigEndian.PutUint32(s.frame[14:], i)
	for {
		err := unix.Sendto(s.fd, s.frame, 0, &s.addr)
		if err == unix.ENOBUFS || err == unix.EAGAIN {
			runtime.Gosched()
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
}

// ringPair makes the test's namespace and veth pair, opens the ring on otsa
// and a sender on otsb.
func ringPair(t *testing.T) (Source, *sender) {
	ns := ringNS(t)
	var src Source
	var snd *sender
	inNS(t, ns, func() {
		var err error
		if src, err = OpenLive("otsa", Options{}); err != nil {
			t.Fatal(err)
		}
		snd = newSender(t, "otsb")
	})
	return src, snd
}

// The ring delivers every frame, in order, while it keeps up.
func TestRingVethDeliversInOrder(t *testing.T) {
	src, snd := ringPair(t)
	defer src.Close()
	const n = 20000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint32(0); i < n; i++ {
			snd.send(t, i)
		}
	}()
	deadline := time.AfterFunc(20*time.Second, func() { src.Close() })
	defer deadline.Stop()
	next := uint32(0)
	for next < n {
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			t.Fatalf("after %d frames: %v", next, err)
		}
		if len(data) < 18 || binary.BigEndian.Uint16(data[12:]) != 0x88b5 {
			continue // the kernel's own frames (IPv6 router solicitations)
		}
		if got := binary.BigEndian.Uint32(data[14:]); got != next || ci.CaptureLength != len(data) || ci.Timestamp.IsZero() {
			t.Fatalf("frame %d: number %d, %d bytes (CaptureLength %d)", next, got, len(data), ci.CaptureLength)
		}
		next++
	}
	<-done
	if st := src.Stats(); st.KernelDrops != 0 {
		t.Errorf("%d kernel drops while reading", st.KernelDrops)
	}
}

// Frames the kernel cannot put in a full ring are counted as kernel drops.
func TestRingVethCountsDrops(t *testing.T) {
	src, snd := ringPair(t)
	defer src.Close()
	// Nobody reads: 8 MiB of ring holds well under 50,000 of these frames.
	const n = 50000
	for i := uint32(0); i < n; i++ {
		snd.send(t, i)
	}
	deadline := time.Now().Add(10 * time.Second)
	var drops uint64
	for drops == 0 && time.Now().Before(deadline) {
		drops = src.Stats().KernelDrops
		if drops == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if drops == 0 {
		t.Fatalf("no kernel drops after %d frames into an unread ring", n)
	}
	read := 0
	src.(*liveSource).reportIdle = true
	for {
		_, _, err := src.ZeroCopyReadPacketData()
		if err != nil {
			break // ErrIdle: the ring is empty
		}
		read++
	}
	t.Logf("%d frames sent, %d read from the ring, %d counted as kernel drops", n, read, drops)
	if read == 0 || uint64(read)+drops > n+100 {
		t.Errorf("%d read + %d dropped does not fit %d sent", read, drops, n)
	}
}
