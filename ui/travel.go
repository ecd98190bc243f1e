package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/diff"
	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/pane/diffpane"
	"otscope/ui/pane/form"
	"otscope/ui/theme"
)

// Exporter writes the open session to a file: a bundle or a report. The
// UI only asks and shows; main implements it with the store and the
// export writers. Export is called off the UI goroutine and may call
// progress from it (records done of total; total 0 while unknown). The
// file is written whole or not at all.
type Exporter interface {
	Export(ctx context.Context, format, path string, progress func(done, total int)) (ExportSummary, error)
}

// ExportSummary is what an export wrote.
type ExportSummary struct {
	// Assets is the number of assets written; Bytes the file's size.
	Assets int
	Bytes  int64
	// Skipped counts damaged stored records the export left out.
	Skipped int
}

// Differ compares the open session with another session of the database
// (listed by Config.Sessions, as the session picker lists them). Diff is
// called off the UI goroutine.
type Differ interface {
	// Diff compares session from (an earlier visit, another jump host)
	// with the open session: what changed from it to this one.
	Diff(ctx context.Context, from string) (diff.Result, error)
}

// ExportFormat is a format the TUI's export offers and the extension its
// default file name gets.
type ExportFormat struct{ Name, Ext string }

// ExportFormats are the formats `e` offers, the first the default.
var ExportFormats = []ExportFormat{
	{"bundle", ".otsb"}, {"json", ".json"}, {"csv", ".csv"}, {"html", ".html"},
	{"cyclonedx", ".cdx.json"}, {"cyclonedx-1.7", ".cdx.json"},
}

// exportFormat resolves what the user typed: a format's name or the start
// of one ("h" is html); empty is the default.
func exportFormat(s string) (ExportFormat, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ExportFormats[0], nil
	}
	for _, f := range ExportFormats {
		if f.Name == s {
			return f, nil
		}
	}
	for _, f := range ExportFormats {
		if strings.HasPrefix(f.Name, s) {
			return f, nil
		}
	}
	return ExportFormat{}, fmt.Errorf("unknown format %q (the formats are listed above)", s)
}

// formatOfPath is the format a file name's extension names (".html" is
// html), else def: a path typed with the format left empty chooses it.
func formatOfPath(path string, def ExportFormat) ExportFormat {
	p := strings.ToLower(path)
	best := def
	for _, f := range ExportFormats {
		// the longest extension wins: .cdx.json is not json
		if strings.HasSuffix(p, f.Ext) && (best == def || len(f.Ext) > len(best.Ext)) {
			best = f
		}
	}
	return best
}

func formatList() string {
	names := make([]string, 0, len(ExportFormats))
	for _, f := range ExportFormats[:len(ExportFormats)-1] {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ") + " or " + ExportFormats[len(ExportFormats)-1].Name
}

// defaultExportPath is ./<session>-<yyyymmdd-hhmm><ext>.
func defaultExportPath(session string, now time.Time, f ExportFormat) string {
	if session == "" {
		session = "otscope"
	}
	return "./" + session + "-" + now.Format("20060102-1504") + f.Ext
}

// expandHome turns a leading "~" or "~/" into the home directory.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("~ cannot be expanded: %w", err)
	}
	return filepath.Join(home, p[1:]), nil
}

// travel is the state of the export form, the diff form and the diff
// view, which the root draws over the focused pane.
type travel struct {
	form form.Model
	view *diffpane.Model
	// showing: the diff view is open.
	showing bool
	// job is the running export, nil when none runs.
	job *exportJob
	// comparing names the session a running diff compares with.
	comparing string
	// line is the one-line notice of an export or a diff (its progress,
	// its outcome), drawn over the last line of the pane until lineUntil:
	// a file name does not fit the tab bar of an 80-column terminal.
	line      string
	lineErr   bool
	lineUntil time.Time
}

func newTravel(st *theme.Styles) *travel {
	return &travel{form: form.New(st), view: diffpane.New(st)}
}

// active reports whether the travel form or the diff view takes the keys.
func (t *travel) active() bool { return t.form.Active() || t.showing }

