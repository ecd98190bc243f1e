package policy

import (
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"

	"otscope/model"
)

// The CEL object types the rules see.
var (
	assetType     = types.NewObjectType("otscope.Asset")
	serviceType   = types.NewObjectType("otscope.Service")
	functionType  = types.NewObjectType("otscope.Function")
	lifecycleType = types.NewObjectType("otscope.Lifecycle")
	advisoryType  = types.NewObjectType("otscope.Advisory")
	zoneType      = types.NewObjectType("otscope.Zone")
	convType      = types.NewObjectType("otscope.Conversation")
)

var errNoConversion = errors.New("policy: value cannot be converted")

// field describes one field of a CEL object type: its type and how to read
// it from the Go view.
type field struct {
	t   *types.Type
	get func(any) ref.Val
}

// provider adds the otscope object types to CEL's standard registry.
type provider struct {
	*types.Registry
	objects map[string]map[string]*types.FieldType
	names   map[string][]string
}

func (p *provider) add(t *types.Type, fields map[string]field) {
	fts := make(map[string]*types.FieldType, len(fields))
	var names []string
	for n, f := range fields {
		get := f.get
		fts[n] = &types.FieldType{
			Type:    f.t,
			IsSet:   func(any) bool { return true },
			GetFrom: func(target any) (any, error) { return get(target), nil },
		}
		names = append(names, n)
	}
	p.objects[t.TypeName()] = fts
	p.names[t.TypeName()] = names
}

// FindStructType implements types.Provider.
func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.objects[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if n, ok := p.names[name]; ok {
		return n, true
	}
	return p.Registry.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p *provider) FindStructFieldType(name, fieldName string) (*types.FieldType, bool) {
	if fs, ok := p.objects[name]; ok {
		f, ok := fs[fieldName]
		return f, ok
	}
	return p.Registry.FindStructFieldType(name, fieldName)
}

// NewValue implements types.Provider: rules cannot build otscope objects.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.objects[name]; ok {
		return types.NewErr("cannot create %s", name)
	}
	return p.Registry.NewValue(name, fields)
}

// object is the ref.Val part shared by every view: views are their own
// Value, equal only to themselves.
type object struct{ typ *types.Type }

func (o object) ConvertToNative(reflect.Type) (any, error) { return nil, errNoConversion }
func (o object) Type() ref.Type                            { return o.typ }

func convertToType(self ref.Val, t *types.Type, typ ref.Type) ref.Val {
	if typ == types.TypeType {
		return t
	}
	return types.NewErr("type conversion error from %s to %s", t.TypeName(), typ.TypeName())
}

// serviceVal, functionVal, advisoryVal, lifecycleVal and zoneVal are the
// small views; assetView and convView are in audit.go.
type (
	serviceVal   = view[model.Service]
	functionVal  = view[functionFields]
	advisoryVal  = view[AdvisoryRef]
	lifecycleVal = view[lifecycleFields]
)

type functionFields struct{ protocol, value, category string }

type lifecycleFields struct {
	phase, endOfSupport string
	known               bool
}

// view is a small view with the fields f, equal only to itself.
type view[T any] struct {
	object
	f T
}

func (v *view[T]) ConvertToType(t ref.Type) ref.Val { return convertToType(v, v.typ, t) }
func (v *view[T]) Equal(o ref.Val) ref.Val          { return types.Bool(o == ref.Val(v)) }
func (v *view[T]) Value() any                       { return v }

// zoneVal is equal to a zone of the same name.
type zoneVal struct {
	object
	name   string
	purdue int
}

func (v *zoneVal) ConvertToType(t ref.Type) ref.Val { return convertToType(v, zoneType, t) }
func (v *zoneVal) Equal(o ref.Val) ref.Val {
	z, ok := o.(*zoneVal)
	return types.Bool(ok && z.name == v.name)
}
func (v *zoneVal) Value() any { return v }

func strList(s []string) ref.Val { return types.NewStringList(types.DefaultTypeAdapter, s) }

