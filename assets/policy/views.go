package policy

import (
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"otscope/model"
)

// assetView is the CEL value of one asset. Fields that cost an allocation
// are computed on first use and kept for the rest of the audit. The
// evidence helpers widen evFirst/evLast, the time span of what they cite.
type assetView struct {
	object
	a    *model.Asset
	in   *Input
	zone *zoneVal

	ipList, svcList, fnList, advList, facts ref.Val
	lc                                      *lifecycleVal
	evFirst, evLast                         time.Time
}

func (v *assetView) ConvertToType(t ref.Type) ref.Val { return convertToType(v, assetType, t) }
func (v *assetView) Equal(o ref.Val) ref.Val {
	w, ok := o.(*assetView)
	return types.Bool(ok && w.a.ID == v.a.ID)
}
func (v *assetView) Value() any { return v }

func ipString(ip netip.Addr) string {
	if ip.IsValid() {
		return ip.String()
	}
	return ""
}

func (v *assetView) ips() ref.Val {
	if v.ipList == nil {
		s := make([]string, len(v.a.IPs))
		for i, ip := range v.a.IPs {
			s[i] = ip.String()
		}
		v.ipList = strList(s)
	}
	return v.ipList
}

func (v *assetView) macs() ref.Val {
	s := make([]string, len(v.a.MACs))
	for i, m := range v.a.MACs {
		s[i] = m.String()
	}
	return strList(s)
}

func (v *assetView) services() ref.Val {
	if v.svcList == nil {
		l := make([]ref.Val, len(v.a.Services))
		for i := range v.a.Services {
			l[i] = &serviceVal{object{serviceType}, v.a.Services[i]}
		}
		v.svcList = types.NewRefValList(types.DefaultTypeAdapter, l)
	}
	return v.svcList
}

func (v *assetView) functionList() ref.Val {
	if v.fnList == nil {
		var l []ref.Val
		for i := range v.a.Facts {
			f := &v.a.Facts[i]
			if p, ok := strings.CutSuffix(f.Field, ".function"); ok {
				l = append(l, &functionVal{object{functionType}, functionFields{p, f.Value, f.Detail}})
			}
		}
		v.fnList = types.NewRefValList(types.DefaultTypeAdapter, l)
	}
	return v.fnList
}

func (v *assetView) advisoryList() ref.Val {
	if v.advList == nil {
		var l []ref.Val
		if v.in.Advisories != nil {
			for _, a := range v.in.Advisories(v.a) {
				l = append(l, &advisoryVal{object{advisoryType}, a})
			}
		}
		v.advList = types.NewRefValList(types.DefaultTypeAdapter, l)
	}
	return v.advList
}

func (v *assetView) factMap() ref.Val {
	if v.facts == nil {
		m := map[string][]string{}
		for i := range v.a.Facts {
			f := &v.a.Facts[i]
			if !containsFold(m[f.Field], f.Value) {
				m[f.Field] = append(m[f.Field], f.Value)
			}
		}
		v.facts = types.DefaultTypeAdapter.NativeToValue(m)
	}
	return v.facts
}

func (v *assetView) lifecycle() ref.Val {
	if v.lc == nil {
		v.lc = &lifecycleVal{object: object{lifecycleType}}
		if v.in.Lifecycle != nil {
			v.lc.f.phase, v.lc.f.endOfSupport, v.lc.f.known = v.in.Lifecycle(v.a)
		}
	}
	return v.lc
}

func (v *assetView) hasFact(field, value string, withValue bool) bool {
	for i := range v.a.Facts {
		f := &v.a.Facts[i]
		if f.Field == field && (!withValue || strings.EqualFold(f.Value, value)) {
			return true
		}
	}
	return false
}

func functionMatches(f *model.Fact, protocol, category string) bool {
	p, ok := strings.CutSuffix(f.Field, ".function")
	return ok && (protocol == "" || strings.EqualFold(p, protocol)) && strings.EqualFold(f.Detail, category)
}

func (v *assetView) hasFunction(protocol, category string) bool {
	for i := range v.a.Facts {
		if functionMatches(&v.a.Facts[i], protocol, category) {
			return true
		}
	}
	return false
}

func (v *assetView) factEvidence(field, value string, re *regexp.Regexp) []string {
	var out []string
	for i := range v.a.Facts {
		f := &v.a.Facts[i]
		if f.Field != field || (value != "" && !strings.EqualFold(f.Value, value)) ||
			(re != nil && !re.MatchString(f.Value)) {
			continue
		}
		out = append(out, factLine(f))
		timeSpan(&v.evFirst, &v.evLast, f.Source.Time, f.LastSeen)
	}
	return out
}

func (v *assetView) functionEvidence(protocol, category string) []string {
	var out []string
	for i := range v.a.Facts {
		f := &v.a.Facts[i]
		if functionMatches(f, protocol, category) {
			out = append(out, factLine(f))
			timeSpan(&v.evFirst, &v.evLast, f.Source.Time, f.LastSeen)
		}
	}
	return out
}

func (v *assetView) serviceEvidence(protocol string) []string {
	var out []string
	for i := range v.a.Services {
		s := &v.a.Services[i]
		if strings.EqualFold(s.Protocol, protocol) {
			out = append(out, serviceLine(s))
			timeSpan(&v.evFirst, &v.evLast, s.FirstSeen, s.LastSeen)
		}
	}
	return out
}

// convView is the CEL value of one conversation.
type convView struct {
	object
	c                      *model.Conversation
	client, server         *assetView
	clientZone, serverZone *zoneVal
	allowed                bool
}

func (v *convView) ConvertToType(t ref.Type) ref.Val { return convertToType(v, convType, t) }
func (v *convView) Equal(o ref.Val) ref.Val          { return types.Bool(o == ref.Val(v)) }
func (v *convView) Value() any                       { return v }
