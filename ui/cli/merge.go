package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"otscope/assets/bundle"
	"otscope/assets/merge"
	"otscope/assets/store"
)

func (a *app) newMergeCmd() *cobra.Command {
	var into, format string
	cmd := &cobra.Command{
		Use:   "merge A B... --into C [-f table|json]",
		Short: "merge sessions (two jump hosts, two visits) into a new one",
		Long: `merge joins sessions into a new session C: the same device by MAC, else by IP
within a site (the same IP at two sites stays two assets); facts are unioned
with their provenance and conflicting values are kept and listed; a value a
person entered wins the display; journals are merged by time.`,
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: a.completeSessions,
		RunE: func(cmd *cobra.Command, args []string) error {
			if into == "" {
				return usagef("merge", "--into SESSION is required")
			}
			for _, n := range append([]string{into}, args...) {
				if err := store.ValidSessionName(n); err != nil {
					return usagef("merge", "%q: %v", n, err)
				}
			}
			return a.withStore(func(st *store.Store) error {
				var in []bundle.Session
				for _, n := range args {
					s, skipped, err := bundle.FromStore(st, n)
					if err != nil {
						return err
					}
					if skipped > 0 {
						fmt.Fprintf(a.io.Stderr, "warning: %d damaged records of session %s could not be read and are not merged\n", skipped, n)
					}
					in = append(in, s)
				}
				out, rep, err := merge.Sessions(into, in...)
				if err != nil {
					return usagef("merge", "%v", err)
				}
				if err := bundle.ToStore(st, into, &out); err != nil {
					return err
				}
				return merge.WriteReport(a.io.Stdout, format, into, &rep)
			})
		},
	}
	cmd.Flags().StringVar(&into, "into", "", "new `SESSION` to create (required)")
	ownFormatFlag(cmd, &format, "table", []string{"table", "json"})
	return cmd
}
