package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets/bundle"
	"otscope/assets/diff"
	"otscope/assets/export"
	"otscope/assets/store"
)

// changesFound is the error of a diff whose changes match --fail-on: exit
// status 3, like an audit that fails.
type changesFound struct{ msg string }

func (e changesFound) Error() string        { return e.msg }
func (e changesFound) Is(target error) bool { return target == ErrViolations }

func (a *app) newDiffCmd() *cobra.Command {
	var format, failOn string
	var cat catalogFlags
	cmd := &cobra.Command{
		Use:   "diff A B [-f table|json|csv] [--fail-on new,vanished,changed]",
		Short: "what changed between two sessions (since the last visit)",
		Long: `diff lists what changed from session A to session B: new and vanished assets;
changed firmware, order number, serial, name, IP or MAC (a device moved, a
module swapped); new and vanished services and conversations; changes of
lifecycle phase, audit verdict, inventory state and violations. With
--fail-on it exits with status 3 when a change of those kinds is found.`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: a.completeSessions,
		RunE: func(cmd *cobra.Command, args []string) error {
			fail, err := diff.ParseFailOn(failOn)
			if err != nil {
				return usagef("diff", "--fail-on: %v", err)
			}
			src, err := cat.sources(a.io.Stderr, true, nil)
			if err != nil {
				return err
			}
			var sess [2]bundle.Session
			var opts diff.Options
			for i, n := range args {
				if err := store.ValidSessionName(n); err != nil {
					return usagef("diff", "%q: %v", n, err)
				}
				snap, an, err := a.analyse(n, src)
				if err != nil {
					return err
				}
				sess[i] = bundle.Session{Name: n, Assets: snap.Assets, Conversations: snap.Conversations, Stats: snap.Stats}
				now := an.Now
				if now.IsZero() {
					now = time.Now()
				}
				st := diff.StatusFromRecords(&export.Report{Records: export.Records(snap.Assets, an), Now: now, Audited: true})
				if i == 0 {
					opts.Before = st
				} else {
					opts.After = st
				}
			}
			r := diff.Sessions(&sess[0], &sess[1], opts)
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
	return cmd
}
