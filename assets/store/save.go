package store

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/assets/internal/par"
	"otscope/model"
)

// Flush is one batch of changes to a session, as the inventory coalesced
// them since its last flush.
type Flush struct {
	// Assets are upserted by ID.
	Assets []model.Asset
	// AssetCounters are the counters of stored assets whose only change is
	// their traffic (packets, bytes, times), upserted by ID in place of the
	// whole asset; Load applies them to the stored asset. An asset in
	// Assets replaces its stored counters.
	AssetCounters []model.AssetCounters
	// Removed are asset IDs to delete. They are applied before Assets, so an
	// ID in both lists ends up stored.
	Removed []model.AssetID
	// Conversations are upserted by Conversation.Key().
	Conversations []model.Conversation
	// ConversationCounters are to conversations what AssetCounters are to
	// assets.
	ConversationCounters []model.ConversationCounters
	// Stats are upserted by CaptureStats.Source. A record whose Started
	// differs from the stored one of the same source is a new run of that
	// source: the stored one is kept as an earlier run, and the session's
	// packet count adds up every run.
	Stats []model.CaptureStats
	// Time becomes the session's Updated time when it is later than the
	// stored one; the zero Time means time.Now().
	Time time.Time
}

// size estimates the bytes a flush writes.
func (f *Flush) size() int64 {
	return int64(len(f.Assets))*2048 + int64(len(f.Conversations)+len(f.AssetCounters)+len(f.ConversationCounters))*256 + int64(len(f.Stats)+len(f.Removed))*256
}

// Save writes f to the named session, which must exist (EnsureSession), and
// syncs the write-ahead log before it returns: after a crash every Save that
// returned nil is intact. A flush larger than one Badger transaction is
// written as several transactions in order, so a crash during Save can keep
// a prefix of that flush; the session's Updated time is written last.
// Save refuses (ErrDiskFull, nothing written) when the disk is nearly full.
func (s *Store) Save(session string, f Flush) error {
	h, end, err := s.acquire(session, modeWrite)
	if err != nil {
		return err
	}
	defer end()
	if err := h.checkSpace(f.size()); err != nil {
		return err
	}
	var meta dbMeta
	if err := h.view(func(txn *badger.Txn) error {
		var found bool
		var err error
		meta, found, err = readDBMeta(txn)
		if err == nil && !found {
			err = fmt.Errorf("session %q: %w", session, ErrNotFound)
		}
		return err
	}); err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return h.writeErr("save", err)
	}
	d, err := h.write(&meta, &f)
	if err != nil {
		return h.writeErr("save", err)
	}
	if err := h.sync(); err != nil {
		return err
	}
	h.metaMu.Lock()
	m := &h.meta
	m.Updated = meta.Updated
	m.Assets += d.assets
	m.Conversations += d.convs
	m.Packets = uint64(int64(m.Packets) + d.packets)
	for _, src := range d.sources {
		if i, found := slices.BinarySearch(m.Sources, src); !found {
			m.Sources = slices.Insert(m.Sources, i, src)
		}
	}
	h.metaMu.Unlock()
	return h.writeMetaFile()
}

// delta is what a write changed in the session's counts.
type delta struct {
	assets, convs int
	packets       int64
	sources       []string
}

