// Package export writes a session's assets for offline use: JSON (the
// documented schema, an array of model.Asset), CSV (one row per asset, lists
// joined with ";") and an aligned text table. Writers stream to an io.Writer
// and are safe to call from any goroutine on data they own.
package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"otscope/model"
	"otscope/model/safe"
)

// ErrFormat is returned for an unknown format name.
var ErrFormat = errors.New("unknown format (use json, csv or table)")

// Formats lists the supported format names.
var Formats = []string{"json", "csv", "table"}

// Assets writes assets in the named format.
func Assets(w io.Writer, format string, assets []model.Asset) error {
	switch format {
	case "json":
		return JSON(w, assets)
	case "csv":
		return CSV(w, assets)
	case "table":
		return Table(w, assets)
	}
	return fmt.Errorf("%q: %w", format, ErrFormat)
}

// JSON writes the assets as one indented JSON array. Nil lists are written
// as [] so that consumers never see null where the schema says array.
func JSON(w io.Writer, assets []model.Asset) error {
	out := make([]model.Asset, len(assets))
	for i, a := range assets {
		a = a.Clone()
		fillLists(&a)
		out[i] = a
	}
	return writeJSON(w, out)
}

// fillLists replaces nil lists by empty ones, so that consumers never see
// null where the schema says array.
func fillLists(a *model.Asset) {
	if a.MACs == nil {
		a.MACs = []model.MAC{}
	}
	if a.IPs == nil {
		a.IPs = []netip.Addr{}
	}
	if a.VLANs == nil {
		a.VLANs = []uint16{}
	}
	if a.Names == nil {
		a.Names = []string{}
	}
	if a.Roles == nil {
		a.Roles = []string{}
	}
	if a.Services == nil {
		a.Services = []model.Service{}
	}
	if a.Protocols == nil {
		a.Protocols = []string{}
	}
	if a.Facts == nil {
		a.Facts = []model.Fact{}
	}
	if a.Modules == nil {
		a.Modules = []model.Module{}
	}
}

// CSVHeader is the header row of the CSV export: addresses and traffic,
// then every identity column, then the inventory state, lifecycle phase,
// location and audit verdict.
var CSVHeader = []string{
	"id", "macs", "ips", "vlans", "vendor", "names", "roles", "services", "protocols",
	"first_seen", "last_seen", "packets", "bytes", "gateway",
	"product", "order_number", "firmware", "hardware_version", "serial", "device_type",
	"state", "lifecycle_phase", "location", "verdict",
}

// CSV writes one row per asset (see ReportCSV) without the columns that
// need an analysis (state, lifecycle phase and verdict are empty).
func CSV(w io.Writer, assets []model.Asset) error {
	recs := make([]Record, len(assets))
	for i := range assets {
		recs[i].Asset = assets[i]
	}
	return ReportCSV(w, &Report{Records: recs})
}

