package review

import (
	"cmp"
	"slices"
	"time"

	"otscope/assets/advisory"
	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/model"
)

// Sources are the offline catalogs and the policy an analysis uses. Any may
// be nil: no lifecycle verdicts, no advisories, the default pack.
type Sources struct {
	Catalog    *lifecycle.Catalog
	Advisories *advisory.DB
	Pack       *policy.Pack
}

// Analysis is everything the TUI shows beside the inventory, computed in
// one pass off the UI goroutine: lifecycle verdicts, advisories, the audit
// with the session's waivers applied, and the inventory states.
type Analysis struct {
	// Now is the time the analysis is for (phases, waiver expiry).
	Now time.Time
	// Lifecycle holds the verdict of each asset the catalog knows;
	// Modules the verdicts of their modules.
	Lifecycle map[model.AssetID]*lifecycle.Result
	Modules   map[model.AssetID][]lifecycle.ModuleResult
	// Advisories holds the matches of each asset; AdvisoriesLoaded is false
	// when no advisory database was given.
	Advisories       map[model.AssetID][]advisory.Match
	AdvisoriesLoaded bool
	CatalogLoaded    bool
	// Report is the audit; ByAsset lists, per asset, the indices in
	// Report.Violations that name it (as the asset, client or server).
	Report  policy.Report
	ByAsset map[model.AssetID][]int
	// Rules are the pack's rules by ID (rationale, remediation, references).
	Rules map[string]*policy.Rule
	// States is each asset's state history; Waivers the latest waiver
	// record of each rule and asset (active, expired or revoked).
	States  map[model.AssetID]lifecycle.History
	Waivers []WaiverRecord
	// Walkdown is what the session's walkdown says of each asset
	// (walkdown.Book.Annotate: location, verdict, documented row); nil
	// when the caller has no walkdown.
	Walkdown map[model.AssetID]model.Walkdown
	// Elapsed is how long the analysis took.
	Elapsed time.Duration
}

// Job is one analysis to run: what to look at and the time.
type Job struct {
	Assets        []*model.Asset
	Conversations []*model.Conversation
	States        map[model.AssetID]lifecycle.History
	Waivers       []WaiverRecord
	Now           time.Time
}

// Analyzer runs analyses with fixed sources, remembering lifecycle and
// advisory matches per asset value: an asset that did not change since the
// last run (the same pointer, as the TUI's state keeps them) is not matched
// again. An Analyzer runs one job at a time.
type Analyzer struct {
	src   Sources
	cache map[*model.Asset]*matches
	// au re-evaluates only the assets and conversations that changed
	// since the last run; day is the date its lifecycle answers hold for
	// (a phase can change at midnight, so a new day starts afresh).
	au  *policy.Auditor
	day string
}

type matches struct {
	lc      *lifecycle.Result
	modules []lifecycle.ModuleResult
	adv     []advisory.Match
}

// NewAnalyzer returns an analyzer over src (the default pack when
// src.Pack is nil).
func NewAnalyzer(src Sources) *Analyzer {
	if src.Pack == nil {
		src.Pack = policy.DefaultPack()
	}
	return &Analyzer{src: src, cache: map[*model.Asset]*matches{}, au: policy.NewAuditor(src.Pack, nil)}
}

// Sources returns the analyzer's sources.
func (z *Analyzer) Sources() Sources { return z.src }

// Run analyses one job. Asset and conversation values are read, never
// changed.
func (z *Analyzer) Run(j Job) *Analysis {
	start := time.Now()
	an := &Analysis{
		Now: j.Now, Lifecycle: map[model.AssetID]*lifecycle.Result{}, Modules: map[model.AssetID][]lifecycle.ModuleResult{},
		Advisories: map[model.AssetID][]advisory.Match{}, AdvisoriesLoaded: z.src.Advisories != nil,
		CatalogLoaded: z.src.Catalog != nil, ByAsset: map[model.AssetID][]int{}, States: j.States,
		Waivers: Latest(j.Waivers), Rules: map[string]*policy.Rule{},
	}
	for _, r := range z.src.Pack.Rules {
		an.Rules[r.ID] = r
	}
	assets := make([]model.Asset, len(j.Assets))
	next := make(map[*model.Asset]*matches, len(j.Assets))
	for i, a := range j.Assets {
		assets[i] = *a
		m := z.cache[a]
		if m == nil {
			m = z.match(a)
		}
		next[a] = m
		if m.lc != nil {
			an.Lifecycle[a.ID] = m.lc
		}
		if len(m.modules) > 0 {
			an.Modules[a.ID] = m.modules
		}
		if len(m.adv) > 0 {
			an.Advisories[a.ID] = m.adv
		}
	}
	z.cache = next
	convs := make([]model.Conversation, len(j.Conversations))
	for i, c := range j.Conversations {
		convs[i] = *c
	}
	slices.SortFunc(assets, func(x, y model.Asset) int { return cmp.Compare(x.ID, y.ID) })
	in := policy.Input{Assets: assets, Conversations: convs, Now: j.Now}
	if z.src.Catalog != nil {
		in.Lifecycle = func(a *model.Asset) (string, string, bool) {
			res := an.Lifecycle[a.ID]
			if res == nil {
				return "", "", false
			}
			return res.PhaseAt(j.Now).String(), res.EndOfSupport.String(), true
		}
	}
	if z.src.Advisories != nil {
		in.Advisories = func(a *model.Asset) []policy.AdvisoryRef {
			var out []policy.AdvisoryRef
			for _, m := range an.Advisories[a.ID] {
				out = append(out, policy.AdvisoryRef{ID: m.AdvisoryID, Title: m.Title, CVSS: m.MaxCVSS, KEV: m.KEV})
			}
			return out
		}
	}
	if day := j.Now.Format(time.DateOnly); day != z.day {
		z.au.Reset()
		z.day = day
	}
	z.au.SetWaivers(Effective(j.Waivers, j.Now))
	an.Report = z.au.Audit(in)
	for i, v := range an.Report.Violations {
		for _, id := range []model.AssetID{v.AssetID, v.ServerID} {
			if id != "" && (len(an.ByAsset[id]) == 0 || an.ByAsset[id][len(an.ByAsset[id])-1] != i) {
				an.ByAsset[id] = append(an.ByAsset[id], i)
			}
		}
	}
	an.Elapsed = time.Since(start)
	return an
}

func (z *Analyzer) match(a *model.Asset) *matches {
	m := &matches{}
	if z.src.Catalog != nil {
		if res, ok := z.src.Catalog.Match(a); ok {
			m.lc = &res
		}
		m.modules = z.src.Catalog.MatchModules(a)
	}
	if z.src.Advisories != nil {
		m.adv = z.src.Advisories.Match(a)
	}
	return m
}

// Violations returns the violations that name the asset.
func (an *Analysis) Violations(id model.AssetID) []policy.Violation {
	out := make([]policy.Violation, 0, len(an.ByAsset[id]))
	for _, i := range an.ByAsset[id] {
		out = append(out, an.Report.Violations[i])
	}
	return out
}

// State returns the asset's current inventory state.
func (an *Analysis) State(id model.AssetID) lifecycle.State { return an.States[id].Current() }
