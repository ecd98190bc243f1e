package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"otscope/scan"
	"otscope/scan/capture"
	"otscope/scan/plant"
)

func (a *app) newDemoCmd() *cobra.Command {
	var (
		session, write string
		duration       time.Duration
		packets, scale int
		seed           int64
		speed          float64
		headless       bool
		cat            catalogFlags
		policies       []string
	)
	cmd := &cobra.Command{
		Use:   "demo [-s SESSION] [--speed X] [--headless] | demo --write FILE",
		Short: "replay the built-in demo plant, or write it as a pcap",
		Long: `Replay the built-in demo plant (a simulated process network) into a new
session, in the TUI or --headless; or --write it as a pcap file, which tshark
reads cleanly.`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if speed <= 0 || scale < 1 || packets < 0 || duration < 0 {
				return usagef("demo", "--speed must be > 0, --scale >= 1, --packets and --duration >= 0")
			}
			po := plant.Options{Seed: seed, Duration: duration, MaxPackets: packets, Scale: scale}
			if write != "" {
				if po.Duration == 0 && po.MaxPackets == 0 {
					po.Duration = 10 * time.Minute
				}
				return writeDemo(write, po, a.io.Stdout)
			}
			// The replay happens now: plant time starts at the wall clock,
			// so "last seen 3s ago" means what it says.
			po.Start = time.Now()
			if po.Duration == 0 && po.MaxPackets == 0 {
				po.Duration = 8 * time.Hour
				if headless {
					po.Duration = 10 * time.Minute
				}
			}
			if session == "" {
				session = "demo-" + time.Now().Format("20060102-150405")
			}
			open := func() (capture.Source, error) { return demoSource(po) }
			if headless {
				return a.headless(session, open, scan.IngestOptions{Name: demoSourceName}, true)
			}
			src, err := cat.sources(a.io.Stderr, true, policies)
			if err != nil {
				return err
			}
			return a.withEnv(func(e *env) error {
				return a.tuiLoop(e, session, open, []string{demoSourceName}, scan.IngestOptions{Name: demoSourceName, Pace: speed}, src)
			})
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "session to replay into (default: demo-<date>-<time>, a fresh one)", false)
	fs.StringVarP(&write, "write", "o", "", "write the demo plant to this pcap file instead of replaying it")
	fs.DurationVar(&duration, "duration", 0, "plant time to generate (default 10m for --write, 8h for the replay)")
	fs.IntVar(&packets, "packets", 0, "stop after this many frames")
	fs.IntVar(&scale, "scale", 1, "multiply the steady industrial polling rate (for benchmark captures)")
	fs.Int64Var(&seed, "seed", 1, "random seed (the same seed gives the same bytes)")
	fs.Float64Var(&speed, "speed", 1, "replay speed: 1 = real time, 10 = ten times faster")
	fs.BoolVar(&headless, "headless", false, "replay without the TUI, as fast as possible, and print a summary")
	cat.register(cmd)
	policyFlag(cmd, &policies, "policy file or directory `PATH` (YAML; repeatable), on top of the default pack")
	cmd.MarkFlagFilename("write", "pcap")
	return cmd
}

// demoSource streams the generated plant as pcap bytes through a pipe into
// the same reader a capture file goes through.
func demoSource(po plant.Options) (capture.Source, error) {
	pr, pw := io.Pipe()
	go func() {
		_, err := plant.WritePcap(pw, po)
		pw.CloseWithError(err)
	}()
	src, err := capture.OpenReader("demo", pr, capture.Options{})
	if err != nil {
		pr.CloseWithError(err)
		return nil, err
	}
	return src, nil
}

func writeDemo(path string, po plant.Options, stdout io.Writer) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := plant.WritePcap(f, po)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "wrote %d frames of the demo plant to %s\n", n, path)
	return nil
}
