package ui

import (
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
)

// Run runs the UI in the terminal on standard input and output until it
// quits, and returns the final model (see Model.Chosen).
//
// It draws a frame when one changed, right after the message that changed
// it, and writes only the lines that differ. Bubble Tea's own renderer
// instead wakes 60 times a second to compare frames, which alone costs
// about 1% of a core on an idle 2-core jump host (a timer wake-up there
// costs ~0.2 ms); with this one an idle UI does not wake at all. When
// standard input or output is not a terminal it falls back to Bubble
// Tea's renderer.
func Run(m Model) (Model, error) {
	in, out := os.Stdin, os.Stdout
	if !term.IsTerminal(in.Fd()) || !term.IsTerminal(out.Fd()) {
		final, err := tea.NewProgram(m, tea.WithAltScreen()).Run()
		if fm, ok := final.(Model); ok {
			m = fm
		}
		return m, err
	}
	saved, err := term.MakeRaw(in.Fd())
	if err != nil {
		return m, err
	}
	defer term.Restore(in.Fd(), saved) //nolint:errcheck // nothing left to do about it
	scr := &screen{out: out}
	scr.open()
	defer scr.close()
	p := tea.NewProgram(framed{m: m, scr: scr}, tea.WithoutRenderer(), tea.WithInput(in), tea.WithOutput(out))
	// Without its renderer Bubble Tea neither reports the terminal's size
	// nor follows it: do both.
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			if w, h, err := term.GetSize(out.Fd()); err == nil {
				p.Send(tea.WindowSizeMsg{Width: w, Height: h})
			}
			select {
			case <-winch:
			case <-stop:
				return
			}
		}
	}()
	final, err := p.Run()
	if f, ok := final.(framed); ok {
		m = f.m
	}
	return m, err
}

// framed is the model Bubble Tea runs under Run: the UI, drawn onto the
// screen each time Bubble Tea asks for the view (after every message).
type framed struct {
	m   Model
	scr *screen
}

func (f framed) Init() tea.Cmd { return f.m.Init() }

func (f framed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ws, ok := msg.(tea.WindowSizeMsg); ok {
		f.scr.resize(ws.Width, ws.Height)
	}
	nm, cmd := f.m.Update(msg)
	f.m = nm.(Model)
	return f, cmd
}

// View draws the UI's frame and hands Bubble Tea nothing to render.
func (f framed) View() string {
	f.scr.draw(f.m.View())
	return ""
}

// screen is the terminal in the alternate screen: it keeps the lines on
// it and rewrites only those that change.
type screen struct {
	out           io.Writer
	width, height int
	lines         []string // what the terminal shows, line by line
	buf           strings.Builder
}

// The terminal modes the UI uses (the same Bubble Tea's renderer sets for
// tea.WithAltScreen, tea.EnableMouseCellMotion and bracketed paste).
const (
	modesOn  = "\x1b[?1049h\x1b[2J\x1b[H\x1b[?25l\x1b[?1002h\x1b[?1006h\x1b[?2004h"
	modesOff = "\x1b[?2004l\x1b[?1006l\x1b[?1002l\x1b[?25h\x1b[?1049l"
)

func (s *screen) open()  { io.WriteString(s.out, modesOn) }  //nolint:errcheck
func (s *screen) close() { io.WriteString(s.out, modesOff) } //nolint:errcheck

// resize forgets what is on the screen: the next frame is drawn whole.
func (s *screen) resize(w, h int) {
	if w == s.width && h == s.height {
		return
	}
	s.width, s.height, s.lines = w, h, nil
	io.WriteString(s.out, "\x1b[2J") //nolint:errcheck
}

// draw writes the lines of frame that differ from the screen's. A line
// wider than the screen is cut (as Bubble Tea's renderer does): one that
// wrapped would scroll the screen under the lines kept. A shorter one
// erases the rest of its row.
func (s *screen) draw(frame string) {
	if s.height <= 0 {
		return
	}
	s.buf.Reset()
	n := 0
	for line := range strings.SplitSeq(frame, "\n") {
		if n == s.height {
			break
		}
		if n < len(s.lines) && s.lines[n] == line {
			n++
			continue
		}
		s.moveTo(n)
		w := ansi.StringWidth(line)
		if w > s.width {
			s.buf.WriteString(ansi.Truncate(line, s.width, ""))
		} else {
			s.buf.WriteString(line)
		}
		if w < s.width {
			s.buf.WriteString("\x1b[K")
		}
		if n < len(s.lines) {
			s.lines[n] = line
		} else {
			s.lines = append(s.lines, line)
		}
		n++
	}
	for i := n; i < len(s.lines); i++ {
		if s.lines[i] != "" {
			s.moveTo(i)
			s.buf.WriteString("\x1b[K")
		}
	}
	s.lines = s.lines[:n]
	if s.buf.Len() > 0 {
		io.WriteString(s.out, s.buf.String()) //nolint:errcheck // a terminal gone is seen by the input reader
	}
}

func (s *screen) moveTo(row int) {
	s.buf.WriteString("\x1b[")
	s.buf.WriteString(strconv.Itoa(row + 1))
	s.buf.WriteString(";1H")
}
