package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"otscope/model"
	"otscope/model/safe"
)

// Progress of a headless read: on a terminal a bar redrawn about ten
// times a second that never outgrows the terminal's width; elsewhere (a
// log, CI) a plain line every few seconds.
const (
	ttyEvery   = 100 * time.Millisecond
	plainEvery = 5 * time.Second
)

// bytesReader is a source that says how much of its file it has read
// (capture's file sources).
type bytesReader interface{ BytesRead() int64 }

// progressBar follows the runs of a command and draws their progress.
type progressBar struct {
	w     io.Writer
	tty   bool
	width func() int // the terminal's width (0: unknown)
	start time.Time

	mu    sync.Mutex
	stats model.CaptureStats
	src   bytesReader // the current run's source, nil before it opens
	total int64       // bytes of every run's file; 0 when a size is unknown
	done  int64       // bytes of the runs already read
	cur   int64       // size of the current run's file
	drawn bool
}

// update records the current run's counters (scan.IngestOptions.Progress).
func (p *progressBar) update(s model.CaptureStats) {
	p.mu.Lock()
	p.stats = s
	p.mu.Unlock()
}

// begin starts a run over a file of size bytes (0: unknown).
func (p *progressBar) begin(name string, size int64) {
	p.mu.Lock()
	p.done += p.cur
	p.cur, p.src = size, nil
	p.stats = model.CaptureStats{Source: name}
	p.mu.Unlock()
}

// opened records the run's source, for the bytes it has read.
func (p *progressBar) opened(src any) {
	if br, ok := src.(bytesReader); ok {
		p.mu.Lock()
		p.src = br
		p.mu.Unlock()
	}
}

// run draws until stop is closed.
func (p *progressBar) run(stop <-chan struct{}) {
	every := plainEvery
	if p.tty {
		every = ttyEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			p.clear()
			return
		case now := <-t.C:
			p.mu.Lock()
			if p.stats.Source == "" { // no run has begun yet
				p.mu.Unlock()
				continue
			}
			line := p.line(now)
			if p.tty {
				fmt.Fprint(p.w, "\r"+line+"\033[K")
				p.drawn = true
			} else {
				fmt.Fprintln(p.w, line)
			}
			p.mu.Unlock()
		}
	}
}

// clear removes the bar from the terminal.
func (p *progressBar) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// line renders the progress at now (p.mu held).
func (p *progressBar) line(now time.Time) string {
	width := 0
	if p.tty {
		width = p.width()
		if width <= 0 {
			width = 80
		}
		width-- // the last column would wrap on some terminals
	}
	el := now.Sub(p.start)
	s := p.stats
	rate := float64(s.Packets) / max(el.Seconds(), 1e-9)
	counts := fmt.Sprintf("%s pkts %s/s", si(float64(s.Packets)), si(rate))
	frac := -1.0
	if p.total > 0 {
		read := p.done
		if p.src != nil {
			read += min(p.src.BytesRead(), p.cur)
		}
		frac = min(float64(read)/float64(p.total), 1)
	}
	name := safe.Text(s.Source)
	if p.tty {
		name = filepath.Base(name) // the directory is on the command line
	}
	if frac < 0 {
		out := name + "  " + counts
		if s.Truncated > 0 {
			out += fmt.Sprintf("  %d truncated", s.Truncated)
		}
		return fit(out, width)
	}
	tail := fmt.Sprintf("%3.0f%%  %s", frac*100, counts)
	if frac > 0.01 && frac < 1 {
		eta := time.Duration(float64(el) * (1 - frac) / frac)
		tail += "  ETA " + clock(eta)
	}
	if !p.tty {
		return name + "  " + tail
	}
	// name (up to 20 columns), the bar (at least 10), the figures; the
	// name goes first when the terminal is narrow, then the figures are cut
	tw := utf8.RuneCountInString(tail)
	nameW := min(utf8.RuneCountInString(name), 20, max(0, width-tw-2-12-2))
	barW := width - tw - 2
	if nameW > 0 {
		barW -= nameW + 2
	}
	barW = min(barW, 50)
	if barW < 10 {
		return fit(tail, width)
	}
	out := ""
	if nameW > 0 {
		out = fit(name, nameW) + strings.Repeat(" ", nameW-min(nameW, utf8.RuneCountInString(fit(name, nameW)))) + "  "
	}
	return out + bar(frac, barW) + "  " + tail
}

// bar draws a bar of width columns, frac of it full.
func bar(frac float64, width int) string {
	full := int(frac*float64(width) + 0.5)
	return strings.Repeat("█", full) + strings.Repeat("░", width-full)
}

// fit cuts s to width columns with "…" (width <= 0: no limit).
func fit(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	if width == 1 {
		return "…"
	}
	return string([]rune(s)[:width-1]) + "…"
}

// si writes a count with a k/M/G suffix: 950, 12.3k, 4.5M.
func si(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// clock writes a duration as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
