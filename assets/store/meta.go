package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/model"
)

// metaFileName is the session's metadata file, beside its database: what
// listing sessions reads, so that it never opens (or waits for) a session
// another otscope is writing. It is derived from the database, rewritten
// atomically after every write and whenever the session is opened for
// writing.
const metaFileName = "session.json"

// Meta describes a stored session: its names, times and counts.
type Meta struct {
	// SessionInfo holds the name, the times and the counts: assets and
	// conversations stored, packets over every run of every source, the
	// sources' names.
	model.SessionInfo
	// Site names the plant or area, Sensor the host or interface that
	// captured it (merging and central collection need both).
	Site   string `json:"site,omitempty"`
	Sensor string `json:"sensor,omitempty"`
	// Runs counts capture runs (BeginRun); Interrupted those that never
	// finished (killed, crashed, or still running elsewhere).
	Runs        int `json:"runs"`
	Interrupted int `json:"interrupted_runs"`
}

// Info returns the model's view of m.
func (m Meta) Info() model.SessionInfo {
	info := m.SessionInfo
	info.Sources = slices.Clone(m.Sources)
	return info
}

// dbMeta is the session meta record stored in the database.
type dbMeta struct {
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Site    string    `json:"site,omitempty"`
	Sensor  string    `json:"sensor,omitempty"`
}

