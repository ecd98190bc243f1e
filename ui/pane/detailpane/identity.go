package detailpane

import (
	"slices"
	"strconv"
	"strings"

	"otscope/model"
	"otscope/ui/format"
	"otscope/ui/pane/grid"
)

// identityRow is one line of the IDENTITY block: the value the asset
// holds for a field and the fact field it was taken from.
type identityRow struct {
	label, field, value string
	// list marks multi-valued ids (Modbus unit ids, DNP3 addresses): the
	// value is every fact value joined, not one fact's.
	list bool
	// history marks fields whose values follow each other in time
	// (operating mode): other values are listed as "also seen", not as a
	// conflict.
	history bool
}

// identityLabelWidth fits "Order number" and "BACnet vendor".
const identityLabelWidth = 13

// identityRows lists the identity fields of a that have a value, in the
// order an engineer reads them: what it is, what it runs, how protocols
// name it.
func identityRows(a *model.Asset) []identityRow {
	rows := []identityRow{
		{label: "Vendor", field: model.FieldVendor, value: a.Vendor},
		{label: "Product", field: model.FieldProduct, value: a.Product},
		{label: "Order number", field: model.FieldOrderNumber, value: a.OrderNumber},
		{label: "Firmware", field: model.FieldFirmware, value: a.Firmware},
		{label: "Hardware", field: model.FieldHardwareVersion, value: a.HardwareVersion},
		{label: "Serial", field: model.FieldSerial, value: a.Serial},
		{label: "Device type", field: model.FieldDeviceType, value: a.DeviceType},
		{label: "Mode", field: model.FieldOperatingMode, value: a.OperatingMode, history: true},
		// Not an identity field of the asset, but what a workstation or
		// HMI runs is the first question about it.
		{label: "OS", field: model.FieldOS, value: bestValue(a, model.FieldOS)},
	}
	if ids := a.ProtocolIDs; ids != nil {
		list := func(vs []string) string { return strings.Join(vs, ", ") }
		rows = append(rows,
			identityRow{label: "Station name", field: model.FieldStationName, value: ids.ProfinetStationName},
			identityRow{label: "PN vendor id", field: model.FieldPNVendorID, value: ids.ProfinetVendorID},
			identityRow{label: "PN device id", field: model.FieldPNDeviceID, value: ids.ProfinetDeviceID},
			identityRow{label: "CIP vendor id", field: model.FieldCIPVendorID, value: ids.CIPVendorID},
			identityRow{label: "CIP product", field: model.FieldCIPProductCode, value: ids.CIPProductCode},
			identityRow{label: "BACnet device", field: model.FieldBACnetInstance, value: ids.BACnetInstance},
			identityRow{label: "BACnet vendor", field: model.FieldBACnetVendorID, value: ids.BACnetVendorID},
			identityRow{label: "Modbus units", field: model.FieldModbusUnitID, value: list(ids.ModbusUnitIDs), list: true},
			identityRow{label: "DNP3 address", field: model.FieldDNP3Address, value: list(ids.DNP3Addresses), list: true},
			identityRow{label: "IEC 104 CA", field: model.FieldIEC104CommonAddr, value: list(ids.IEC104CommonAddresses), list: true},
			identityRow{label: "AMS Net ID", field: model.FieldAMSNetID, value: ids.AMSNetID},
			identityRow{label: "OPC UA URI", field: model.FieldOPCUAAppURI, value: ids.OPCUAApplicationURI},
			identityRow{label: "SNMP sysOID", field: model.FieldSNMPSysObjectID, value: ids.SNMPSysObjectID},
		)
	}
	return slices.DeleteFunc(rows, func(r identityRow) bool { return r.value == "" })
}

// sourceOf returns the fact that gave value to field: the device's own
// word before a derivation, then the most often seen, then the latest.
// nil when no fact holds the value (fixtures, stored sessions).
func sourceOf(a *model.Asset, field, value string) *model.Fact {
	var best *model.Fact
	for i := range a.Facts {
		f := &a.Facts[i]
		if f.Field != field || f.Value != value {
			continue
		}
		if best == nil || better(f, best) {
			best = f
		}
	}
	return best
}

// bestValue is the value of field's best fact (see better), "" when none.
func bestValue(a *model.Asset, field string) string {
	var best *model.Fact
	for i := range a.Facts {
		if f := &a.Facts[i]; f.Field == field && (best == nil || better(f, best)) {
			best = f
		}
	}
	if best == nil {
		return ""
	}
	return best.Value
}

func better(f, than *model.Fact) bool {
	fd, td := f.Source.Kind == model.Derived, than.Source.Kind == model.Derived
	if fd != td {
		return !fd
	}
	if f.Count != than.Count {
		return f.Count > than.Count
	}
	return f.LastSeen.After(than.LastSeen)
}

// identityLine is one rendered line of the IDENTITY block before layout.
type identityLine struct {
	label string // "" on continuation lines
	mark  string // "⚠ 2 values" or "also seen", in the label column
	warn  bool
	value string
	prov  string
}

