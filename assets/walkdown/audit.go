package walkdown

import (
	"strings"

	"otscope/model"
)

// AuditAssets returns the assets a policy audit should see with the
// walkdown in it: every asset with its manual facts, its location, a
// walkdown.verdict fact and a walkdown.nameplate_mismatch fact per field
// where the nameplate and the network disagree; manual assets; and one
// asset "doc:<tag>" per documented row no asset matched (unseen or
// missing), so rules can name it. The default pack's
// undocumented-device, documented-device-unseen and nameplate-mismatch
// rules read these facts.
func (e *Evaluation) AuditAssets() []model.Asset {
	out := make([]model.Asset, 0, len(e.Items))
	for i := range e.Items {
		it := &e.Items[i]
		v := it.Verdict
		src := model.Source{Kind: model.Derived, Protocol: "walkdown", Origin: v.By, Time: v.At}
		if it.Walked() {
			src.Kind = model.Manual
		}
		var a model.Asset
		if it.Asset != nil {
			a = it.Asset.Clone()
		} else {
			d := it.Doc
			a = model.Asset{ID: model.AssetID(it.Key), Names: []string{d.Tag}, Vendor: d.Vendor, Product: d.Product,
				OrderNumber: d.OrderNumber, Serial: d.Serial, Firmware: d.Firmware, HardwareVersion: d.HardwareVersion}
			a.Facts = append(a.Facts, model.Fact{Field: model.FieldTag, Value: d.Tag, Detail: "documented at " + d.Source,
				Source: model.Source{Kind: model.Manual, Protocol: "documented", Origin: d.Source}, Count: 1})
		}
		if len(it.Location) > 0 && a.Fact(model.FieldLocation) == "" {
			a.Facts = append(a.Facts, model.Fact{Field: model.FieldLocation, Value: it.Location.String(), Source: src, Count: 1})
		}
		why := v.Why
		if it.Doc != nil {
			why = strings.TrimSpace(why + "; documented at " + it.Doc.Source)
		}
		a.Facts = append(a.Facts, model.Fact{Field: model.FieldWalkdownVerdict, Value: string(v.Value), Detail: why, Source: src, Count: 1})
		if it.Asset != nil {
			a.Facts = append(a.Facts, nameplateMismatches(it.Asset)...)
		}
		out = append(out, a)
	}
	return out
}

// nameplateMismatches returns a fact per identity field where the newest
// manual value and the network's value disagree.
func nameplateMismatches(a *model.Asset) []model.Fact {
	var out []model.Fact
	for _, field := range compared {
		vals := observed(a, field)
		if len(vals) == 2 && vals[0].source == "manual" && !agree(field, vals[0].value, vals[1].value) {
			var src model.Source
			for i := len(a.Facts) - 1; i >= 0; i-- {
				if f := &a.Facts[i]; f.Field == field && f.Source.Kind == model.Manual {
					src = f.Source
					break
				}
			}
			out = append(out, model.Fact{Field: model.FieldWalkdownNameplateMismatch,
				Value: strings.ReplaceAll(field, "_", " ") + ": nameplate " + vals[0].value + ", network " + vals[1].value, Source: src, Count: 1})
		}
	}
	return out
}
