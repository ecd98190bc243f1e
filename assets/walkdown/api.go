package walkdown

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"otscope/assets/store"
	"otscope/model"
)

// Open reads a session's walkdown journal into a Book that stores new
// records in it. skipped counts records that could not be used.
func Open(st *store.Store, session string) (b *Book, skipped int, err error) {
	recs, bad, err := store.ReadJournal[Record](st, session, store.Walkdown)
	if err != nil {
		return nil, 0, err
	}
	b, n := NewBook(recs, func(rs ...Record) error {
		out := make([]any, len(rs))
		for i := range rs {
			out[i] = rs[i]
		}
		return st.Append(session, store.Walkdown, out...)
	})
	return b, bad + n, nil
}

// Resolve finds an asset by ID (in any case), IP, MAC, name or tag (a
// documented tag it matched, or a tag typed from its nameplate) among
// assets and the book's manual assets.
func (b *Book) Resolve(assets []model.Asset, ref string) (model.AssetID, error) {
	ref = strings.TrimSpace(ref)
	all := append(slices.Clip(assets), b.ManualAssets()...)
	ipRef, ipErr := netip.ParseAddr(ref)
	macRef, macErr := model.ParseMAC(ref)
	var hits []model.AssetID
	for i := range all {
		a := &all[i]
		switch {
		case string(a.ID) == ref:
			return a.ID, nil
		case strings.EqualFold(string(a.ID), ref), // manual:DI-1 as typed from a label
			ipErr == nil && slices.Contains(a.IPs, ipRef),
			macErr == nil && slices.Contains(a.MACs, macRef),
			slices.ContainsFunc(a.Names, func(n string) bool { return strings.EqualFold(n, ref) }),
			strings.EqualFold(latestManual(b.ManualFacts(a.ID), model.FieldTag), ref):
			hits = append(hits, a.ID)
		}
	}
	if len(hits) == 0 {
		ev := b.Evaluate(assets)
		for i := range ev.Items {
			it := &ev.Items[i]
			if it.Asset != nil && it.Doc != nil && strings.EqualFold(it.Doc.Tag, ref) {
				hits = append(hits, it.Asset.ID)
			}
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("no asset %q (give its id, IP, MAC, name or tag)", ref)
	case 1:
		return hits[0], nil
	}
	return "", fmt.Errorf("%q names %d assets (%s, %s...): give the id", ref, len(hits), hits[0], hits[1])
}

// ParseValues reads field=value arguments of `otscope nameplate` and
// `otscope add`.
func ParseValues(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: write field=value (fields: %s)", a, strings.Join(NameplateFields, ", "))
		}
		if !slices.Contains(NameplateFields, k) {
			return nil, fmt.Errorf("%q: unknown field %q (fields: %s)", a, k, strings.Join(NameplateFields, ", "))
		}
		out[k] = v
	}
	return out, nil
}

// ImportFile is `otscope inventory import FILE --session S [--map
// COLUMN=field]... [--sheet NAME]`: it reads the file, stores the good
// rows in the session's walkdown journal and returns what changed and the
// rows skipped. A file that cannot be read stores nothing.
func ImportFile(st *store.Store, session, path string, maps []string, sheet, by string) (ImportSummary, Imported, error) {
	m, err := ParseMap(maps)
	if err != nil {
		return ImportSummary{}, Imported{}, err
	}
	im, err := ReadFile(path, ImportOptions{Map: m, Sheet: sheet})
	if err != nil {
		return ImportSummary{}, Imported{}, err
	}
	b, _, err := Open(st, session)
	if err != nil {
		return ImportSummary{}, im, err
	}
	s, err := b.Import(im, path, by, time.Now())
	return s, im, err
}

// openValues parses the field=value arguments of a command, then opens the
// session's book: a typo is reported before the session is read.
func openValues(st *store.Store, session string, args []string) (*Book, map[string]string, error) {
	vals, err := ParseValues(args)
	if err != nil {
		return nil, nil, err
	}
	b, _, err := Open(st, session)
	return b, vals, err
}

// SetNameplate is `otscope nameplate --session S --asset REF field=value...`.
func SetNameplate(st *store.Store, session string, assets []model.Asset, ref string, args []string, by string) (model.AssetID, error) {
	b, vals, err := openValues(st, session, args)
	if err != nil {
		return "", err
	}
	id, err := b.Resolve(assets, ref)
	if err != nil {
		return "", err
	}
	return id, b.Nameplate(id, vals, by, "cli", time.Now())
}

