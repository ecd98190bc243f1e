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
			src, err := r.cat.sources(a.io.Stderr, false, nil)
			if err != nil {
				return err
			}
			snap, an, err := a.analyse(r.session, src)
			if err != nil {
				return err
			}
			return export.Advisories(a.io.Stdout, r.format, export.Records(snap.Assets, an))
		},
	}
	a.reportFlags(cmd, &r)
	return cmd
}
