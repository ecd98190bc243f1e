package walkdown

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/model"
	"otscope/model/safe"
)

// Record kinds of the walkdown journal.
const (
	KindImport   = "import"   // a documented inventory was imported (File, Rows)
	KindDocument = "document" // a documented row, new or changed (Doc)
	KindWithdraw = "withdraw" // a documented row no longer in the newest list (Tag)
	KindFact     = "fact"     // a manual fact about an asset (Asset, Fact)
	KindAsset    = "asset"    // a device the network cannot see (Manual)
	KindVerdict  = "verdict"  // a person's verdict (Target, Verdict, Why)
	KindLevels   = "levels"   // the names of the location levels (Levels)
)

// Record is one entry of a session's walkdown journal. Records are never
// rewritten: a later record of the same thing supersedes an earlier one,
// and the earlier ones are the history.
type Record struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	By   string    `json:"by,omitempty"`

	File     string                  `json:"file,omitempty"`
	Rows     int                     `json:"rows,omitempty"`
	Doc      *model.DocumentedDevice `json:"doc,omitempty"`
	Tag      string                  `json:"tag,omitempty"`
	Assets   []model.AssetID         `json:"assets,omitempty"`
	Fact     *model.Fact             `json:"fact,omitempty"`
	Manual   *ManualAsset            `json:"manual,omitempty"`
	Target   string                  `json:"target,omitempty"`
	Verdict  model.VerdictValue      `json:"verdict,omitempty"`
	Why      string                  `json:"why,omitempty"`
	Levels   []string                `json:"levels,omitempty"`
	Location string                  `json:"location,omitempty"`
}

// ManualAsset is a device a person found that the network cannot see (an
// I/O module, a drive on a fieldbus, a panel meter), inside a parent asset
// at a slot. Its identity is in the manual facts of its ID.
type ManualAsset struct {
	ID     model.AssetID `json:"id"`
	Name   string        `json:"name"`
	Parent model.AssetID `json:"parent,omitempty"`
	Slot   string        `json:"slot,omitempty"`
}

// NameplateFields are the fields a nameplate form and `otscope nameplate`
// accept.
var NameplateFields = []string{
	model.FieldVendor, model.FieldProduct, model.FieldOrderNumber, model.FieldSerial, model.FieldFirmware,
	model.FieldHardwareVersion, model.FieldTag, model.FieldNotes,
}

// DocTarget is the verdict target of a documented row that matched no asset.
func DocTarget(tag string) string { return "doc:" + strings.ToLower(tag) }

// States is the inventory-state tracker walkdown verdicts drive
// (*review.Tracker).
type States interface {
	Current(id model.AssetID) lifecycle.State
	Set(id model.AssetID, to lifecycle.State, by, why string, at time.Time) (review.StateRecord, error)
}

// docEntry is one documented tag: its current row and the earlier ones.
type docEntry struct {
	cur       model.DocumentedDevice
	history   []model.DocumentedDevice
	withdrawn bool
}

// Book holds a session's walkdown: documented rows, manual facts, manual
// assets, locations and people's verdicts. It is safe for concurrent use.
// Every change is stored through the journal before it is kept.
type Book struct {
	mu       sync.Mutex
	journal  func(recs ...Record) error
	docs     map[string]*docEntry // lower-case tag
	docOrder []string
	facts    map[model.AssetID][]model.Fact
	manual   map[model.AssetID]*ManualAsset
	mOrder   []model.AssetID
	verdicts map[string][]Record // target → verdict records, oldest first
	imports  []Record
	levels   []string
	version  atomic.Uint64
}

// NewBook replays stored records, oldest first; records that do not make
// sense (a damaged journal) are skipped and counted. journal, if not nil,
// stores new records (store.Append on the session's walkdown journal).
func NewBook(recs []Record, journal func(recs ...Record) error) (*Book, int) {
	b := &Book{journal: journal, docs: map[string]*docEntry{}, facts: map[model.AssetID][]model.Fact{},
		manual: map[model.AssetID]*ManualAsset{}, verdicts: map[string][]Record{}}
	skipped := 0
	for _, r := range recs {
		if !b.apply(r) {
			skipped++
		}
	}
	return b, skipped
}

