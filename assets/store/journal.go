package store

import (
	"encoding/binary"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// Journal names an append-only list of records kept with a session beside
// its inventory: the active scanner's packet log, the waivers that
// acknowledge violations, the history of inventory-state transitions.
// Records are never rewritten; a later record supersedes an earlier one
// where its type says so (a waiver for the same rule and asset).
type Journal byte

// The journals of a session.
const (
	ScanLog      Journal = 'p'
	Waivers      Journal = 'w'
	StateHistory Journal = 'h'
	// Walkdown holds walkdown records (assets/walkdown.Record).
	Walkdown Journal = 'k'
)

func (j Journal) valid() bool {
	return j == ScanLog || j == Waivers || j == StateHistory || j == Walkdown
}

func (j Journal) String() string {
	switch j {
	case ScanLog:
		return "scan log"
	case Waivers:
		return "waivers"
	case StateHistory:
		return "state history"
	case Walkdown:
		return "walkdown"
	}
	return fmt.Sprintf("journal(%q)", byte(j))
}

// journalKey is the key of record seq (big-endian, so keys sort in order).
func journalKey(session string, j Journal, seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return recordKey(session, byte(j), string(b[:]))
}

// lastSeq returns the sequence number of the journal's last record (0: none).
func lastSeq(txn *badger.Txn, session string, j Journal) uint64 {
	prefix := kindPrefix(session, byte(j))
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

// Append adds records to the end of the session's journal j and syncs
// before it returns. Each record is stored as JSON; the session must exist.
func (s *Store) Append(session string, j Journal, records ...any) error {
	if !j.valid() {
		return fmt.Errorf("append to session %q: unknown %v", session, j)
	}
	end, err := s.beginWrite(session)
	if err != nil {
		return err
	}
	defer end()
	err = func() error {
		b := newBatch(s.db)
		defer b.discard()
		var seq uint64
		if err := s.db.View(func(txn *badger.Txn) error {
			if _, err := readMeta(txn, session); err != nil {
				return err
			}
			seq = lastSeq(txn, session, j)
			return nil
		}); err != nil {
			return err
		}
		for _, r := range records {
			seq++
			if err := put(b, journalKey(session, j, seq), r); err != nil {
				return fmt.Errorf("%v record %d: %w", j, seq, err)
			}
		}
		return b.commit()
	}()
	if err != nil {
		return fmt.Errorf("append to %v of session %q: %w", j, session, oneLine{err})
	}
	return s.sync()
}

// ReadJournal returns the records of the session's journal j in the order
// they were appended. Records that fail to decode are skipped and counted.
func ReadJournal[T any](s *Store, session string, j Journal) (recs []T, skipped int, err error) {
	end, err := s.beginRead(session)
	if err != nil {
		return nil, 0, err
	}
	defer end()
	err = s.db.View(func(txn *badger.Txn) error {
		if _, err := readMeta(txn, session); err != nil {
			return err
		}
		prefix := kindPrefix(session, byte(j))
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: prefix})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			var r T
			if err := it.Item().Value(func(v []byte) error { return decodeValue(v, &r) }); err != nil {
				skipped++
				continue
			}
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read %v of session %q: %w", j, session, oneLine{err})
	}
	return recs, skipped, nil
}
