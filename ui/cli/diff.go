package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets/diff"
	"otscope/assets/store"
)

// changesFound is the error of a diff whose changes match --fail-on: exit
// status 3, like an audit that fails.
type changesFound struct{ msg string }

func (e changesFound) Error() string        { return e.msg }
func (e changesFound) Is(target error) bool { return target == ErrViolations }

func (a *app) newDiffCmd() *cobra.Command {
	var format, failOn, site string
	var toName string // "site NAME" while B is the central database's site
	var cat catalogFlags
	var cf centralFlags
	cmd := &cobra.Command{
		Use:   "diff A B [-f table|json|csv] [--fail-on new,vanished,changed]\n  otscope diff A --from DSN --site NAME [-f ...]",
		Short: "what changed between two sessions (since the last visit)",
		Long: `diff lists what changed from session A to session B: new and vanished assets;
changed firmware, order number, serial, name, IP or MAC (a device moved, a
module swapped); new and vanished services and conversations; changes of
lifecycle phase, audit verdict, inventory state and violations. With
--fail-on it exits with status 3 when a change of those kinds is found.
With --from DSN --site NAME, B is the site's merged inventory in the central
database.`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: a.completeSessions,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cf.given() != (len(args) == 1) {
				return usagef("diff", "give two sessions A B, or one session A and --from DSN --site NAME")
			}
			if cf.given() {
				ctx, stop := signalContext()
				defer stop()
				from := cf
				cf = centralFlags{}
				return a.withCentralSite(ctx, &from, "diff", site, func(tmp string) error {
					toName = "site " + site
					return cmd.RunE(cmd, []string{args[0], tmp})
				})
			}
			fail, err := diff.ParseFailOn(failOn)
			if err != nil {
				return usagef("diff", "--fail-on: %v", err)
			}
			src, err := cat.sources(a.io.Stderr, true, nil)
			if err != nil {
				return err
			}
			for _, n := range args {
				if err := store.ValidSessionName(n); err != nil {
					return usagef("diff", "%q: %v", n, err)
				}
			}
			e, err := openEnvAt(a.db, a.logPath, true)
			if err != nil {
				return err
			}
			r, err := diffStored(context.Background(), e.st, args[0], args[1], src, time.Now())
			e.close()
			if err != nil {
				return err
			}
			if toName != "" {
				r.To, args[1] = toName, toName
			}
			if err := diff.Write(a.io.Stdout, format, &r); err != nil {
				return err
			}
			if r.Fails(fail) {
				return changesFound{fmt.Sprintf("%s -> %s: %d new, %d vanished, %d changed (--fail-on %s)",
					args[0], args[1], r.Counts[diff.New], r.Counts[diff.Vanished], r.Counts[diff.Changed], failOn)}
			}
			return nil
		},
	}
	ownFormatFlag(cmd, &format, "table", diff.Formats)
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit 3 on changes of `KINDS`: new, vanished, changed (comma-separated) or any")
	cat.register(cmd)
	cf.register(cmd, "from", "compare with a site's merged inventory in the central database")
	cmd.Flags().StringVar(&site, "site", "", "with --from: the site `NAME`")
	return cmd
}
