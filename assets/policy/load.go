package policy

import (
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"go.yaml.in/yaml/v3"

	"otscope/model"
)

// MaxFileSize is the largest policy file Load reads.
const MaxFileSize = 4 << 20

//go:embed default.yaml
var defaultYAML []byte

// Pack is a compiled set of rules, zones and conduits. It is immutable once
// built and safe for concurrent audits.
type Pack struct {
	Rules    []*Rule
	Zones    []Zone
	Conduits []Conduit
	// disabled lists rule IDs switched off ("disabled: true"), so that a
	// merged later pack can remove a rule of an earlier one.
	disabled []string
}

// DefaultPack returns the built-in pack (default.yaml): the rules of the
// package documentation and no zones, so every address is Unassigned and
// the cross-zone rule stays quiet until the user defines zones.
var DefaultPack = sync.OnceValue(func() *Pack {
	p, problems := Parse("default.yaml", defaultYAML)
	if len(problems) > 0 {
		panic("policy: default pack: " + problems[0].Error())
	}
	return p
})

// DefaultYAML returns the text of the built-in pack, for users to copy.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Load reads policy files (directories: their *.yaml and *.yml files, in
// name order) and merges them in order. Unreadable files and bad rules,
// zones or conduits are reported as Problems and skipped; everything else
// is used.
func Load(paths ...string) (*Pack, []Problem) {
	var packs []*Pack
	var problems []Problem
	for _, path := range paths {
		files := []string{path}
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			files = nil
			entries, err := os.ReadDir(path)
			if err != nil {
				problems = append(problems, Problem{File: path, Reason: err.Error()})
				continue
			}
			for _, e := range entries {
				if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
					files = append(files, filepath.Join(path, e.Name()))
				}
			}
		}
		for _, f := range files {
			data, err := readLimited(f)
			if err != nil {
				problems = append(problems, Problem{File: f, Reason: err.Error()})
				continue
			}
			p, pr := Parse(f, data)
			packs = append(packs, p)
			problems = append(problems, pr...)
		}
	}
	return Merge(packs...), problems
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	return data, nil
}

// Merge combines packs: a later rule replaces an earlier one with the same
// ID (or removes it when disabled), a later zone replaces the zone of the
// same name, and conduits add up.
func Merge(packs ...*Pack) *Pack {
	out := &Pack{}
	for _, p := range packs {
		if p == nil {
			continue
		}
		for _, id := range p.disabled {
			out.Rules = slices.DeleteFunc(out.Rules, func(r *Rule) bool { return r.ID == id })
			out.disabled = append(out.disabled, id)
		}
		for _, r := range p.Rules {
			if i := slices.IndexFunc(out.Rules, func(x *Rule) bool { return x.ID == r.ID }); i >= 0 {
				out.Rules[i] = r
			} else {
				out.Rules = append(out.Rules, r)
			}
		}
		for _, z := range p.Zones {
			if i := slices.IndexFunc(out.Zones, func(x Zone) bool { return x.Name == z.Name }); i >= 0 {
				out.Zones[i] = z
			} else {
				out.Zones = append(out.Zones, z)
			}
		}
		out.Conduits = append(out.Conduits, p.Conduits...)
	}
	return out
}

var (
	topKeys     = []string{"name", "description", "rules", "zones", "conduits"}
	ruleKeys    = []string{"id", "title", "severity", "rationale", "remediation", "references", "scope", "when", "evidence", "disabled"}
	zoneKeys    = []string{"name", "purdue", "subnets", "vlans", "assets", "description"}
	conduitKeys = []string{"from", "to", "protocols", "ports", "bidirectional", "description"}
)

