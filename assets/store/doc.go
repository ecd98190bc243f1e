// Package store persists otscope sessions, each in its own Badger v4
// database. It is the only package of otscope that imports badger.
//
// A Store is a directory of sessions (by default
// $XDG_DATA_HOME/otscope/sessions, see DefaultDir; --db DIR names another):
//
//	<root>/<session>/db/          the session's Badger database
//	<root>/<session>/session.json its metadata and counts (Meta), rewritten
//	                              atomically after every write
//	<root>/<session>/owner.json   the process writing it (pid, command line,
//	                              start time), while it does
//
// Sessions are opened lazily: read-only for reads (and closed again when
// the read ends), read-write from the first write, holding Badger's
// exclusive lock until Close. So a TUI capturing into one session never
// locks out commands on another; a command on a session another otscope
// is writing gets ErrLocked naming that process; listing sessions reads
// only the metadata files and works while sessions are written.
//
// The caller (the assets inventory) coalesces observations in memory and
// hands a Flush to Save at least once a second; Save writes it and syncs
// the write-ahead log before it returns, so a process killed with SIGKILL
// loses at most the flush in progress.
//
//	s, err := store.Open(store.Options{Dir: dir, Logger: logger})
//	if err != nil {
//		return err // one line that says what to do
//	}
//	defer s.Close()
//	if _, err := s.EnsureSession("plant-a", time.Now()); err != nil {
//		return err
//	}
//	err = s.Save("plant-a", store.Flush{Assets: changed, Time: time.Now()})
//	snap, err := s.Load("plant-a")
//
// Nothing lost. Before Badger opens a session's files the store checks
// them (inspect): the MANIFEST parses, it names every table file and every
// table it names exists and passes its checksums. Badger itself would
// delete unnamed table files (even read-only) and skip a table whose
// checksum fails; a session that fails the check is reported damaged
// (ErrCorrupt) and left untouched. Reads verify block checksums. A session
// that was not closed cleanly is read from a private copy, so a reading
// command never changes a database. A session on read-only media opens
// read-only. Before opening for writing and before each write the store
// checks that the file system keeps DefaultMinFree bytes free (Badger
// writes through memory maps, and a full disk would kill the process with
// SIGBUS): ErrDiskFull instead, with everything written so far kept.
// Directories are 0700 and files 0600 whatever the umask.
//
// Migration. Earlier versions kept every session in one database (schema
// 1: keys "s\x00<session>\x00<kind>..."). Open migrates it, from the store
// directory itself or from the old default $XDG_DATA_HOME/otscope/db, into
// one database per session, verifies every session's record counts, and
// only then moves the old database aside (never deleting it); see
// migrate.go.
//
// Layout of a session database (schema 2). Every key starts with a byte
// that names the record kind, then a zero byte:
//
//	m\x00schema          schema version (decimal text, currently "2")
//	m\x00meta            created, updated, site, sensor
//	a\x00<asset ID>      model.Asset
//	A\x00<asset ID>      model.AssetCounters written since that asset's record
//	c\x00<conv key>      model.Conversation (key: Conversation.Key())
//	C\x00<conv key>      model.ConversationCounters written since that record
//	t\x00<source>        model.CaptureStats of the latest run of a source
//	T\x00<source>\x00<t> model.CaptureStats of an earlier run (t: its start)
//	<j>\x00<seq>         journal j's record seq (8 bytes, big-endian)
//
// Each value starts with a version byte. Assets and conversations are
// binary records (record.go: about a third of their JSON, and several
// times faster to write and read); sessions written before hold them as
// JSON, which is still read. Counter records are binary too (counters.go),
// tens of bytes; both are written and read with the primitives of
// binary.go. Everything else (meta, statistics, journals) is JSON. An
// asset or conversation whose only change is its traffic is saved as a
// counter record (Flush.AssetCounters, Flush.ConversationCounters); saving
// it whole deletes that, and Load widens each record with its counters.
// Journals (the scan log, waivers, state history, capture runs, and any
// kind another package declares with RegisterJournal) are append-only;
// AppendJournal and ReadJournal are typed, ReadRawJournal and
// AppendRawJournal move records of any kind (bundles).
//
// Re-ingest. IdentifyFile names a capture file by content; BeginRun and
// FinishRun record a run of a source in the Runs journal; FileRead tells
// whether a file was already read; a run started and never finished is
// counted as interrupted in Meta.
//
// Badger writes its own log lines to Options.Logger (prefixed "badger: "),
// never to the terminal. A *Store is safe for concurrent use by multiple
// goroutines; writes to one session are serialised inside the store.
package store
