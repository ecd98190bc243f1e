package cli

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"otscope/scan"
	"otscope/scan/capture"
)

func (a *app) newReadCmd() *cobra.Command {
	var (
		session, filter, cpuprofile string
		quiet                       bool
		speed                       float64
	)
	cmd := &cobra.Command{
		Use:   "read FILE... -s SESSION",
		Short: "ingest pcap/pcapng files (gzip ok) into a session",
		RunE: func(cmd *cobra.Command, files []string) error {
			if len(files) == 0 {
				return usagef("read", "no capture files given")
			}
			if speed < 0 {
				return usagef("read", "--speed must be >= 0")
			}
			src, err := capture.OpenFiles(files, capture.Options{Filter: filter})
			if err != nil {
				return err
			}
			if cpuprofile != "" {
				pf, err := os.Create(cpuprofile)
				if err != nil {
					return err
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			name := files[0]
			if len(files) > 1 {
				name = fmt.Sprintf("%s +%d more", files[0], len(files)-1)
			}
			return a.headless(session, func() (capture.Source, error) { return src, nil }, scan.IngestOptions{Name: name, Pace: speed}, !quiet)
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "session to add to (required)", true)
	fs.StringVar(&filter, "filter", "", "capture `FILTER` (tcpdump syntax subset)")
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	fs.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	fs.Float64Var(&speed, "speed", 0, "replay at capture-time speed times this (0: as fast as possible)")
	return cmd
}