// apply keeps one record in memory; it reports false for a bad one.
func (b *Book) apply(r Record) bool {
	switch r.Kind {
	case KindImport:
		b.imports = append(b.imports, r)
	case KindDocument:
		if r.Doc == nil || r.Doc.Tag == "" {
			return false
		}
		k := strings.ToLower(r.Doc.Tag)
		e := b.docs[k]
		if e == nil {
			e = &docEntry{}
			b.docs[k] = e
			b.docOrder = append(b.docOrder, k)
		} else if !e.withdrawn || e.cur.Tag != "" {
			e.history = append(e.history, e.cur)
		}
		e.cur, e.withdrawn = *r.Doc, false
	case KindWithdraw:
		e := b.docs[strings.ToLower(r.Tag)]
		if e == nil {
			return false
		}
		e.withdrawn = true
	case KindFact:
		if r.Fact == nil || len(r.Assets) == 0 {
			return false
		}
		for _, id := range r.Assets {
			b.facts[id] = append(b.facts[id], *r.Fact)
		}
	case KindAsset:
		if r.Manual == nil || r.Manual.ID == "" || b.manual[r.Manual.ID] != nil {
			return false
		}
		m := *r.Manual
		b.manual[m.ID] = &m
		b.mOrder = append(b.mOrder, m.ID)
	case KindVerdict:
		if r.Target == "" {
			return false
		}
		b.verdicts[r.Target] = append(b.verdicts[r.Target], r)
	case KindLevels:
		b.levels = slices.Clone(r.Levels)
	default:
		return false
	}
	return true
}

// commit stores records, then keeps them. The caller holds mu.
func (b *Book) commit(recs ...Record) error {
	if b.journal != nil {
		if err := b.journal(recs...); err != nil {
			return err
		}
	}
	for _, r := range recs {
		b.apply(r)
	}
	b.version.Add(1)
	return nil
}

// Version changes with every stored change.
func (b *Book) Version() uint64 { return b.version.Load() }

// ImportSummary says what an import changed.
type ImportSummary struct {
	Added, Updated, Unchanged, Withdrawn int
}

// Import stores the rows of a newer documented inventory read from file:
// new tags are added, changed rows update the documented fields (the
// earlier values stay in the history), tags no longer listed are
// withdrawn. Unchanged rows store nothing.
func (b *Book) Import(im Imported, file, by string, at time.Time) (ImportSummary, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s ImportSummary
	recs := []Record{{Kind: KindImport, At: at, By: by, File: file, Rows: len(im.Rows)}}
	listed := make(map[string]bool, len(im.Rows))
	for i := range im.Rows {
		d := &im.Rows[i]
		k := strings.ToLower(d.Tag)
		listed[k] = true
		e := b.docs[k]
		switch {
		case e == nil:
			s.Added++
		case !e.withdrawn && sameDoc(&e.cur, d):
			s.Unchanged++
			continue
		default:
			s.Updated++
		}
		recs = append(recs, Record{Kind: KindDocument, At: at, By: by, Doc: d})
	}
	for _, k := range b.docOrder {
		if e := b.docs[k]; !e.withdrawn && !listed[k] {
			s.Withdrawn++
			recs = append(recs, Record{Kind: KindWithdraw, At: at, By: by, Tag: e.cur.Tag, File: file})
		}
	}
	if err := b.commit(recs...); err != nil {
		return ImportSummary{}, fmt.Errorf("import %s: %w", file, err)
	}
	return s, nil
}

// sameDoc compares the documented fields (not the source).
func sameDoc(x, y *model.DocumentedDevice) bool {
	for _, f := range model.DocumentedFields {
		if x.Field(f) != y.Field(f) {
			return false
		}
	}
	return true
}

