package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
)

// Journal names an append-only list of records kept with a session beside
// its inventory (the active scanner's packet log, the waivers that
// acknowledge violations, the history of inventory-state transitions, the
// capture runs). Records are never rewritten; a later record supersedes an
// earlier one where its type says so.
//
// A journal kind is declared once, with a one-line RegisterJournal, in the
// package that owns its record type; AppendJournal and ReadJournal are
// generic in the record type, and ReadRawJournal/AppendRawJournal move
// records of any kind without knowing their type (bundles).
type Journal byte

// JournalInfo describes a registered journal kind.
type JournalInfo struct {
	Journal Journal
	Name    string
}

var (
	journalsMu sync.Mutex
	journals   = map[Journal]string{}
)

// reservedKinds are the key bytes of the session's own records.
const reservedKinds = "mactTAC"

// RegisterJournal declares a journal kind: key is its key byte (a printable
// ASCII letter not used by another kind), name its stable name in bundles
// and messages. It panics on a clash, at program start.
func RegisterJournal(key byte, name string) Journal {
	journalsMu.Lock()
	defer journalsMu.Unlock()
	if !(key >= 'a' && key <= 'z' || key >= 'A' && key <= 'Z') || slices.Contains([]byte(reservedKinds), key) {
		panic(fmt.Sprintf("store: journal key %q is reserved or not a letter", key))
	}
	if old, ok := journals[Journal(key)]; ok {
		panic(fmt.Sprintf("store: journal key %q registered twice (%s, %s)", key, old, name))
	}
	for _, n := range journals {
		if n == name {
			panic(fmt.Sprintf("store: journal name %q registered twice", name))
		}
	}
	journals[Journal(key)] = name
	return Journal(key)
}

// The journals this package and the assets package keep.
var (
	ScanLog      = RegisterJournal('p', "scanlog")
	Waivers      = RegisterJournal('w', "waivers")
	StateHistory = RegisterJournal('h', "state-history")
	Runs         = RegisterJournal('r', "runs")
	// Walkdown holds the walkdown records (assets/walkdown): documented
	// inventory imports and rows, nameplate facts, manual assets,
	// locations and verdicts.
	Walkdown = RegisterJournal('k', "walkdown")
)