// Parse compiles one policy file. A YAML syntax error loses the file (one
// Problem with its line); an unknown field, a bad value or a CEL error
// loses only the rule, zone or conduit it is in.
func Parse(name string, data []byte) (*Pack, []Problem) {
	p := &Pack{}
	var problems []Problem
	bad := func(line int, rule, format string, args ...any) {
		problems = append(problems, Problem{File: name, Line: line, Rule: rule, Reason: fmt.Sprintf(format, args...)})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, reason := yamlErrorLine(err)
		bad(line, "", "%s", reason)
		return p, problems
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return p, problems
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		bad(root.Line, "", "policy file must be a mapping with rules, zones and conduits")
		return p, problems
	}
	if msg, line := unknownKeys(root, topKeys); msg != "" {
		bad(line, "", "%s", msg)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i].Value, root.Content[i+1]
		if key != "rules" && key != "zones" && key != "conduits" {
			continue
		}
		if val.Kind != yaml.SequenceNode {
			if val.Tag != "!!null" {
				bad(val.Line, "", "%s must be a list", key)
			}
			continue
		}
		for _, n := range val.Content {
			switch key {
			case "rules":
				r, disabled, rp := parseRule(name, n)
				problems = append(problems, rp...)
				if disabled != "" {
					p.disabled = append(p.disabled, disabled)
				} else if r != nil {
					if slices.ContainsFunc(p.Rules, func(x *Rule) bool { return x.ID == r.ID }) {
						bad(n.Line, r.ID, "duplicate rule id")
						continue
					}
					p.Rules = append(p.Rules, r)
				}
			case "zones":
				z, err := parseZone(n)
				if err != "" {
					bad(n.Line, "", "zone skipped: %s", err)
					continue
				}
				if slices.ContainsFunc(p.Zones, func(x Zone) bool { return x.Name == z.Name }) {
					bad(n.Line, "", "zone skipped: duplicate zone %q", z.Name)
					continue
				}
				z.File, z.Line = name, n.Line
				p.Zones = append(p.Zones, z)
			case "conduits":
				c, err := parseConduit(n)
				if err != "" {
					bad(n.Line, "", "conduit skipped: %s", err)
					continue
				}
				c.File, c.Line = name, n.Line
				p.Conduits = append(p.Conduits, c)
			}
		}
	}
	// Conduits must name zones of this file, "*" or "unassigned" (zones of
	// another file are checked when the audit runs: unknown names never match).
	if len(p.Zones) > 0 {
		known := func(n string) bool {
			return n == "*" || n == Unassigned || slices.ContainsFunc(p.Zones, func(z Zone) bool { return z.Name == n })
		}
		p.Conduits = slices.DeleteFunc(p.Conduits, func(c Conduit) bool {
			for _, n := range []string{c.From, c.To} {
				if !known(n) {
					bad(c.Line, "", "conduit skipped: unknown zone %q", n)
					return true
				}
			}
			return false
		})
	}
	return p, problems
}

var yamlLineRE = regexp.MustCompile(`line (\d+): `)

// yamlErrorLine extracts the first line of a yaml.v3 error ("yaml: line 7:
// ..." or "yaml: unmarshal errors:\n  line 7: ...") and its reason.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatchIndex(msg); m != nil {
		n, _ := strconv.Atoi(msg[m[2]:m[3]])
		reason := msg[m[1]:]
		if i := strings.IndexByte(reason, '\n'); i >= 0 {
			reason = reason[:i]
		}
		return n, strings.TrimSpace(reason)
	}
	return 0, msg
}

// unknownKeys checks a mapping's keys against the allowed ones (yaml.v3's
// KnownFields, per node, so one bad rule does not lose the file).
func unknownKeys(n *yaml.Node, allowed []string) (string, int) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return fmt.Sprintf("unknown field %q (want one of %s)", k.Value, strings.Join(allowed, ", ")), k.Line
		}
	}
	return "", 0
}

type ruleYAML struct {
	ID          string   `yaml:"id"`
	Title       string   `yaml:"title"`
	Severity    string   `yaml:"severity"`
	Rationale   string   `yaml:"rationale"`
	Remediation string   `yaml:"remediation"`
	References  []string `yaml:"references"`
	Scope       string   `yaml:"scope"`
	When        string   `yaml:"when"`
	Evidence    string   `yaml:"evidence"`
	Disabled    bool     `yaml:"disabled"`
}