// help is the status bar's keys while active, else nil.
func (t *travel) help() []key.Binding {
	switch {
	case t.form.Active():
		return t.form.Help()
	case t.showing:
		return t.view.ShortHelp()
	}
	return nil
}

// summary is the tab bar's line while the diff view is open.
func (t *travel) summary() string {
	if t.showing && !t.form.Active() {
		return t.view.Summary()
	}
	return ""
}

func (t *travel) setSize(w, h int) { t.view.SetSize(w, h) }

// overlay draws the diff view instead of body, the form over the bottom
// lines of body, and the notice line (while now is before its end) over
// the last line, in a box of w x h.
func (t *travel) overlay(st *theme.Styles, body string, w, h int, now time.Time) string {
	if t.showing {
		body = t.view.View()
	}
	notice := t.line != "" && now.Before(t.lineUntil)
	if !t.form.Active() && !notice {
		return body
	}
	lines := strings.Split(body, "\n")
	for len(lines) < h {
		lines = append(lines, "")
	}
	lines = lines[:h]
	var bottom []string
	if t.form.Active() {
		bottom = t.form.View(w)
	}
	if notice {
		style := st.Good
		if t.lineErr {
			style = st.Error
		}
		bottom = append(bottom, " "+style.Render(format.Truncate(t.line, w-2)))
	}
	keep := max(0, h-len(bottom))
	return strings.Join(append(lines[:keep], bottom...), "\n")
}

// key handles a key while active.
func (m *Model) travelKey(msg tea.KeyMsg) tea.Cmd {
	t := m.tr
	if t.form.Active() {
		return t.form.Update(msg)
	}
	switch t.view.Update(msg) {
	case diffpane.Close:
		t.showing = false
	case diffpane.Open:
		c, _ := t.view.Selected()
		if _, ok := m.state.Asset(c.Asset); !ok {
			m.say("✗ "+c.Label+" is not in "+m.cfg.Session+" (it vanished)", true)
			return nil
		}
		// the detail's back key returns to the pane under the view;
		// d opens the comparison again
		t.showing = false
		return pane.OpenAsset(c.Asset)
	}
	return nil
}

// exportJob is a running export. Progress is written by the exporter's
// goroutine and read by the UI.
type exportJob struct {
	format, path string
	done, total  atomic.Int64
	// changed has a value when progress moved since the UI last looked.
	changed chan struct{}
	// finished is closed when Export returned.
	finished chan struct{}
}

func (j *exportJob) progress(done, total int) {
	j.done.Store(int64(done))
	j.total.Store(int64(total))
	select {
	case j.changed <- struct{}{}:
	default:
	}
}

// watch waits for the next progress, or the end.
func (j *exportJob) watch() tea.Cmd {
	return func() tea.Msg {
		select {
		case <-j.changed:
			return exportProgressMsg{job: j}
		case <-j.finished:
			return nil
		}
	}
}

func (j *exportJob) status() string {
	s := "exporting " + j.format + " to " + j.path
	if t := j.total.Load(); t > 0 {
		s += ": " + strconv.Itoa(int(min(100, 100*j.done.Load()/t))) + "%"
	} else {
		s += "…"
	}
	return s
}

// exportStartMsg asks the root to start an export; the export form sends it.
type exportStartMsg struct{ format, path string }

// exportProgressMsg says a running export moved on.
type exportProgressMsg struct{ job *exportJob }

// exportDoneMsg delivers an export's outcome.
type exportDoneMsg struct {
	job *exportJob
	sum ExportSummary
	err error
}

// diffSessionsMsg delivers the sessions to compare with.
type diffSessionsMsg struct {
	list []SessionEntry
	err  error
}

// diffStartMsg asks the root to compare with session from.
type diffStartMsg struct{ from string }

// diffDoneMsg delivers a comparison.
type diffDoneMsg struct {
	from string
	res  diff.Result
	err  error
}

// runningNotice is how long a notice about work in progress stays up: it
// is replaced by the outcome.
const runningNotice = 24 * time.Hour

// say shows a one-line notice of the export or the diff for noticeFor.
func (m *Model) say(text string, isErr bool) {
	m.tr.line, m.tr.lineErr, m.tr.lineUntil = text, isErr, m.cfg.Now().Add(noticeFor)
}

