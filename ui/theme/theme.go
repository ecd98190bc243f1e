// Package theme holds otscope's palette and the Styles every pane renders
// with. Styles are built once by New and then only read, so one value can be
// shared by all panes; building styles inside a View is avoided.
//
// Colours are lipgloss.AdaptiveColor pairs, so the same build works on light
// and dark terminals. No information is carried by colour alone: panes also
// use markers (▸, ⚠, [brackets]) that survive a monochrome terminal.
package theme

import "github.com/charmbracelet/lipgloss"

// Palette is the small set of colours the styles are built from.
type Palette struct {
	Text, Muted, Accent, Warn, Error, Good lipgloss.AdaptiveColor
	BarText, BarBack, SelText, SelBack     lipgloss.AdaptiveColor
}

// DefaultPalette returns the colours used by New.
func DefaultPalette() Palette {
	return Palette{
		Text:    lipgloss.AdaptiveColor{Light: "235", Dark: "252"},
		Muted:   lipgloss.AdaptiveColor{Light: "243", Dark: "245"},
		Accent:  lipgloss.AdaptiveColor{Light: "25", Dark: "75"},
		Warn:    lipgloss.AdaptiveColor{Light: "130", Dark: "214"},
		Error:   lipgloss.AdaptiveColor{Light: "124", Dark: "203"},
		Good:    lipgloss.AdaptiveColor{Light: "28", Dark: "114"},
		BarText: lipgloss.AdaptiveColor{Light: "235", Dark: "252"},
		BarBack: lipgloss.AdaptiveColor{Light: "254", Dark: "237"},
		SelText: lipgloss.AdaptiveColor{Light: "231", Dark: "231"},
		SelBack: lipgloss.AdaptiveColor{Light: "25", Dark: "25"},
	}
}

// Styles are the lipgloss styles of the whole UI.
type Styles struct {
	// Tab is an unfocused pane name in the tab bar; TabActive the focused one.
	Tab, TabActive lipgloss.Style
	// Summary is the focused pane's one-line summary at the right of the tab bar.
	Summary lipgloss.Style
	// Header is a table's column header line.
	Header lipgloss.Style
	// Selected is the row under the cursor.
	Selected lipgloss.Style
	// Section titles a block of the detail and capture panes.
	Section lipgloss.Style
	// Label is a field name in the detail pane.
	Label lipgloss.Style
	// Muted is secondary text: provenance, units, empty states.
	Muted lipgloss.Style
	// Warn marks conflicts and drops; Error marks failures; Good marks a running source.
	Warn, Error, Good lipgloss.Style
	// Spark draws sparklines.
	Spark lipgloss.Style
	// Bar is the status bar; BarAccent its highlighted segment; BarKey a
	// key name in its short help.
	Bar, BarAccent, BarKey lipgloss.Style
	// Prompt is the filter prompt; Input the filter text.
	Prompt, Input lipgloss.Style
	// HelpTitle heads a group in the help overlay; HelpKey and HelpDesc are its entries.
	HelpTitle, HelpKey, HelpDesc lipgloss.Style
}

// New builds the Styles from DefaultPalette.
func New() Styles { return FromPalette(DefaultPalette()) }

// FromPalette builds the Styles from p.
func FromPalette(p Palette) Styles {
	s := lipgloss.NewStyle
	bar := s().Foreground(p.BarText).Background(p.BarBack)
	return Styles{
		Tab:       s().Foreground(p.Muted),
		TabActive: s().Foreground(p.Accent).Bold(true).Underline(true),
		Summary:   s().Foreground(p.Muted),
		Header:    s().Foreground(p.Accent).Bold(true),
		Selected:  s().Foreground(p.SelText).Background(p.SelBack).Bold(true),
		Section:   s().Foreground(p.Accent).Bold(true),
		Label:     s().Foreground(p.Muted),
		Muted:     s().Foreground(p.Muted),
		Warn:      s().Foreground(p.Warn).Bold(true),
		Error:     s().Foreground(p.Error).Bold(true),
		Good:      s().Foreground(p.Good),
		Spark:     s().Foreground(p.Accent),
		Bar:       bar,
		BarAccent: bar.Foreground(p.Accent).Bold(true),
		BarKey:    bar.Foreground(p.Accent).Bold(true),
		Prompt:    s().Foreground(p.Accent).Bold(true),
		Input:     s().Foreground(p.Text),
		HelpTitle: s().Foreground(p.Accent).Bold(true).Underline(true),
		HelpKey:   s().Foreground(p.Accent).Bold(true),
		HelpDesc:  s().Foreground(p.Text),
	}
}