// parseRule decodes and compiles one rule node. It returns the rule, or
// the ID of a disabled rule, and the problems.
func parseRule(file string, n *yaml.Node) (*Rule, string, []Problem) {
	var ry ruleYAML
	fail := func(line int, format string, args ...any) (*Rule, string, []Problem) {
		return nil, "", []Problem{{File: file, Line: line, Rule: ry.ID, Reason: fmt.Sprintf(format, args...)}}
	}
	if n.Kind != yaml.MappingNode {
		return fail(n.Line, "rule must be a mapping")
	}
	// Read the id first, so that problems name the rule.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "id" {
			ry.ID = n.Content[i+1].Value
		}
	}
	if msg, line := unknownKeys(n, ruleKeys); msg != "" {
		return fail(line, "%s", msg)
	}
	if err := n.Decode(&ry); err != nil {
		line, reason := yamlErrorLine(err)
		if line == 0 {
			line = n.Line
		}
		return fail(line, "%s", reason)
	}
	if ry.ID == "" {
		return fail(n.Line, "missing id")
	}
	if ry.Disabled {
		return nil, ry.ID, nil
	}
	r := &Rule{ID: ry.ID, Title: ry.Title, Rationale: ry.Rationale, Remediation: ry.Remediation,
		References: ry.References, When: ry.When, Evidence: ry.Evidence, File: file, Line: n.Line}
	if r.Title == "" {
		r.Title = r.ID
	}
	sev, err := ParseSeverity(ry.Severity)
	if err != nil {
		return fail(valueLine(n, "severity"), "%v", err)
	}
	r.Severity = sev
	switch ry.Scope {
	case "", "asset":
		r.Scope = ScopeAsset
	case "conversation", "conv", "flow":
		r.Scope = ScopeConversation
	default:
		return fail(valueLine(n, "scope"), "unknown scope %q (want asset or conversation)", ry.Scope)
	}
	if strings.TrimSpace(r.When) == "" {
		return fail(n.Line, "missing when")
	}
	assetEnv, convEnv := envs()
	env := assetEnv
	if r.Scope == ScopeConversation {
		env = convEnv
	}
	checked, iss := env.Compile(r.When)
	if iss.Err() != nil {
		return fail(celLine(n, "when", iss), "when: %s", celMessage(iss))
	}
	if !checked.OutputType().IsExactType(cel.BoolType) && !checked.OutputType().IsExactType(cel.DynType) {
		return fail(valueLine(n, "when"), "when: must be a bool expression, not %s", checked.OutputType())
	}
	opts, budgeted := programOptions(checked.NativeRep().Expr())
	r.whenBudgeted = budgeted
	if r.when, err = env.Program(checked, opts...); err != nil {
		return fail(valueLine(n, "when"), "when: %v", err)
	}
	if r.Scope == ScopeConversation {
		r.convMask = convFields(checked.NativeRep().Expr())
	} else {
		r.pre = prefilterOf(checked.NativeRep().Expr())
	}
	r.readsNow = readsIdent(checked.NativeRep().Expr(), "now")
	if strings.TrimSpace(r.Evidence) != "" {
		ev, iss := env.Compile(r.Evidence)
		if iss.Err() != nil {
			return fail(celLine(n, "evidence", iss), "evidence: %s", celMessage(iss))
		}
		t := ev.OutputType()
		if !t.IsExactType(cel.StringType) && !t.IsExactType(cel.ListType(cel.StringType)) && !t.IsExactType(cel.DynType) {
			return fail(valueLine(n, "evidence"), "evidence: must be a string or a list of strings, not %s", t)
		}
		opts, budgeted := programOptions(ev.NativeRep().Expr())
		r.evidenceBudgeted = budgeted
		if r.evidence, err = env.Program(ev, opts...); err != nil {
			return fail(valueLine(n, "evidence"), "evidence: %v", err)
		}
		r.readsNow = r.readsNow || readsIdent(ev.NativeRep().Expr(), "now")
	}
	return r, "", nil
}

