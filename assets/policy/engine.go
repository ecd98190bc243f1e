package policy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"otscope/model"
)

// engine is what an audit derives from a pack once: the rules by scope,
// their prefilters, the zone model, the conversation memo layout and the
// report order. Audit builds one per call; an Auditor keeps its own.
type engine struct {
	rules        []*Rule
	assetRules   []int32 // indices into rules, pack order
	convRules    []int32
	filters      []*ruleFilter // per rule; nil: evaluate on every asset
	dict         *featureDict
	zm           *zoneModel
	zonesDefined bool
	// sets group the conversation rules that read the same fields, so that
	// each is evaluated once per distinct projection (positions in convRules).
	sets     []memoSpec
	volatile []int32
	setOf    [][2]int // per conversation rule: its memo set and place in it; -1 if volatile
	// bucketOf places each rule in the report order (severity, then ID).
	bucketOf []int32
	buckets  []bucket
	nowAsset []int32 // asset rules that read "now"
	nowConv  bool    // a conversation rule reads "now"
}

type memoSpec struct {
	mask  convField
	rules []int32
}

type bucket struct {
	id    string
	sev   Severity
	rules int
}

func newEngine(p *Pack) *engine {
	e := &engine{rules: p.Rules, zm: newZoneModel(p), zonesDefined: len(p.Zones) > 0, dict: newFeatureDict()}
	e.filters = make([]*ruleFilter, len(p.Rules))
	for i, r := range p.Rules {
		ri := int32(i)
		if r.readsNow {
			if r.Scope == ScopeConversation {
				e.nowConv = true
			} else {
				e.nowAsset = append(e.nowAsset, ri)
			}
		}
		if r.Scope != ScopeConversation {
			e.assetRules = append(e.assetRules, ri)
			e.filters[i] = e.dict.filter(r.pre)
			continue
		}
		pos := int32(len(e.convRules))
		e.convRules = append(e.convRules, ri)
		if r.convMask&cfVolatile != 0 {
			e.volatile = append(e.volatile, pos)
			e.setOf = append(e.setOf, [2]int{-1, -1})
			continue
		}
		j := slices.IndexFunc(e.sets, func(s memoSpec) bool { return s.mask == r.convMask })
		if j < 0 {
			e.sets = append(e.sets, memoSpec{mask: r.convMask})
			j = len(e.sets) - 1
		}
		e.setOf = append(e.setOf, [2]int{j, len(e.sets[j].rules)})
		e.sets[j].rules = append(e.sets[j].rules, pos)
	}
	e.dict.finish()
	for _, f := range e.filters {
		if f != nil {
			f.compile(e.dict.words())
		}
	}
	order := make([]int32, len(p.Rules))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(p.Rules[b].Severity, p.Rules[a].Severity), cmp.Compare(p.Rules[a].ID, p.Rules[b].ID))
	})
	e.bucketOf = make([]int32, len(p.Rules))
	for _, ri := range order {
		r := p.Rules[ri]
		if n := len(e.buckets); n == 0 || e.buckets[n-1].id != r.ID || e.buckets[n-1].sev != r.Severity {
			e.buckets = append(e.buckets, bucket{id: r.ID, sev: r.Severity})
		}
		e.buckets[len(e.buckets)-1].rules++
		e.bucketOf[ri] = int32(len(e.buckets) - 1)
	}
	return e
}

// result is what one subject contributes to a report: an asset (asset
// rules) or a client and server (conversation rules). Once finished it is
// never changed, so an Auditor can hand it to several reports.
type result struct {
	key   uint64 // the subject's content hash (Auditor only)
	gen   uint32 // the Auditor call that last used it
	rules []int32
	viols []Violation
	errs  []evalErr
	// Conversation groups: the pair, and the state of the evaluation
	// (see conv.go), dropped when the group is finished.
	client, server model.AssetID
	slots          []slotState
	aggs           []projAgg
}

type evalErr struct {
	rule int32
	who  model.AssetID
	err  error
	pos  int // the flow, for conversation rules
}

