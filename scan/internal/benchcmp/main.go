// Command benchcmp prints otscope's scale table: for generated plants of
// several sizes (scan/plant with Options.Fleet), the whole `otscope read`
// process at default settings (packets per CPU-second, wall time, peak RSS),
// then the time to export the session (`assets --format json`) and to audit
// it, side by side with a bare pcapgo read loop (the floor any reader pays)
// and `tshark -T fields` on the same file. Captures are generated once into
// -dir and reused, so runs are reproducible and comparable.
//
// The TUI row opens the session in `otscope ui` inside tmux at 80x24 (a real
// terminal; wall time is open to first frame) and reports the 99th
// percentile keypress latency, from tmux receiving the key (`send-keys` over
// a control-mode client) to the first output the TUI writes back (so it
// includes the rendering), and the TUI's idle CPU (utime+stime of the
// otscope process from /proc over -tuiidle once the UI is quiet, in % of
// one core). Without tmux those columns are skipped with a note.
//
// With -live RATE (root) a row captures live with the TUI open: the plant's
// frames written at RATE per second on a veth pair inside a namespace the
// program makes (no addresses, no routes: the frames go nowhere else), read
// by `otscope ui -i` on the other end; the row gives the UI's CPU over the
// send and the frames received and dropped that its capture pane shows.
//
//	go run ./scan/internal/benchcmp -otscope ./otscope -assets 300,3000,10000,30000 -packets 2000000
//	go run ./scan/internal/benchcmp -otscope ./otscope -file plant.pcap
//	go run ./scan/internal/benchcmp -otscope ./otscope -assets 5000 -tuikeys 0 -live 50000
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/gopacket/pcapgo"

	"otscope/scan/plant"
)

// demoAssets is how many assets the demo plant alone yields; a plant of N
// assets adds N-demoAssets fleet hosts.
const demoAssets = 47

type result struct {
	name    string
	packets int
	wall    time.Duration
	cpu     time.Duration
	rssMB   float64
	out     []byte
	// the TUI row: keypress latency (99th percentile) and idle CPU
	tui     bool
	keyP99  time.Duration
	idlePct float64
}

