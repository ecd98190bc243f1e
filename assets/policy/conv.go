package policy

import (
	"strconv"
	"time"

	"otscope/model"
)

// Conversation rules are evaluated per flow, but their violations are per
// client, server and rule. The rules of a memo set (those reading the
// same fields) are evaluated once per distinct projection of a flow; the
// outcome is a memo entry. Within a group, the flows that share a memo
// entry hit the same rules, so the evaluation keeps one aggregate per
// (group, entry) instead of one update per flow and rule, and builds each
// violation from the aggregates of the entries that hit its rule when the
// group is finished. Rules that read per-flow values (volatile) are
// evaluated on every flow and keep a slotState per rule.

// memoVal is the outcome of one memo set's rules on one projection.
type memoVal struct {
	set  int
	hits []bool
	any  bool    // some rule holds
	errs []error // nil when no rule failed
}

// projAgg aggregates the flows of one group that share a memo entry: their
// number, time span (first/last with the flow that set it, so that
// merging keeps the flow order's ties) and the first MaxFlowEvidence flows
// with their evidence lines.
type projAgg struct {
	entry           int32
	n               int32
	first, last     time.Time
	firstAt, lastAt int32
	at              []int32
	lines           []string
}

// slotState accumulates one volatile rule's flows of one group.
type slotState struct {
	n           int32 // flows; 0 until the rule holds on one
	first, last time.Time
	client      model.AssetID
	server      model.AssetID
	evidence    []string
}

// flowCtx sets the conversation variable to flow i of group g.
func (r *run) flowCtx(cv *convView, g *callGroup, i int) {
	e := r.e
	c := &r.in.Conversations[i]
	client, server := r.view(g.ci), r.view(g.si)
	if g.cz < 0 || c.ClientIP != g.cip {
		g.cip, g.cz = c.ClientIP, int32(e.zm.endpointZone(c.Client, c.ClientIP, client))
	}
	if g.sz < 0 || c.ServerIP != g.sip {
		g.sip, g.sz = c.ServerIP, int32(e.zm.endpointZone(c.Server, c.ServerIP, server))
	}
	cv.c, cv.client, cv.server = c, client, server
	cv.clientZone, cv.serverZone = e.zm.zones[g.cz], e.zm.zones[g.sz]
	cv.allowed = e.zm.allowed(int(g.cz), int(g.sz), c.Protocol, c.Port)
	r.act.asset, r.act.conv = nil, cv
}

// evalGroups evaluates the conversation rules on the flows of the dirty
// groups, in input order, and finishes their results.
func (r *run) evalGroups() {
	e := r.e
	// Projections without strings use a cheaper map key.
	memos := make([]map[convKey]int32, len(e.sets))
	nmemos := make([]map[[2]uint64]int32, len(e.sets))
	for i, s := range e.sets {
		if s.mask&(cfTransport|cfProtocol) == 0 {
			nmemos[i] = map[[2]uint64]int32{}
		} else {
			memos[i] = map[convKey]int32{}
		}
	}
	var entries []memoVal
	var cv convView
	cv.object = object{convType}
	flows := r.in.Conversations
	for i := range flows {
		g := &r.groups[r.flowGroup[i]]
		if !g.dirty {
			continue
		}
		c := &flows[i]
		r.cur = g.res
		r.flowCtx(&cv, g, i)
		line := "" // the flow's evidence line, built on first need
		lineOf := func() string {
			if line == "" {
				line = flowLine(c, cv.clientZone, cv.serverZone)
			}
			return line
		}
		for si := range e.sets {
			s := &e.sets[si]
			var (
				ok bool
				k  convKey
				nk [2]uint64
				x  int32
			)
			if nm := nmemos[si]; nm != nil {
				nk = numProjection(s.mask, &cv, g.ci, g.si, int(g.cz), int(g.sz))
				x, ok = nm[nk]
			} else {
				k = projection(s.mask, &cv, g.ci, g.si, int(g.cz), int(g.sz))
				x, ok = memos[si][k]
			}
			if !ok {
				m := memoVal{set: si, hits: make([]bool, len(s.rules))}
				for j, pos := range s.rules {
					var err error
					if m.hits[j], err = r.when(e.convRules[pos]); err != nil {
						if m.errs == nil {
							m.errs = make([]error, len(s.rules))
						}
						m.errs[j] = err
					}
					m.any = m.any || m.hits[j]
				}
				x = int32(len(entries))
				entries = append(entries, m)
				if nm := nmemos[si]; nm != nil {
					nm[nk] = x
				} else {
					memos[si][k] = x
				}
			}
			m := &entries[x]
			if m.errs != nil {
				for j, err := range m.errs {
					if err != nil {
						r.fail(e.convRules[s.rules[j]], c.Client, err, i)
					}
				}
			}
			if m.any {
				g.res.aggregate(x, int32(i), c, lineOf)
			}
		}
		for _, pos := range e.volatile {
			ri := e.convRules[pos]
			ok, err := r.when(ri)
			if err != nil {
				r.fail(ri, c.Client, err, i)
			}
			if ok {
				r.slotHit(g.res, pos, c, i, lineOf)
			}
		}
	}
	for gi := range r.groups {
		if g := &r.groups[gi]; g.dirty && (g.res.aggs != nil || g.res.slots != nil) {
			r.finishGroup(g, entries, &cv)
		}
	}
}

