package cli

import (
	"github.com/spf13/cobra"

	"otscope/assets/export"
)

func (a *app) newAdvisoriesCmd() *cobra.Command {
	var r reportCmd
	cmd := &cobra.Command{
		Use:   "advisories -s SESSION --csaf PATH... [--kev FILE] [-f table|json|csv]",
		Short: "CISA ICS advisories (CSAF 2.0, offline) naming the assets",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(r.cat.csaf) == 0 {
				return usagef("advisories", "--csaf PATH is required (CSAF 2.0 files or a directory of them)")
			}
			snap, err := a.loadSnapshot(r.session)
			if err != nil {
				return err
			}
			en, err := r.cat.enricher(a.io.Stderr, false)
			if err != nil {
				return err
			}
			return export.Advisories(a.io.Stdout, r.format, en.Enrich(snap.Assets))
		},
	}
	a.reportFlags(cmd, &r)
	return cmd
}