// run is the state of one evaluation pass over an Input.
type run struct {
	e   *engine
	in  *Input
	act activation
	// ctx carries the audit's deadline (AuditTimeout); spent[ri] holds the
	// error of a rule that went over its budget (RuleCostLimit or the
	// deadline) in this pass: it is not evaluated again, and every
	// subject it was not evaluated on gets that error.
	ctx   context.Context
	spent []error
	views []assetView
	ready []bool
	// index maps asset IDs to views; conversation ends missing from the
	// input get views numbered from len(views), kept in orphans.
	index   map[model.AssetID]int32
	orphans []*assetView
	feats   bitset
	cur     *result // the subject that errors are charged to
	evals   int     // rule evaluations (tests check that an Auditor skips work)
	// scratch collects one asset's violations before they are copied.
	scratch      []Violation
	scratchRules []int32

	// Conversation groups of this pass.
	flowGroup []int32
	groups    []callGroup
	pairs     map[[2]model.AssetID]int32
}

type callGroup struct {
	ci, si int32
	hash   uint64
	dirty  bool
	res    *result
	// The zones of the last addresses seen at each end (most flows of a
	// pair use the same ones).
	cip, sip netip.Addr
	cz, sz   int32
}

func (e *engine) newRun(in *Input, r *run) {
	*r = run{e: e, in: in, views: r.views, ready: r.ready, index: r.index, feats: r.feats,
		flowGroup: r.flowGroup, groups: r.groups[:0], pairs: r.pairs, scratch: r.scratch, scratchRules: r.scratchRules,
		ctx: r.ctx, spent: r.spent}
	r.act.zonesDefined = types.Bool(e.zonesDefined)
	r.act.now = types.Timestamp{Time: in.Now}
	n := len(in.Assets)
	r.views = resize(r.views, n)
	r.ready = resize(r.ready, n)
	clear(r.ready)
	if r.index == nil {
		r.index = make(map[model.AssetID]int32, n)
	} else {
		clear(r.index)
	}
	for i := range in.Assets {
		r.index[in.Assets[i].ID] = int32(i)
	}
	r.feats = resize(r.feats, e.dict.words())
	r.spent = resize(r.spent, len(e.rules))
	clear(r.spent)
	if r.ctx == nil {
		r.ctx = context.Background()
	}
}