// aggregate adds flow i to the group's aggregate of memo entry x.
func (res *result) aggregate(x, i int32, c *model.Conversation, line func() string) {
	var a *projAgg
	for k := range res.aggs {
		if res.aggs[k].entry == x {
			a = &res.aggs[k]
			break
		}
	}
	if a == nil {
		res.aggs = append(res.aggs, projAgg{entry: x, first: c.FirstSeen, last: c.LastSeen, firstAt: i, lastAt: i})
		a = &res.aggs[len(res.aggs)-1]
	} else {
		if !c.FirstSeen.IsZero() && (a.first.IsZero() || c.FirstSeen.Before(a.first)) {
			a.first, a.firstAt = c.FirstSeen, i
		}
		if c.LastSeen.After(a.last) {
			a.last, a.lastAt = c.LastSeen, i
		}
	}
	a.n++
	if a.n <= MaxFlowEvidence {
		a.at = append(a.at, i)
		a.lines = append(a.lines, line())
	}
}

// slotHit adds flow i to volatile rule pos of the group.
func (r *run) slotHit(res *result, pos int32, c *model.Conversation, i int, line func() string) {
	if res.slots == nil {
		res.slots = make([]slotState, len(r.e.convRules))
	}
	st := &res.slots[pos]
	if st.n == 0 {
		ev := r.evidence(r.e.convRules[pos], c.Client, i)
		st.evidence = make([]string, len(ev), len(ev)+MaxFlowEvidence+1)
		copy(st.evidence, ev)
		st.first, st.last, st.client, st.server = c.FirstSeen, c.LastSeen, c.Client, c.Server
	} else {
		timeSpan(&st.first, &st.last, c.FirstSeen, c.LastSeen)
	}
	st.n++
	if st.n <= MaxFlowEvidence {
		st.evidence = append(st.evidence, line())
	}
}

// finishGroup builds the group's violations, in rule order: from the
// aggregates of the memo entries that hit each memo-set rule (its
// evidence expression evaluated on its first flow), or from the slot of
// each volatile rule.
func (r *run) finishGroup(g *callGroup, entries []memoVal, cv *convView) {
	e := r.e
	res := g.res
	r.cur = res
	var mine []*projAgg
	for pos, ri := range e.convRules {
		rule := e.rules[ri]
		var v Violation
		var n int32
		si, j := e.setOf[pos][0], e.setOf[pos][1]
		if si < 0 {
			if res.slots == nil || res.slots[pos].n == 0 {
				continue
			}
			st := &res.slots[pos]
			v = Violation{AssetID: st.client, ClientID: st.client, ServerID: st.server, Evidence: st.evidence,
				FirstSeen: st.first, LastSeen: st.last}
			n = st.n
		} else {
			mine = mine[:0]
			for k := range res.aggs {
				if m := &entries[res.aggs[k].entry]; m.set == si && m.hits[j] {
					mine = append(mine, &res.aggs[k])
				}
			}
			if len(mine) == 0 {
				continue
			}
			var first, last *projAgg
			at0 := mine[0].at[0]
			for _, a := range mine {
				n += a.n
				at0 = min(at0, a.at[0])
				if first == nil || spanFirst(a.first, a.firstAt, first.first, first.firstAt) {
					first = a
				}
				if last == nil || a.last.After(last.last) || a.last.Equal(last.last) && a.lastAt < last.lastAt {
					last = a
				}
			}
			r.flowCtx(cv, g, int(at0))
			c := cv.c
			ev := r.evidence(ri, c.Client, int(at0))
			v = Violation{AssetID: c.Client, ClientID: c.Client, ServerID: c.Server,
				Evidence:  append(make([]string, 0, len(ev)+MaxFlowEvidence+1), ev...),
				FirstSeen: first.first, LastSeen: last.last}
			v.Evidence = mergeLines(v.Evidence, mine)
		}
		v.RuleID, v.Title, v.Severity = rule.ID, rule.Title, rule.Severity
		if extra := n - MaxFlowEvidence; extra == 1 {
			v.Evidence = append(v.Evidence, "… 1 more flow")
		} else if extra > 1 {
			v.Evidence = append(v.Evidence, "… "+strconv.Itoa(int(extra))+" more flows")
		}
		res.rules = append(res.rules, ri)
		res.viols = append(res.viols, v)
	}
	res.slots, res.aggs = nil, nil
}

// spanFirst reports whether first time a (set by flow ai) comes before b
// (set by flow bi) under timeSpan's rule applied in flow order: the
// earliest non-zero time, the earlier flow on ties, a zero time only when
// there is no other.
func spanFirst(a time.Time, ai int32, b time.Time, bi int32) bool {
	switch {
	case a.IsZero() != b.IsZero():
		return !a.IsZero()
	case a.IsZero():
		return ai < bi
	case a.Equal(b):
		return ai < bi
	}
	return a.Before(b)
}

// mergeLines appends the evidence lines of the first MaxFlowEvidence
// flows of the aggregates, in flow order.
func mergeLines(out []string, aggs []*projAgg) []string {
	if len(aggs) == 1 {
		return append(out, aggs[0].lines...)
	}
	next := make([]int, len(aggs))
	for range MaxFlowEvidence {
		best := -1
		for k, a := range aggs {
			if next[k] < len(a.at) && (best < 0 || a.at[next[k]] < aggs[best].at[next[best]]) {
				best = k
			}
		}
		if best < 0 {
			break
		}
		out = append(out, aggs[best].lines[next[best]])
		next[best]++
	}
	return out
}
