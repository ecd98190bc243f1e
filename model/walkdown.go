package model

import (
	"strings"
	"time"
)

// Location is a place in the plant as a path of names, outermost first:
// site, building, room, cabinet, rack, slot, or whatever levels the plant
// uses ("Plant/Hall 1/Cabinet +A2"). The zero Location is "not placed".
type Location []string

// ParseLocation reads a path written with "/" or "›" between the levels.
// Empty levels and surrounding spaces are dropped.
func ParseLocation(s string) Location {
	s = strings.ReplaceAll(s, "›", "/")
	var out Location
	for _, p := range strings.Split(s, "/") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// String writes the path with "/" between the levels.
func (l Location) String() string { return strings.Join(l, "/") }

// Site is the outermost level ("" when not placed).
func (l Location) Site() string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// Within reports whether l is p or lies inside it (case-insensitively).
func (l Location) Within(p Location) bool {
	if len(p) > len(l) {
		return false
	}
	for i := range p {
		if !strings.EqualFold(l[i], p[i]) {
			return false
		}
	}
	return true
}

// Equal reports whether two paths name the same place (case-insensitively).
func (l Location) Equal(p Location) bool { return len(l) == len(p) && l.Within(p) }

// DocumentedDevice is one row of the plant's own device list ("as
// documented"), with the place in the file it came from.
type DocumentedDevice struct {
	Tag             string `json:"tag"`
	Location        string `json:"location,omitempty"`
	Vendor          string `json:"vendor,omitempty"`
	Product         string `json:"product,omitempty"`
	OrderNumber     string `json:"order_number,omitempty"`
	Serial          string `json:"serial,omitempty"`
	Firmware        string `json:"firmware,omitempty"`
	HardwareVersion string `json:"hardware_version,omitempty"`
	IP              string `json:"ip,omitempty"`
	MAC             string `json:"mac,omitempty"`
	Description     string `json:"description,omitempty"`
	// Source is where the row was read: "file.csv:12" or "file.xlsx:Sheet1!12".
	Source string `json:"source"`
}

// DocumentedFields lists the field names of a documented row, in the order
// checklists show them.
var DocumentedFields = []string{
	"tag", "location", "vendor", "product", "order_number", "serial", "firmware",
	"hardware_version", "ip", "mac", "description",
}

// Field returns the value of a documented field by name ("" when unknown).
func (d *DocumentedDevice) Field(name string) string {
	if p := d.fieldPtr(name); p != nil {
		return *p
	}
	return ""
}

// SetField sets a documented field by name; it reports false for an
// unknown name.
func (d *DocumentedDevice) SetField(name, value string) bool {
	p := d.fieldPtr(name)
	if p == nil {
		return false
	}
	*p = value
	return true
}

func (d *DocumentedDevice) fieldPtr(name string) *string {
	switch name {
	case "tag":
		return &d.Tag
	case "location":
		return &d.Location
	case "vendor":
		return &d.Vendor
	case "product":
		return &d.Product
	case FieldOrderNumber:
		return &d.OrderNumber
	case FieldSerial:
		return &d.Serial
	case FieldFirmware:
		return &d.Firmware
	case FieldHardwareVersion:
		return &d.HardwareVersion
	case "ip":
		return &d.IP
	case "mac":
		return &d.MAC
	case "description":
		return &d.Description
	}
	return nil
}

// VerdictValue is the outcome of comparing an asset with the documented
// inventory, after OPC 10000-81 asset verification (identity versus
// compatibility).
type VerdictValue string

// The verdicts.
const (
	// VerdictMatch: vendor and order number agree, and serial and firmware
	// where both sides have them.
	VerdictMatch VerdictValue = "match"
	// VerdictCompatible: same vendor and order number, another serial or
	// firmware (a like-for-like replacement).
	VerdictCompatible VerdictValue = "compatible"
	// VerdictMismatch: vendor or order number differ.
	VerdictMismatch VerdictValue = "mismatch"
	// VerdictUnseen: documented, never seen on the network, not walked yet.
	VerdictUnseen VerdictValue = "unseen"
	// VerdictMissing: a person on the floor says it is not there.
	VerdictMissing VerdictValue = "missing"
	// VerdictNew: on the network or found on the floor, not documented.
	VerdictNew VerdictValue = "new"
	// VerdictUnverified: nothing to compare yet.
	VerdictUnverified VerdictValue = "unverified"
)

// Verdicts lists every verdict value.
var Verdicts = []VerdictValue{VerdictMatch, VerdictCompatible, VerdictMismatch, VerdictUnseen, VerdictMissing, VerdictNew, VerdictUnverified}

// ParseVerdict returns the verdict named s (case-insensitively).
func ParseVerdict(s string) (VerdictValue, bool) {
	for _, v := range Verdicts {
		if strings.EqualFold(string(v), strings.TrimSpace(s)) {
			return v, true
		}
	}
	return "", false
}

// The bases of a verdict: what the observed side was.
const (
	BasisNetwork  = "network"  // what the device said on the network
	BasisWalkdown = "walkdown" // what a person saw on the floor
)

// Comparison is one field compared for a verdict, with both values.
type Comparison struct {
	Field      string `json:"field"`
	Documented string `json:"documented"`
	Observed   string `json:"observed"`
	// Source is where the observed value came from ("manual", a protocol).
	Source string `json:"source,omitempty"`
	Agree  bool   `json:"agree"`
}

// Verdict is an asset's or a documented row's verdict: its value, what it
// rests on (BasisNetwork or BasisWalkdown), the fields compared, who
// decided (System for a computed verdict, else a person) and when.
type Verdict struct {
	Value    VerdictValue `json:"value"`
	Basis    string       `json:"basis"`
	Compared []Comparison `json:"compared,omitempty"`
	By       string       `json:"by"`
	At       time.Time    `json:"at,omitzero"`
	Why      string       `json:"why,omitempty"`
}

// ManualFact returns a fact a person typed in (a nameplate value, a
// location): Source.Kind Manual, Source.Origin the person, Source.Protocol
// how it was entered ("nameplate", "walkdown", "cli").
func ManualFact(field, value, by, how string, at time.Time) Fact {
	return Fact{Field: field, Value: value, Source: Source{Kind: Manual, Protocol: how, Origin: by, Time: at}, LastSeen: at, Count: 1}
}

// SameValue compares two statements of an identity field as conflicts do:
// case-insensitively, and versions also at a coarser precision ("V2.9"
// and "V2.9.4").
func SameValue(field, x, y string) bool { return sameValue(field, x, y) }

// Walkdown is what the walkdown adds to an asset in exports: where it is,
// its verdict and the documented row it was matched with.
type Walkdown struct {
	Location   string            `json:"location,omitempty"`
	Verdict    *Verdict          `json:"verdict,omitempty"`
	Documented *DocumentedDevice `json:"documented,omitempty"`
}

// Field names of facts a walkdown adds.
const (
	FieldTag      = "tag"      // the plant's tag of the device ("+A2-K1")
	FieldLocation = "location" // a Location path
	FieldNotes    = "notes"    // free text from the nameplate form
	FieldParent   = "parent"   // asset ID of the device a manual asset sits in
	FieldSlot     = "slot"     // slot in the parent
)

// Facts a walkdown evaluation adds to the assets an audit sees (see
// assets/walkdown.Evaluation.AuditAssets): the verdict, and one fact per
// field where the nameplate and the network disagree.
const (
	FieldWalkdownVerdict           = "walkdown.verdict"
	FieldWalkdownNameplateMismatch = "walkdown.nameplate_mismatch"
)
