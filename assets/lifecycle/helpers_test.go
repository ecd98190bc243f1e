package lifecycle

import (
	"sync"
	"testing"
	"time"

	"otscope/model"
)

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
)

// defaultCatalog is the built-in catalog, built once per test binary.
func defaultCatalog(t testing.TB) *Catalog {
	t.Helper()
	defaultOnce.Do(func() {
		es, ps := DefaultEntries()
		if len(ps) > 0 {
			t.Fatalf("default catalog: %v", ps)
		}
		var bp []Problem
		defaultCat, bp = Build(Set{Name: DefaultName, Entries: es})
		if len(bp) > 0 {
			t.Fatalf("default catalog: %v", bp)
		}
	})
	return defaultCat
}

var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

// fact is a passive fact heard with proto.
func fact(field, value, proto string) model.Fact {
	return model.Fact{Field: field, Value: value, Count: 1, LastSeen: t0,
		Source: model.Source{Kind: model.Passive, Protocol: proto, Origin: "demo", Frame: 1006, Time: t0}}
}

// asset builds an asset from facts, filling the summary fields the way the
// inventory does (first value wins).
func asset(id string, facts ...model.Fact) *model.Asset {
	a := &model.Asset{ID: model.AssetID(id), Facts: facts, FirstSeen: t0.Add(-time.Hour), LastSeen: t0}
	summary := map[string]*string{model.FieldVendor: &a.Vendor, model.FieldProduct: &a.Product,
		model.FieldOrderNumber: &a.OrderNumber, model.FieldFirmware: &a.Firmware}
	for _, f := range facts {
		if p := summary[f.Field]; p != nil && *p == "" {
			*p = f.Value
		}
		if f.Field == model.FieldModule {
			if m, ok := model.ParseModule(f.Value); ok {
				a.Modules = append(a.Modules, m)
			}
		}
	}
	return a
}