// Journals returns every registered journal kind, sorted by name.
func Journals() []JournalInfo {
	journalsMu.Lock()
	defer journalsMu.Unlock()
	out := make([]JournalInfo, 0, len(journals))
	for j, n := range journals {
		out = append(out, JournalInfo{Journal: j, Name: n})
	}
	slices.SortFunc(out, func(a, b JournalInfo) int {
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

// JournalByName returns the registered journal called name.
func JournalByName(name string) (Journal, bool) {
	journalsMu.Lock()
	defer journalsMu.Unlock()
	for j, n := range journals {
		if n == name {
			return j, true
		}
	}
	return 0, false
}

func (j Journal) valid() bool {
	journalsMu.Lock()
	defer journalsMu.Unlock()
	_, ok := journals[j]
	return ok
}

func (j Journal) String() string {
	journalsMu.Lock()
	defer journalsMu.Unlock()
	if n, ok := journals[j]; ok {
		return n
	}
	return fmt.Sprintf("journal(%q)", byte(j))
}

// journalKey is the key of record seq (big-endian, so keys sort in order).
func journalKey(j Journal, seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return recordKey(byte(j), string(b[:]))
}

// lastSeq returns the sequence number of the journal's last record (0: none).
func lastSeq(txn *badger.Txn, j Journal) uint64 {
	prefix := kindPrefix(byte(j))
	it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
	defer it.Close()
	seek := append(append([]byte{}, prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
		k := it.Item().Key()[len(prefix):]
		if len(k) == 8 {
			return binary.BigEndian.Uint64(k)
		}
	}
	return 0
}

// AppendJournal adds records to the end of the session's journal j and
// syncs before it returns. The session must exist.
func AppendJournal[T any](s *Store, session string, j Journal, records ...T) error {
	vals := make([][]byte, len(records))
	for i := range records {
		v, err := encodeJSON(records[i])
		if err != nil {
			return fmt.Errorf("append to %v of session %q: record %d: %w", j, session, i+1, err)
		}
		vals[i] = v
	}
	return s.appendValues(session, j, vals)
}

// Append is AppendJournal as a method, for interfaces (a generic function
// cannot be an interface method): assets.Session journals through it.
// Prefer AppendJournal where the store itself is at hand.
func (s *Store) Append(session string, j Journal, records ...any) error {
	return AppendJournal(s, session, j, records...)
}

// AppendRawJournal adds records given as JSON (one value each) to the end
// of the session's journal j, as a bundle import does.
func (s *Store) AppendRawJournal(session string, j Journal, records ...json.RawMessage) error {
	vals := make([][]byte, len(records))
	for i, r := range records {
		if !json.Valid(r) {
			return fmt.Errorf("append to %v of session %q: record %d is not JSON", j, session, i+1)
		}
		vals[i] = encodeRaw(r)
	}
	return s.appendValues(session, j, vals)
}

// appendValues adds stored values (a version byte and JSON each) to the
// end of the session's journal j.
func (s *Store) appendValues(session string, j Journal, vals [][]byte) error {
	if !j.valid() {
		return fmt.Errorf("append to session %q: unknown %v", session, j)
	}
	h, end, err := s.acquire(session, modeWrite)
	if err != nil {
		return err
	}
	defer end()
	if err := h.checkSpace(approxSize(vals)); err != nil {
		return err
	}
	err = func() error {
		b := newBatch(h.db)
		defer b.discard()
		var seq uint64
		if err := h.db.View(func(txn *badger.Txn) error {
			seq = lastSeq(txn, j)
			return nil
		}); err != nil {
			return err
		}
		for _, v := range vals {
			seq++
			if err := b.set(journalKey(j, seq), v); err != nil {
				return err
			}
		}
		return b.commit()
	}()
	if err != nil {
		return h.writeErr(fmt.Sprintf("append to %v", j), err)
	}
	return h.sync()
}

func approxSize(recs [][]byte) int64 {
	var n int64
	for _, r := range recs {
		n += int64(len(r)) + 16
	}
	return n
}

// RawRecord is one journal record as stored: its sequence number (from 1)
// and its JSON.
type RawRecord struct {
	Seq  uint64
	JSON json.RawMessage
}

// ReadRawJournal returns the records of the session's journal j in the
// order they were appended, undecoded. Records not written by this
// package's value layout are skipped and counted.
func (s *Store) ReadRawJournal(session string, j Journal) (recs []RawRecord, skipped int, err error) {
	h, end, err := s.acquire(session, modeRead)
	if err != nil {
		return nil, 0, err
	}
	defer end()
	err = h.view(func(txn *badger.Txn) error {
		recs, skipped, err = readRawTxn(txn, j)
		return err
	})
	if err != nil {
		return nil, 0, h.readErr(fmt.Sprintf("read %v", j), err)
	}
	return recs, skipped, nil
}

// readRaw returns the JSON of the journal's decodable records. The caller
// holds h.
func (h *handle) readRaw(j Journal) ([]json.RawMessage, error) {
	var recs []RawRecord
	err := h.view(func(txn *badger.Txn) error {
		var err error
		recs, _, err = readRawTxn(txn, j)
		return err
	})
	if err != nil {
		return nil, h.readErr(fmt.Sprintf("read %v", j), err)
	}
	out := make([]json.RawMessage, len(recs))
	for i := range recs {
		out[i] = recs[i].JSON
	}
	return out, nil
}

func readRawTxn(txn *badger.Txn, j Journal) (recs []RawRecord, skipped int, err error) {
	prefix := kindPrefix(byte(j))
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: prefix})
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		k := item.Key()[len(prefix):]
		v, err := item.ValueCopy(nil)
		if err != nil {
			return nil, 0, err
		}
		if len(k) != 8 || len(v) == 0 || v[0] != valueVersion || !validJSON(v[1:]) {
			skipped++
			continue
		}
		recs = append(recs, RawRecord{Seq: binary.BigEndian.Uint64(k), JSON: v[1:]})
	}
	return recs, skipped, nil
}

// ReadJournal returns the records of the session's journal j in the order
// they were appended, decoded as T. Records that fail to decode are
// skipped and counted.
func ReadJournal[T any](s *Store, session string, j Journal) (recs []T, skipped int, err error) {
	raw, skipped, err := s.ReadRawJournal(session, j)
	if err != nil {
		return nil, 0, err
	}
	recs = make([]T, 0, len(raw))
	for _, r := range raw {
		var v T
		if UnmarshalJSON(r.JSON, &v) != nil {
			skipped++
			continue
		}
		recs = append(recs, v)
	}
	return recs, skipped, nil
}

// JournalKinds returns the journal kinds that hold records in the session,
// registered or not (a newer otscope may have written kinds this one does
// not know), in key order.
func (s *Store) JournalKinds(session string) ([]Journal, error) {
	h, end, err := s.acquire(session, modeRead)
	if err != nil {
		return nil, err
	}
	defer end()
	var out []Journal
	err = h.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			k := it.Item().Key()
			if len(k) >= 2 && k[1] == 0 && !slices.Contains([]byte(reservedKinds), k[0]) {
				out = append(out, Journal(k[0]))
			}
			if len(k) == 0 || k[0] == 0xff {
				break
			}
			it.Seek([]byte{k[0] + 1})
		}
		return nil
	})
	if err != nil {
		return nil, h.readErr("list journals", err)
	}
	return out, nil
}