// Documented returns the current documented rows, in first-import order.
func (b *Book) Documented() []model.DocumentedDevice {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]model.DocumentedDevice, 0, len(b.docOrder))
	for _, k := range b.docOrder {
		if e := b.docs[k]; !e.withdrawn {
			out = append(out, e.cur)
		}
	}
	return out
}

// DocumentedHistory returns the earlier rows of a tag, oldest first, and
// whether the tag is withdrawn from the newest list.
func (b *Book) DocumentedHistory(tag string) ([]model.DocumentedDevice, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.docs[strings.ToLower(tag)]
	if e == nil {
		return nil, false
	}
	return slices.Clone(e.history), e.withdrawn
}

// Imports returns the import records, oldest first.
func (b *Book) Imports() []Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.imports)
}

// cleanValue checks a value a person typed.
func cleanValue(field, v string) (string, error) {
	v = strings.TrimSpace(safe.Text(v))
	if len(v) > maxValue {
		return "", fmt.Errorf("%s is %d characters long (at most %d)", field, len(v), maxValue)
	}
	return v, nil
}

// ErrNoPerson is returned for a change without who made it.
var ErrNoPerson = errors.New("who made the change is needed")

// Nameplate stores what a person read on an asset's nameplate: values of
// NameplateFields, as manual facts (by, how: "nameplate", "cli"). Empty
// values are left out. Discovery never overwrites them.
func (b *Book) Nameplate(id model.AssetID, values map[string]string, by, how string, at time.Time) error {
	if strings.TrimSpace(by) == "" {
		return ErrNoPerson
	}
	if id == "" {
		return errors.New("nameplate: no asset")
	}
	var recs []Record
	for _, f := range NameplateFields {
		v, ok := values[f]
		if !ok {
			continue
		}
		v, err := cleanValue(f, v)
		if err != nil {
			return err
		}
		if v == "" {
			continue
		}
		fact := model.ManualFact(f, v, by, how, at)
		recs = append(recs, Record{Kind: KindFact, At: at, By: by, Assets: []model.AssetID{id}, Fact: &fact})
	}
	for f := range values {
		if !slices.Contains(NameplateFields, f) {
			return fmt.Errorf("nameplate: unknown field %q (fields: %s)", f, strings.Join(NameplateFields, ", "))
		}
	}
	if len(recs) == 0 {
		return errors.New("nameplate: no value given")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.commit(recs...)
}

// Locate places assets at loc (one record for all of them: a location is
// a manual fact with who, when and how).
func (b *Book) Locate(ids []model.AssetID, loc model.Location, by, how string, at time.Time) error {
	if strings.TrimSpace(by) == "" {
		return ErrNoPerson
	}
	if len(ids) == 0 {
		return errors.New("locate: no asset")
	}
	if len(loc) == 0 {
		return errors.New("locate: no location (write it like Plant/Hall 1/Cabinet +A2)")
	}
	p, err := cleanValue("location", loc.String())
	if err != nil {
		return err
	}
	fact := model.ManualFact(model.FieldLocation, model.ParseLocation(p).String(), by, how, at)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.commit(Record{Kind: KindFact, At: at, By: by, Assets: slices.Clone(ids), Fact: &fact})
}

// SetLevels names the levels of the location tree (site, building, room,
// cabinet, ...).
func (b *Book) SetLevels(levels []string, by string, at time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.commit(Record{Kind: KindLevels, At: at, By: by, Levels: slices.Clone(levels)})
}

// Levels returns the names of the location levels.
func (b *Book) Levels() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.levels)
}

