package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/scan"
	"otscope/scan/capture"
	"otscope/scan/job"
	"otscope/ui"
)

// uiOptions are the flags of `otscope ui` (and of otscope without a
// command).
type uiOptions struct {
	session, iface, filter string
	cat                    catalogFlags
	policies               []string
}

func (a *app) uiFlags(cmd *cobra.Command, o *uiOptions) {
	a.sessionFlag(cmd, &o.session, "session to open (default: the most recent, or \"default\")", false)
	cmd.Flags().StringVarP(&o.iface, "interface", "i", "", "capture live from interface `IFACE` into the session")
	cmd.Flags().StringVar(&o.filter, "filter", "", "capture `FILTER` (tcpdump syntax subset)")
	o.cat.register(cmd)
	policyFlag(cmd, &o.policies, "policy file or directory `PATH` (YAML; repeatable), on top of the default pack")
	cmd.RegisterFlagCompletionFunc("interface", completeInterfaces)
}

func (a *app) newUICmd() *cobra.Command {
	var o uiOptions
	cmd := &cobra.Command{
		Use:   "ui [-s SESSION] [-i IFACE | FILE...]",
		Short: "the TUI; optionally capture live or read files into the session",
		Long: `Open the terminal UI on a session (default: the most recent one). With
-i IFACE it captures live into the session; with capture files it reads them
into it while you watch.`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runUI(o, args) },
	}
	a.uiFlags(cmd, &o)
	return cmd
}

func (a *app) runUI(o uiOptions, files []string) error {
	src, err := o.cat.sources(a.io.Stderr, true, o.policies)
	if err != nil {
		return err
	}
	if o.iface != "" && len(files) > 0 {
		return usagef("ui", "give either -i IFACE or capture files, not both")
	}
	e, err := a.openEnv()
	if err != nil {
		return err
	}
	defer e.close()
	if o.session == "" {
		o.session = "default"
		if infos, err := e.st.Sessions(); err == nil && len(infos) > 0 {
			slices.SortFunc(infos, func(a, b model.SessionInfo) int { return b.Updated.Compare(a.Updated) })
			o.session = infos[0].Name
		}
	}
	var open func() (capture.Source, error)
	var sources []string
	opts := capture.Options{Filter: o.filter, Promisc: true, ReportIdle: o.iface != ""}
	switch {
	case o.iface != "":
		// fail before the TUI starts when the interface cannot be opened
		src, err := capture.OpenLive(o.iface, opts)
		if err != nil {
			return err
		}
		open = func() (capture.Source, error) { return src, nil }
		sources = []string{"iface:" + o.iface}
	case len(files) > 0:
		open = func() (capture.Source, error) { return capture.OpenFiles(files, opts) }
		sources = files
	}
	return a.tuiLoop(e, o.session, open, sources, scan.IngestOptions{Name: strings.Join(sources, " ")}, src)
}

// tuiLoop runs the TUI on session. The session picker (O) ends it with
// another session chosen: the TUI is reopened there, without the source
// (it fed the first session only). At the end it says where the session
// is kept and how to reopen it.
func (a *app) tuiLoop(e *env, session string, open func() (capture.Source, error), sources []string, io scan.IngestOptions, src review.Sources) error {
	for {
		next, err := a.runTUI(e, session, open, sources, io, src)
		if err != nil {
			return err
		}
		if next == "" {
			a.savedLine(e, session)
			return nil
		}
		session, open, sources, io = next, nil, nil, scan.IngestOptions{}
	}
}

// savedLine tells where the session is kept and how to open it again.
func (a *app) savedLine(e *env, session string) {
	dir := e.st.SessionDir(session)
	if home, err := os.UserHomeDir(); err == nil && home != "" && strings.HasPrefix(dir, home+string(filepath.Separator)) {
		dir = "~" + dir[len(home):]
	}
	reopen := "otscope ui -s " + session
	if a.db != "" {
		reopen = "otscope --db " + shellQuote(a.db) + " ui -s " + session
	}
	fmt.Fprintf(a.io.Stdout, "session %s saved in %s — reopen: %s\n", session, dir, reopen)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '~' || r == ':' || r == '+' || r == ',' || r == '=' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pickerSessions lists the stored sessions for the TUI's session picker.
func pickerSessions(st *store.Store) func() ([]ui.SessionEntry, error) {
	return func() ([]ui.SessionEntry, error) {
		metas, err := st.ListMeta()
		out := make([]ui.SessionEntry, len(metas))
		for i, m := range metas {
			out[i] = ui.SessionEntry{Name: m.Name, Site: m.Site, Assets: m.Assets, Updated: m.Updated}
		}
		return out, err
	}
}

// demoSourceName names the demo plant as a capture source.
const demoSourceName = "demo plant"

// runTUI runs the TUI over a session, with an optional source feeding it
// (recorded as a run of the session); it returns the session chosen in the
// session picker, if any.
func (a *app) runTUI(e *env, session string, open func() (capture.Source, error), sources []string, io scan.IngestOptions, src review.Sources) (string, error) {
	sess, err := e.openSession(session)
	if err != nil {
		return "", err
	}
	// the Walkdown pane records in the session's walkdown journal
	book, skipped, err := walkdown.Open(e.st, session)
	if err != nil {
		return "", err
	}
	if skipped > 0 {
		e.logger.Printf("session %s: %d walkdown records could not be used and were skipped", session, skipped)
	}
	// The demo plant's addresses are made up: on the user's network they
	// may be real devices, so a session that holds the demo never scans.
	var noScan string
	if slices.Contains(sources, demoSourceName) || slices.ContainsFunc(sess.Inventory().Stats(), func(st model.CaptureStats) bool { return st.Source == demoSourceName }) {
		noScan = "Scanning is off in the demo: its devices are simulated, and their addresses may belong to real devices on your network."
	}
	scanCtl := job.NewController(func() ([]model.Asset, error) {
		// the plan reads the session as last saved (at most a second old)
		snap, err := e.st.Load(session)
		return snap.Assets, err
	}, scanSink(e, sess), noScan)
	updates := sess.Watch()
	runDone := make(chan error, 1)
	go func() { runDone <- sess.Run(context.Background()) }()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		f     feed
		runID string
		errs  []error
	)
	if open != nil {
		// a live capture (or files read while watching) is a run of the
		// session; killed, it shows as interrupted in 'otscope sessions'
		if runID, err = e.st.BeginRun(session, io.Name, nil, false); err != nil {
			e.logger.Printf("session %s: record the run: %v", session, err)
		}
		f.start(ctx, sess, open, io)
	}
	trav := &tuiTravel{st: e.st, session: session, version: a.appVersion(), src: src, now: time.Now}
	final, uiErr := ui.Run(ui.New(ui.Config{Session: session, Updates: updates, Sources: sources, Version: a.appVersion(),
		Analysis: src, Ledger: sess, User: operator(), Scan: scanCtl, Sessions: pickerSessions(e.st), Walkdown: book,
		Exporter: trav, Differ: trav}))
	trav.close() // an export or a diff in progress finishes before the store closes
	scanCtl.Wait()
	cancel()
	st, feedErr := f.wait()
	if runID != "" {
		if err := e.st.FinishRun(session, runID, st, feedErr); err != nil {
			errs = append(errs, err)
		}
	}
	sess.Close()
	saveErr := <-runDone
	if feedErr != nil {
		e.logger.Printf("session %s: %v", session, feedErr)
	}
	var next string
	if uiErr == nil {
		next = final.Chosen()
	}
	return next, errors.Join(append(errs, uiErr, saveErr)...)
}