// Budgets of a rule evaluation. RE2 and the functions otscope adds are
// linear, but CEL itself can do exponential work in a short expression
// (nested comprehensions, a chain of string replaces that each multiply
// the string): every evaluation is charged CEL's cost units and stopped at
// RuleCostLimit, and comprehensions check the audit's deadline
// (AuditTimeout) every interruptEvery iterations. A rule that runs out is
// a rule error in the report, not a hang. The default pack's rules cost
// well under a thousand units per asset or flow.
//
// Only an expression with a comprehension or a replace can do more than
// linear work (every other node runs once, on values of bounded size), so
// only those pay for cost tracking: it doubles the time of an audit.
const (
	RuleCostLimit  = 100_000
	AuditTimeout   = 30 * time.Second
	interruptEvery = 100
)

func programOptions(e ast.Expr) ([]cel.ProgramOption, bool) {
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	unbounded := false
	ast.PostOrderVisit(e, ast.NewExprVisitor(func(x ast.Expr) {
		switch x.Kind() {
		case ast.ComprehensionKind:
			unbounded = true
		case ast.CallKind:
			unbounded = unbounded || x.AsCall().FunctionName() == "replace"
		}
	}))
	if unbounded {
		opts = append(opts, cel.CostLimit(RuleCostLimit), cel.InterruptCheckFrequency(interruptEvery))
	}
	return opts, unbounded
}

func valueNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func valueLine(n *yaml.Node, key string) int {
	if v := valueNode(n, key); v != nil {
		return v.Line
	}
	return n.Line
}

// celLine maps the first CEL error to a line of the file: the line of the
// expression plus the error's line inside it (block scalars start on the
// next line).
func celLine(n *yaml.Node, key string, iss *cel.Issues) int {
	v := valueNode(n, key)
	if v == nil {
		return n.Line
	}
	line := v.Line
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		line++
	}
	if errs := iss.Errors(); len(errs) > 0 && errs[0].Location.Line() > 1 && v.Style&yaml.LiteralStyle != 0 {
		line += errs[0].Location.Line() - 1
	}
	return line
}

func celMessage(iss *cel.Issues) string {
	errs := iss.Errors()
	if len(errs) == 0 {
		return iss.Err().Error()
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, fmt.Sprintf("col %d: %s", e.Location.Column()+1, e.Message))
	}
	return strings.Join(msgs, "; ")
}

type zoneYAML struct {
	Name        string   `yaml:"name"`
	Purdue      *int     `yaml:"purdue"`
	Subnets     []string `yaml:"subnets"`
	VLANs       []int    `yaml:"vlans"`
	Assets      []string `yaml:"assets"`
	Description string   `yaml:"description"`
}

func parseZone(n *yaml.Node) (Zone, string) {
	if n.Kind != yaml.MappingNode {
		return Zone{}, "zone must be a mapping"
	}
	if msg, _ := unknownKeys(n, zoneKeys); msg != "" {
		return Zone{}, msg
	}
	var zy zoneYAML
	if err := n.Decode(&zy); err != nil {
		_, reason := yamlErrorLine(err)
		return Zone{}, reason
	}
	if zy.Name == "" || zy.Name == "*" {
		return Zone{}, "missing or reserved name"
	}
	if zy.Name == Unassigned {
		return Zone{}, "\"unassigned\" is the zone of addresses no zone holds"
	}
	if zy.Purdue == nil || *zy.Purdue < 0 || *zy.Purdue > 5 {
		return Zone{}, fmt.Sprintf("zone %q: purdue must be a level from 0 to 5", zy.Name)
	}
	z := Zone{Name: zy.Name, Purdue: *zy.Purdue, Description: zy.Description}
	for _, s := range zy.Subnets {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return Zone{}, fmt.Sprintf("zone %q: bad subnet %q: want CIDR like 10.10.10.0/24", zy.Name, s)
		}
		z.Subnets = append(z.Subnets, pfx.Masked())
	}
	for _, v := range zy.VLANs {
		if v < 0 || v > 4095 {
			return Zone{}, fmt.Sprintf("zone %q: bad VLAN %d (0-4095)", zy.Name, v)
		}
		z.VLANs = append(z.VLANs, uint16(v))
	}
	for _, a := range zy.Assets {
		z.Assets = append(z.Assets, model.AssetID(a))
	}
	return z, ""
}

