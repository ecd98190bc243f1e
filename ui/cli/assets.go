package cli

import (
	"github.com/spf13/cobra"

	"otscope/assets/export"
	"otscope/assets/policy"
	"otscope/assets/review"
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
			snap, j, err := a.loadSession(r.session)
			if err != nil {
				return err
			}
			if r.format != "json" {
				return export.Assets(a.io.Stdout, r.format, snap.Assets)
			}
			en, err := r.cat.enricher(a.io.Stderr, true)
			if err != nil {
				return err
			}
			en.States = stateHistories(j.States)
			in := auditInput(snap, en)
			rep := policy.Audit(in, loadPack(nil, a.io.Stderr), review.Effective(j.Waivers, in.Now))
			en.Audit = &rep
			return export.RecordsJSON(a.io.Stdout, en.Enrich(snap.Assets))
		},
	}
	a.reportFlags(cmd, &r)
	return cmd
}