// newProvider declares the object types and their fields.
func newProvider() *provider {
	p := &provider{
		Registry: must(types.NewRegistry()),
		objects:  map[string]map[string]*types.FieldType{},
		names:    map[string][]string{},
	}
	str := func(f func(*assetView) string) field {
		return field{types.StringType, func(x any) ref.Val { return types.String(f(x.(*assetView))) }}
	}
	list := func(f func(*assetView) ref.Val) field {
		return field{types.NewListType(types.StringType), func(x any) ref.Val { return f(x.(*assetView)) }}
	}
	p.add(assetType, map[string]field{
		"id":               str(func(v *assetView) string { return string(v.a.ID) }),
		"vendor":           str(func(v *assetView) string { return v.a.Vendor }),
		"product":          str(func(v *assetView) string { return v.a.Product }),
		"order_number":     str(func(v *assetView) string { return v.a.OrderNumber }),
		"firmware":         str(func(v *assetView) string { return v.a.Firmware }),
		"hardware_version": str(func(v *assetView) string { return v.a.HardwareVersion }),
		"device_type":      str(func(v *assetView) string { return v.a.DeviceType }),
		"operating_mode":   str(func(v *assetView) string { return v.a.OperatingMode }),
		"ips":              list(func(v *assetView) ref.Val { return v.ips() }),
		"macs":             list(func(v *assetView) ref.Val { return v.macs() }),
		"roles":            list(func(v *assetView) ref.Val { return strList(v.a.Roles) }),
		"protocols":        list(func(v *assetView) ref.Val { return strList(v.a.Protocols) }),
		"names":            list(func(v *assetView) ref.Val { return strList(v.a.Names) }),
		"vlans": {types.NewListType(types.IntType), func(x any) ref.Val {
			v := x.(*assetView)
			out := make([]int64, len(v.a.VLANs))
			for i, n := range v.a.VLANs {
				out[i] = int64(n)
			}
			return types.DefaultTypeAdapter.NativeToValue(out)
		}},
		"services":   {types.NewListType(serviceType), func(x any) ref.Val { return x.(*assetView).services() }},
		"functions":  {types.NewListType(functionType), func(x any) ref.Val { return x.(*assetView).functionList() }},
		"advisories": {types.NewListType(advisoryType), func(x any) ref.Val { return x.(*assetView).advisoryList() }},
		"facts": {types.NewMapType(types.StringType, types.NewListType(types.StringType)),
			func(x any) ref.Val { return x.(*assetView).factMap() }},
		"lifecycle":  {lifecycleType, func(x any) ref.Val { return x.(*assetView).lifecycle() }},
		"zone":       {zoneType, func(x any) ref.Val { return x.(*assetView).zone }},
		"first_seen": {types.TimestampType, func(x any) ref.Val { return types.Timestamp{Time: x.(*assetView).a.FirstSeen} }},
		"last_seen":  {types.TimestampType, func(x any) ref.Val { return types.Timestamp{Time: x.(*assetView).a.LastSeen} }},
		"packets":    {types.IntType, func(x any) ref.Val { return types.Int(x.(*assetView).a.Packets) }},
		"gateway":    {types.BoolType, func(x any) ref.Val { return types.Bool(x.(*assetView).a.Gateway) }},
	})
	p.add(serviceType, map[string]field{
		"transport": {types.StringType, func(x any) ref.Val { return types.String(x.(*serviceVal).f.Transport) }},
		"port":      {types.IntType, func(x any) ref.Val { return types.Int(x.(*serviceVal).f.Port) }},
		"protocol":  {types.StringType, func(x any) ref.Val { return types.String(x.(*serviceVal).f.Protocol) }},
		"industrial": {types.BoolType, func(x any) ref.Val {
			return types.Bool(model.IsIndustrial(x.(*serviceVal).f.Protocol))
		}},
	})
	p.add(functionType, map[string]field{
		"protocol": {types.StringType, func(x any) ref.Val { return types.String(x.(*functionVal).f.protocol) }},
		"value":    {types.StringType, func(x any) ref.Val { return types.String(x.(*functionVal).f.value) }},
		"category": {types.StringType, func(x any) ref.Val { return types.String(x.(*functionVal).f.category) }},
	})
	p.add(advisoryType, map[string]field{
		"id":    {types.StringType, func(x any) ref.Val { return types.String(x.(*advisoryVal).f.ID) }},
		"title": {types.StringType, func(x any) ref.Val { return types.String(x.(*advisoryVal).f.Title) }},
		"cvss":  {types.DoubleType, func(x any) ref.Val { return types.Double(x.(*advisoryVal).f.CVSS) }},
		"kev":   {types.BoolType, func(x any) ref.Val { return types.Bool(x.(*advisoryVal).f.KEV) }},
	})
	p.add(zoneType, map[string]field{
		"name":   {types.StringType, func(x any) ref.Val { return types.String(x.(*zoneVal).name) }},
		"purdue": {types.IntType, func(x any) ref.Val { return types.Int(x.(*zoneVal).purdue) }},
	})
	p.add(lifecycleType, map[string]field{
		"phase":          {types.StringType, func(x any) ref.Val { return types.String(x.(*lifecycleVal).f.phase) }},
		"end_of_support": {types.StringType, func(x any) ref.Val { return types.String(x.(*lifecycleVal).f.endOfSupport) }},
		"known":          {types.BoolType, func(x any) ref.Val { return types.Bool(x.(*lifecycleVal).f.known) }},
	})
	cv := func(f func(*convView) ref.Val) func(any) ref.Val {
		return func(x any) ref.Val { return f(x.(*convView)) }
	}
	p.add(convType, map[string]field{
		"client":      {assetType, cv(func(c *convView) ref.Val { return c.client })},
		"server":      {assetType, cv(func(c *convView) ref.Val { return c.server })},
		"client_ip":   {types.StringType, cv(func(c *convView) ref.Val { return types.String(ipString(c.c.ClientIP)) })},
		"server_ip":   {types.StringType, cv(func(c *convView) ref.Val { return types.String(ipString(c.c.ServerIP)) })},
		"transport":   {types.StringType, cv(func(c *convView) ref.Val { return types.String(c.c.Transport) })},
		"port":        {types.IntType, cv(func(c *convView) ref.Val { return types.Int(c.c.Port) })},
		"protocol":    {types.StringType, cv(func(c *convView) ref.Val { return types.String(c.c.Protocol) })},
		"industrial":  {types.BoolType, cv(func(c *convView) ref.Val { return types.Bool(model.IsIndustrial(c.c.Protocol)) })},
		"packets":     {types.IntType, cv(func(c *convView) ref.Val { return types.Int(c.c.Packets) })},
		"bytes":       {types.IntType, cv(func(c *convView) ref.Val { return types.Int(c.c.Bytes) })},
		"client_zone": {zoneType, cv(func(c *convView) ref.Val { return c.clientZone })},
		"server_zone": {zoneType, cv(func(c *convView) ref.Val { return c.serverZone })},
		"allowed":     {types.BoolType, cv(func(c *convView) ref.Val { return types.Bool(c.allowed) })},
		"first_seen":  {types.TimestampType, cv(func(c *convView) ref.Val { return types.Timestamp{Time: c.c.FirstSeen} })},
		"last_seen":   {types.TimestampType, cv(func(c *convView) ref.Val { return types.Timestamp{Time: c.c.LastSeen} })},
	})
	return p
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// regexCache holds the compiled patterns of fact_matches and
// evidence_matching; rules use constant patterns, so it stays small.
var regexCache sync.Map // string -> *regexp.Regexp or error

func cachedRegexp(pattern string) (*regexp.Regexp, error) {
	if v, ok := regexCache.Load(pattern); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, v.(error)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		regexCache.Store(pattern, err)
		return nil, err
	}
	regexCache.Store(pattern, re)
	return re, nil
}