// AddManual adds a device the network cannot see, with its nameplate
// values (NameplateFields), inside parent at slot, placed at loc. It
// returns the new asset's ID ("manual:" and the name).
func (b *Book) AddManual(name string, parent model.AssetID, slot string, loc model.Location, values map[string]string, by, how string, at time.Time) (model.AssetID, error) {
	if strings.TrimSpace(by) == "" {
		return "", ErrNoPerson
	}
	name, err := cleanValue("name", name)
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", errors.New("add: the device needs a name")
	}
	slot, err = cleanValue("slot", slot)
	if err != nil {
		return "", err
	}
	id := model.AssetID("manual:" + strings.ToLower(strings.Join(strings.Fields(name), "-")))
	if parent == id {
		return "", errors.New("add: a device cannot sit in itself")
	}
	b.mu.Lock()
	if b.manual[id] != nil {
		b.mu.Unlock()
		return "", fmt.Errorf("add: a device named %q was already added (%s)", name, id)
	}
	b.mu.Unlock()
	m := &ManualAsset{ID: id, Name: name, Parent: parent, Slot: slot}
	recs := []Record{{Kind: KindAsset, At: at, By: by, Manual: m}}
	for _, f := range NameplateFields {
		v, err := cleanValue(f, values[f])
		if err != nil {
			return "", err
		}
		if v != "" {
			fact := model.ManualFact(f, v, by, how, at)
			recs = append(recs, Record{Kind: KindFact, At: at, By: by, Assets: []model.AssetID{id}, Fact: &fact})
		}
	}
	for f := range values {
		if !slices.Contains(NameplateFields, f) {
			return "", fmt.Errorf("add: unknown field %q (fields: %s)", f, strings.Join(NameplateFields, ", "))
		}
	}
	if len(loc) > 0 {
		fact := model.ManualFact(model.FieldLocation, loc.String(), by, how, at)
		recs = append(recs, Record{Kind: KindFact, At: at, By: by, Assets: []model.AssetID{id}, Fact: &fact})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.manual[id] != nil {
		return "", fmt.Errorf("add: a device named %q was already added (%s)", name, id)
	}
	return id, b.commit(recs...)
}

// SetVerdict stores a person's verdict on a target (an asset ID, or
// DocTarget for a documented row no asset matched): match, compatible,
// mismatch or missing, or unverified to withdraw an earlier one. When
// states is not nil and the target is an asset, the inventory state
// follows: match and compatible verify it, mismatch withdraws a
// verification, missing marks it missing (until the network sees it
// again). The verdict is kept even when the state cannot follow (the
// returned error says why).
func (b *Book) SetVerdict(target string, v model.VerdictValue, why, by string, at time.Time, states States) error {
	if strings.TrimSpace(by) == "" {
		return ErrNoPerson
	}
	switch v {
	case model.VerdictMatch, model.VerdictCompatible, model.VerdictMismatch, model.VerdictMissing, model.VerdictUnverified:
	default:
		return fmt.Errorf("verdict %q: a person sets match, compatible, mismatch or missing (unverified withdraws it)", v)
	}
	why, err := cleanValue("why", why)
	if err != nil {
		return err
	}
	if why == "" {
		return errors.New("verdict: say why (--why)")
	}
	if target == "" {
		return errors.New("verdict: no asset")
	}
	b.mu.Lock()
	err = b.commit(Record{Kind: KindVerdict, At: at, By: by, Target: target, Verdict: v, Why: why})
	b.mu.Unlock()
	if err != nil || states == nil || strings.HasPrefix(target, "doc:") {
		return err
	}
	id := model.AssetID(target)
	cur := states.Current(id)
	switch v {
	case model.VerdictMatch, model.VerdictCompatible:
		if cur != lifecycle.Verified {
			_, err = states.Set(id, lifecycle.Verified, by, "walkdown verdict "+string(v)+": "+why, at)
		}
	case model.VerdictMissing:
		switch cur {
		case lifecycle.Discovered, lifecycle.Identified, lifecycle.Verified:
			_, err = states.Set(id, lifecycle.Missing, by, "walkdown verdict missing: "+why, at)
		}
	case model.VerdictMismatch, model.VerdictUnverified:
		if cur == lifecycle.Verified {
			_, err = states.Set(id, lifecycle.Identified, by, "verification withdrawn: walkdown verdict "+string(v)+": "+why, at)
		}
	}
	if err != nil {
		return fmt.Errorf("verdict %s stored; inventory state not changed: %w", v, err)
	}
	return nil
}

// PersonVerdict returns the latest verdict a person gave target, if any
// (a withdrawn one counts as none).
func (b *Book) PersonVerdict(target string) (Record, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.personVerdict(target)
}