// write puts f and the updated meta record through one batch.
func (h *handle) write(meta *dbMeta, f *Flush) (d delta, err error) {
	b := newBatch(h.db)
	defer b.discard()
	if h.known == nil {
		h.known = map[string]struct{}{}
	}
	counters, err := h.counterKeys()
	if err != nil {
		return d, err
	}
	// Keys learnt or deleted by this batch, and counter records written
	// or deleted, reach h.known and h.counters only once it has committed.
	var learnt, forgot [][]byte
	var countersSet, countersGone []string // record keys
	defer func() {
		if err != nil {
			h.complete = false // part of the batch may have committed
			return
		}
		for _, k := range learnt {
			h.known[string(k)] = struct{}{}
		}
		for _, k := range forgot {
			delete(h.known, string(k))
		}
		for _, k := range countersGone { // in the batch's order
			delete(counters, k)
		}
		for _, k := range countersSet {
			counters[k] = struct{}{}
		}
	}()
	// dropCounters deletes the counter record of kind and id, if there is
	// one; setCounters writes one.
	dropCounters := func(kind byte, id string) error {
		k := recordKey(kind, id)
		if _, ok := counters[string(k)]; !ok {
			return nil
		}
		countersGone = append(countersGone, string(k))
		return b.delete(k)
	}
	setCounters := func(kind byte, id string, v []byte) error {
		k := recordKey(kind, id)
		countersSet = append(countersSet, string(k))
		return b.set(k, v)
	}
	exists := func(k []byte) (bool, error) {
		if _, ok := h.known[string(k)]; ok || h.complete {
			return ok, nil
		}
		_, err := b.txn.Get(k)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	for _, id := range f.Removed {
		k := recordKey(kindAsset, string(id))
		ok, err := exists(k)
		if err != nil {
			return d, err
		}
		if ok {
			d.assets--
			if err := b.delete(k); err != nil {
				return d, err
			}
			forgot = append(forgot, k)
		}
		if err := dropCounters(kindCounters, string(id)); err != nil {
			return d, err
		}
	}
	// upsert writes n records of kind (what names them in errors), encoded
	// on all cores, counting the new ones in *count and dropping their
	// counter records of counterKind: the whole record carries its counters.
	upsert := func(what string, kind, counterKind byte, n int, idOf func(i int) string, value func(i int) any, count *int) error {
		return encodeEach(n, value, func(i int, enc []byte, err error) error {
			id := idOf(i)
			if err != nil {
				return fmt.Errorf("%s %s: %w", what, id, err)
			}
			k := recordKey(kind, id)
			ok, err := exists(k)
			if err != nil {
				return err
			}
			if err := b.set(k, enc); err != nil {
				return fmt.Errorf("%s %s: %w", what, id, err)
			}
			if !ok {
				*count++
				learnt = append(learnt, k)
			}
			return dropCounters(counterKind, id)
		})
	}
	if err := upsert("asset", kindAsset, kindCounters, len(f.Assets),
		func(i int) string { return string(f.Assets[i].ID) }, func(i int) any { return &f.Assets[i] }, &d.assets); err != nil {
		return d, err
	}
	for i := range f.AssetCounters {
		c := &f.AssetCounters[i]
		if err := setCounters(kindCounters, string(c.ID), encodeCounters(c)); err != nil {
			return d, fmt.Errorf("asset %s counters: %w", c.ID, err)
		}
	}
	if err := upsert("conversation", kindConv, kindConvCounters, len(f.Conversations),
		func(i int) string { return f.Conversations[i].Key() }, func(i int) any { return &f.Conversations[i] }, &d.convs); err != nil {
		return d, err
	}
	for i := range f.ConversationCounters {
		c := &f.ConversationCounters[i]
		if err := setCounters(kindConvCounters, c.Key, encodeConvCounters(c)); err != nil {
			return d, fmt.Errorf("conversation %s counters: %w", c.Key, err)
		}
	}
	for i := range f.Stats {
		st := &f.Stats[i]
		k := recordKey(kindStats, st.Source)
		var old model.CaptureStats
		item, err := b.txn.Get(k)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			d.sources = append(d.sources, st.Source)
		case err != nil:
			return d, err
		default:
			if item.Value(func(v []byte) error { return decodeValue(v, &old) }) != nil {
				old = model.CaptureStats{}
			}
		}
		if !old.Started.IsZero() && !old.Started.Equal(st.Started) {
			// A new run of this source: keep the earlier run's counters.
			ak := recordKey(kindOldStats, st.Source+"\x00"+old.Started.UTC().Format(time.RFC3339Nano))
			if err := put(b, ak, &old); err != nil {
				return d, err
			}
			old = model.CaptureStats{}
		}
		d.packets += int64(st.Packets) - int64(old.Packets)
		if err := put(b, k, st); err != nil {
			return d, fmt.Errorf("stats %s: %w", st.Source, err)
		}
	}
	t := f.Time
	if t.IsZero() {
		t = time.Now()
	}
	if t = t.Round(0); t.After(meta.Updated) {
		meta.Updated = t
	}
	if err := put(b, metaKey, meta); err != nil {
		return d, err
	}
	return d, b.commit()
}

