// Command benchcmp measures passive-inventory throughput on one capture,
// side by side: a bare pcapgo zero-copy read loop (the floor any reader
// pays), `otscope read` (decode + assets + flows + persistence) and tshark
// extracting three fields. otscope runs with GOMAXPROCS=1, so its figure is
// per core; packets per CPU-second is printed for every tool.
//
//	go run ./scan/internal/benchcmp -otscope ./otscope -file plant.pcap
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/gopacket/pcapgo"
)

type result struct {
	name    string
	packets int
	wall    time.Duration
	cpu     time.Duration
	rssMB   float64
}

func main() {
	bin := flag.String("otscope", "./otscope", "otscope binary")
	file := flag.String("file", "", "pcap file")
	tshark := flag.String("tshark", "tshark", "tshark binary (skipped when missing)")
	flag.Parse()
	if *file == "" {
		fmt.Fprintln(os.Stderr, "benchcmp: -file is required")
		os.Exit(2)
	}
	var results []result
	bare, err := bareLoop(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
	results = append(results, bare)
	dir, err := os.MkdirTemp("", "otscope-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	r, err := timed("otscope read (GOMAXPROCS=1)", bare.packets, []string{"GOMAXPROCS=1"}, *bin, "read", *file,
		"--session", "bench", "--db", filepath.Join(dir, "db"), "--log", filepath.Join(dir, "log"), "-q")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp: otscope:", err)
		os.Exit(1)
	}
	results = append(results, r)
	if _, err := exec.LookPath(*tshark); err == nil {
		r, err := timed("tshark -T fields ip.src ip.dst tcp.dstport", bare.packets, nil, *tshark, "-r", *file, "-n",
			"-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.dstport")
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchcmp: tshark:", err)
		} else {
			results = append(results, r)
		}
	} else {
		fmt.Fprintln(os.Stderr, "benchcmp: tshark not found: skipped")
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "tool\tpackets\twall s\tCPU s\tpkt/s (wall)\tpkt/CPU-s\tmax RSS MB\tvs tshark\t\n")
	var ts float64
	for _, r := range results {
		if r.name[:6] == "tshark" {
			ts = float64(r.packets) / r.cpu.Seconds()
		}
	}
	for _, r := range results {
		per := float64(r.packets) / r.cpu.Seconds()
		ratio := "-"
		if ts > 0 {
			ratio = fmt.Sprintf("%.1fx", per/ts)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.0f\t%.0f\t%.1f\t%s\t\n", r.name, r.packets, r.wall.Seconds(), r.cpu.Seconds(),
			float64(r.packets)/r.wall.Seconds(), per, r.rssMB, ratio)
	}
	tw.Flush()
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
	r, err := pcapgo.NewReader(f)
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

// timed runs a command with its output discarded and reports its wall time,
// CPU time and peak RSS.
func timed(name string, packets int, env []string, bin string, args ...string) (result, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, err
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano()) + time.Duration(ru.Stime.Nano())
	return result{name: name, packets: packets, wall: wall, cpu: cpu, rssMB: float64(ru.Maxrss) / 1024}, nil
}
