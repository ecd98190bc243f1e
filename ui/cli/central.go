package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets/bundle"
	"otscope/assets/central"
	"otscope/assets/store"
	"otscope/model"
	"otscope/model/safe"
)

// centralFlags name the central PostgreSQL database: a DSN without a
// password (--to/--from), a file holding the DSN, or $OTSCOPE_DSN.
type centralFlags struct {
	dsn, dsnFile string
}

func (c *centralFlags) register(cmd *cobra.Command, name, help string) {
	cmd.Flags().StringVar(&c.dsn, name, "", help+" (`DSN` without a password: use ~/.pgpass, $OTSCOPE_DSN or --dsn-file)")
	cmd.Flags().StringVar(&c.dsnFile, "dsn-file", "", "read the central database's DSN from `FILE` (mode 0600 when it holds a password)")
}

func (c *centralFlags) given() bool { return c.dsn != "" || c.dsnFile != "" }

// open connects to the central database, applying its migrations.
func (c *centralFlags) open(ctx context.Context, cmd string) (*central.DB, error) {
	dsn, err := central.ResolveDSN(c.dsn, c.dsnFile)
	if err != nil {
		return nil, usagef(cmd, "%v", err)
	}
	return central.Open(ctx, dsn)
}

func (a *app) newPushCmd() *cobra.Command {
	var (
		session, site, sensor string
		cf                    centralFlags
		quiet                 bool
	)
	cmd := &cobra.Command{
		Use:   "push -s SESSION --to DSN [--site NAME] [--sensor NAME]",
		Short: "push a session into the central PostgreSQL inventory (only what changed)",
		Long: `push writes the session into the central PostgreSQL inventory, as the sensor's
current state at the site: exactly what 'export -f bundle' holds. Only records
that changed since the last push are sent; an interrupted push is completed by
the next one. The DSN comes from --to, --dsn-file or $OTSCOPE_DSN, never with a
password on the command line (use ~/.pgpass).`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			e, err := openEnvAt(a.db, a.logPath, true)
			if err != nil {
				return err
			}
			s, skipped, err := bundle.FromStore(e.st, session)
			e.close()
			if err != nil {
				return err
			}
			if skipped > 0 {
				fmt.Fprintf(a.io.Stderr, "warning: %d damaged records of session %s could not be read and are not pushed\n", skipped, session)
			}
			if site == "" {
				site = s.Site
			}
			if site == "" {
				return usagef("push", "session %q has no site name: pass --site NAME", session)
			}
			if sensor == "" {
				sensor = s.Sensor
			}
			if sensor == "" {
				if sensor, err = os.Hostname(); err != nil || sensor == "" {
					return usagef("push", "cannot tell this host's name: pass --sensor NAME")
				}
			}
			s.Site, s.Sensor = site, sensor
			content, err := central.FromBundle(&s)
			if err != nil {
				return err
			}
			db, err := cf.open(ctx, "push")
			if err != nil {
				return err
			}
			defer db.Close()
			o := central.PushOptions{Site: site, Sensor: sensor, Version: a.appVersion()}
			if !quiet && isTerminal(a.io.Stderr) {
				o.Progress = func(sent, total int) {
					fmt.Fprintf(a.io.Stderr, "\rsent %d of %d changed assets", sent, total)
				}
			}
			st, err := db.Push(ctx, content, o)
			if o.Progress != nil {
				fmt.Fprintln(a.io.Stderr)
			}
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(a.io.Stdout, "pushed %s to site %q as sensor %q: %d of %d assets sent (%d facts), %d removed; %d of %d other records sent, %d removed; %.1fs\n",
					session, safe.Text(site), safe.Text(sensor), st.AssetsSent, st.Assets, st.Facts, st.AssetsDeleted, st.RecordsSent, st.Records,
					st.RecordsDeleted, st.Duration.Seconds())
			}
			return nil
		},
	}
	a.sessionFlag(cmd, &session, "session to push (required)", true)
	cf.register(cmd, "to", "central database")
	cmd.Flags().StringVar(&site, "site", "", "site `NAME` (default: the session's site)")
	cmd.Flags().StringVar(&sensor, "sensor", "", "sensor `NAME` of this host (default: the session's sensor, else the host name)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing on success (for cron)")
	return cmd
}

