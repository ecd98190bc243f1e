package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/model/safe"
	"otscope/ui/format"
)

// SessionEntry is one stored session as the session picker lists it.
type SessionEntry struct {
	Name    string
	Site    string
	Assets  int
	Updated time.Time
}

// picker is the session picker (key O): the stored sessions, one to open.
// Choosing another session ends the program; Model.Chosen names it and
// the caller reopens the UI on it.
type picker struct {
	open    bool
	list    []SessionEntry
	cursor  int
	err     string
	chosen  string
	loading bool
}

// The picker's keys, for the status bar.
var (
	pickerOpen  = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open"))
	pickerClose = key.NewBinding(key.WithKeys("esc", "O"), key.WithHelp("esc", "close"))
)

// sessionsMsg carries the listing read off the UI goroutine.
type sessionsMsg struct {
	list []SessionEntry
	err  error
}

// Chosen returns the session picked in the session picker (empty when the
// program ended otherwise). Call it on the model tea.Program.Run returns.
func (m Model) Chosen() string { return m.pick.chosen }

// PickerShown reports whether the session picker is open.
func (m Model) PickerShown() bool { return m.pick.open }

// openPicker opens the picker and lists the sessions off the UI goroutine
// (it reads each session's metadata file).
func (m *Model) openPicker() tea.Cmd {
	m.pick = picker{open: true, loading: true}
	list := m.cfg.Sessions
	return func() tea.Msg {
		l, err := list()
		return sessionsMsg{list: l, err: err}
	}
}

func (m *Model) listed(msg sessionsMsg) {
	if !m.pick.open {
		return
	}
	m.pick.loading = false
	m.pick.list = msg.list
	if msg.err != nil {
		m.pick.err = msg.err.Error()
	}
	for i, s := range msg.list {
		if s.Name == m.cfg.Session {
			m.pick.cursor = i
		}
	}
}

// pickerKey handles a key while the picker is open.
func (m Model) pickerKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	p := &m.pick
	switch msg.String() {
	case "esc", "O":
		p.open = false
	case "q":
		return m, tea.Quit
	case "up", "k":
		p.cursor = max(0, p.cursor-1)
	case "down", "j":
		p.cursor = min(len(p.list)-1, p.cursor+1)
	case "home", "g":
		p.cursor = 0
	case "end", "G":
		p.cursor = len(p.list) - 1
	case "enter":
		if p.cursor < 0 || p.cursor >= len(p.list) {
			return m, nil
		}
		name := p.list[p.cursor].Name
		p.open = false
		if name == m.cfg.Session {
			return m, nil
		}
		p.chosen = name
		return m, tea.Quit
	}
	return m, nil
}

// pickerView is the picker's body: a table of sessions, the current one
// marked, the cursor's row highlighted.
func (m Model) pickerView() string {
	p := m.pick
	lines := []string{m.styles.Section.Render(" Open a session"), ""}
	switch {
	case p.loading:
		lines = append(lines, " reading the sessions…")
	case p.err != "":
		lines = append(lines, " "+m.styles.Error.Render(safe.Text(p.err)))
	case len(p.list) == 0:
		lines = append(lines, " no stored sessions")
	}
	if len(p.list) > 0 {
		nameW := 7
		for _, s := range p.list {
			nameW = min(24, max(nameW, format.Width(s.Name)))
		}
		head := fmt.Sprintf("   %s %7s  %-16s  %s", format.Fit("SESSION", nameW), "ASSETS", "UPDATED", "SITE")
		lines = append(lines, m.styles.Header.Render(head))
		room := max(1, m.height-2-len(lines)-2)
		first := max(0, min(p.cursor-room/2, len(p.list)-room))
		for i := first; i < len(p.list) && i < first+room; i++ {
			s := p.list[i]
			mark := "  "
			if s.Name == m.cfg.Session {
				mark = "• "
			}
			updated := "-"
			if !s.Updated.IsZero() {
				updated = s.Updated.Local().Format("2006-01-02 15:04")
			}
			site := safe.Text(s.Site)
			if site == "" {
				site = "-"
			}
			row := " " + mark + format.Fit(s.Name, nameW) + " " + fmt.Sprintf("%7s", strconv.Itoa(s.Assets)) + "  " + fmt.Sprintf("%-16s", updated) + "  " + site
			if i == p.cursor {
				row = m.styles.Selected.Render(format.Fit(row, max(1, m.width-1)))
			}
			lines = append(lines, row)
		}
	}
	lines = append(lines, "")
	hint := "enter opens · esc closes · • is open now"
	if len(m.cfg.Sources) > 0 && m.cfg.Updates != nil {
		hint += " · opening another stops reading " + strings.Join(m.cfg.Sources, ", ")
	}
	for _, l := range format.Wrap(hint, m.width-2) {
		lines = append(lines, " "+m.styles.Muted.Render(l))
	}
	return strings.Join(lines, "\n")
}