// envs holds the two CEL environments (asset and conversation scope). They
// are immutable and safe for concurrent use.
var envs = sync.OnceValues(func() (*cel.Env, *cel.Env) {
	p := newProvider()
	common := []cel.EnvOption{
		cel.CustomTypeProvider(p),
		cel.Variable("zones_defined", cel.BoolType),
		cel.Variable("now", cel.TimestampType),
		ext.Strings(),
	}
	common = append(common, assetFunctions()...)
	asset := must(cel.NewEnv(append(common, cel.Variable("asset", assetType))...))
	conv := must(cel.NewEnv(append(common, cel.Variable("conv", convType))...))
	return asset, conv
})

func av(v ref.Val) *assetView { return v.(*assetView) }

func str(v ref.Val) string { s, _ := v.Value().(string); return s }

// assetFunctions are the helper methods on otscope.Asset (see the package
// documentation for the list).
func assetFunctions() []cel.EnvOption {
	S, B, A := cel.StringType, cel.BoolType, assetType
	L := cel.ListType(cel.StringType)
	bin := func(f func(*assetView, string) ref.Val) cel.OverloadOpt {
		return cel.BinaryBinding(func(a, b ref.Val) ref.Val { return f(av(a), str(b)) })
	}
	tri := func(f func(*assetView, string, string) ref.Val) cel.OverloadOpt {
		return cel.FunctionBinding(func(args ...ref.Val) ref.Val { return f(av(args[0]), str(args[1]), str(args[2])) })
	}
	return []cel.EnvOption{
		cel.Function("has_fact",
			cel.MemberOverload("asset_has_fact", []*cel.Type{A, S}, B,
				bin(func(v *assetView, f string) ref.Val { return types.Bool(v.hasFact(f, "", false)) })),
			cel.MemberOverload("asset_has_fact_value", []*cel.Type{A, S, S}, B,
				tri(func(v *assetView, f, val string) ref.Val { return types.Bool(v.hasFact(f, val, true)) }))),
		cel.Function("fact",
			cel.MemberOverload("asset_fact", []*cel.Type{A, S}, S,
				bin(func(v *assetView, f string) ref.Val { return types.String(v.a.Fact(f)) }))),
		cel.Function("fact_values",
			cel.MemberOverload("asset_fact_values", []*cel.Type{A, S}, L,
				bin(func(v *assetView, f string) ref.Val { return strList(v.a.FactValues(f)) }))),
		cel.Function("fact_matches",
			cel.MemberOverload("asset_fact_matches", []*cel.Type{A, S, S}, B,
				tri(func(v *assetView, f, pat string) ref.Val {
					re, err := cachedRegexp(pat)
					if err != nil {
						return types.WrapErr(err)
					}
					return types.Bool(slices.ContainsFunc(v.a.Facts, func(x model.Fact) bool { return x.Field == f && re.MatchString(x.Value) }))
				}))),
		cel.Function("has_role",
			cel.MemberOverload("asset_has_role", []*cel.Type{A, S}, B,
				bin(func(v *assetView, r string) ref.Val { return types.Bool(containsFold(v.a.Roles, r)) }))),
		cel.Function("has_any_role",
			cel.MemberOverload("asset_has_any_role", []*cel.Type{A, L}, B,
				cel.BinaryBinding(func(a, l ref.Val) ref.Val {
					v := av(a)
					lister, ok := l.(traits.Lister)
					if !ok {
						return types.False
					}
					n, _ := lister.Size().(types.Int)
					for i := types.Int(0); i < n; i++ {
						if r, ok := lister.Get(i).(types.String); ok && containsFold(v.a.Roles, string(r)) {
							return types.True
						}
					}
					return types.False
				}))),
		cel.Function("has_protocol",
			cel.MemberOverload("asset_has_protocol", []*cel.Type{A, S}, B,
				bin(func(v *assetView, p string) ref.Val { return types.Bool(containsFold(v.a.Protocols, p)) }))),
		cel.Function("has_service",
			cel.MemberOverload("asset_has_service", []*cel.Type{A, S}, B,
				bin(func(v *assetView, p string) ref.Val {
					return types.Bool(slices.ContainsFunc(v.a.Services, func(s model.Service) bool { return strings.EqualFold(s.Protocol, p) }))
				})),
			cel.MemberOverload("asset_has_service_port", []*cel.Type{A, S, cel.IntType}, B,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					v, tr := av(args[0]), str(args[1])
					port, _ := args[2].Value().(int64)
					return types.Bool(slices.ContainsFunc(v.a.Services, func(s model.Service) bool {
						return strings.EqualFold(s.Transport, tr) && int64(s.Port) == port
					}))
				}))),
		cel.Function("has_function",
			cel.MemberOverload("asset_has_function_category", []*cel.Type{A, S}, B,
				bin(func(v *assetView, c string) ref.Val { return types.Bool(v.hasFunction("", c)) })),
			cel.MemberOverload("asset_has_function_protocol_category", []*cel.Type{A, S, S}, B,
				tri(func(v *assetView, p, c string) ref.Val { return types.Bool(v.hasFunction(p, c)) }))),
		cel.Function("evidence",
			cel.MemberOverload("asset_evidence", []*cel.Type{A, S}, L,
				bin(func(v *assetView, f string) ref.Val { return strList(v.factEvidence(f, "", nil)) })),
			cel.MemberOverload("asset_evidence_value", []*cel.Type{A, S, S}, L,
				tri(func(v *assetView, f, val string) ref.Val { return strList(v.factEvidence(f, val, nil)) }))),
		cel.Function("evidence_matching",
			cel.MemberOverload("asset_evidence_matching", []*cel.Type{A, S, S}, L,
				tri(func(v *assetView, f, pat string) ref.Val {
					re, err := cachedRegexp(pat)
					if err != nil {
						return types.WrapErr(err)
					}
					return strList(v.factEvidence(f, "", re))
				}))),
		cel.Function("function_evidence",
			cel.MemberOverload("asset_function_evidence", []*cel.Type{A, S}, L,
				bin(func(v *assetView, c string) ref.Val { return strList(v.functionEvidence("", c)) })),
			cel.MemberOverload("asset_function_evidence_protocol", []*cel.Type{A, S, S}, L,
				tri(func(v *assetView, p, c string) ref.Val { return strList(v.functionEvidence(p, c)) }))),
		cel.Function("service_evidence",
			cel.MemberOverload("asset_service_evidence", []*cel.Type{A, S}, L,
				bin(func(v *assetView, p string) ref.Val { return strList(v.serviceEvidence(p)) }))),
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// factLine formats a fact with its provenance:
// "field=value (protocol · origin #frame)".
func factLine(f *model.Fact) string {
	var b strings.Builder
	b.Grow(len(f.Field) + len(f.Value) + len(f.Detail) + len(f.Source.Protocol) + len(f.Source.Origin) + 40)
	b.WriteString(f.Field)
	b.WriteByte('=')
	b.WriteString(f.Value)
	if f.Detail != "" && strings.HasSuffix(f.Field, ".function") {
		b.WriteString(" [")
		b.WriteString(f.Detail)
		b.WriteByte(']')
	}
	n := 0
	part := func(s string) {
		if n == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString(" · ")
		}
		n++
		b.WriteString(s)
	}
	if f.Source.Protocol != "" {
		part(f.Source.Protocol)
	}
	if f.Source.Origin != "" {
		part(f.Source.Origin)
		if f.Source.Frame > 0 {
			b.WriteString(" #")
			b.WriteString(strconv.FormatUint(f.Source.Frame, 10))
		}
	}
	if f.Source.Kind != model.Passive && f.Source.Kind != 0 {
		part(f.Source.Kind.String())
	}
	if n > 0 {
		b.WriteByte(')')
	}
	return b.String()
}

func serviceLine(s *model.Service) string {
	line := "service " + s.Transport + "/" + strconv.Itoa(int(s.Port)) + " " + s.Protocol
	if s.IP.IsValid() {
		line += " on " + s.IP.String()
	}
	return line
}

func timeSpan(first, last *time.Time, f, l time.Time) {
	if !f.IsZero() && (first.IsZero() || f.Before(*first)) {
		*first = f
	}
	if l.After(*last) {
		*last = l
	}
}
