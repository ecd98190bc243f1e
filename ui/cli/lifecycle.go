package cli

import (
	"github.com/spf13/cobra"

	"otscope/assets/export"
)

func (a *app) newLifecycleCmd() *cobra.Command {
	var r reportCmd
	cmd := &cobra.Command{
		Use:   "lifecycle -s SESSION [--catalog F]... [-f table|json|csv]",
		Short: "lifecycle phase of every asset (embedded catalog + yours)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := r.cat.sources(a.io.Stderr, true, nil)
			if err != nil {
				return err
			}
			src.Advisories = nil
			snap, an, err := a.analyse(r.session, src)
			if err != nil {
				return err
			}
			return export.Lifecycle(a.io.Stdout, r.format, export.Records(snap.Assets, an), an.Now)
		},
	}
	a.reportFlags(cmd, &r)
	return cmd
}
