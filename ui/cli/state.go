package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets"
	"otscope/assets/export"
	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/model"
	"otscope/model/safe"
)

// manualStates are the states --set accepts.
var manualStates = []string{"verified", "missing", "decommissioned", "identified", "discovered"}

func (a *app) newStateCmd() *cobra.Command {
	var session, asset, set, why, by, format string
	cmd := &cobra.Command{
		Use:   "state -s SESSION [--asset REF [--set STATE --why TEXT]] [-f table|json|csv]",
		Short: "inventory states of the assets; an asset's history; --set for a walkdown",
		Long: `Without --asset, list every asset with its inventory state (by address).
With --asset, show that asset's state and its history. --set verified|missing|
decommissioned|identified|discovered records a manual transition (a walkdown),
with --why.`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asset == "" {
				if set != "" {
					return usagef("state", "--set needs --asset")
				}
				snap, j, _, err := a.loadSession(session)
				if err != nil {
					return err
				}
				return export.States(a.io.Stdout, format, export.StateRows(snap.Assets, stateHistories(j.States)))
			}
			var to lifecycle.State
			if set != "" {
				if err := to.UnmarshalText([]byte(set)); err != nil {
					return usagef("state", "--set: %v", err)
				}
				if strings.TrimSpace(why) == "" {
					return usagef("state", "--why is required with --set")
				}
			}
			return a.withSession(session, func(e *env, snap store.Snapshot) error {
				id, err := resolveAsset(e.st, snap, session, asset)
				if err != nil {
					return err
				}
				j, err := assets.ReadJournals(e.st, session)
				if err != nil {
					return err
				}
				tr := stateTracker(e.st, session, snap, j)
				if set != "" {
					if err := trackFirst(tr, snap, id); err != nil {
						return err
					}
					if _, err := tr.Set(id, to, by, why, time.Now()); err != nil {
						return fmt.Errorf("%s: %w", id, err)
					}
				}
				h := tr.History(id)
				out := a.io.Stdout
				switch format {
				case "json", "csv":
					return writeHistory(out, format, id, h)
				}
				fmt.Fprintf(out, "%s: %s\n", id, h.Current())
				tw := newTable(out)
				for _, t := range h {
					fmt.Fprintf(tw, "  %s\t%s → %s\t%s\t%s\n", t.At.Local().Format("2006-01-02 15:04:05"), t.From, t.To, t.By, t.Why)
				}
				return tw.Flush()
			})
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	a.formatFlag(cmd, &format)
	fs.StringVar(&asset, "asset", "", "`REF`: the asset's id, IP, MAC, name or tag (without it: every asset's state)")
	fs.StringVar(&set, "set", "", "new state: verified, missing (not found on the floor), decommissioned, identified (withdraw a verification), discovered (recommission)")
	fs.StringVar(&why, "why", "", "reason for the transition (required with --set)")
	fs.StringVar(&by, "by", operator(), "who makes it")
	cmd.RegisterFlagCompletionFunc("asset", a.completeAssets)
	cmd.RegisterFlagCompletionFunc("set", cobra.FixedCompletions(manualStates, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// stateTracker is the session's inventory-state tracker; transitions it
// makes are stored in the session's state journal.
func stateTracker(st *store.Store, session string, snap store.Snapshot, j assets.Journals) *review.Tracker {
	tr, _ := review.NewTracker(j.States, review.MissingPolicyFor(snap.Stats, review.DefaultMissingAfter),
		func(recs ...review.StateRecord) error {
			rs := make([]any, len(recs))
			for i := range recs {
				rs[i] = recs[i]
			}
			return st.Append(session, store.StateHistory, rs...)
		})
	return tr
}

// trackFirst gives an asset of a session recorded before states were
// tracked its automatic state, so a manual transition starts from it.
func trackFirst(tr *review.Tracker, snap store.Snapshot, id model.AssetID) error {
	for i := range snap.Assets {
		if snap.Assets[i].ID == id && tr.Current(id) == lifecycle.Untracked {
			_, err := tr.Observe([]*model.Asset{&snap.Assets[i]}, review.NewestPacket(snap.Stats, snap.Assets), time.Now())
			return err
		}
	}
	return nil
}

// writeHistory writes one asset's transitions as JSON (an array) or CSV.
func writeHistory(w io.Writer, format string, id model.AssetID, h lifecycle.History) error {
	if format == "json" {
		if h == nil {
			h = lifecycle.History{}
		}
		return writeJSON(w, struct {
			ID      model.AssetID     `json:"id"`
			State   lifecycle.State   `json:"state"`
			History lifecycle.History `json:"history"`
		}{id, h.Current(), h})
	}
	rows := make([][]string, len(h))
	for i, t := range h {
		rows[i] = []string{safe.CSV(string(id)), t.At.UTC().Format(time.RFC3339), t.From.String(), t.To.String(), safe.CSV(t.By), safe.CSV(t.Why)}
	}
	return writeCSV(w, []string{"id", "at", "from", "to", "by", "why"}, rows)
}
