package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/model"
)

// MaxSessionNameLen is the longest session name ValidSessionName accepts.
const MaxSessionNameLen = 64

// ValidSessionName returns nil when name is 1-64 characters of
// [A-Za-z0-9._-] and does not start with '.'; otherwise an error wrapping
// ErrBadName.
func ValidSessionName(name string) error {
	if name == "" || len(name) > MaxSessionNameLen || name[0] == '.' {
		return fmt.Errorf("%q: %w", name, ErrBadName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return fmt.Errorf("%q: %w", name, ErrBadName)
		}
	}
	return nil
}

// sessionMeta is the value of a session's meta record.
type sessionMeta struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// beginWrite checks a write to session and starts it: it returns with the
// store held open and the writer lock taken; call the returned func when done.
func (s *Store) beginWrite(session string) (end func(), err error) {
	if err := ValidSessionName(session); err != nil {
		return nil, err
	}
	if s.readOnly {
		return nil, ErrReadOnly
	}
	if err := s.hold(); err != nil {
		return nil, err
	}
	s.wmu.Lock()
	return func() {
		s.wmu.Unlock()
		s.mu.RUnlock()
	}, nil
}

// beginRead checks a read of session and holds the store open; call the
// returned func when done.
func (s *Store) beginRead(session string) (end func(), err error) {
	if err := ValidSessionName(session); err != nil {
		return nil, err
	}
	if err := s.hold(); err != nil {
		return nil, err
	}
	return s.mu.RUnlock, nil
}

// readMeta returns the session's meta record, or an error wrapping
// ErrNotFound.
func readMeta(txn *badger.Txn, session string) (sessionMeta, error) {
	var m sessionMeta
	item, err := txn.Get(metaKey(session))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return m, fmt.Errorf("session %q: %w", session, ErrNotFound)
	}
	if err != nil {
		return m, err
	}
	if err := item.Value(func(v []byte) error { return decodeValue(v, &m) }); err != nil {
		// A damaged meta record still names an existing session.
		return sessionMeta{Name: session}, nil
	}
	m.Name = session
	return m, nil
}

// EnsureSession creates the session named name unless it exists. created
// reports whether it was created (with Created and Updated set to now).
func (s *Store) EnsureSession(name string, now time.Time) (created bool, err error) {
	end, err := s.beginWrite(name)
	if err != nil {
		return false, err
	}
	defer end()
	err = s.db.Update(func(txn *badger.Txn) error {
		_, err := readMeta(txn, name)
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		v, err := encodeValue(sessionMeta{Name: name, Created: now.Round(0), Updated: now.Round(0)})
		if err != nil {
			return err
		}
		created = true
		return txn.Set(metaKey(name), v)
	})
	if err != nil {
		return false, fmt.Errorf("create session %q: %w", name, oneLine{err})
	}
	if created {
		if err := s.sync(); err != nil {
			return false, err
		}
	}
	return created, nil
}

// infoBuilder accumulates model.SessionInfo values while scanning keys.
type infoBuilder struct {
	infos map[string]*model.SessionInfo
	// hasMeta marks sessions whose meta record was seen; records without one
	// (left by an interrupted delete) do not make a session.
	hasMeta map[string]bool
}

func newInfoBuilder() *infoBuilder {
	return &infoBuilder{infos: map[string]*model.SessionInfo{}, hasMeta: map[string]bool{}}
}

// add counts the record under item's key.
func (b *infoBuilder) add(item *badger.Item) {
	name, kind, _, ok := splitSessionKey(item.Key())
	if !ok {
		return
	}
	info := b.infos[name]
	if info == nil {
		info = &model.SessionInfo{Name: name}
		b.infos[name] = info
	}
	switch kind {
	case kindMeta:
		b.hasMeta[name] = true
		var m sessionMeta
		if item.Value(func(v []byte) error { return decodeValue(v, &m) }) == nil {
			info.Created, info.Updated = m.Created, m.Updated
		}
	case kindAsset:
		info.Assets++
	case kindConv:
		info.Conversations++
	case kindStats:
		var st model.CaptureStats
		if item.Value(func(v []byte) error { return decodeValue(v, &st) }) == nil {
			info.Packets += st.Packets
			info.Sources = append(info.Sources, st.Source)
		}
	}
}

// list returns the sessions that have a meta record, sorted by name.
func (b *infoBuilder) list() []model.SessionInfo {
	out := make([]model.SessionInfo, 0, len(b.hasMeta))
	for name, info := range b.infos {
		if b.hasMeta[name] {
			slices.Sort(info.Sources)
			out = append(out, *info)
		}
	}
	slices.SortFunc(out, func(a, b model.SessionInfo) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// scan feeds every key under prefix to b. Values are read only for meta and
// stats records.
func scan(txn *badger.Txn, prefix []byte, b *infoBuilder) {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: prefix})
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		b.add(it.Item())
	}
}

// Sessions returns every stored session, sorted by name, with its counts:
// assets, conversations, packets (the sum over its stored capture stats)
// and sources (the stats' source names, sorted).
func (s *Store) Sessions() ([]model.SessionInfo, error) {
	if err := s.hold(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	b := newInfoBuilder()
	if err := s.db.View(func(txn *badger.Txn) error {
		scan(txn, sessionsPrefix, b)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list sessions: %w", oneLine{err})
	}
	return b.list(), nil
}

// Session returns the named session's info, or an error wrapping
// ErrNotFound.
func (s *Store) Session(name string) (model.SessionInfo, error) {
	end, err := s.beginRead(name)
	if err != nil {
		return model.SessionInfo{}, err
	}
	defer end()
	b := newInfoBuilder()
	if err := s.db.View(func(txn *badger.Txn) error {
		scan(txn, sessionPrefix(name), b)
		return nil
	}); err != nil {
		return model.SessionInfo{}, fmt.Errorf("read session %q: %w", name, oneLine{err})
	}
	list := b.list()
	if len(list) == 0 {
		return model.SessionInfo{}, fmt.Errorf("session %q: %w", name, ErrNotFound)
	}
	return list[0], nil
}

// DeleteSession removes the named session and all its records, or returns
// an error wrapping ErrNotFound. The meta record goes last, so an
// interrupted delete leaves a session that can be deleted again.
func (s *Store) DeleteSession(name string) error {
	end, err := s.beginWrite(name)
	if err != nil {
		return err
	}
	defer end()
	var keys [][]byte
	err = s.db.View(func(txn *badger.Txn) error {
		if _, err := readMeta(txn, name); err != nil {
			return err
		}
		prefix := sessionPrefix(name)
		meta := metaKey(name)
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: prefix})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			if k := it.Item().Key(); !bytes.Equal(k, meta) {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		keys = append(keys, meta)
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("delete session %q: %w", name, oneLine{err})
	}
	b := newBatch(s.db)
	defer b.discard()
	for _, k := range keys {
		if err := b.delete(k); err != nil {
			return fmt.Errorf("delete session %q: %w", name, oneLine{err})
		}
	}
	if err := b.commit(); err != nil {
		return fmt.Errorf("delete session %q: %w", name, oneLine{err})
	}
	return s.sync()
}
