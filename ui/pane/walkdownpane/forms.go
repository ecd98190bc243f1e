package walkdownpane

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/model/safe"
	"otscope/ui/pane"
	"otscope/ui/pane/form"
)

// openNameplate opens the nameplate form for the item's asset. A
// barcode scanner types a value and Enter: the form moves to the next
// field, so each scan fills one field.
func (m *Model) openNameplate(it *walkdown.Item) tea.Cmd {
	if it == nil || it.Asset == nil {
		if it != nil {
			return pane.Notice("no device found for "+it.Label()+": add it with a first (or mark it - missing)", true)
		}
		return nil
	}
	id, book, by, now := it.Asset.ID, m.cfg.Book, m.user(), m.cfg.Now
	var fields []form.Field
	for _, f := range nameplateFields {
		fields = append(fields, form.Field{Label: f.label, Hint: f.hint})
	}
	m.form.Open("Nameplate of "+safe.Text(it.Label()), []string{"values are stored as manual facts by " + by}, fields,
		func(vals []string) (tea.Cmd, error) {
			kv := map[string]string{}
			for i, f := range nameplateFields {
				if strings.TrimSpace(vals[i]) != "" {
					kv[f.field] = vals[i]
				}
			}
			if len(kv) == 0 {
				return nil, fmt.Errorf("type at least one value (esc cancels)")
			}
			return func() tea.Msg {
				if err := book.Nameplate(id, kv, by, "nameplate", now()); err != nil {
					return doneMsg{err: err}
				}
				return doneMsg{keys: []string{string(id)}, text: "nameplate stored"}
			}, nil
		})
	m.list.SetHeight(m.bodyHeight() - 1)
	return nil
}

// openAdd opens the form for a device the network cannot see, placed at
// the selected location, inside the selected asset when there is one.
func (m *Model) openAdd(it *walkdown.Item) tea.Cmd {
	book, by, now := m.cfg.Book, m.user(), m.cfg.Now
	parent := ""
	if it != nil && it.Asset != nil {
		parent = string(it.Asset.ID)
	}
	loc := ""
	if m.tcur < len(m.nodes) && m.nodes[m.tcur].path != Unplaced {
		loc = m.nodes[m.tcur].path
	}
	fields := []form.Field{{Label: "Name", Hint: "DI 16 module +A2 slot 4"}, {Label: "Parent", Value: parent, Hint: "asset id (empty: none)"},
		{Label: "Slot", Hint: "4"}, {Label: "Location", Value: loc, Hint: "Plant/Hall 1/Cabinet +A2"}}
	for _, f := range nameplateFields[:6] {
		fields = append(fields, form.Field{Label: f.label, Hint: f.hint})
	}
	m.form.Open("Add a device the network cannot see", nil, fields, func(vals []string) (tea.Cmd, error) {
		if strings.TrimSpace(vals[0]) == "" {
			return nil, fmt.Errorf("the device needs a name")
		}
		if strings.TrimSpace(vals[2]) != "" && strings.TrimSpace(vals[1]) == "" {
			return nil, fmt.Errorf("a slot needs a parent")
		}
		kv := map[string]string{}
		for i, f := range nameplateFields[:6] {
			kv[f.field] = vals[4+i]
		}
		return func() tea.Msg {
			id, err := book.AddManual(vals[0], model.AssetID(strings.TrimSpace(vals[1])), vals[2], model.ParseLocation(vals[3]), kv, by, "walkdown", now())
			if err != nil {
				return doneMsg{err: err}
			}
			return doneMsg{keys: []string{string(id)}, text: "added " + string(id), moved: true}
		}, nil
	})
	m.list.SetHeight(m.bodyHeight() - 1)
	return nil
}

// openPlace opens the form that places the item's asset at a location.
func (m *Model) openPlace(it *walkdown.Item) tea.Cmd {
	if it == nil || it.Asset == nil {
		return nil
	}
	id, book, by, now := it.Asset.ID, m.cfg.Book, m.user(), m.cfg.Now
	m.form.Open("Place "+safe.Text(it.Label()), []string{"levels separated by /"},
		[]form.Field{{Label: "Location", Value: it.Location.String(), Hint: "Plant/Hall 1/Cabinet +A2"}},
		func(vals []string) (tea.Cmd, error) {
			loc := model.ParseLocation(vals[0])
			if len(loc) == 0 {
				return nil, fmt.Errorf("give a location like Plant/Hall 1/Cabinet +A2")
			}
			return func() tea.Msg {
				if err := book.Locate([]model.AssetID{id}, loc, by, "walkdown", now()); err != nil {
					return doneMsg{err: err}
				}
				return doneMsg{keys: []string{string(id)}, text: "placed at " + loc.String(), moved: true}
			}, nil
		})
	m.list.SetHeight(m.bodyHeight() - 1)
	return nil
}

// short names of the verdicts in the checklist.
var short = map[model.VerdictValue]string{
	model.VerdictMatch: "✓ match", model.VerdictCompatible: "≈ compat", model.VerdictMismatch: "✗ mismatch",
	model.VerdictUnseen: "? unseen", model.VerdictMissing: "– missing", model.VerdictNew: "+ new",
	model.VerdictUnverified: "· unverif",
}