// identity writes the IDENTITY block: every identity field that has a
// value, with the provenance of the fact that gave it; a field whose facts
// disagree is marked "⚠ N values" and lists the other values under it.
func (b *builder) identity(a *model.Asset) {
	st := b.st.Styles
	now, _ := b.st.Ref()
	rows := identityRows(a)
	conflicts := a.Conflicts()
	var lines []identityLine
	nconf := 0
	for _, r := range rows {
		prov := ""
		if r.list {
			vs := a.FactValues(r.field)
			if len(vs) > 0 {
				if f := sourceOf(a, r.field, vs[0]); f != nil {
					prov = provenance(*f, now)
				}
			}
		} else if f := sourceOf(a, r.field, r.value); f != nil {
			prov = provenance(*f, now)
		}
		lines = append(lines, identityLine{label: r.label, value: r.value, prov: prov})
		if r.list {
			continue
		}
		others := slices.DeleteFunc(a.FactValues(r.field), func(v string) bool { return v == r.value })
		if len(others) == 0 {
			continue
		}
		mark, warn := "also seen", false
		if !r.history && slices.Contains(conflicts, r.field) {
			mark, warn = "⚠ "+strconv.Itoa(len(others)+1)+" values", true
			nconf++
		} else if !r.history {
			continue
		}
		for i, v := range others {
			l := identityLine{value: v}
			if i == 0 {
				l.mark, l.warn = mark, warn
			}
			if f := sourceOf(a, r.field, v); f != nil {
				l.prov = provenance(*f, now)
			}
			lines = append(lines, l)
		}
	}
	title := "IDENTITY"
	if nconf > 0 {
		title += "  ⚠ " + strconv.Itoa(nconf) + " conflicting"
	}
	b.section(title)
	if len(lines) == 0 {
		b.muted(" nothing yet: the device has not said what it is")
		return
	}
	lw := identityLabelWidth
	if b.width < 50 {
		lw = 9
	}
	indent := 1 + lw + 1
	pw := 0
	for _, l := range lines {
		pw = max(pw, format.Width(l.prov))
	}
	room := min(24, b.width-indent-2-pw)
	vw := 8
	for _, l := range lines {
		if w := format.Width(l.value); w <= room {
			vw = max(vw, w)
		}
	}
	for _, l := range lines {
		lead := strings.Repeat(" ", indent)
		switch {
		case l.label != "":
			lead = " " + st.Label.Render(format.Fit(l.label, lw)) + " "
		case l.warn:
			lead = " " + st.Warn.Render(format.Fit(l.mark, lw)) + " "
		case l.mark != "":
			lead = " " + st.Muted.Render(format.Fit(l.mark, lw)) + " "
		}
		if l.prov == "" {
			for i, part := range format.Wrap(l.value, max(8, b.width-indent)) {
				if i == 0 {
					b.add(lead + part)
				} else {
					b.add(strings.Repeat(" ", indent) + part)
				}
			}
			continue
		}
		b.value(lead, indent, vw, l.value, l.prov)
	}
}

// roles writes the ROLES block: each role with the reasons the role facts
// give for it.
func (b *builder) roles(a *model.Asset) {
	if len(a.Roles) == 0 {
		return
	}
	st := b.st.Styles
	b.section("ROLES")
	rw := 0
	for _, r := range a.Roles {
		rw = max(rw, format.Width(r))
	}
	rw = min(rw, 24)
	if b.width < 50 {
		rw = min(rw, 12)
	}
	indent := 1 + rw + 2
	for _, r := range a.Roles {
		var why []string
		for _, f := range a.Facts {
			if f.Field == model.FieldRole && f.Value == r && f.Detail != "" && !slices.Contains(why, f.Detail) {
				why = append(why, f.Detail)
			}
		}
		lead := " " + format.Fit(r, rw) + "  "
		if len(why) == 0 {
			b.add(" " + r)
			continue
		}
		if format.Width(r) > rw {
			b.add(" " + r)
			lead = strings.Repeat(" ", indent)
		}
		for _, w := range why {
			for i, part := range format.Wrap(w, max(8, b.width-indent)) {
				if i == 0 {
					b.add(lead + st.Muted.Render(part))
				} else {
					b.add(strings.Repeat(" ", indent) + st.Muted.Render(part))
				}
			}
			lead = strings.Repeat(" ", indent)
		}
	}
}

var moduleCols = []grid.Column{
	{Title: "R/S", Width: 5},
	{Title: "PRODUCT", Width: 10, Max: 24, Flex: 2},
	{Title: "ORDER NUMBER", Width: 12, Max: 20, Flex: 2},
	{Title: "FIRMWARE", Width: 8, Max: 10},
	{Title: "SERIAL", Width: 8, Max: 18, Flex: 1},
}

// modules writes the MODULES block: the rack of a modular device, one
// module per line.
func (b *builder) modules(a *model.Asset) {
	if len(a.Modules) == 0 {
		return
	}
	b.section("MODULES (" + strconv.Itoa(len(a.Modules)) + ")")
	cols := moduleCols
	pick := func(cells []string) []string { return cells }
	if b.width < 60 {
		cols = []grid.Column{moduleCols[0], moduleCols[1], moduleCols[3]}
		pick = func(c []string) []string { return []string{c[0], c[1], c[3]} }
	}
	ws := b.header(cols)
	for _, m := range a.Modules {
		rs := strconv.Itoa(m.Rack) + "/" + strconv.Itoa(m.Slot)
		b.add(" " + grid.Join(cols, ws, pick([]string{rs, m.Product, m.OrderNumber, m.Firmware, m.Serial})))
	}
}
