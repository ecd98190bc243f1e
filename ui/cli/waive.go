package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets"
	"otscope/assets/policy"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/model"
	"otscope/model/safe"
)

func (a *app) newWaiveCmd() *cobra.Command {
	var (
		session, rule, asset, reason, until, dur, by string
		revoke                                       bool
		policies                                     []string
	)
	cmd := &cobra.Command{
		Use:   "waive -s SESSION --rule ID --asset ID|* (--reason TEXT [--until DATE | --for 30d] | --revoke)",
		Short: "acknowledge (or stop acknowledging) a violation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case rule == "" || asset == "":
				return usagef("waive", "--session, --rule and --asset are required")
			case until != "" && dur != "":
				return usagef("waive", "give --until or --for, not both")
			case revoke && (until != "" || dur != ""):
				return usagef("waive", "--revoke takes no expiry")
			case !revoke && strings.TrimSpace(reason) == "":
				return usagef("waive", "--reason is required")
			}
			now := time.Now()
			var expiry time.Time
			var err error
			if dur != "" {
				d, derr := review.ParseDuration(dur)
				if derr != nil {
					return usagef("waive", "--for: %v", derr)
				}
				expiry = now.Add(d)
			} else if expiry, err = review.ParseExpiry(until, now); err != nil {
				return usagef("waive", "--until: %v", err)
			}
			pack, _ := loadPack(policies, a.io.Stderr)
			if !slices.ContainsFunc(pack.Rules, func(r *policy.Rule) bool { return r.ID == rule }) {
				return usagef("waive", "unknown rule %q (rules: otscope audit; a rule of your own needs --policy)", rule)
			}
			return a.withSession(session, func(e *env, snap store.Snapshot) error {
				id := model.AssetID("*")
				if asset != "*" {
					if id, err = resolveAsset(e.st, snap, session, asset); err != nil {
						return err
					}
				}
				var rec review.WaiverRecord
				if revoke {
					j, err := assets.ReadJournals(e.st, session)
					if err != nil {
						return err
					}
					k := review.Key{Rule: rule, Asset: id}
					if !slices.ContainsFunc(review.Effective(j.Waivers, now), func(w policy.Waiver) bool { return review.KeyOf(w) == k }) {
						return fmt.Errorf("no active waiver of %s for %s in session %q", rule, id, session)
					}
					rec = review.Revoke(k, reason, by, now)
				} else if rec, err = review.NewWaiver(rule, id, reason, by, expiry, now); err != nil {
					return usagef("waive", "%v", err)
				}
				if err := e.st.Append(session, store.Waivers, rec); err != nil {
					return err
				}
				out, who := a.io.Stdout, waivedWho(snap, id)
				switch {
				case revoke:
					fmt.Fprintf(out, "revoked the waiver of %s for %s\n", rule, who)
				case expiry.IsZero():
					fmt.Fprintf(out, "waived %s for %s, no expiry (by %s)\n", rule, who, safe.Text(rec.By))
				default:
					fmt.Fprintf(out, "waived %s for %s until %s (by %s)\n", rule, who, untilText(expiry), safe.Text(rec.By))
				}
				return nil
			})
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	fs.StringVar(&rule, "rule", "", "`RULE` id the waiver acknowledges (required)")
	fs.StringVar(&asset, "asset", "", "`REF`: the asset's id, IP, MAC, name or tag, or * for every asset (required)")
	fs.StringVar(&reason, "reason", "", "why the violation is accepted (required unless --revoke)")
	fs.StringVar(&until, "until", "", "last day the waiver holds (2027-01-31)")
	fs.StringVar(&dur, "for", "", "how long the waiver holds (30d, 2w, 12h)")
	fs.BoolVar(&revoke, "revoke", false, "end the waiver for --rule and --asset now")
	fs.StringVar(&by, "by", operator(), "who accepts it")
	policyFlag(cmd, &policies, "policy `PATH` (file or directory) defining the rule, if not in the default pack")
	cmd.RegisterFlagCompletionFunc("rule", a.completeRules)
	cmd.RegisterFlagCompletionFunc("asset", a.completeAssets)
	return cmd
}

// waivedWho names the asset a waiver is for as people know it, its label
// (a name or address) with its id: "PLC-1 (mac:00:1b:1b:01:02:03)".
func waivedWho(snap store.Snapshot, id model.AssetID) string {
	if id == "*" {
		return "every asset (*)"
	}
	for i := range snap.Assets {
		if a := &snap.Assets[i]; a.ID == id {
			if l := a.Label(); l != string(id) {
				return safe.Text(l) + " (" + string(id) + ")"
			}
		}
	}
	return string(id)
}

// untilText writes a waiver's expiry as people gave it: an expiry at local
// midnight is the end of the day before, written as that day's date
// ("--until 2027-01-31" holds through 2027-01-31 and reads back so); any
// other expiry as its local date and minute; none as "".
func untilText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.Local()
	if h, m, s := t.Clock(); h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0 {
		return t.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04")
}
