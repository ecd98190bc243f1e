// Package store persists otscope sessions in a Badger v4 database. It is the
// only package of otscope that imports badger.
//
// One database (by default under the XDG data directory, see DefaultDir)
// holds many named sessions. A session is a set of assets, conversations and
// capture statistics. The caller (the assets inventory) coalesces
// observations in memory and hands a Flush to Save at least once a second;
// Save writes it and syncs the write-ahead log before it returns, so a
// process killed with SIGKILL loses at most the flush in progress.
//
//	s, err := store.Open(store.Options{Dir: dir, Logger: logger})
//	if err != nil {
//		return err // one line that says what to do, e.g. store.ErrLocked
//	}
//	defer s.Close()
//	if _, err := s.EnsureSession("plant-a", time.Now()); err != nil {
//		return err
//	}
//	err = s.Save("plant-a", store.Flush{Assets: changed, Time: time.Now()})
//	snap, err := s.Load("plant-a")
//
// Errors crossing this package are translated at the edge into the sentinel
// errors of errors.go (ErrLocked, ErrCorrupt, ErrSchema, ...), so callers
// never see badger's types. Open never deletes or rewrites data when it
// fails.
//
// Layout. Every key starts with a byte that names the record kind:
//
//	m\x00schema                        schema version (decimal text, currently "1")
//	s\x00<session>\x00m                session meta (name, created, updated)
//	s\x00<session>\x00a\x00<asset ID>  model.Asset
//	s\x00<session>\x00c\x00<conv key>  model.Conversation (key: Conversation.Key())
//	s\x00<session>\x00t\x00<source>    model.CaptureStats (key: CaptureStats.Source)
//
// Session names never contain a zero byte (see ValidSessionName), so a
// session's records are one prefix scan. Each value is a version byte
// followed by JSON of the model type.
//
// Badger writes its own log lines to Options.Logger (prefixed "badger: "),
// never to the terminal.
//
// A *Store is safe for concurrent use by multiple goroutines; writes (Save,
// EnsureSession, DeleteSession) are serialised inside the store.
package store
