package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"otscope/assets/store"
	"otscope/model/safe"
	"otscope/ui/format"
)

func (a *app) newSessionsCmd() *cobra.Command {
	var outFormat string
	cmd := &cobra.Command{
		Use:   "sessions [-f table|json|csv]",
		Short: "list sessions with counts; rename, copy, delete, salvage them",
		Long: `Without a subcommand, list the stored sessions: site, sensor, counts,
capture runs (and those interrupted), last update and sources. Listing reads
only each session's metadata, so it works while sessions are being written.`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(func(st *store.Store) error {
				metas, err := st.ListMeta()
				if err != nil {
					return err
				}
				running := map[string]bool{}
				for _, m := range metas {
					if _, ok := st.SessionOwner(m.Name); ok {
						running[m.Name] = true
					}
				}
				return writeSessions(a.io.Stdout, outFormat, metas, running)
			})
		},
	}
	a.formatFlag(cmd, &outFormat)
	cmd.AddCommand(a.newSessionsRenameCmd(), a.newSessionsCopyCmd(), a.newSessionsDeleteCmd(),
		a.newSessionsSalvageCmd(), a.newSessionsSetCmd())
	return cmd
}

// sessionStamp formats a session time for tables and CSV.
func sessionStamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// writeSessions lists sessions as a table, JSON or CSV. Site, sensor and
// sources come from capture files and devices: they are sanitised.
// running names the sessions another process is writing now: one of
// their unfinished runs is that process's.
func writeSessions(w io.Writer, outFormat string, metas []store.Meta, running map[string]bool) error {
	switch outFormat {
	case "json":
		return writeJSONList(w, metas)
	case "csv":
		rows := make([][]string, 0, len(metas))
		for _, m := range metas {
			src := make([]string, len(m.Sources))
			for i, s := range m.Sources {
				src[i] = safe.CSV(s)
			}
			rows = append(rows, []string{m.Name, safe.CSV(m.Site), safe.CSV(m.Sensor), strconv.Itoa(m.Assets), strconv.Itoa(m.Conversations),
				strconv.FormatUint(m.Packets, 10), strconv.Itoa(m.Runs), strconv.Itoa(m.Interrupted),
				sessionStamp(m.Created), sessionStamp(m.Updated), strings.Join(src, "; ")})
		}
		return writeCSV(w, []string{"session", "site", "sensor", "assets", "conversations", "packets", "runs", "interrupted_runs", "created", "updated", "sources"}, rows)
	}
	if len(metas) == 0 {
		_, err := fmt.Fprintln(w, "no sessions yet: try 'otscope demo' or 'otscope read FILE --session NAME'")
		return err
	}
	tw := newTable(w)
	// the counts come first, where scripts written for earlier versions
	// read them (second column: assets)
	fmt.Fprintln(tw, "SESSION\tASSETS\tCONVS\tPACKETS\tRUNS\tUPDATED\tSITE\tSENSOR\tSOURCES")
	interrupted := false
	for _, m := range metas {
		runs := strconv.Itoa(m.Runs)
		switch n := m.Interrupted; {
		case running[m.Name] && n > 1:
			runs += fmt.Sprintf(" (1 running, %d interrupted)", n-1)
			interrupted = true
		case running[m.Name] && n == 1:
			runs += " (1 running)"
		case n > 0:
			runs += fmt.Sprintf(" (%d interrupted)", n)
			interrupted = true
		}
		src := make([]string, len(m.Sources))
		for i, s := range m.Sources {
			src[i] = safe.Text(s)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Assets, m.Conversations, m.Packets, runs,
			sessionStamp(m.Updated), format.Dash(safe.Text(m.Site)), format.Dash(safe.Text(m.Sensor)), strings.Join(src, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if interrupted {
		_, err := fmt.Fprintln(w, "interrupted: a run that never finished (killed or crashed); what it read before is saved")
		return err
	}
	return nil
}

// completeSessionArg completes a session name as the first n arguments.
func (a *app) completeSessionArg(n int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return a.completeSessions(cmd, args, toComplete)
	}
}

// sessionArgs checks that every argument is a valid session name.
func sessionArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			want := "NAME"
			if n == 2 {
				want = "two session names"
			}
			return usagef("sessions "+cmd.Name(), "want %s, got %d argument(s)", want, len(args))
		}
		for _, name := range args {
			if err := store.ValidSessionName(name); err != nil {
				return usagef("sessions "+cmd.Name(), "%q: %v", name, err)
			}
		}
		return nil
	}
}

// withStore opens the database of the persistent flags for one command.
func (a *app) withStore(fn func(st *store.Store) error) error {
	return a.withEnv(func(e *env) error { return fn(e.st) })
}

func (a *app) newSessionsRenameCmd() *cobra.Command {
	return a.sessionPairCmd("rename OLD NEW", "rename a session", (*store.Store).Rename, "renamed")
}

