package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"otscope/assets"
	"otscope/assets/bundle"
	"otscope/assets/diff"
	"otscope/assets/export"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/ui"
)

// tuiTravel is the TUI's export (`e`) and diff (`d`) over the database the
// TUI has open: ui.Exporter and ui.Differ. The TUI's session is read as
// last saved (at most a flush behind what the panes show).
type tuiTravel struct {
	st      *store.Store
	session string
	version string
	src     review.Sources
	now     func() time.Time

	// running counts exports and diffs in progress; after close, none
	// starts (the store is about to close).
	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

// errClosing is the error of an export or a diff asked for as the TUI
// quits.
var errClosing = errors.New("otscope is closing")

func (t *tuiTravel) begin() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosing
	}
	t.running.Add(1)
	return nil
}

// close waits for a running export or diff to finish and refuses new
// ones: the TUI quit and the store is about to close. An export in
// progress is finished, not cut (it takes seconds at most).
func (t *tuiTravel) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.running.Wait()
}

var (
	_ ui.Exporter = (*tuiTravel)(nil)
	_ ui.Differ   = (*tuiTravel)(nil)
)

// Export writes the session in format to path, whole or not at all.
func (t *tuiTravel) Export(ctx context.Context, format, path string, progress func(done, total int)) (ui.ExportSummary, error) {
	if err := t.begin(); err != nil {
		return ui.ExportSummary{}, err
	}
	defer t.running.Done()
	write, n, skipped, err := sessionWriter(t.st, t.session, format, t.version, t.src, t.now(), progress)
	if err != nil {
		return ui.ExportSummary{}, err
	}
	if err := ctx.Err(); err != nil {
		return ui.ExportSummary{}, err
	}
	if err := export.WriteFile(path, write); err != nil {
		return ui.ExportSummary{}, err
	}
	sum := ui.ExportSummary{Assets: n, Skipped: skipped}
	if fi, err := os.Stat(path); err == nil {
		sum.Bytes = fi.Size()
	}
	return sum, nil
}

// sessionWriter loads what format needs of the stored session and returns
// the function that writes it, the number of assets it writes and the
// number of damaged stored records a bundle leaves out.
// progress (may be nil) hears of records written: the bundle reports as it
// encodes, a report when it starts and when it is done.
func sessionWriter(st *store.Store, session, format, version string, src review.Sources, now time.Time,
	progress func(done, total int)) (write func(io.Writer) error, assets, skipped int, err error) {
	if format == "bundle" {
		s, skipped, err := bundle.FromStore(st, session)
		if err != nil {
			return nil, 0, 0, err
		}
		o := bundle.Options{Otscope: version, Progress: progress}
		return func(w io.Writer) error { return bundle.Write(w, &s, o) }, len(s.Assets), skipped, nil
	}
	if !slices.Contains(export.ReportFormats, format) {
		return nil, 0, 0, fmt.Errorf("%q: %w", format, export.ErrReportFormat)
	}
	rep, err := sessionReport(st, session, version, src, now)
	if err != nil {
		return nil, 0, 0, err
	}
	n := len(rep.Records)
	return func(w io.Writer) error {
		if progress != nil {
			progress(0, n)
		}
		if err := export.WriteReport(w, format, rep); err != nil {
			return err
		}
		if progress != nil {
			progress(n, n)
		}
		return nil
	}, n, 0, nil
}

// sessionReport builds the report of a stored session: its assets with the
// analysis the TUI renders (lifecycle, advisories, the audit with the
// session's waivers, states), its site and sensor and its scan log.
func sessionReport(st *store.Store, session, version string, src review.Sources, now time.Time) (*export.Report, error) {
	snap, an, err := analyseStored(st, session, src, now)
	if err != nil {
		return nil, err
	}
	rep := &export.Report{Session: session, Otscope: version, Now: now, Audited: true,
		Records: export.Records(snap.Assets, an), Conversations: snap.Conversations, Stats: snap.Stats}
	if m, err := st.SessionMeta(session); err == nil {
		rep.Site, rep.Sensor = m.Site, m.Sensor
	}
	if rep.ScanLog, _, err = store.ReadJournal[model.ScanRecord](st, session, store.ScanLog); err != nil {
		return nil, err
	}
	return rep, nil
}

// analyseStored loads a session, its journals and its walkdown from an
// open store and analyses it at now (its assets carry the walkdown).
func analyseStored(st *store.Store, session string, src review.Sources, now time.Time) (store.Snapshot, *review.Analysis, error) {
	snap, err := st.Load(session)
	if err != nil {
		return snap, nil, err
	}
	j, err := assets.ReadJournals(st, session)
	if err != nil {
		return snap, nil, err
	}
	b, _, err := walkdown.Open(st, session)
	if err != nil {
		return snap, nil, err
	}
	return snap, analyseSnapshot(&snap, j, b, src, now), nil
}

// Diff compares session from with the TUI's session.
func (t *tuiTravel) Diff(ctx context.Context, from string) (diff.Result, error) {
	if err := t.begin(); err != nil {
		return diff.Result{}, err
	}
	defer t.running.Done()
	return diffStored(ctx, t.st, from, t.session, t.src, t.now())
}

// diffStored compares two sessions of an open store, with the analysis of
// each at now: what changed from session a to session b.
func diffStored(ctx context.Context, st *store.Store, a, b string, src review.Sources, now time.Time) (diff.Result, error) {
	var sess [2]bundle.Session
	var status [2]map[model.AssetID]diff.Status
	var errs [2]error
	// The two sessions load and are analysed side by side (one core each).
	var wg sync.WaitGroup
	for i, n := range []string{a, b} {
		wg.Go(func() {
			if errs[i] = ctx.Err(); errs[i] != nil {
				return
			}
			snap, an, err := analyseStored(st, n, src, now)
			if err != nil {
				errs[i] = err
				return
			}
			sess[i] = bundle.Session{Name: n, Assets: snap.Assets, Conversations: snap.Conversations, Stats: snap.Stats}
			status[i] = diff.StatusFromRecords(&export.Report{Records: export.Records(snap.Assets, an), Now: now, Audited: true})
		})
	}
	wg.Wait()
	if err := cmp.Or(errs[0], errs[1]); err != nil {
		return diff.Result{}, err
	}
	return diff.Sessions(&sess[0], &sess[1], diff.Options{Before: status[0], After: status[1]}), nil
}