// checkSchema reads the schema version; on a new, empty database opened
// for writing it writes SchemaVersion.
func (h *handle) checkSchema() error {
	var (
		found   bool
		version string
		empty   = true
	)
	err := h.view(func(txn *badger.Txn) error {
		item, err := txn.Get(schemaKey)
		switch {
		case err == nil:
			found = true
			return item.Value(func(v []byte) error {
				version = string(v)
				return nil
			})
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	if err != nil {
		return h.readErr("read schema version", err)
	}
	if !found {
		if !empty {
			return fmt.Errorf("session %q has no otscope schema version: %w", h.name, ErrNotDatabase)
		}
		if h.readOnly {
			return nil
		}
		if err := h.db.Update(func(txn *badger.Txn) error {
			return txn.Set(schemaKey, []byte(strconv.Itoa(SchemaVersion)))
		}); err != nil {
			return h.writeErr("write schema version", err)
		}
		return h.sync()
	}
	v, err := strconv.Atoi(strings.TrimSpace(version))
	if err != nil || v < 1 {
		return damagedErr(h.name, h.dir, fmt.Errorf("schema version %q is not a number", version))
	}
	if v > SchemaVersion {
		return fmt.Errorf("session %q has schema %d, this otscope knows %d: %w", h.name, v, SchemaVersion, ErrSchema)
	}
	return nil
}

// readDBMeta returns the stored meta record; found is false when there is
// none (a session being created).
func readDBMeta(txn *badger.Txn) (m dbMeta, found bool, err error) {
	item, err := txn.Get(metaKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	// A damaged meta record still names an existing session.
	_ = item.Value(func(v []byte) error { return decodeValue(v, &m) })
	return m, true, nil
}

// loadMeta computes the session's Meta from its database (one key scan;
// values are read only for stats and runs) and, when open for writing,
// rewrites the metadata file and keeps the asset and conversation keys it
// scanned as the writer's known keys (the caller holds h.wmu, or has not
// shared h yet).
func (h *handle) loadMeta() error {
	m := Meta{SessionInfo: model.SessionInfo{Name: h.name}}
	var known map[string]struct{}
	if !h.readOnly {
		known = map[string]struct{}{}
	}
	err := h.view(func(txn *badger.Txn) error {
		dm, _, err := readDBMeta(txn)
		if err != nil {
			return err
		}
		m.Created, m.Updated, m.Site, m.Sensor = dm.Created, dm.Updated, dm.Site, dm.Sensor
		count := func(kind byte) (n int) {
			p := string(kindPrefix(kind))
			eachKey(txn, kind, func(id []byte) {
				n++
				if known != nil {
					known[p+string(id)] = struct{}{}
				}
			})
			return n
		}
		m.Assets, m.Conversations = count(kindAsset), count(kindConv)
		for _, kind := range []byte{kindStats, kindOldStats} {
			p := kindPrefix(kind)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
			for it.Seek(p); it.ValidForPrefix(p); it.Next() {
				var st model.CaptureStats
				if it.Item().Value(func(v []byte) error { return decodeValue(v, &st) }) == nil {
					m.Packets += st.Packets
					if kind == kindStats {
						m.Sources = append(m.Sources, st.Source)
					}
				}
			}
			it.Close()
		}
		slices.Sort(m.Sources)
		return nil
	})
	if err != nil {
		return h.readErr("read session meta", err)
	}
	if known != nil {
		h.known, h.complete = known, true
	}
	return h.setMeta(m)
}

// setMeta completes m (counts and times from the database) with the
// session's runs, keeps it and, when open for writing, rewrites the
// metadata file.
func (h *handle) setMeta(m Meta) error {
	runs, err := h.runStates()
	if err != nil {
		return err
	}
	for _, r := range runs {
		m.Runs++
		if r.Interrupted {
			m.Interrupted++
		}
	}
	h.metaMu.Lock()
	h.meta, h.metaLoaded = m, true
	h.metaMu.Unlock()
	if !h.readOnly {
		return h.writeMetaFile()
	}
	return nil
}

// writeMetaFile writes the session's metadata file atomically.
func (h *handle) writeMetaFile() error {
	if h.dir == "" {
		return nil
	}
	h.metaMu.Lock()
	b, err := json.MarshalIndent(h.meta, "", "  ")
	h.metaMu.Unlock()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(h.dir, metaFileName), append(b, '\n')); err != nil {
		return h.writeErr("write metadata file", err)
	}
	return nil
}

// currentMeta returns the session's metadata, computing it first on a
// read-only handle. The caller holds h.
func (h *handle) currentMeta() (Meta, error) {
	h.metaMu.Lock()
	loaded := h.metaLoaded
	h.metaMu.Unlock()
	if !loaded {
		if err := h.loadMeta(); err != nil {
			return Meta{}, err
		}
	}
	h.metaMu.Lock()
	defer h.metaMu.Unlock()
	m := h.meta
	m.Sources = slices.Clone(m.Sources)
	return m, nil
}

// SessionMeta returns the named session's metadata without opening its
// database when another process is writing it (from its metadata file).
func (s *Store) SessionMeta(name string) (Meta, error) {
	if err := ValidSessionName(name); err != nil {
		return Meta{}, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Meta{}, ErrClosed
	}
	_, isOpen := s.open[name]
	s.mu.Unlock()
	if isOpen || s.root == "" {
		// This store has it open (or it lives in memory): ask the handle.
		h, end, err := s.acquire(name, modeRead)
		if err != nil {
			return Meta{}, err
		}
		defer end()
		return h.currentMeta()
	}
	dir := filepath.Join(s.root, name)
	if _, err := os.Stat(filepath.Join(dir, dbDirName)); errors.Is(err, fs.ErrNotExist) {
		return Meta{}, fmt.Errorf("session %q: %w", name, ErrNotFound)
	}
	b, err := os.ReadFile(filepath.Join(dir, metaFileName))
	var m Meta
	if err == nil && json.Unmarshal(b, &m) == nil {
		m.Name = name
		return m, nil
	}
	// No readable metadata file (a session created by a crashed writer
	// before its first write): read the database itself.
	h, end, err := s.acquire(name, modeRead)
	if err != nil {
		return Meta{}, err
	}
	defer end()
	return h.currentMeta()
}

// ListMeta returns the metadata of every stored session, sorted by name.
// It reads metadata files, so it works while other otscopes write
// sessions; a session whose metadata cannot be read is listed by name.
func (s *Store) ListMeta() ([]Meta, error) {
	names, err := s.sessionNames()
	if err != nil {
		return nil, err
	}
	out := make([]Meta, 0, len(names))
	for _, n := range names {
		m, err := s.SessionMeta(n)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			m = Meta{SessionInfo: model.SessionInfo{Name: n}}
			if s.logger != nil {
				s.logger.Printf("store: session %s: %v", n, err)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// Sessions returns every stored session, sorted by name, with its counts.
func (s *Store) Sessions() ([]model.SessionInfo, error) {
	ms, err := s.ListMeta()
	if err != nil {
		return nil, err
	}
	out := make([]model.SessionInfo, len(ms))
	for i := range ms {
		out[i] = ms[i].Info()
	}
	return out, nil
}

// Session returns the named session's info, or an error wrapping
// ErrNotFound.
func (s *Store) Session(name string) (model.SessionInfo, error) {
	m, err := s.SessionMeta(name)
	if err != nil {
		return model.SessionInfo{}, err
	}
	return m.Info(), nil
}

// SetSite sets the session's site name (the plant or area it covers).
func (s *Store) SetSite(session, site string) error {
	return s.updateMeta(session, func(m *dbMeta) { m.Site = site })
}

// SetSensor sets the session's sensor name (the host or interface that
// captured it).
func (s *Store) SetSensor(session, sensor string) error {
	return s.updateMeta(session, func(m *dbMeta) { m.Sensor = sensor })
}

func (s *Store) updateMeta(session string, fn func(*dbMeta)) error {
	h, end, err := s.acquire(session, modeWrite)
	if err != nil {
		return err
	}
	defer end()
	if err := h.checkSpace(0); err != nil {
		return err
	}
	var dm dbMeta
	err = h.db.Update(func(txn *badger.Txn) error {
		var found bool
		var err error
		if dm, found, err = readDBMeta(txn); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("session %q: %w", session, ErrNotFound)
		}
		fn(&dm)
		v, err := encodeValue(dm)
		if err != nil {
			return err
		}
		return txn.Set(metaKey, v)
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return h.writeErr("update meta", err)
	}
	h.metaMu.Lock()
	h.meta.Site, h.meta.Sensor = dm.Site, dm.Sensor
	h.metaMu.Unlock()
	if err := h.sync(); err != nil {
		return err
	}
	return h.writeMetaFile()
}