func (a *app) newSessionsCopyCmd() *cobra.Command {
	return a.sessionPairCmd("copy SRC DST", "copy a session into a new one", (*store.Store).Copy, "copied")
}

// sessionPairCmd is a subcommand that applies op to two session names,
// from and to, and says "session FROM done to TO".
func (a *app) sessionPairCmd(use, short string, op func(st *store.Store, from, to string) error, done string) *cobra.Command {
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              sessionArgs(2),
		ValidArgsFunction: a.completeSessionArg(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(st *store.Store) error {
				if err := op(st, args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintf(a.io.Stdout, "session %s %s to %s\n", args[0], done, args[1])
				return nil
			})
		},
	}
}

// stdinTerminal reports whether the command's input is a terminal.
func (a *app) stdinTerminal() bool {
	f, ok := a.io.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (a *app) newSessionsDeleteCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME [--yes]",
		Short: "delete a session and everything it holds",
		Long: `Delete a session and everything it holds. On a terminal it asks first;
without a terminal (scripts) it refuses unless --yes is given.`,
		Args:              sessionArgs(1),
		ValidArgsFunction: a.completeSessionArg(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			return a.withStore(func(st *store.Store) error {
				m, err := st.SessionMeta(name)
				if err != nil {
					return err
				}
				if !yes {
					if !a.stdinTerminal() {
						return usagef("sessions delete", "not deleting %s without a terminal to ask on: pass --yes", name)
					}
					fmt.Fprintf(a.io.Stderr, "delete session %s (%d assets, %d conversations, %d packets)? [y/N] ",
						name, m.Assets, m.Conversations, m.Packets)
					line, _ := bufio.NewReader(a.io.Stdin).ReadString('\n')
					if ans := strings.ToLower(strings.TrimSpace(line)); ans != "y" && ans != "yes" {
						fmt.Fprintf(a.io.Stdout, "session %s kept\n", name)
						return nil
					}
				}
				if err := st.DeleteSession(name); err != nil {
					return err
				}
				fmt.Fprintf(a.io.Stdout, "session %s deleted\n", name)
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

func (a *app) newSessionsSalvageCmd() *cobra.Command {
	var into string
	cmd := &cobra.Command{
		Use:   "salvage NAME [--into NEW]",
		Short: "read what can be read of a damaged session into a new one",
		Long: `Read every record that can still be read from a damaged session into a new
session (default NAME-salvaged). The damaged session is left as it is.`,
		Args:              sessionArgs(1),
		ValidArgsFunction: a.completeSessionArg(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if into == "" {
				into = name + "-salvaged"
			}
			if err := store.ValidSessionName(into); err != nil {
				return usagef("sessions salvage", "--into %q: %v", into, err)
			}
			return a.withStore(func(st *store.Store) error {
				rep, err := st.Salvage(name, into)
				if err != nil {
					return err
				}
				writeSalvage(a.io.Stdout, name, into, rep)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&into, "into", "", "new session `NEW` to write (default NAME-salvaged)")
	return cmd
}

func writeSalvage(w io.Writer, name, into string, rep store.SalvageReport) {
	fmt.Fprintf(w, "salvaged %d records of %s into %s from %d table file(s)\n", rep.Records, name, into, len(rep.Tables))
	for _, d := range rep.Damaged {
		fmt.Fprintf(w, "  damaged, not read: %s\n", safe.Text(d))
	}
	if rep.Lost > 0 {
		fmt.Fprintf(w, "  %d record(s) lost (deleted, or kept in a value-log file)\n", rep.Lost)
	}
	fmt.Fprintf(w, "%s is left as it was; check %s ('otscope assets -s %s'), then delete or keep the damaged one\n", name, into, into)
}

func (a *app) newSessionsSetCmd() *cobra.Command {
	var site, sensor string
	cmd := &cobra.Command{
		Use:               "set NAME [--site SITE] [--sensor SENSOR]",
		Short:             "set a session's site and sensor names",
		Args:              sessionArgs(1),
		ValidArgsFunction: a.completeSessionArg(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			setSite, setSensor := cmd.Flags().Changed("site"), cmd.Flags().Changed("sensor")
			if !setSite && !setSensor {
				return usagef("sessions set", "give --site, --sensor or both")
			}
			return a.withStore(func(st *store.Store) error {
				if _, err := st.SessionMeta(name); err != nil {
					return err
				}
				if setSite {
					if err := st.SetSite(name, strings.TrimSpace(site)); err != nil {
						return err
					}
				}
				if setSensor {
					if err := st.SetSensor(name, strings.TrimSpace(sensor)); err != nil {
						return err
					}
				}
				m, err := st.SessionMeta(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.io.Stdout, "session %s: site %s, sensor %s\n", name, format.Dash(safe.Text(m.Site)), format.Dash(safe.Text(m.Sensor)))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "the plant or area the session covers")
	cmd.Flags().StringVar(&sensor, "sensor", "", "the host or interface that captured it")
	return cmd
}
