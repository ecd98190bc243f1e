package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets/review"
)

func (a *app) newWaiversCmd() *cobra.Command {
	var (
		session, format string
		all             bool
	)
	cmd := &cobra.Command{
		Use:               "waivers -s SESSION [--all] [-f table|json|csv]",
		Short:             "the session's waivers: active, expired, revoked",
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, j, _, err := a.loadSession(session)
			if err != nil {
				return err
			}
			recs := j.Waivers
			if !all {
				recs = review.Latest(recs)
			}
			return writeWaivers(a.io.Stdout, format, recs, time.Now())
		},
	}
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	a.formatFlag(cmd, &format)
	cmd.Flags().BoolVar(&all, "all", false, "every record, superseded ones too, oldest first")
	return cmd
}

func writeWaivers(w io.Writer, format string, recs []review.WaiverRecord, now time.Time) error {
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04")
	}
	switch format {
	case "json":
		type out struct {
			review.WaiverRecord
			Status string `json:"status"`
		}
		list := make([]out, len(recs))
		for i, r := range recs {
			list[i] = out{r, r.Status(now)}
		}
		return writeJSON(w, list)
	case "csv":
		rows := make([][]string, len(recs))
		for i, r := range recs {
			rows[i] = []string{r.RuleID, string(r.AssetID), r.Status(now), untilText(r.Until), r.By, stamp(r.At), r.Reason}
		}
		return writeCSV(w, []string{"rule", "asset", "status", "until", "by", "at", "reason"}, rows)
	}
	if len(recs) == 0 {
		_, err := fmt.Fprintln(w, "no waivers: acknowledge a violation with 'otscope waive' or 'a' in the Violations pane")
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "RULE\tASSET\tSTATUS\tUNTIL\tBY\tREASON")
	for _, r := range recs {
		until := untilText(r.Until)
		if until == "" {
			until = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.RuleID, r.AssetID, r.Status(now), until, r.By, r.Reason)
	}
	return tw.Flush()
}
