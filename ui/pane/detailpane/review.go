package detailpane

import (
	"strconv"
	"strings"

	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/assets/review"
	"otscope/model"
	"otscope/ui/format"
)

// maxEvidence caps the evidence lines per violation; the Violations pane
// shows them all.
const maxEvidence = 3

// statusItems are the header lines about the asset's inventory state,
// lifecycle and violations, from the latest analysis.
func (b *builder) statusItems(a *model.Asset, an *review.Analysis) []item {
	if an == nil {
		return []item{{"Status", "analysing…"}}
	}
	var items []item
	if s := an.State(a.ID); s != lifecycle.Untracked {
		items = append(items, item{"State", s.String()})
	}
	if res := an.Lifecycle[a.ID]; res != nil {
		v := res.PhaseAt(an.Now).String()
		if res.VendorTerm != "" {
			v += " · " + res.VendorTerm
		}
		items = append(items, item{"Lifecycle", v})
	}
	open, waived := 0, 0
	for _, v := range an.Violations(a.ID) {
		if v.Waived != nil {
			waived++
		} else {
			open++
		}
	}
	if open+waived > 0 {
		v := strconv.Itoa(open) + " violation"
		if open != 1 {
			v += "s"
		}
		if waived > 0 {
			v += " (+" + strconv.Itoa(waived) + " waived)"
		}
		items = append(items, item{"Policy", v})
	}
	return items
}

// review writes the LIFECYCLE, VIOLATIONS and ADVISORIES sections, each
// only when it has something to say (INVENTORY STATE, at the end, says
// what had nothing).
func (b *builder) review(a *model.Asset, an *review.Analysis) {
	if an == nil {
		return
	}
	b.lifecycle(a, an)
	b.violations(a, an)
	b.advisories(a, an)
}

func (b *builder) lifecycle(a *model.Asset, an *review.Analysis) {
	st := b.st.Styles
	res := an.Lifecycle[a.ID]
	mods := an.Modules[a.ID]
	if res == nil && len(mods) == 0 {
		return
	}
	if res != nil {
		phase := res.PhaseAt(an.Now)
		title := "LIFECYCLE  " + phase.String()
		b.section(title)
		if phase >= lifecycle.EndOfLife {
			b.lines[len(b.lines)-1] = " " + st.Warn.Render(format.Truncate(title, b.width-1))
		}
		b.items([]item{
			{"Product", res.Vendor + " " + res.Family},
			{"Term", res.VendorTerm},
			{"Announced", res.Announced.String()},
			{"End sale", res.EndOfSale.String()},
			{"Support", supportText(res, an)},
			{"Successor", res.Successor},
			{"Matched", res.Rule},
			{"Source", res.Source},
			{"As of", res.AsOf.String() + catalogText(res)},
		})
	}
	for _, mr := range mods {
		if res != nil && mr.ID == res.ID {
			continue // the same verdict as the asset's
		}
		if res == nil {
			b.section("LIFECYCLE (modules)")
			res = &mr.Result
		}
		m := mr.Module
		line := strconv.Itoa(m.Rack) + "/" + strconv.Itoa(m.Slot) + " " + firstOf(m.Product, m.OrderNumber) + ": " +
			mr.PhaseAt(an.Now).String() + " · " + mr.Family
		if !mr.EndOfSupport.IsZero() {
			line += " · support " + mr.EndOfSupport.String()
		}
		for _, part := range format.Wrap(line, max(8, b.width-2)) {
			b.add(" " + part)
		}
	}
}

func supportText(res *lifecycle.Result, an *review.Analysis) string {
	s := res.EndOfSupport.String()
	if s != "" && res.EndOfSupport.Passed(an.Now) {
		s += " (passed)"
	}
	return s
}