// decodeAll decodes values written by encodeValue, in parallel, keeping
// their order; values that fail to decode are dropped and counted.
func decodeAll[T any](vals [][]byte) ([]T, int) {
	out := make([]T, len(vals))
	bad := make([]bool, len(vals))
	workers := min(runtime.GOMAXPROCS(0), 1+len(vals)/512)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(vals); i += workers {
				bad[i] = decodeValue(vals[i], &out[i]) != nil
			}
		}()
	}
	wg.Wait()
	n := 0
	kept := out[:0]
	for i := range out {
		if bad[i] {
			n++
			continue
		}
		kept = append(kept, out[i])
	}
	clear(out[len(kept):])
	return kept, n
}

// encodeEach encodes the n values value(i) on all cores, a window of 64
// records per core at a time (the first flush of a 10,000-asset read is
// about 5 MB of records, which the store should neither hold at once nor
// encode on one core while the session waits), and hands each to use in
// order, with its encoding error if any.
func encodeEach(n int, value func(i int) any, use func(i int, enc []byte, err error) error) error {
	const chunk = 64
	encs := make([][]encoded, par.Slots(n, chunk))
	return par.Windows(n, chunk, func(slot, lo, hi int) error {
		encs[slot] = encs[slot][:0]
		for i := lo; i < hi; i++ {
			enc, err := encodeValue(value(i))
			encs[slot] = append(encs[slot], encoded{enc, err})
		}
		return nil
	}, func(slot, lo, _ int) error {
		for j, e := range encs[slot] {
			if err := use(lo+j, e.b, e.err); err != nil {
				return err
			}
		}
		return nil
	})
}

// encoded is one value's encoding or the error encoding it.
type encoded struct {
	b   []byte
	err error
}

// put encodes v and adds it to b under key.
func put(b *batch, key []byte, v any) error {
	enc, err := encodeValue(v)
	if err != nil {
		return err
	}
	return b.set(key, enc)
}

// widen applies the counter records in vals to recs (sorted by key, as
// Load sorts them) and returns how many could not be decoded. A record
// whose asset or conversation is not stored (a crash between deleting it
// and its counters) is dropped.
func widen[R, C any](recs []R, vals [][]byte, decode func([]byte) (C, error), key func(*R) string,
	ckey func(*C) string, apply func(*R, *C)) (bad int) {
	if len(vals) == 0 {
		return 0
	}
	keys := make([]string, len(recs))
	for i := range recs {
		keys[i] = key(&recs[i])
	}
	for _, v := range vals {
		c, err := decode(v)
		if err != nil {
			bad++
			continue
		}
		if i, ok := slices.BinarySearch(keys, ckey(&c)); ok {
			apply(&recs[i], &c)
		}
	}
	return bad
}

// Snapshot is the stored content of one session.
//
// Values come back as they were saved, with two exceptions that the stored
// forms (JSON, and binary records, which keep the same) impose on
// time.Time: the monotonic clock reading is dropped, and a location other
// than UTC or Local comes back as a fixed zone with the same offset (the
// instant is always the same). Times in UTC round-trip exactly.
type Snapshot struct {
	// Info has the session's times and the counts of what was loaded
	// (Packets counts every run, Sources the latest run of each source).
	Info model.SessionInfo
	// Meta is the session's metadata (site, sensor, runs).
	Meta Meta
	// Assets are sorted by ID.
	Assets []model.Asset
	// Conversations are sorted by Conversation.Key().
	Conversations []model.Conversation
	// Stats are the latest run of each source, sorted by Source.
	Stats []model.CaptureStats
	// Skipped counts stored records that could not be decoded (written in
	// an unknown value version). They are left in the database untouched
	// and are not part of the snapshot; Load does not fail for them. Show
	// the count to the user. Damaged files (failed checksums) are an error
	// wrapping ErrCorrupt instead.
	Skipped int
}

