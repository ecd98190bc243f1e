package cli

import (
	"time"

	"github.com/spf13/cobra"

	"otscope/scan"
	"otscope/scan/capture"
)

func (a *app) newCaptureCmd() *cobra.Command {
	var (
		session, iface, filter string
		duration               time.Duration
		quiet                  bool
	)
	cmd := &cobra.Command{
		Use:               "capture -i IFACE -s SESSION [--duration D]",
		Short:             "live capture without the TUI (needs CAP_NET_RAW)",
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if iface == "" {
				return usagef("capture", "-i IFACE is required")
			}
			src, err := capture.OpenLive(iface, capture.Options{Filter: filter, Promisc: true, ReportIdle: true})
			if err != nil {
				return err
			}
			if duration > 0 {
				time.AfterFunc(duration, func() { src.Close() })
			}
			return a.headless(session, func() (capture.Source, error) { return src, nil }, scan.IngestOptions{Name: src.Name()}, !quiet)
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "session to add to (required)", true)
	fs.StringVarP(&iface, "interface", "i", "", "interface `IFACE` to capture from (required)")
	fs.StringVar(&filter, "filter", "", "capture `FILTER` (tcpdump syntax subset)")
	fs.DurationVar(&duration, "duration", 0, "stop after this long (default: until Ctrl-C)")
	fs.BoolVarP(&quiet, "quiet", "q", false, "no progress line")
	cmd.RegisterFlagCompletionFunc("interface", completeInterfaces)
	return cmd
}