type conduitYAML struct {
	From          string   `yaml:"from"`
	To            string   `yaml:"to"`
	Protocols     []string `yaml:"protocols"`
	Ports         []int    `yaml:"ports"`
	Bidirectional bool     `yaml:"bidirectional"`
	Description   string   `yaml:"description"`
}

func parseConduit(n *yaml.Node) (Conduit, string) {
	if n.Kind != yaml.MappingNode {
		return Conduit{}, "conduit must be a mapping"
	}
	if msg, _ := unknownKeys(n, conduitKeys); msg != "" {
		return Conduit{}, msg
	}
	var cy conduitYAML
	if err := n.Decode(&cy); err != nil {
		_, reason := yamlErrorLine(err)
		return Conduit{}, reason
	}
	if cy.From == "" || cy.To == "" {
		return Conduit{}, "from and to are required"
	}
	c := Conduit{From: cy.From, To: cy.To, Protocols: cy.Protocols, Bidirectional: cy.Bidirectional, Description: cy.Description}
	for _, p := range cy.Ports {
		if p < 1 || p > 65535 {
			return Conduit{}, fmt.Sprintf("bad port %d", p)
		}
		c.Ports = append(c.Ports, uint16(p))
	}
	return c, ""
}

// convField is a bit set of the conversation fields a rule reads.
type convField uint32

const (
	cfClient convField = 1 << iota
	cfServer
	cfTransport
	cfPort
	cfProtocol
	cfClientZone
	cfServerZone
	cfAllowed
	cfVolatile // packets, bytes, addresses, times: a different value per flow
	cfAll      = cfClient | cfServer | cfTransport | cfPort | cfProtocol | cfClientZone | cfServerZone | cfAllowed | cfVolatile
)

var convFieldBits = map[string]convField{
	"client": cfClient, "server": cfServer, "transport": cfTransport, "port": cfPort, "protocol": cfProtocol,
	"industrial":  cfProtocol, // model.IsIndustrial(protocol)
	"client_zone": cfClientZone, "server_zone": cfServerZone, "allowed": cfAllowed,
}

// convFields returns the conversation fields expression e reads: "conv.x"
// selections; a bare "conv" (passed whole to something) reads everything.
func convFields(e ast.Expr) convField {
	var mask convField
	selects, idents := 0, 0
	ast.PostOrderVisit(e, ast.NewExprVisitor(func(x ast.Expr) {
		switch x.Kind() {
		case ast.IdentKind:
			if x.AsIdent() == "conv" {
				idents++
			}
		case ast.SelectKind:
			s := x.AsSelect()
			if op := s.Operand(); op.Kind() == ast.IdentKind && op.AsIdent() == "conv" {
				selects++
				if b, ok := convFieldBits[s.FieldName()]; ok {
					mask |= b
				} else {
					mask |= cfVolatile
				}
			}
		}
	}))
	if idents > selects {
		return cfAll
	}
	return mask
}

// readsIdent reports whether expression e reads the variable name.
func readsIdent(e ast.Expr, name string) bool {
	found := false
	ast.PostOrderVisit(e, ast.NewExprVisitor(func(x ast.Expr) {
		if x.Kind() == ast.IdentKind && x.AsIdent() == name {
			found = true
		}
	}))
	return found
}
