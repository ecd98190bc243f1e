package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func (a *app) newSessionsCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "sessions",
		Short:             "list sessions with counts",
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := a.openEnv()
			if err != nil {
				return err
			}
			defer e.close()
			infos, err := e.st.Sessions()
			if err != nil {
				return err
			}
			out := a.io.Stdout
			if len(infos) == 0 {
				fmt.Fprintln(out, "no sessions yet: try 'otscope demo' or 'otscope read FILE --session NAME'")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SESSION\tASSETS\tCONVERSATIONS\tPACKETS\tUPDATED\tSOURCES")
			for _, s := range infos {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.Assets, s.Conversations, s.Packets,
					s.Updated.Local().Format("2006-01-02 15:04:05"), strings.Join(s.Sources, ", "))
			}
			return tw.Flush()
		},
	}
}
