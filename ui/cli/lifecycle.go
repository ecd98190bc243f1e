package cli

import (
	"time"

	"github.com/spf13/cobra"

	"otscope/assets/export"
)

func (a *app) newLifecycleCmd() *cobra.Command {
	var r reportCmd
	cmd := &cobra.Command{
		Use:   "lifecycle -s SESSION [--catalog F]... [-f table|json|csv]",
		Short: "lifecycle phase of every asset (embedded catalog + yours)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			snap, err := a.loadSnapshot(r.session)
			if err != nil {
				return err
			}
			en, err := r.cat.enricher(a.io.Stderr, true)
			if err != nil {
				return err
			}
			en.Advisories = nil
			return export.Lifecycle(a.io.Stdout, r.format, en.Enrich(snap.Assets), time.Now())
		},
	}
	a.reportFlags(cmd, &r)
	return cmd
}
