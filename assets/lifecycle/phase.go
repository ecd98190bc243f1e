package lifecycle

import (
	"fmt"
	"strings"
)

// Phase is where a product stands in its vendor's lifecycle, in otscope's
// own coarse scale. The vendor's exact word is kept beside it (Result.VendorTerm).
// Phases are ordered: a higher phase is further towards the end.
type Phase uint8

// The lifecycle phases. See the package documentation for how vendors' terms
// map onto them.
const (
	// Unknown: no catalog entry says.
	Unknown Phase = iota
	// Active: sold and fully supported; the vendor's current offering.
	Active
	// Mature: still sold and supported, but a successor is named or the
	// phase-out is announced (Siemens PM400, Rockwell Active Mature; software
	// in extended, security-only support). Plan the migration.
	Mature
	// EndOfLife: no longer sold as new, or sold only until an announced
	// last-time-buy date; spare parts, repairs or (paid) security updates for
	// a limited time (Siemens PM410, Rockwell End of Life, Schneider end of
	// commercialisation).
	EndOfLife
	// Discontinued: no longer sold and no longer supported by the vendor:
	// no new spare parts, no fixes (Siemens PM490/PM500, Rockwell
	// Discontinued, software past its end of support).
	Discontinued
)

var phaseNames = [...]string{"unknown", "active", "mature", "end-of-life", "discontinued"}

// String returns "unknown", "active", "mature", "end-of-life" or "discontinued".
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase(" + fmt.Sprint(uint8(p)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (p Phase) MarshalText() ([]byte, error) {
	if int(p) >= len(phaseNames) {
		return nil, fmt.Errorf("lifecycle: invalid phase %d", uint8(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what
// ParsePhase accepts.
func (p *Phase) UnmarshalText(b []byte) error {
	v, err := ParsePhase(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// phaseWords are the spellings ParsePhase accepts, after lower-casing and
// turning '_' and ' ' into '-'.
var phaseWords = map[string]Phase{
	"unknown": Unknown, "active": Active,
	"mature": Mature, "phase-out": Mature, "phaseout": Mature, "active-mature": Mature,
	"end-of-life": EndOfLife, "eol": EndOfLife, "endoflife": EndOfLife,
	"discontinued": Discontinued, "obsolete": Discontinued,
}

// ParsePhase reads a phase name: "active", "mature" (or "phase-out",
// "active mature"), "end-of-life" (or "eol", "end of life"), "discontinued"
// (or "obsolete") and "unknown", in any case, with '-', '_' or ' '.
func ParsePhase(s string) (Phase, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer("_", "-", " ", "-").Replace(k)
	if p, ok := phaseWords[k]; ok {
		return p, nil
	}
	return Unknown, fmt.Errorf("unknown phase %q (want active, mature, end-of-life, discontinued or unknown)", s)
}
