package cli

import (
	"github.com/spf13/cobra"

	"otscope/assets/export"
)

// reportCmd is a command that reports on one stored session in a format,
// with the offline catalogs: assets, lifecycle, advisories.
type reportCmd struct {
	session, format string
	cat             catalogFlags
}

func (a *app) reportFlags(cmd *cobra.Command, r *reportCmd) {
	a.sessionFlag(cmd, &r.session, "`SESSION` (required)", true)
	a.formatFlag(cmd, &r.format)
	r.cat.register(cmd)
	cmd.Args = cobra.NoArgs
	cmd.ValidArgsFunction = cobra.NoFileCompletions
}

func (a *app) newAssetsCmd() *cobra.Command {
	var r reportCmd
	cmd := &cobra.Command{
		Use:   "assets -s SESSION [-f json|csv|table] [--catalog F]... [--csaf P]... [--kev F]",
		Short: "export the assets (JSON: lifecycle, advisories, violations)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if r.format != "json" {
				snap, err := a.loadSnapshot(r.session)
				if err != nil {
					return err
				}
				return export.Assets(a.io.Stdout, r.format, snap.Assets)
			}
			src, err := r.cat.sources(a.io.Stderr, true, nil)
			if err != nil {
				return err
			}
			snap, an, err := a.analyse(r.session, src)
			if err != nil {
				return err
			}
			return export.RecordsJSON(a.io.Stdout, export.Records(snap.Assets, an))
		},
	}
	a.reportFlags(cmd, &r)
	return cmd
}