// Load returns everything stored for the named session, or an error
// wrapping ErrNotFound when it does not exist. It opens the session
// read-only unless this store already writes it.
func (s *Store) Load(session string) (Snapshot, error) {
	var snap Snapshot
	h, end, err := s.acquire(session, modeRead)
	if err != nil {
		return snap, err
	}
	defer end()
	var (
		oldPackets            uint64
		assetVals, convVals   [][]byte
		counterVals           [][]byte
		convCounterVals       [][]byte
		statVals, oldStatVals [][]byte
		dm                    dbMeta
	)
	// Copy the values out in one pass, then decode them on every core (with
	// JSON values, decoding was most of the time a 10,000-asset session
	// took to open). The
	// pass skips the records of other kinds (meta, journals: ReadJournal)
	// by seeking past them, so their blocks are neither read nor
	// decompressed; keys of no kind are counted in Skipped.
	err = h.view(func(txn *badger.Txn) error {
		var err error
		if dm, _, err = readDBMeta(txn); err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			item := it.Item()
			kind, _, ok := splitKey(item.Key())
			if !ok {
				snap.Skipped++
				it.Next()
				continue
			}
			var dst *[][]byte
			switch kind {
			case kindAsset:
				dst = &assetVals
			case kindConv:
				dst = &convVals
			case kindStats:
				dst = &statVals
			case kindOldStats:
				dst = &oldStatVals
			case kindCounters:
				dst = &counterVals
			case kindConvCounters:
				dst = &convCounterVals
			default:
				// Every key of this kind sorts before kind, 1.
				it.Seek([]byte{kind, 1})
				continue
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			*dst = append(*dst, v)
			it.Next()
		}
		return nil
	})
	if err != nil {
		return Snapshot{}, h.readErr("load", err)
	}
	var skipped [4]int
	snap.Assets, skipped[0] = decodeAll[model.Asset](assetVals)
	snap.Conversations, skipped[1] = decodeAll[model.Conversation](convVals)
	snap.Stats, skipped[2] = decodeAll[model.CaptureStats](statVals)
	old, n := decodeAll[model.CaptureStats](oldStatVals)
	skipped[3] = n
	for _, st := range old {
		oldPackets += st.Packets
	}
	for _, n := range skipped {
		snap.Skipped += n
	}
	// Keys are sorted by their bytes, which is the order asked for, but the
	// records' own fields may disagree with a damaged key: sort explicitly.
	slices.SortStableFunc(snap.Assets, func(a, b model.Asset) int { return strings.Compare(string(a.ID), string(b.ID)) })
	slices.SortStableFunc(snap.Conversations, func(a, b model.Conversation) int { return strings.Compare(a.Key(), b.Key()) })
	slices.SortStableFunc(snap.Stats, func(a, b model.CaptureStats) int { return strings.Compare(a.Source, b.Source) })
	snap.Skipped += widen(snap.Assets, counterVals, decodeCounters, func(a *model.Asset) string { return string(a.ID) },
		func(c *model.AssetCounters) string { return string(c.ID) }, (*model.Asset).Widen)
	snap.Skipped += widen(snap.Conversations, convCounterVals, decodeConvCounters, (*model.Conversation).Key,
		func(c *model.ConversationCounters) string { return c.Key }, (*model.Conversation).Widen)
	h.metaMu.Lock()
	loaded := h.metaLoaded
	h.metaMu.Unlock()
	if !loaded {
		// What loadMeta would scan the database for is at hand.
		m := Meta{SessionInfo: model.SessionInfo{Name: h.name, Created: dm.Created, Updated: dm.Updated,
			Assets: len(assetVals), Conversations: len(convVals), Packets: oldPackets}, Site: dm.Site, Sensor: dm.Sensor}
		for _, st := range snap.Stats {
			m.Packets += st.Packets
			m.Sources = append(m.Sources, st.Source)
		}
		slices.Sort(m.Sources)
		if err := h.setMeta(m); err != nil {
			return Snapshot{}, err
		}
	}
	if snap.Meta, err = h.currentMeta(); err != nil {
		return Snapshot{}, err
	}
	snap.Info = model.SessionInfo{Name: session, Created: snap.Meta.Created, Updated: snap.Meta.Updated}
	snap.Info.Assets = len(snap.Assets)
	snap.Info.Conversations = len(snap.Conversations)
	snap.Info.Packets = oldPackets
	for _, st := range snap.Stats {
		snap.Info.Packets += st.Packets
		snap.Info.Sources = append(snap.Info.Sources, st.Source)
	}
	return snap, nil
}
