// Package format turns counts, byte sizes, times and rates into the short
// cell text the otscope panes show, and fits text into fixed-width cells.
//
// Everything here is a pure function of its arguments and safe for
// concurrent use. Widths are terminal cells (ansi.StringWidth), so wide
// runes and the "…" ellipsis are counted correctly.
package format

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Ellipsis marks text cut to fit a cell.
const Ellipsis = "…"

// Width returns the display width of s in terminal cells.
func Width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == 0x1b {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// Truncate cuts s to at most w cells, ending it with "…" when it was cut.
func Truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, Ellipsis)
}

// Fit truncates s to w cells and pads it with spaces on the right to exactly w.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = Truncate(s, w)
	if n := Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// FitRight truncates s to w cells and pads it on the left to exactly w.
func FitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = Truncate(s, w)
	if n := Width(s); n < w {
		return strings.Repeat(" ", w-n) + s
	}
	return s
}

// Dash is s, or "-" for an empty cell of a table.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Wrap breaks s into lines of at most w cells, at spaces where it can.
func Wrap(s string, w int) []string {
	if Width(s) <= w || w <= 0 {
		return []string{s}
	}
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}

// Port is "tcp/102", or the transport alone when it has no ports ("icmp",
// "l2").
func Port(transport string, port uint16) string {
	if port == 0 && transport != "tcp" && transport != "udp" {
		return transport
	}
	return transport + "/" + strconv.Itoa(int(port))
}

// Count formats n in at most five cells: 999, 1.2k, 45k, 1.2M, 3.4G.
func Count(n uint64) string {
	return scaled(float64(n), "")
}

// Bytes formats a byte count with SI units in at most six cells: 512B, 1.2kB, 45MB.
func Bytes(n uint64) string {
	if n < 1000 {
		return strconv.FormatUint(n, 10) + "B"
	}
	return scaled(float64(n), "B")
}

// Rate formats a per-second rate such as packets/s: 0, 12, 1.2k.
func Rate(r float64) string {
	if r <= 0 || math.IsNaN(r) {
		return "0"
	}
	if r < 10 {
		if r < 1 {
			return strconv.FormatFloat(r, 'f', 1, 64)
		}
		return strconv.FormatFloat(math.Round(r), 'f', 0, 64)
	}
	return scaled(math.Round(r), "")
}

func scaled(v float64, unit string) string {
	const units = "kMGTPE"
	if v < 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64) + unit
	}
	i := -1
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	prec := 0
	if v < 10 {
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if prec == 1 && strings.HasSuffix(s, "10.0") {
		s = "10"
	}
	return s + string(units[i]) + unit
}

// Thousands formats n with comma separators: 1,234,567.
func Thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Ago is the age of t relative to now in the largest whole unit: "3s", "4m",
// "2h", "5d". It returns "-" for the zero time and "0s" for times in the future.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
}

// Clock formats t as "15:04:05" when it falls on the same day as now, else as
// "Jan 02 15:04" (with the year when it differs). The zero time gives "-".
func Clock(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return t.Format("15:04:05")
	case y1 == y2:
		return t.Format("Jan 02 15:04")
	default:
		return t.Format("2006-01-02 15:04")
	}
}

// sparkBlocks are the eight heights of a sparkline cell.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws the last width values as unicode blocks scaled to the
// largest of them. Zero is drawn as the lowest block only when every value
// is zero; otherwise zero is a space so that idle seconds stand out. When
// there are fewer values than width, the line is left-padded with spaces so
// the newest value is always at the right edge.
func Sparkline(values []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	peak := 0.0
	for _, v := range values {
		peak = math.Max(peak, v)
	}
	var b strings.Builder
	b.Grow(width * 3)
	for range width - len(values) {
		b.WriteByte(' ')
	}
	for _, v := range values {
		switch {
		case peak <= 0:
			b.WriteRune(sparkBlocks[0])
		case v <= 0:
			b.WriteByte(' ')
		default:
			i := int(math.Ceil(v/peak*float64(len(sparkBlocks)))) - 1
			b.WriteRune(sparkBlocks[max(0, min(i, len(sparkBlocks)-1))])
		}
	}
	return b.String()
}