func main() {
	bin := flag.String("otscope", "./otscope", "otscope binary")
	file := flag.String("file", "", "one pcap file instead of generated plants")
	sizes := flag.String("assets", "300,3000,10000,30000", "plant sizes (assets) to generate, comma-separated")
	packets := flag.Int("packets", 2_000_000, "frames per generated capture")
	scale := flag.Int("scale", 40, "plant.Options.Scale of the generated captures")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "otscope-bench"), "where generated captures are kept")
	tshark := flag.String("tshark", "tshark", "tshark binary (skipped when missing)")
	tuiKeys := flag.Int("tuikeys", 200, "keypresses timed in the TUI (0: no TUI row)")
	tuiIdle := flag.Duration("tuiidle", 20*time.Second, "how long the idle TUI's CPU is sampled")
	live := flag.Int("live", 0, "also capture live with the TUI open: frames per second written on a veth pair in a namespace (root; 0: no live row)")
	liveFor := flag.Duration("livefor", 10*time.Second, "how long the live row sends")
	genTo := flag.String("generate", "", "internal: write the capture -assets/-packets/-scale describe to this path and exit")
	flag.Parse()
	if *genTo != "" {
		n, _ := strconv.Atoi(*sizes)
		if err := generate(*genTo, plant.Options{Seed: 1, MaxPackets: *packets, Scale: *scale, Fleet: n - demoAssets}); err != nil {
			fmt.Fprintln(os.Stderr, "benchcmp:", err)
			os.Exit(1)
		}
		return
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fail(err)
	}
	var files []string
	if *file != "" {
		files = []string{*file}
	} else {
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < demoAssets {
				fail(fmt.Errorf("-assets: %q is not a size of at least %d", s, demoAssets))
			}
			path := filepath.Join(*dir, fmt.Sprintf("plant-%d-%d-s%d.pcap", n, *packets, *scale))
			// in a child process: Linux reports a child's peak RSS as at
			// least the parent's at fork, so this process must stay small
			if err := generateApart(path, n, *packets, *scale); err != nil {
				fail(err)
			}
			files = append(files, path)
		}
	}
	_, haveTshark := exec.LookPath(*tshark)
	_, haveTmux := exec.LookPath("tmux")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "(max RSS of a child is at least this program's, %.0f MB, a Linux rusage quirk)\n", selfRSS())
	fmt.Fprintf(tw, "capture\tassets\ttool\tpackets\twall s\tCPU s\tpkt/CPU-s\tmax RSS MB\tkey p99 ms\tidle %%core\t\n")
	for _, path := range files {
		bare, err := bareLoop(path)
		if err != nil {
			fail(err)
		}
		work, err := os.MkdirTemp(*dir, "run-")
		if err != nil {
			fail(err)
		}
		common := []string{"--session", "bench", "--db", filepath.Join(work, "db"), "--log", filepath.Join(work, "log")}
		read, err := timed("otscope read", bare.packets, *bin, append([]string{"read", path}, common...)...)
		if err != nil {
			fail(fmt.Errorf("otscope read: %w", err))
		}
		assets := "?"
		if m := regexp.MustCompile(`(\d+) assets`).FindSubmatch(read.out); m != nil {
			assets = string(m[1])
		}
		rows := []result{bare, read}
		for _, c := range []struct{ name, cmd, format string }{
			{"otscope assets --format json", "assets", "json"}, {"otscope audit", "audit", "table"},
		} {
			r, err := timed(c.name, 0, *bin, append([]string{c.cmd, "--format", c.format}, common...)...)
			if err != nil {
				fail(fmt.Errorf("%s: %w", c.name, err))
			}
			rows = append(rows, r)
		}
		if haveTmux == nil && *tuiKeys > 0 {
			r, err := tuiBench(*bin, common, *tuiKeys, *tuiIdle)
			if err != nil {
				fmt.Fprintln(os.Stderr, "benchcmp: TUI:", err)
			} else {
				rows = append(rows, r)
			}
		}
		if *live > 0 {
			lc := []string{"--session", "live", "--db", filepath.Join(work, "db"), "--log", filepath.Join(work, "log")}
			r, err := liveBench(*bin, path, lc, *live, *liveFor)
			if err != nil {
				fmt.Fprintln(os.Stderr, "benchcmp: live:", err)
			} else {
				rows = append(rows, r)
			}
		}
		if haveTshark == nil {
			r, err := timed("tshark -T fields ip.src ip.dst tcp.dstport", bare.packets, *tshark, "-r", path, "-n",
				"-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.dstport")
			if err != nil {
				fmt.Fprintln(os.Stderr, "benchcmp: tshark:", err)
			} else {
				rows = append(rows, r)
			}
		}
		for _, r := range rows {
			pkts, per := "-", "-"
			if r.packets > 0 {
				pkts, per = strconv.Itoa(r.packets), fmt.Sprintf("%.0f", float64(r.packets)/r.cpu.Seconds())
			}
			key, idle := "-", "-"
			if r.tui {
				key, idle = fmt.Sprintf("%.1f", r.keyP99.Seconds()*1000), fmt.Sprintf("%.2f", r.idlePct)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%.1f\t%s\t%s\t\n", filepath.Base(path), assets, r.name, pkts,
				r.wall.Seconds(), r.cpu.Seconds(), per, r.rssMB, key, idle)
		}
		tw.Flush()
		os.RemoveAll(work)
	}
	if haveTshark != nil {
		fmt.Fprintln(os.Stderr, "benchcmp: tshark not found: skipped")
	}
	if haveTmux != nil && *tuiKeys > 0 {
		fmt.Fprintln(os.Stderr, "benchcmp: tmux not found: the TUI row (key p99, idle CPU) skipped")
	}
}

// generateApart runs this program with -generate to write a capture.
func generateApart(path string, n, packets, scale int) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-generate", path, "-assets", strconv.Itoa(n), "-packets", strconv.Itoa(packets),
		"-scale", strconv.Itoa(scale))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// generate writes the plant capture o describes to path unless it exists.
func generate(path string, o plant.Options) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(os.Stderr, "benchcmp: generating %s\n", path)
	if _, err := plant.WritePcap(w, o); err != nil {
		f.Close()
		return err
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// selfRSS returns this process's peak RSS in MB.
func selfRSS() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

// bareLoop reads every frame with pcapgo's zero-copy reader and does
// nothing else, on one OS thread.
func bareLoop(path string) (result, error) {
	runtime.GOMAXPROCS(1)
	f, err := os.Open(path)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", path, err)
	}
	n := 0
	for {
		_, _, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return result{}, err
		}
		n++
	}
	wall := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	return result{name: "bare pcapgo zero-copy loop", packets: n, wall: wall, cpu: cpu, rssMB: float64(ru1.Maxrss) / 1024}, nil
}

// timed runs a command, keeping the start of its standard output, and
// reports its wall time, CPU time and peak RSS.
func timed(name string, packets int, bin string, args ...string) (result, error) {
	cmd := exec.Command(bin, args...)
	out := head{max: 64 << 10}
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 3) { // audit exits 3 when violations exist
		return result{}, err
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano()) + time.Duration(ru.Stime.Nano())
	return result{name: name, packets: packets, wall: wall, cpu: cpu, rssMB: float64(ru.Maxrss) / 1024, out: out.buf.Bytes()}, nil
}

// head keeps the first max bytes written to it and drops the rest. The
// output of tshark and of the JSON export is tens of megabytes: kept whole,
// it would grow this process, and Linux reports the peak RSS of every later
// child as at least this process's at fork.
// (Not an embedded bytes.Buffer: io.Copy would call its ReadFrom, which
// reads everything.)
type head struct {
	buf bytes.Buffer
	max int
}

func (h *head) Write(p []byte) (int, error) {
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
