package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/google/cel-go/cel"

	"otscope/model"
)

// Severity ranks a rule: Info < Low < Medium < High < Critical.
type Severity uint8

// The severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns "info", "low", "medium", "high" or "critical".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// ParseSeverity parses a severity name (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Scope says what a rule is evaluated over.
type Scope uint8

// The scopes.
const (
	ScopeAsset        Scope = iota // once per asset: variable "asset"
	ScopeConversation              // once per conversation: variable "conv"
)

// String returns "asset" or "conversation".
func (s Scope) String() string {
	if s == ScopeConversation {
		return "conversation"
	}
	return "asset"
}

// Rule is one policy rule: a CEL condition over an asset or a
// conversation, with what to tell the user when it holds.
type Rule struct {
	ID          string
	Title       string
	Severity    Severity
	Rationale   string
	Remediation string
	References  []string
	Scope       Scope
	// When is the CEL condition (a bool expression); Evidence the optional
	// CEL expression that returns a string or a list of strings.
	When     string
	Evidence string
	// File and Line locate the rule in its policy file.
	File string
	Line int

	when     cel.Program
	evidence cel.Program
	// budgeted: an expression can do more than linear work, so its
	// program tracks cost and is evaluated with the audit's deadline
	// (see programOptions).
	whenBudgeted, evidenceBudgeted bool
	// convMask lists the conversation fields When reads (conversation
	// scope), so that the audit evaluates it once per distinct projection.
	convMask convField
	// pre is a necessary condition of When on an asset (asset scope; nil:
	// none found), so that the audit skips assets that cannot match.
	pre []clause
	// readsNow is set when When or Evidence reads "now": an Auditor
	// re-evaluates the rule whenever Input.Now moves.
	readsNow bool
}

// Zone is a set of addresses at one Purdue level. An asset belongs to the
// first zone that lists it by ID, else the zone with the longest subnet
// that holds one of its addresses, else the zone of one of its VLANs, else
// to Unassigned.
type Zone struct {
	Name        string
	Purdue      int // 0-5; -1 for Unassigned
	Subnets     []netip.Prefix
	VLANs       []uint16
	Assets      []model.AssetID
	Description string
	File        string
	Line        int
}

// Unassigned is the name of the zone of addresses no user zone holds.
const Unassigned = "unassigned"

// Conduit allows flows from one zone to another: all flows when Protocols
// and Ports are empty, else the flows whose protocol is in Protocols or
// whose port is in Ports. Bidirectional conduits also allow the reverse.
// From and To may be "*" (any zone).
type Conduit struct {
	From, To      string
	Protocols     []string
	Ports         []uint16
	Bidirectional bool
	Description   string
	File          string
	Line          int
}

// Problem is a policy file defect: the file, line and reason. The rule,
// zone or conduit it concerns was skipped; the rest of the file was used.
type Problem struct {
	File   string
	Line   int
	Rule   string // rule ID, when the problem is in a rule
	Reason string
}

// Error formats the problem as "file:line: rule "id": reason".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Rule != "" {
		fmt.Fprintf(&b, "rule %q skipped: ", p.Rule)
	}
	b.WriteString(p.Reason)
	return b.String()
}

// AdvisoryRef is an advisory matched to an asset (see package advisory):
// its ID, highest CVSS base score and whether a CVE of it is KEV-listed.
type AdvisoryRef struct {
	ID    string
	Title string
	CVSS  float64
	KEV   bool
}

// Input is what an audit looks at. Lifecycle and Advisories may be nil;
// the lead wires them to the lifecycle catalog and the advisory database.
type Input struct {
	Assets        []model.Asset
	Conversations []model.Conversation
	// Lifecycle returns the lifecycle phase ("active", "mature",
	// "end-of-life", "discontinued") and end-of-support date of an asset's
	// product, ok false when unknown.
	Lifecycle  func(*model.Asset) (phase, endOfSupport string, ok bool)
	Advisories func(*model.Asset) []AdvisoryRef
	// Now is the time of the audit (waiver expiry, "new device" age).
	Now time.Time
}

// Waiver acknowledges a violation of RuleID by AssetID ("*" for every
// asset) until Until (zero: no expiry). Waivers are kept in the session.
type Waiver struct {
	RuleID  string        `json:"rule_id"`
	AssetID model.AssetID `json:"asset_id"`
	Reason  string        `json:"reason"`
	By      string        `json:"by"`
	Until   time.Time     `json:"until,omitzero"`
}

// Active reports whether w still applies at now.
func (w Waiver) Active(now time.Time) bool {
	return w.Until.IsZero() || now.Before(w.Until)
}

// Violation is one rule that holds for one asset, or for the conversations
// between one client and one server. Its JSON form is the one the audit
// report's JSON lists (assets/export.Audit).
type Violation struct {
	RuleID   string   `json:"rule"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	// AssetID is the asset (for conversations: the client).
	AssetID model.AssetID `json:"asset"`
	// ClientID and ServerID are set for conversation rules.
	ClientID model.AssetID `json:"client,omitempty"`
	ServerID model.AssetID `json:"server,omitempty"`
	// Evidence lists facts with their provenance ("smb.version=1 (smb ·
	// plant.pcap #812)") or flows ("10.1.1.5 → 10.10.10.12 s7comm/102, 40 pkts").
	Evidence  []string  `json:"evidence"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Waived is the waiver that acknowledges the violation, or nil.
	Waived *Waiver `json:"waived,omitempty"`
}

// SeverityAtLeast returns the violations of severity min or higher, in order.
func SeverityAtLeast(vs []Violation, min Severity) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Severity >= min {
			out = append(out, v)
		}
	}
	return out
}

// Report is the result of an audit. Counts exclude waived violations.
type Report struct {
	// Violations are sorted by severity (highest first), rule and asset.
	Violations []Violation
	BySeverity [Critical + 1]int
	ByRule     map[string]int
	Waived     int
	// Errors are rules that failed to evaluate (a missing map key, a
	// wrong type), once per rule, with the first asset that failed.
	Errors        []Problem
	Assets, Convs int
	Rules         int
	Elapsed       time.Duration
}