// setRunning shows work in progress until its outcome replaces it.
func (m *Model) setRunning(text string) {
	m.say(text, false)
	m.tr.lineUntil = m.cfg.Now().Add(runningNotice)
}

var (
	errNoExporter = errors.New("this view keeps no session: nothing to export")
	errNoDiffer   = errors.New("this view keeps no session: nothing to compare")
)

// openExport opens the export form (format, path).
func (m *Model) openExport() tea.Cmd {
	if m.cfg.Exporter == nil {
		m.say("✗ "+errNoExporter.Error(), true)
		return nil
	}
	if j := m.tr.job; j != nil {
		m.setRunning(j.status())
		return nil
	}
	confirmed, session, now := "", m.cfg.Session, m.cfg.Now()
	def := defaultExportPath(session, now, ExportFormat{Ext: ".<ext>"})
	info := []string{"formats: " + formatList() + " (a start will do)", "an empty format follows the file's extension, else bundle; ~ is your home"}
	fields := []form.Field{
		{Label: "format", Hint: ExportFormats[0].Name},
		{Label: "file", Hint: def},
	}
	m.tr.form.Open("Export session "+m.cfg.Session, info, fields, func(v []string) (tea.Cmd, error) {
		path := strings.TrimSpace(v[1])
		f, err := exportFormat(v[0])
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(v[0]) == "" {
			f = formatOfPath(path, f)
		}
		if path == "" {
			path = defaultExportPath(session, now, f)
		}
		if path, err = expandHome(path); err != nil {
			return nil, err
		}
		if fi, err := os.Stat(path); err == nil {
			if fi.IsDir() {
				return nil, fmt.Errorf("%s is a directory: give a file name", path)
			}
			if confirmed != path {
				confirmed = path
				return nil, errors.New("the file exists: enter again replaces it")
			}
		}
		return pane.Send(exportStartMsg{format: f.Name, path: path}), nil
	})
	return nil
}

// startExport runs the export off the UI goroutine.
func (m *Model) startExport(msg exportStartMsg) tea.Cmd {
	exp := m.cfg.Exporter
	if exp == nil || m.tr.job != nil {
		return nil
	}
	j := &exportJob{format: msg.format, path: msg.path, changed: make(chan struct{}, 1), finished: make(chan struct{})}
	m.tr.job = j
	m.setRunning(j.status())
	run := func() tea.Msg {
		sum, err := exp.Export(context.Background(), j.format, j.path, j.progress)
		close(j.finished)
		return exportDoneMsg{job: j, sum: sum, err: err}
	}
	return tea.Batch(run, j.watch())
}

// exportDone shows an export's outcome as a notice.
func (m *Model) exportDone(msg exportDoneMsg) {
	if m.tr.job == msg.job {
		m.tr.job = nil
	}
	if msg.err != nil {
		m.say("✗ export: "+msg.err.Error(), true)
		return
	}
	size := fileSize(msg.sum.Bytes)
	if msg.sum.Skipped > 0 {
		size += "; " + strconv.Itoa(msg.sum.Skipped) + " damaged records left out"
	}
	m.say("✓ wrote "+strconv.Itoa(msg.sum.Assets)+" assets ("+size+") to "+msg.job.path, false)
}

// fileSize is "212 KB", "1.4 MB", "512 B".
func fileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(max(0, n), 10) + " B"
	case n < 999_500:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}

// openDiff lists the sessions to compare with off the UI goroutine.
func (m *Model) openDiff() tea.Cmd {
	d, list := m.cfg.Differ, m.cfg.Sessions
	if d == nil || list == nil {
		m.say("✗ "+errNoDiffer.Error(), true)
		return nil
	}
	if m.tr.comparing != "" {
		m.setRunning("comparing " + m.tr.comparing + " with " + m.cfg.Session + "…")
		return nil
	}
	return func() tea.Msg {
		l, err := list()
		return diffSessionsMsg{list: l, err: err}
	}
}

// maxListed is how many sessions the diff form lists by name.
const maxListed = 12

