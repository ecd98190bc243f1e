package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/model"
)

// Flush is one batch of changes to a session, as the inventory coalesced
// them since its last flush.
type Flush struct {
	// Assets are upserted by ID.
	Assets []model.Asset
	// Removed are asset IDs to delete. They are applied before Assets, so an
	// ID in both lists ends up stored.
	Removed []model.AssetID
	// Conversations are upserted by Conversation.Key().
	Conversations []model.Conversation
	// Stats are upserted by CaptureStats.Source.
	Stats []model.CaptureStats
	// Time becomes the session's Updated time when it is later than the
	// stored one; the zero Time means time.Now().
	Time time.Time
}

// Save writes f to the named session, which must exist (EnsureSession), and
// syncs the write-ahead log before it returns: after a crash every Save that
// returned nil is intact. A flush larger than one Badger transaction is
// written as several transactions in order, so a crash during Save can keep
// a prefix of that flush; the session's Updated time is written last.
func (s *Store) Save(session string, f Flush) error {
	end, err := s.beginWrite(session)
	if err != nil {
		return err
	}
	defer end()
	var meta sessionMeta
	if err := s.db.View(func(txn *badger.Txn) error {
		var err error
		meta, err = readMeta(txn, session)
		return err
	}); err != nil {
		return fmt.Errorf("save session %q: %w", session, oneLine{err})
	}
	if err := s.write(session, &meta, &f); err != nil {
		return fmt.Errorf("save session %q: %w", session, oneLine{err})
	}
	return s.sync()
}

// write puts f and the updated meta record through one batch.
func (s *Store) write(session string, meta *sessionMeta, f *Flush) error {
	b := newBatch(s.db)
	defer b.discard()
	for _, id := range f.Removed {
		if err := b.delete(recordKey(session, kindAsset, string(id))); err != nil {
			return err
		}
	}
	for i := range f.Assets {
		if err := put(b, recordKey(session, kindAsset, string(f.Assets[i].ID)), &f.Assets[i]); err != nil {
			return fmt.Errorf("asset %s: %w", f.Assets[i].ID, err)
		}
	}
	for i := range f.Conversations {
		if err := put(b, recordKey(session, kindConv, f.Conversations[i].Key()), &f.Conversations[i]); err != nil {
			return fmt.Errorf("conversation %s: %w", f.Conversations[i].Key(), err)
		}
	}
	for i := range f.Stats {
		if err := put(b, recordKey(session, kindStats, f.Stats[i].Source), &f.Stats[i]); err != nil {
			return fmt.Errorf("stats %s: %w", f.Stats[i].Source, err)
		}
	}
	t := f.Time
	if t.IsZero() {
		t = time.Now()
	}
	if t = t.Round(0); t.After(meta.Updated) {
		meta.Updated = t
	}
	if err := put(b, metaKey(session), meta); err != nil {
		return err
	}
	return b.commit()
}

// put encodes v and adds it to b under key.
func put(b *batch, key []byte, v any) error {
	enc, err := encodeValue(v)
	if err != nil {
		return err
	}
	return b.set(key, enc)
}

// Snapshot is the stored content of one session.
//
// Values come back as they were saved, with two exceptions that JSON
// imposes on time.Time: the monotonic clock reading is dropped, and a
// location other than UTC or Local comes back as a fixed zone with the same
// offset (the instant is always the same). Times in UTC round-trip exactly.
type Snapshot struct {
	// Info has the session's times and the counts of what was loaded.
	Info model.SessionInfo
	// Assets are sorted by ID.
	Assets []model.Asset
	// Conversations are sorted by Conversation.Key().
	Conversations []model.Conversation
	// Stats are sorted by Source.
	Stats []model.CaptureStats
	// Skipped counts stored records that could not be decoded (damaged, or
	// written in an unknown value version). They are left in the database
	// untouched and are not part of the snapshot; Load does not fail for
	// them. Show the count to the user.
	Skipped int
}

// Load returns everything stored for the named session, or an error
// wrapping ErrNotFound when it does not exist. Records that fail to decode
// are skipped and counted in Snapshot.Skipped.
func (s *Store) Load(session string) (Snapshot, error) {
	var snap Snapshot
	end, err := s.beginRead(session)
	if err != nil {
		return snap, err
	}
	defer end()
	err = s.db.View(func(txn *badger.Txn) error {
		meta, err := readMeta(txn, session)
		if err != nil {
			return err
		}
		snap.Info = model.SessionInfo{Name: session, Created: meta.Created, Updated: meta.Updated}
		prefix := sessionPrefix(session)
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: prefix})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			_, kind, _, ok := splitSessionKey(item.Key())
			if !ok {
				snap.Skipped++
				continue
			}
			var derr error
			switch kind {
			case kindMeta:
				continue
			case byte(ScanLog), byte(Waivers), byte(StateHistory):
				continue // journals: ReadJournal
			case kindAsset:
				var a model.Asset
				if derr = item.Value(func(v []byte) error { return decodeValue(v, &a) }); derr == nil {
					snap.Assets = append(snap.Assets, a)
				}
			case kindConv:
				var c model.Conversation
				if derr = item.Value(func(v []byte) error { return decodeValue(v, &c) }); derr == nil {
					snap.Conversations = append(snap.Conversations, c)
				}
			case kindStats:
				var st model.CaptureStats
				if derr = item.Value(func(v []byte) error { return decodeValue(v, &st) }); derr == nil {
					snap.Stats = append(snap.Stats, st)
				}
			default:
				derr = fmt.Errorf("unknown record kind %q", kind)
			}
			if derr != nil {
				snap.Skipped++
			}
		}
		return nil
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("load session %q: %w", session, oneLine{err})
	}
	// Keys are sorted by their bytes, which is the order asked for, but the
	// records' own fields may disagree with a damaged key: sort explicitly.
	slices.SortStableFunc(snap.Assets, func(a, b model.Asset) int { return strings.Compare(string(a.ID), string(b.ID)) })
	slices.SortStableFunc(snap.Conversations, func(a, b model.Conversation) int { return strings.Compare(a.Key(), b.Key()) })
	slices.SortStableFunc(snap.Stats, func(a, b model.CaptureStats) int { return strings.Compare(a.Source, b.Source) })
	snap.Info.Assets = len(snap.Assets)
	snap.Info.Conversations = len(snap.Conversations)
	for _, st := range snap.Stats {
		snap.Info.Packets += st.Packets
		snap.Info.Sources = append(snap.Info.Sources, st.Source)
	}
	return snap, nil
}
