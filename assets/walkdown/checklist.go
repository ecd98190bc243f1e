package walkdown

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"time"

	"otscope/model"
	"otscope/model/safe"
)

// At returns the items at loc or inside it, sorted by location and label.
func (e *Evaluation) At(loc model.Location) []*Item {
	var out []*Item
	for i := range e.Items {
		it := &e.Items[i]
		if it.Location.Within(loc) {
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, func(x, y *Item) int {
		if c := strings.Compare(x.Location.String(), y.Location.String()); c != 0 {
			return c
		}
		return strings.Compare(x.Label(), y.Label())
	})
	return out
}

// checklistColumns are the columns of a printed checklist.
var checklistColumns = []string{"tag", "location", "vendor", "product", "order_number", "serial", "firmware", "ip", "mac", "verdict"}

func checkValues(it *Item) []string {
	var d model.DocumentedDevice
	if it.Doc != nil {
		d = *it.Doc
	} else if a := it.Asset; a != nil {
		d = model.DocumentedDevice{Tag: a.Label(), Vendor: a.Vendor, Product: a.Product, OrderNumber: a.OrderNumber,
			Serial: a.Serial, Firmware: a.Firmware}
		if len(a.IPs) > 0 {
			d.IP = a.IPs[0].String()
		}
		if len(a.MACs) > 0 {
			d.MAC = a.MACs[0].String()
		}
	}
	d.Location = it.Location.String()
	out := make([]string, 0, len(checklistColumns))
	for _, c := range checklistColumns[:len(checklistColumns)-1] {
		out = append(out, d.Field(c))
	}
	return append(out, string(it.Verdict.Value))
}

// WriteChecklistCSV writes the checklist of loc: one row per device
// expected or found there, its documented identity, the current verdict,
// and empty columns to tick (present, nameplate serial, nameplate
// firmware, notes). Every cell goes through safe.CSV.
func WriteChecklistCSV(w io.Writer, e *Evaluation, loc model.Location) error {
	cw := csv.NewWriter(w)
	head := append(slices.Clone(checklistColumns), "present", "serial_seen", "firmware_seen", "notes")
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, it := range e.At(loc) {
		vals := checkValues(it)
		row := make([]string, 0, len(head))
		for _, v := range vals {
			row = append(row, safe.CSV(v))
		}
		row = append(row, "", "", "", "")
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteChecklistHTML writes the checklist of loc as one self-contained
// HTML page (no scripts, no external files) for printing: devices grouped
// by location with their documented identity and empty boxes to tick.
func WriteChecklistHTML(w io.Writer, e *Evaluation, loc model.Location, session string, now time.Time) error {
	title := "Walkdown checklist: " + loc.String()
	if len(loc) == 0 {
		title = "Walkdown checklist: whole plant"
	}
	esc := func(s string) string { return html.EscapeString(safe.Text(s)) }
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + esc(title) + "</title>\n<style>" +
		"body{font:10pt sans-serif;margin:1cm}table{border-collapse:collapse;width:100%;margin-bottom:1em}" +
		"th,td{border:1px solid #444;padding:2px 4px;text-align:left;vertical-align:top}th{background:#ddd}" +
		"td.box{width:1.2em}td.wide{width:8em}h2{font-size:11pt;margin:1em 0 .3em}" +
		"@media print{h2{page-break-after:avoid}tr{page-break-inside:avoid}}</style></head><body>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p>Session %s · printed %s · ☐ present ☐ absent: tick one; write what the nameplate says where it differs.</p>\n",
		esc(title), esc(session), now.Format("2006-01-02 15:04"))
	items := e.At(loc)
	cur := "\x00"
	for _, it := range items {
		if l := it.Location.String(); l != cur {
			if cur != "\x00" {
				b.WriteString("</table>\n")
			}
			cur = l
			name := l
			if name == "" {
				name = "(not placed)"
			}
			fmt.Fprintf(&b, "<h2>%s</h2>\n<table><tr>", esc(name))
			for _, c := range checklistColumns {
				if c != "location" {
					fmt.Fprintf(&b, "<th>%s</th>", esc(strings.ReplaceAll(c, "_", " ")))
				}
			}
			b.WriteString("<th>present</th><th>absent</th><th>serial seen</th><th>firmware seen</th><th>notes</th></tr>\n")
		}
		b.WriteString("<tr>")
		for i, v := range checkValues(it) {
			if checklistColumns[i] != "location" {
				fmt.Fprintf(&b, "<td>%s</td>", esc(v))
			}
		}
		b.WriteString("<td class=box>☐</td><td class=box>☐</td><td class=wide></td><td class=wide></td><td class=wide></td></tr>\n")
	}
	if cur != "\x00" {
		b.WriteString("</table>\n")
	} else {
		b.WriteString("<p>No device is expected or found here.</p>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
