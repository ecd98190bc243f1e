package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"otscope/scan/capture"
)

// liveBench measures live capture with the TUI open: it makes a network
// namespace holding a veth pair (otsa, otsb) with no addresses and no
// routes, so the frames written on otsb arrive on otsa and can go nowhere
// else; opens `otscope ui -i otsa` inside it in tmux at 80x24; writes the
// first rate*seconds frames of path on otsb at rate frames per second
// (paced per millisecond); then reads the capture pane. The row gives the
// UI process's CPU over the send, its peak RSS, and in its name the frames
// sent and received and the kernel and queue drops the pane shows.
// It needs root (namespaces, AF_PACKET).
func liveBench(bin, path string, common []string, rate int, seconds time.Duration) (result, error) {
	if os.Geteuid() != 0 {
		return result{}, errors.New("needs root (a network namespace and a raw socket)")
	}
	n := int(float64(rate) * seconds.Seconds())
	ns := "otscope-bench-" + strconv.Itoa(os.Getpid())
	ip := func(args ...string) error {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", ns); err != nil {
		return result{}, err
	}
	defer ip("netns", "del", ns) //nolint:errcheck
	for _, args := range [][]string{
		{"-n", ns, "link", "add", "otsa", "type", "veth", "peer", "name", "otsb"},
		{"-n", ns, "link", "set", "otsa", "up"},
		{"-n", ns, "link", "set", "otsb", "up"},
	} {
		if err := ip(args...); err != nil {
			return result{}, err
		}
	}
	tmux, pid, stop, err := tmuxRun("benchlive-"+strconv.Itoa(os.Getpid()),
		append([]string{"ip", "netns", "exec", ns, bin, "ui", "-i", "otsa"}, common...))
	if err != nil {
		return result{}, err
	}
	defer stop()
	// ready: the capture pane names the interface (the ring is open)
	start := time.Now()
	for {
		tmux("send-keys", "-t", "b", "4") //nolint:errcheck
		screen, err := tmux("capture-pane", "-p", "-t", "b")
		if err != nil {
			return result{}, fmt.Errorf("the TUI exited: %w", err)
		}
		if strings.Contains(screen, "otsa") && strings.Contains(screen, "drops") {
			break
		}
		if time.Since(start) > time.Minute {
			return result{}, fmt.Errorf("no capture on otsa after a minute:\n%s", screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c0 := procCPU(pid)
	sendTime, err := sendFrames(ns, "otsb", path, n, rate)
	if err != nil {
		return result{}, err
	}
	c1 := procCPU(pid)
	// the UI has taken in what it will: its packet count stops moving
	var screen string
	last := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		if screen, err = tmux("capture-pane", "-p", "-t", "b"); err != nil {
			return result{}, fmt.Errorf("the TUI exited: %w", err)
		}
		if m := livePackets.FindString(screen); m != "" && m == last {
			break
		} else {
			last = m
		}
	}
	got := "?"
	if m := livePackets.FindStringSubmatch(screen); m != nil {
		got = m[1]
	}
	drops := "?"
	if m := liveDrops.FindStringSubmatch(screen); m != nil {
		drops = m[1] + " kernel, " + m[2] + " queue"
	}
	name := fmt.Sprintf("otscope ui -i: %d frames sent at %d/s, %s received, drops %s", n, rate, got, drops)
	cpu := c1 - c0
	return result{name: name, wall: sendTime, cpu: cpu, rssMB: procPeakRSS(pid), packets: n}, nil
}

var (
	livePackets = regexp.MustCompile(`packets\s+([\d,]+)`)
	liveDrops   = regexp.MustCompile(`kernel ([\d,]+) · (?:⚠ )?queue ([\d,]+)`)
)

// sendFrames writes the first n frames of the capture at path on iface
// inside namespace ns from an AF_PACKET socket, at rate frames per second
// (catching up every millisecond), and returns how long it took. Frames
// are read as they are sent: this program stays small, so the peak RSS
// Linux reports for the children it starts later stays theirs.
func sendFrames(ns, iface, path string, n, rate int) (time.Duration, error) {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	type done struct {
		d   time.Duration
		err error
	}
	ch := make(chan done, 1)
	go func() {
		// this thread joins ns and is never given back to the runtime
		runtime.LockOSThread()
		d, err := func() (time.Duration, error) {
			f, err := os.Open("/run/netns/" + ns)
			if err != nil {
				return 0, err
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				return 0, err
			}
			ifi, err := net.InterfaceByName(iface)
			if err != nil {
				return 0, err
			}
			fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return 0, err
			}
			defer unix.Close(fd)
			addr := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
			start := time.Now()
			for i := 0; i < n; {
				due := min(n, int(time.Since(start).Seconds()*float64(rate))+1)
				for ; i < due; i++ {
					frame, _, err := src.ZeroCopyReadPacketData()
					if errors.Is(err, io.EOF) {
						return 0, fmt.Errorf("%s: %d frames, want %d (generate more -packets)", path, i, n)
					}
					if err != nil {
						return 0, err
					}
					for {
						err := unix.Sendto(fd, frame, 0, addr)
						if err == unix.ENOBUFS || err == unix.EAGAIN {
							continue
						}
						if err != nil {
							return 0, fmt.Errorf("send frame %d: %w", i, err)
						}
						break
					}
				}
				time.Sleep(time.Millisecond)
			}
			return time.Since(start), nil
		}()
		ch <- done{d, err}
	}()
	r := <-ch
	return r.d, r.err
}