func (a *app) newPullCmd() *cobra.Command {
	var (
		site, into string
		cf         centralFlags
	)
	cmd := &cobra.Command{
		Use:   "pull --from DSN --site NAME --into SESSION",
		Short: "bring a site's merged inventory from the central database into a new session",
		Long: `pull reads every sensor's session of the site from the central PostgreSQL
inventory, merges them with the rules of 'merge' (MAC, then IP within the site;
conflicting values kept) and stores the result as a new local session, for a
walkdown on a laptop that has no link to the central database.`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if site == "" || into == "" {
				return usagef("pull", "--site NAME and --into SESSION are required")
			}
			ctx, stop := signalContext()
			defer stop()
			sites, err := cf.merged(ctx, "pull", central.LoadOptions{Sites: []string{site}})
			if err != nil {
				return err
			}
			s := sites[0].Session
			return a.withStore(func(st *store.Store) error {
				if err := bundle.ToStore(st, into, &s); err != nil {
					return err
				}
				fmt.Fprintf(a.io.Stdout, "pulled site %q (%d sensors, %d assets, %d conflicting) into session %s\n",
					safe.Text(site), len(sites[0].Report.Inputs), len(s.Assets), len(sites[0].Report.Conflicts), into)
				return nil
			})
		},
	}
	cf.register(cmd, "from", "central database")
	cmd.Flags().StringVar(&site, "site", "", "site `NAME` to pull (required)")
	cmd.Flags().StringVar(&into, "into", "", "new local `SESSION` to create (required)")
	return cmd
}

func (a *app) newSitesCmd() *cobra.Command {
	var (
		format string
		cf     centralFlags
	)
	cmd := &cobra.Command{
		Use:               "sites --from DSN [-f table|json|csv]",
		Short:             "the sites and sensors of the central database, with counts and last push",
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			db, err := cf.open(ctx, "sites")
			if err != nil {
				return err
			}
			defer db.Close()
			sites, err := db.Sites(ctx)
			if err != nil {
				return err
			}
			return writeSites(a, format, sites)
		},
	}
	cf.register(cmd, "from", "central database")
	a.formatFlag(cmd, &format)
	return cmd
}

func writeSites(a *app, format string, sites []central.SiteInfo) error {
	out := a.io.Stdout
	switch format {
	case "json":
		return writeJSONList(out, sites)
	case "csv":
		var rows [][]string
		for _, si := range sites {
			for _, se := range si.Sensors {
				rows = append(rows, []string{safe.CSV(si.Name), safe.CSV(se.Name), safe.CSV(se.Session), strconv.Itoa(se.Assets),
					se.LastPush.Format(time.RFC3339), strconv.FormatBool(se.Complete)})
			}
		}
		return writeCSV(out, []string{"site", "sensor", "session", "assets", "last_push", "complete"}, rows)
	}
	if len(sites) == 0 {
		fmt.Fprintln(out, "no sites yet: push a session with 'otscope push -s SESSION --site NAME'")
		return nil
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "SITE\tSENSOR\tSESSION\tASSETS\tLAST PUSH")
	for _, si := range sites {
		for _, se := range si.Sensors {
			last := se.LastPush.Local().Format("2006-01-02 15:04")
			if !se.Complete {
				last += " (incomplete)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", safe.Text(si.Name), safe.Text(se.Name), safe.Text(se.Session), se.Assets, last)
		}
	}
	return tw.Flush()
}

// merged reads what opts selects from the central database and merges
// each site's sensors into one session per site (central.MergeSites).
func (c *centralFlags) merged(ctx context.Context, cmd string, opts central.LoadOptions) ([]central.Site, error) {
	db, err := c.open(ctx, cmd)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	got, err := db.Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	return central.MergeSites(got)
}

// centralAssets reads the merged inventory of the selected sites (all
// sites when none is named); assets of different sites stay apart.
func centralAssets(ctx context.Context, cf *centralFlags, sites []string, facts bool) ([]model.Asset, error) {
	merged, err := cf.merged(ctx, "assets", central.LoadOptions{Sites: sites, AssetsOnly: true, NoFacts: !facts})
	if err != nil {
		return nil, err
	}
	var out []model.Asset
	for _, s := range merged {
		out = append(out, s.Session.Assets...)
	}
	return out, nil
}

// withCentralSite brings a site's merged inventory from the central
// database into a temporary local session, runs fn on that session's name
// and removes it again, so that every command reading a session (audit,
// diff) reads the central view the same way.
func (a *app) withCentralSite(ctx context.Context, cf *centralFlags, cmd, site string, fn func(session string) error) error {
	if site == "" {
		return usagef(cmd, "--site NAME is required with --from")
	}
	sites, err := cf.merged(ctx, cmd, central.LoadOptions{Sites: []string{site}})
	if err != nil {
		return err
	}
	s := sites[0].Session
	var b [4]byte
	_, _ = rand.Read(b[:])
	tmp := "central-" + hex.EncodeToString(b[:])
	e, err := a.openEnv()
	if err != nil {
		return err
	}
	err = bundle.ToStore(e.st, tmp, &s)
	e.close()
	if err != nil {
		return err
	}
	defer func() {
		if e, err := a.openEnv(); err == nil {
			if derr := e.st.DeleteSession(tmp); derr != nil {
				e.logger.Printf("central site %s: remove the temporary session %s: %v", site, tmp, derr)
			}
			e.close()
		}
	}()
	return fn(tmp)
}
