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
	var cf centralFlags
	var sites []string
	cmd := &cobra.Command{
		Use:   "assets -s SESSION [-f json|csv|table] [--catalog F]... [--csaf P]... [--kev F]\n  otscope assets --from DSN [--site NAME]... [-f json|csv|table]",
		Short: "export the assets (JSON: lifecycle, advisories, violations)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case cf.given() && r.session != "":
				return usagef("assets", "give either -s SESSION or --from DSN, not both")
			case cf.given() || len(sites) > 0:
				ctx, stop := signalContext()
				defer stop()
				all, err := centralAssets(ctx, &cf, sites, r.format == "json")
				if err != nil {
					return err
				}
				if r.format == "table" {
					return export.TableWidth(a.io.Stdout, all, termWidth(a.io.Stdout))
				}
				return export.Assets(a.io.Stdout, r.format, all)
			case r.session == "":
				return usagef("assets", "--session is required (or --from DSN for the central database)")
			}
			if r.format != "json" {
				snap, err := a.loadSnapshot(r.session)
				if err != nil {
					return err
				}
				if r.format == "table" {
					// on a terminal the table fits its width; piped, nothing is cut
					return export.TableWidth(a.io.Stdout, snap.Assets, termWidth(a.io.Stdout))
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
	// a session, or the central database
	cmd.Flags().SetAnnotation("session", annRequired, nil)
	cf.register(cmd, "from", "read the merged inventory of the central database instead of a session")
	cmd.Flags().StringSliceVar(&sites, "site", nil, "with --from: only this site `NAME` (repeatable)")
	return cmd
}