// AddDevice is `otscope add --session S --name NAME [--parent REF --slot
// N] [--location PATH] [field=value...]`.
func AddDevice(st *store.Store, session string, assets []model.Asset, name, parentRef, slot, location string, args []string, by string) (model.AssetID, error) {
	b, vals, err := openValues(st, session, args)
	if err != nil {
		return "", err
	}
	var parent model.AssetID
	if parentRef != "" {
		if parent, err = b.Resolve(assets, parentRef); err != nil {
			return "", fmt.Errorf("--parent: %w", err)
		}
	} else if slot != "" {
		return "", fmt.Errorf("--slot needs --parent")
	}
	return b.AddManual(name, parent, slot, model.ParseLocation(location), vals, by, "cli", time.Now())
}

// LocateAssets is `otscope locate --session S --asset REF --at PATH`; refs
// may name many assets at once.
func LocateAssets(st *store.Store, session string, assets []model.Asset, refs []string, path, by string) ([]model.AssetID, error) {
	b, _, err := Open(st, session)
	if err != nil {
		return nil, err
	}
	var ids []model.AssetID
	for _, r := range refs {
		id, err := b.Resolve(assets, r)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, b.Locate(ids, model.ParseLocation(path), by, "cli", time.Now())
}

// SetAssetVerdict is `otscope verdict --session S --asset REF --set
// match|compatible|mismatch|missing --why TEXT`. REF may also be the tag
// of a documented row no asset matched (to mark it missing). states (the
// session's tracker, or nil) follows the verdict.
func SetAssetVerdict(st *store.Store, session string, assets []model.Asset, ref, value, why, by string, states States) (string, error) {
	v, ok := model.ParseVerdict(value)
	if !ok {
		return "", fmt.Errorf("--set %q: give match, compatible, mismatch or missing", value)
	}
	b, _, err := Open(st, session)
	if err != nil {
		return "", err
	}
	target := ""
	if id, err := b.Resolve(assets, ref); err == nil {
		target = string(id)
	} else {
		for _, d := range b.Documented() {
			if strings.EqualFold(d.Tag, ref) {
				target = DocTarget(d.Tag)
			}
		}
		if target == "" {
			return "", err
		}
	}
	return target, b.SetVerdict(target, v, why, by, time.Now(), states)
}

// Annotate returns what `assets --format json` adds to each asset
// (location, verdict, documented), keyed by asset ID, manual assets
// included.
func (b *Book) Annotate(assets []model.Asset) map[model.AssetID]model.Walkdown {
	return b.Evaluate(assets).Notes()
}

// Notes is Annotate for an evaluation already made.
func (e *Evaluation) Notes() map[model.AssetID]model.Walkdown {
	out := make(map[model.AssetID]model.Walkdown, len(e.Items))
	for i := range e.Items {
		it := &e.Items[i]
		if it.Asset == nil {
			continue
		}
		v := it.Verdict
		out[it.Asset.ID] = model.Walkdown{Location: it.Location.String(), Verdict: &v, Documented: it.Doc}
	}
	return out
}

// Review is the session's assets as every analysis of it sees them (the
// CLI's reports and the TUI's violations alike): the assets the audit
// reads, with the walkdown in them (AuditAssets), and the walkdown notes
// per asset (Notes), from one evaluation. A nil book has no walkdown:
// the assets are audited as they are.
func (b *Book) Review(assets []model.Asset) ([]model.Asset, map[model.AssetID]model.Walkdown) {
	if b == nil {
		return assets, nil
	}
	ev := b.Evaluate(assets)
	return ev.AuditAssets(), ev.Notes()
}

// Checklist is `otscope inventory checklist --session S [--at PATH]
// [--format html|csv]`: the printable checklist of a location (the whole
// plant when at is empty) written to w.
func Checklist(st *store.Store, session string, assets []model.Asset, at, format string, w io.Writer) error {
	b, _, err := Open(st, session)
	if err != nil {
		return err
	}
	ev := b.Evaluate(assets)
	loc := model.ParseLocation(at)
	switch strings.ToLower(format) {
	case "", "html":
		return WriteChecklistHTML(w, ev, loc, session, time.Now())
	case "csv":
		return WriteChecklistCSV(w, ev, loc)
	}
	return fmt.Errorf("--format %q: give html or csv", format)
}
