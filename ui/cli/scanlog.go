package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"otscope/assets/export"
	"otscope/assets/store"
	"otscope/model"
)

func (a *app) newScanLogCmd() *cobra.Command {
	var session, format string
	cmd := &cobra.Command{
		Use:               "scanlog -s SESSION [-f table|json|csv]",
		Short:             "every packet the scanner sent, for the change record",
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withEnv(func(e *env) error {
				recs, skipped, err := store.ReadJournal[model.ScanRecord](e.st, session, store.ScanLog)
				if err != nil {
					return fmt.Errorf("session %q: %w", session, err)
				}
				if skipped > 0 {
					e.logger.Printf("session %s: %d scan-log records could not be decoded", session, skipped)
				}
				return export.ScanLog(a.io.Stdout, format, recs)
			})
		},
	}
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	a.formatFlag(cmd, &format)
	return cmd
}