func (b *Book) personVerdict(target string) (Record, bool) {
	h := b.verdicts[target]
	if len(h) == 0 || h[len(h)-1].Verdict == model.VerdictUnverified {
		return Record{}, false
	}
	return h[len(h)-1], true
}

// VerdictHistory returns every verdict people gave target, oldest first.
func (b *Book) VerdictHistory(target string) []Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.verdicts[target])
}

// ManualFacts returns the manual facts of an asset, oldest first.
func (b *Book) ManualFacts(id model.AssetID) []model.Fact {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.facts[id])
}

// Location returns where an asset was placed last (nil: not placed).
func (b *Book) Location(id model.AssetID) model.Location {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.location(id)
}

func (b *Book) location(id model.AssetID) model.Location {
	fs := b.facts[id]
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Field == model.FieldLocation {
			return model.ParseLocation(fs[i].Value)
		}
	}
	return nil
}

// latestManual returns the newest manual value of field ("" when none).
func latestManual(fs []model.Fact, field string) string {
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Field == field {
			return fs[i].Value
		}
	}
	return ""
}

// Overlay adds the manual facts of a to a copy of it. The values the
// network gave stay in the summary fields; the manual ones are facts with
// Source.Kind Manual (and the summary of a manual asset).
func (b *Book) Overlay(a *model.Asset) model.Asset {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.overlay(a)
}

func (b *Book) overlay(a *model.Asset) model.Asset {
	c := a.Clone()
	fs := b.facts[a.ID]
	if len(fs) == 0 {
		return c
	}
	c.Facts = append(c.Facts, fs...)
	return c
}

// ManualAssets returns the devices people added, as assets: their manual
// facts, and summary fields filled from them.
func (b *Book) ManualAssets() []model.Asset {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]model.Asset, 0, len(b.mOrder))
	for _, id := range b.mOrder {
		out = append(out, b.manualAsset(b.manual[id]))
	}
	return out
}

func (b *Book) manualAsset(m *ManualAsset) model.Asset {
	fs := slices.Clone(b.facts[m.ID])
	a := model.Asset{ID: m.ID, Names: []string{m.Name}, Facts: fs}
	a.Vendor = latestManual(fs, model.FieldVendor)
	a.Product = latestManual(fs, model.FieldProduct)
	a.OrderNumber = latestManual(fs, model.FieldOrderNumber)
	a.Serial = latestManual(fs, model.FieldSerial)
	a.Firmware = latestManual(fs, model.FieldFirmware)
	a.HardwareVersion = latestManual(fs, model.FieldHardwareVersion)
	var at time.Time
	by := ""
	if len(fs) > 0 {
		at, by = fs[0].Source.Time, fs[0].Source.Origin
	}
	if m.Parent != "" {
		a.Facts = append(a.Facts, model.ManualFact(model.FieldParent, string(m.Parent), by, "walkdown", at))
	}
	if m.Slot != "" {
		a.Facts = append(a.Facts, model.ManualFact(model.FieldSlot, m.Slot, by, "walkdown", at))
	}
	return a
}

// Manual returns a manual asset's record.
func (b *Book) Manual(id model.AssetID) (ManualAsset, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.manual[id]
	if m == nil {
		return ManualAsset{}, false
	}
	return *m, true
}

// snapshot copies what Evaluate reads, so it runs without the lock.
func (b *Book) snapshot() (docs []model.DocumentedDevice, facts map[model.AssetID][]model.Fact, verdicts map[string]Record, manual []model.Asset) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range b.docOrder {
		if e := b.docs[k]; !e.withdrawn {
			docs = append(docs, e.cur)
		}
	}
	facts = maps.Clone(b.facts)
	verdicts = make(map[string]Record, len(b.verdicts))
	for t := range b.verdicts {
		if r, ok := b.personVerdict(t); ok {
			verdicts[t] = r
		}
	}
	for _, id := range b.mOrder {
		manual = append(manual, b.manualAsset(b.manual[id]))
	}
	return
}