// done drops the references to the input, so that a kept run does not
// hold the caller's data.
func (r *run) done() {
	clear(r.views)
	r.in, r.orphans, r.cur, r.act, r.ctx = nil, nil, nil, activation{}, nil
	for i := range r.groups {
		r.groups[i].res = nil
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// view returns the view of asset or orphan i, building it on first use.
func (r *run) view(i int32) *assetView {
	if int(i) >= len(r.views) {
		return r.orphans[int(i)-len(r.views)]
	}
	v := &r.views[i]
	if !r.ready[i] {
		a := &r.in.Assets[i]
		*v = assetView{object: object{assetType}, a: a, in: r.in, zone: r.e.zm.zones[r.e.zm.assetZone(a)]}
		r.ready[i] = true
	}
	return v
}

// viewIndex returns the view number of an asset ID, adding an orphan view
// for an ID missing from the input.
func (r *run) viewIndex(id model.AssetID) int32 {
	i, ok := r.index[id]
	if !ok {
		i = int32(len(r.views) + len(r.orphans))
		r.index[id] = i
		r.orphans = append(r.orphans, &assetView{object: object{assetType}, a: &model.Asset{ID: id}, in: r.in,
			zone: r.e.zm.zones[r.e.zm.unassigned()]})
	}
	return i
}

func (r *run) id(i int32) model.AssetID { return r.view(i).a.ID }

// fail charges an evaluation error to the current subject, once per rule:
// the error of the first flow (pos) for conversation rules.
func (r *run) fail(ri int32, who model.AssetID, err error, pos int) {
	for i := range r.cur.errs {
		if x := &r.cur.errs[i]; x.rule == ri {
			if pos < x.pos {
				*x = evalErr{ri, who, err, pos}
			}
			return
		}
	}
	r.cur.errs = append(r.cur.errs, evalErr{ri, who, err, pos})
}

func (r *run) when(ri int32) (bool, error) {
	if err := r.spent[ri]; err != nil {
		return false, err
	}
	r.evals++
	rule := r.e.rules[ri]
	var out ref.Val
	var err error
	if rule.whenBudgeted {
		out, _, err = rule.when.ContextEval(r.ctx, &r.act)
	} else {
		out, _, err = rule.when.Eval(&r.act)
	}
	if err != nil {
		return false, r.overBudget(ri, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("when returned %s, not bool", out.Type().TypeName())
	}
	return bool(b), nil
}

func (r *run) evidence(ri int32, who model.AssetID, pos int) []string {
	rule := r.e.rules[ri]
	if rule.evidence == nil {
		return nil
	}
	if err := r.spent[ri]; err != nil {
		r.fail(ri, who, err, pos)
		return nil
	}
	var out ref.Val
	var err error
	if rule.evidenceBudgeted {
		out, _, err = rule.evidence.ContextEval(r.ctx, &r.act)
	} else {
		out, _, err = rule.evidence.Eval(&r.act)
	}
	if err != nil {
		r.fail(ri, who, r.overBudget(ri, err), pos)
		return nil
	}
	return evidenceStrings(out)
}

// overBudget turns an evaluation error that is a budget running out (the
// rule's cost limit, the audit's deadline) into the rule's error for the
// rest of the pass; other errors are returned as they are.
func (r *run) overBudget(ri int32, err error) error {
	var cancelled interpreter.EvalCancelledError
	switch {
	case errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded:
		err = fmt.Errorf("went over its evaluation budget (%d cost units per asset or flow), so it was not evaluated further: "+
			"simplify it (fewer nested comprehensions, no strings that grow)", RuleCostLimit)
	case r.ctx.Err() != nil:
		err = fmt.Errorf("the audit ran out of its %v time budget before this rule finished: simplify the rule", AuditTimeout)
	default:
		return err
	}
	r.spent[ri] = err
	return err
}

// evalAsset evaluates the asset rules ris (pack order) on asset i and
// appends the violations and errors to res.
func (r *run) evalAsset(i int32, ris []int32, res *result) {
	v := r.view(i)
	r.act.asset, r.act.conv = v, nil
	r.cur = res
	featsDone := false
	for _, ri := range ris {
		if f := r.e.filters[ri]; f != nil {
			if !featsDone {
				clear(r.feats)
				r.e.dict.features(v, r.e.zonesDefined, r.feats)
				featsDone = true
			}
			if !f.admits(r.feats) {
				continue
			}
		}
		ok, err := r.when(ri)
		if err != nil {
			r.fail(ri, v.a.ID, err, 0)
		}
		if !ok {
			continue
		}
		rule := r.e.rules[ri]
		v.evFirst, v.evLast = time.Time{}, time.Time{}
		ev := r.evidence(ri, v.a.ID, 0)
		first, last := v.evFirst, v.evLast
		if first.IsZero() {
			first = v.a.FirstSeen
		}
		if last.IsZero() {
			last = v.a.LastSeen
		}
		r.scratch = append(r.scratch, Violation{RuleID: rule.ID, Title: rule.Title, Severity: rule.Severity,
			AssetID: v.a.ID, Evidence: ev, FirstSeen: first, LastSeen: last})
		r.scratchRules = append(r.scratchRules, ri)
	}
	// One exact allocation per asset; the scratch buffers are reused.
	if len(r.scratch) > 0 {
		res.viols = append(slices.Grow(res.viols, len(r.scratch)), r.scratch...)
		res.rules = append(slices.Grow(res.rules, len(r.scratch)), r.scratchRules...)
		clear(r.scratch)
		r.scratch, r.scratchRules = r.scratch[:0], r.scratchRules[:0]
	}
}

// groupFlows assigns every conversation to its client/server group (one
// map lookup per flow, none while the pair repeats); with hash set it also
// folds each flow into its group's content hash.
func (r *run) groupFlows(hash func(*model.Conversation) uint64) {
	flows := r.in.Conversations
	r.flowGroup = resize(r.flowGroup, len(flows))
	if r.pairs == nil {
		r.pairs = map[[2]model.AssetID]int32{}
	} else {
		clear(r.pairs)
	}
	var prev [2]model.AssetID
	gid := int32(-1)
	for i := range flows {
		c := &flows[i]
		if gid < 0 || c.Client != prev[0] || c.Server != prev[1] {
			prev = [2]model.AssetID{c.Client, c.Server}
			g, ok := r.pairs[prev]
			if !ok {
				g = int32(len(r.groups))
				r.groups = append(r.groups, callGroup{ci: r.viewIndex(c.Client), si: r.viewIndex(c.Server), cz: -1, sz: -1})
				r.pairs[prev] = g
			}
			gid = g
		}
		r.flowGroup[i] = gid
		if hash != nil {
			g := &r.groups[gid]
			g.hash = mixHash(g.hash, hash(c))
		}
	}
}

// sortedGroups returns the results of the groups with violations or
// errors, by client and server ID.
func (r *run) sortedGroups() []*result {
	var out []*result
	for i := range r.groups {
		if res := r.groups[i].res; len(res.viols) > 0 || len(res.errs) > 0 {
			out = append(out, res)
		}
	}
	slices.SortFunc(out, func(a, b *result) int {
		return cmp.Or(strings.Compare(string(a.client), string(b.client)), strings.Compare(string(a.server), string(b.server)))
	})
	return out
}

// assetOrder returns the asset indices by ID (stable: input order among
// equal IDs).
func assetOrder(as []model.Asset) []int32 {
	order := make([]int32, len(as))
	for i := range order {
		order[i] = int32(i)
	}
	if !slices.IsSortedFunc(as, func(a, b model.Asset) int { return strings.Compare(string(a.ID), string(b.ID)) }) {
		slices.SortStableFunc(order, func(a, b int32) int { return strings.Compare(string(as[a].ID), string(as[b].ID)) })
	}
	return order
}

// assemble builds the report from the subjects' results (assets in ID
// order, then groups by client and server): violations in report order
// without sorting them, waivers, counts and errors.
func (e *engine) assemble(subjects [][]*result, waivers []Waiver, now time.Time, rep *Report) {
	count := make([]int, len(e.buckets)+1)
	for _, list := range subjects {
		for _, res := range list {
			for _, ri := range res.rules {
				count[e.bucketOf[ri]+1]++
			}
		}
	}
	for b := 1; b < len(count); b++ {
		count[b] += count[b-1]
	}
	total := count[len(count)-1]
	rep.Violations = make([]Violation, total)
	next := slices.Clone(count[:len(e.buckets)])
	for _, list := range subjects {
		for _, res := range list {
			for k, ri := range res.rules {
				b := e.bucketOf[ri]
				rep.Violations[next[b]] = res.viols[k]
				next[b]++
			}
		}
	}
	// Several rules with one ID and severity (packs built by hand): order
	// their violations by asset and server like the rest.
	for b, bk := range e.buckets {
		if bk.rules > 1 {
			slices.SortStableFunc(rep.Violations[count[b]:count[b+1]], func(x, y Violation) int {
				return cmp.Or(cmp.Compare(x.AssetID, y.AssetID), cmp.Compare(x.ServerID, y.ServerID))
			})
		}
	}
	var byRule map[string][]*Waiver
	for i := range waivers {
		if byRule == nil {
			byRule = map[string][]*Waiver{}
		}
		byRule[waivers[i].RuleID] = append(byRule[waivers[i].RuleID], &waivers[i])
	}
	for b, bk := range e.buckets {
		open := 0
		ws := byRule[bk.id]
		for i := count[b]; i < count[b+1]; i++ {
			v := &rep.Violations[i]
			if w := findWaiver(ws, v, now); w != nil {
				v.Waived = w
				rep.Waived++
				continue
			}
			open++
		}
		if open > 0 {
			rep.BySeverity[bk.sev] += open
			rep.ByRule[bk.id] += open
		}
	}
	// Errors: once per rule, in pack order, naming the first subject in
	// report order that failed.
	seen := make([]bool, len(e.rules))
	var errs []evalErr
	for _, list := range subjects {
		for _, res := range list {
			for _, x := range res.errs {
				if !seen[x.rule] {
					seen[x.rule] = true
					errs = append(errs, x)
				}
			}
		}
	}
	slices.SortFunc(errs, func(a, b evalErr) int { return cmp.Compare(a.rule, b.rule) })
	for _, x := range errs {
		r := e.rules[x.rule]
		rep.Errors = append(rep.Errors, Problem{File: r.File, Line: r.Line, Rule: r.ID,
			Reason: fmt.Sprintf("evaluation failed on %s: %v", x.who, x.err)})
	}
}

// mixHash folds x into h, in order (a multiply-xorshift round).
func mixHash(h, x uint64) uint64 {
	h = (h<<29 | h>>35) ^ x
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>32
}