// ReportCSV writes one row per asset, sorted by address (numerically by
// IP, then by MAC, then by ID): list cells are joined with ";", each
// service is written once as transport/port/protocol, and every cell passes
// through safe.CSV so that no device-controlled text starts a spreadsheet
// formula.
func ReportCSV(w io.Writer, rep *Report) error {
	cw := newCSV(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	order := make([]int, len(rep.Records))
	for i := range order {
		order[i] = i
	}
	sortByAddress(rep.Records, order)
	row := make([]string, len(CSVHeader))
	for _, i := range order {
		r := &rep.Records[i]
		a := &r.Asset
		row = append(row[:0],
			string(a.ID), join(a.MACs), join(a.IPs), joinInts(a.VLANs), a.Vendor,
			strings.Join(a.Names, ";"), strings.Join(a.Roles, ";"), services(a.Services),
			strings.Join(a.Protocols, ";"), stamp(a.FirstSeen), stamp(a.LastSeen),
			strconv.FormatUint(a.Packets, 10), strconv.FormatUint(a.Bytes, 10), strconv.FormatBool(a.Gateway),
			a.Product, a.OrderNumber, a.Firmware, a.HardwareVersion, a.Serial, a.DeviceType,
			r.State(), r.Phase(rep.Now), Location(a, rep.walkdown(a.ID)), r.Verdict(rep.Audited),
		)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CompareByAddress orders assets by their first IP (numerically, IPv4
// before IPv6), assets without an IP after them by their first MAC, then by
// ID.
func CompareByAddress(a, b *model.Asset) int {
	switch {
	case len(a.IPs) > 0 && len(b.IPs) > 0:
		if c := a.IPs[0].Compare(b.IPs[0]); c != 0 {
			return c
		}
	case len(a.IPs) > 0:
		return -1
	case len(b.IPs) > 0:
		return 1
	}
	switch {
	case len(a.MACs) > 0 && len(b.MACs) > 0:
		if c := bytes.Compare(a.MACs[0][:], b.MACs[0][:]); c != 0 {
			return c
		}
	case len(a.MACs) > 0:
		return -1
	case len(b.MACs) > 0:
		return 1
	}
	return strings.Compare(string(a.ID), string(b.ID))
}

// Table writes an aligned text table (TableWidth with no width limit).
func Table(w io.Writer, assets []model.Asset) error { return TableWidth(w, assets, 0) }

// TableWidth writes an aligned text table of the assets sorted by address
// (CompareByAddress): address, name (a BACnet device behind a router that
// has none goes by its instance), product, order number, firmware and the
// services, each once. With width > 0 no line is wider than width: the
// services, then the name, product, order number and firmware are cut
// with "…" (never the address); with width 0 nothing is cut.
func TableWidth(w io.Writer, assets []model.Asset, width int) error {
	order := make([]*model.Asset, len(assets))
	for i := range assets {
		order[i] = &assets[i]
	}
	slices.SortStableFunc(order, CompareByAddress)
	rows := make([][]string, 0, len(order)+1)
	rows = append(rows, []string{"ADDRESS", "NAME", "PRODUCT", "ORDER NUMBER", "FIRMWARE", "SERVICES"})
	for _, a := range order {
		addr := label(a)
		if len(a.IPs) > 1 {
			addr += fmt.Sprintf(" +%d", len(a.IPs)-1)
		}
		rows = append(rows, []string{addr, dash(assetName(a)), dash(a.Product), dash(a.OrderNumber), dash(a.Firmware),
			dash(portServices(a.Services))})
	}
	const pad = 2
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(safe.Text(c)))
		}
	}
	if width > 0 {
		// shrink in this order, each down to its floor, until it fits
		floors := map[int]int{5: 8, 1: 11, 2: 13, 3: 12, 4: 8}
		excess := -width
		for _, n := range widths {
			excess += n + pad
		}
		excess -= pad // no padding after the last column
		for _, i := range []int{5, 1, 2, 3, 4} {
			if excess <= 0 {
				break
			}
			cut := min(excess, max(0, widths[i]-floors[i]))
			widths[i] -= cut
			excess -= cut
		}
	}
	tw := newTable(w, pad)
	for _, r := range rows {
		for i := range r {
			if width > 0 {
				r[i] = clip(safe.Text(r[i]), widths[i])
			}
		}
		tw.row(r...)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func join[T fmt.Stringer](lst []T) string {
	parts := make([]string, len(lst))
	for i, v := range lst {
		parts[i] = v.String()
	}
	return strings.Join(parts, ";")
}

func joinInts(lst []uint16) string {
	parts := make([]string, len(lst))
	for i, v := range lst {
		parts[i] = strconv.Itoa(int(v))
	}
	return strings.Join(parts, ";")
}

// services writes each service once as transport/port/protocol (a service
// offered on two of the asset's addresses is one entry).
func services(lst []model.Service) string {
	parts := make([]string, 0, len(lst))
	for _, s := range lst {
		p := s.Transport + "/" + strconv.Itoa(int(s.Port)) + "/" + s.Protocol
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ";")
}

// portServices writes each service once as port/protocol ("102/s7comm
// 4840/opcua"), the table's short form of services.
func portServices(lst []model.Service) string {
	parts := make([]string, 0, len(lst))
	for _, s := range lst {
		p := strconv.Itoa(int(s.Port)) + "/" + s.Protocol
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