// chooseSession opens the form that asks which session to compare with,
// the most recently updated other session filled in.
func (m *Model) chooseSession(msg diffSessionsMsg) {
	if msg.err != nil {
		m.say("✗ sessions: "+msg.err.Error(), true)
		return
	}
	l := slices.Clone(msg.list)
	slices.SortStableFunc(l, func(a, b SessionEntry) int {
		return cmp.Or(b.Updated.Compare(a.Updated), cmp.Compare(a.Name, b.Name))
	})
	var names []string
	for _, e := range l {
		if e.Name != m.cfg.Session {
			names = append(names, e.Name)
		}
	}
	if len(names) == 0 {
		m.say("✗ no other session to compare with (otscope import brings one)", true)
		return
	}
	listed := names[:min(len(names), maxListed)]
	list := "sessions, newest first: " + strings.Join(listed, ", ")
	if more := len(names) - len(listed); more > 0 {
		list += " and " + strconv.Itoa(more) + " more"
	}
	info := format.Wrap(list, max(20, m.width-2))
	if len(info) > 3 {
		info = append(info[:2], info[2]+" …")[:3]
	}
	fields := []form.Field{{Label: "since session", Value: names[0], Hint: "a session name (a start will do)"}}
	m.tr.form.Open("What changed in "+m.cfg.Session+" since…", info, fields, func(v []string) (tea.Cmd, error) {
		from, err := pickSession(names, v[0])
		if err != nil {
			return nil, err
		}
		return pane.Send(diffStartMsg{from: from}), nil
	})
}

// pickSession resolves a typed name: exact, else the only name it starts.
func pickSession(names []string, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("give a session name")
	}
	var hits []string
	for _, n := range names {
		if n == s {
			return n, nil
		}
		if strings.HasPrefix(n, s) {
			hits = append(hits, n)
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("no other session is called %q", s)
	case 1:
		return hits[0], nil
	}
	return "", fmt.Errorf("%q starts %d sessions: type more of the name", s, len(hits))
}

// startDiff compares off the UI goroutine.
func (m *Model) startDiff(msg diffStartMsg) tea.Cmd {
	d := m.cfg.Differ
	if d == nil || m.tr.comparing != "" {
		return nil
	}
	m.tr.comparing = msg.from
	m.setRunning("comparing " + msg.from + " with " + m.cfg.Session + "…")
	return func() tea.Msg {
		r, err := d.Diff(context.Background(), msg.from)
		return diffDoneMsg{from: msg.from, res: r, err: err}
	}
}

// diffDone opens the diff view on the result, or shows the error.
func (m *Model) diffDone(msg diffDoneMsg) {
	m.tr.comparing = ""
	if msg.err != nil {
		m.say("✗ diff with "+msg.from+": "+msg.err.Error(), true)
		return
	}
	// the view says it all: no notice over its last line
	m.tr.line = ""
	m.tr.view.Show(msg.res)
	m.tr.showing = true
}

// travelMsg handles the messages of the export and the diff; ok is false
// for any other message.
func (m *Model) travelMsg(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		// over the form or the diff view the mouse does not reach the
		// panes underneath; the wheel scrolls the view
		if !m.tr.active() {
			return nil, false
		}
		if m.tr.showing && !m.tr.form.Active() {
			switch msg.Button {
			case tea.MouseButtonWheelUp:
				_ = m.tr.view.Update(tea.KeyMsg{Type: tea.KeyUp})
			case tea.MouseButtonWheelDown:
				_ = m.tr.view.Update(tea.KeyMsg{Type: tea.KeyDown})
			}
		}
		return nil, true
	case exportStartMsg:
		return m.startExport(msg), true
	case exportProgressMsg:
		if m.tr.job == msg.job {
			m.setRunning(msg.job.status())
			return msg.job.watch(), true
		}
		return nil, true
	case exportDoneMsg:
		m.exportDone(msg)
		return nil, true
	case diffSessionsMsg:
		m.chooseSession(msg)
		return nil, true
	case diffStartMsg:
		return m.startDiff(msg), true
	case diffDoneMsg:
		m.diffDone(msg)
		return nil, true
	}
	return nil, false
}