func catalogText(res *lifecycle.Result) string {
	if res.Catalog == "" || res.Catalog == "default" {
		return ""
	}
	return " · " + res.Catalog
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (b *builder) violations(a *model.Asset, an *review.Analysis) {
	st := b.st.Styles
	vs := an.Violations(a.ID)
	waived := 0
	for _, v := range vs {
		if v.Waived != nil {
			waived++
		}
	}
	if len(vs) == 0 {
		return
	}
	title := "VIOLATIONS (" + strconv.Itoa(len(vs)-waived)
	if waived > 0 {
		title += ", " + strconv.Itoa(waived) + " waived"
	}
	b.section(title + ")  evidence in Violations (6)")
	for _, v := range vs {
		head := strings.ToUpper(v.Severity.String()) + "  " + v.RuleID + "  " + v.Title
		if v.ServerID != "" && v.ServerID != a.ID {
			head += " → " + b.st.State.Label(v.ServerID)
		} else if v.ServerID != "" {
			head += " ← " + b.st.State.Label(v.ClientID)
		}
		switch {
		case v.Waived != nil:
			b.add(" " + st.Muted.Render(format.Truncate("~ "+head, b.width-1)))
			b.muted("     waived by " + v.Waived.By + ": " + v.Waived.Reason)
			continue
		case v.Severity >= policy.High:
			b.add(" " + st.Warn.Render(format.Truncate(head, b.width-1)))
		default:
			b.add(" " + format.Truncate(head, b.width-1))
		}
		for i, e := range v.Evidence {
			if i == maxEvidence {
				b.muted("     … " + strconv.Itoa(len(v.Evidence)-maxEvidence) + " more")
				break
			}
			b.add("     " + st.Muted.Render(format.Truncate(e, b.width-5)))
		}
	}
}

func (b *builder) advisories(a *model.Asset, an *review.Analysis) {
	st := b.st.Styles
	ms := an.Advisories[a.ID]
	if len(ms) == 0 {
		return
	}
	b.section("ADVISORIES (" + strconv.Itoa(len(ms)) + ")")
	for _, m := range ms {
		head := m.AdvisoryID + "  CVSS " + strconv.FormatFloat(m.MaxCVSS, 'f', 1, 64)
		if m.KEV {
			head += "  KEV"
		}
		line := head + "  " + m.Title
		if m.KEV || m.MaxCVSS >= 9 {
			b.add(" " + st.Warn.Render(format.Truncate(line, b.width-1)))
		} else {
			b.add(" " + format.Truncate(line, b.width-1))
		}
		sub := func(label, text string) {
			if strings.TrimSpace(text) == "" {
				return
			}
			for i, part := range format.Wrap(label+" "+text, max(8, b.width-5)) {
				if i == 0 {
					b.add("     " + st.Label.Render(label) + strings.TrimPrefix(part, label))
				} else {
					b.add("       " + part)
				}
			}
		}
		if m.Module != "" {
			sub("module", m.Module)
		}
		sub("CVEs", strings.Join(m.CVEs, ", "))
		if m.KEV {
			sub("KEV", strings.Join(m.KEVCVEs, ", ")+" "+m.RequiredAction)
		}
		sub("fix", strings.Join(strings.Fields(m.Remediation), " "))
		sub("why", m.Reason+" ("+m.Confidence.String()+")")
	}
}

// inventoryState writes the state history, newest first, after what the
// analysis found nothing about.
func (b *builder) inventoryState(a *model.Asset, an *review.Analysis) {
	if an == nil {
		return
	}
	st := b.st.Styles
	h := an.States[a.ID]
	var none []string
	switch {
	case !an.CatalogLoaded:
		none = append(none, "no lifecycle catalog loaded")
	case an.Lifecycle[a.ID] == nil && len(an.Modules[a.ID]) == 0:
		none = append(none, "no lifecycle entry matches")
	}
	if len(an.ByAsset[a.ID]) == 0 {
		none = append(none, "no violations")
	}
	switch {
	case !an.AdvisoriesLoaded:
		none = append(none, "no advisories loaded (--csaf DIR)")
	case len(an.Advisories[a.ID]) == 0:
		none = append(none, "no advisory names it")
	}
	if len(none) > 0 {
		// what the review found nothing about is its own section, not
		// part of the inventory state
		b.section("REVIEW")
		for _, part := range format.Wrap(strings.Join(none, " · "), max(8, b.width-2)) {
			b.muted(" " + part)
		}
	}
	b.section("INVENTORY STATE  " + h.Current().String() + "  (v verify · D decommission)")
	if len(h) == 0 {
		b.muted(" no history yet")
		return
	}
	now, _ := b.st.Ref()
	for i := len(h) - 1; i >= 0; i-- {
		t := h[i]
		head := format.Fit(format.Clock(now, t.At), 12) + " " + t.From.String() + " → " + t.To.String() + "  " + t.By
		b.add(" " + format.Truncate(head, b.width-1))
		if t.Why != "" {
			for _, part := range format.Wrap(t.Why, max(8, b.width-15)) {
				b.add(strings.Repeat(" ", 14) + st.Muted.Render(part))
			}
		}
	}
}
