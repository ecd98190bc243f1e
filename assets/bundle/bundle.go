// Package bundle writes and reads session bundles: one gzip'd, versioned
// JSONL file that holds everything a session stores, so that a session can
// travel from a jump host to a laptop and come back exactly.
//
// The first line is the Header (schema version, otscope version, site and
// sensor, creation time, counts per record type and the SHA-256 of
// everything after the header line). Then one record per line, in a fixed
// order: the session meta record, the assets by ID, the conversations by
// key, the capture statistics by source, and every journal by name, its
// records in the order they were appended. Writing the same session twice
// gives the same bytes apart from the header's created time.
//
// Read verifies the whole bundle (gzip stream, schema, counts, checksum)
// before it returns anything, so a truncated or damaged bundle is refused
// whole. A bundle may be encrypted with age (Options.Recipients) and
// pseudonymized (Pseudonymize).
package bundle

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"otscope/assets/store"
	"otscope/model"
)

// Format is the header's format name.
const Format = "otscope-bundle"

// Schema is the bundle schema version this package writes. Read accepts
// this version and migrates older ones; it refuses newer ones with
// ErrNewerSchema.
const Schema = 1

// Record types, as they appear in each line's "type" and in Header.Counts.
const (
	TypeSession      = "session"
	TypeAsset        = "asset"
	TypeConversation = "conversation"
	TypeStats        = "stats"
	TypeJournal      = "journal"
)

// Errors of Read. Each comes wrapped with a one-line explanation.
var (
	ErrNotBundle   = errors.New("not an otscope bundle")
	ErrNewerSchema = errors.New("bundle written by a newer otscope")
	ErrCorrupt     = errors.New("bundle is damaged")
	ErrTruncated   = errors.New("bundle is truncated")
	ErrChecksum    = errors.New("bundle checksum does not match")
	ErrEncrypted   = errors.New("bundle is encrypted")
)

// Header is the first line of a bundle.
type Header struct {
	Format  string `json:"format"`
	Schema  int    `json:"schema"`
	Otscope string `json:"otscope"`
	// Session is the name of the session the bundle was exported from.
	Session string    `json:"session"`
	Site    string    `json:"site,omitempty"`
	Sensor  string    `json:"sensor,omitempty"`
	Created time.Time `json:"created"`
	// Pseudonymized is set when addresses and names were replaced by
	// Pseudonymize (the key is not in the bundle).
	Pseudonymized bool `json:"pseudonymized,omitempty"`
	// Counts are the number of records of each type.
	Counts map[string]int `json:"counts"`
	// SHA256 is the hex SHA-256 of every byte after the header line.
	SHA256 string `json:"sha256"`
}

// Session is the whole content of a session, as a bundle carries it.
type Session struct {
	Name    string
	Site    string
	Sensor  string
	Created time.Time
	Updated time.Time
	// Assets, Conversations and Stats are written sorted by ID, key and
	// source.
	Assets        []model.Asset
	Conversations []model.Conversation
	Stats         []model.CaptureStats
	// Journals are the session's journals by name (the store's name of the
	// journal kind, "scanlog", "waivers", ...). Records are kept as the
	// JSON the store holds, so journal kinds added later travel without
	// changes here.
	Journals []Journal
}

// Journal is one named journal and its records, oldest first.
type Journal struct {
	Name    string
	Records []json.RawMessage
}

// Meta is the session record's data: the session's names and times. A
// central push sends it as its session record too.
type Meta struct {
	Name    string    `json:"name"`
	Site    string    `json:"site,omitempty"`
	Sensor  string    `json:"sensor,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Meta returns s's session record.
func (s *Session) Meta() Meta {
	return Meta{Name: s.Name, Site: s.Site, Sensor: s.Sensor, Created: s.Created, Updated: s.Updated}
}

// line is one record line.
type line struct {
	Type    string          `json:"type"`
	Journal string          `json:"journal,omitempty"`
	Data    json.RawMessage `json:"data"`
}

// Options configure Write.
type Options struct {
	// Otscope is the version of the otscope writing the bundle.
	Otscope string
	// Created is the header's time; zero means time.Now().
	Created time.Time
	// Recipients, when set, encrypt the bundle with age to them (X25519
	// keys or a passphrase's scrypt recipient; see Recipients).
	Recipients []age.Recipient
	// Pseudonymized is recorded in the header; set it when the session was
	// passed through Pseudonymize.
	Pseudonymized bool
	// Progress, when set, is called as records are encoded (every 1,000
	// records and at the end) with the records done and the total; the
	// TUI's export shows it.
	Progress func(done, total int)
}

// Normalize sorts the session's lists into bundle order, so that two
// sessions with the same content compare equal.
func (s *Session) Normalize() {
	slices.SortStableFunc(s.Assets, func(a, b model.Asset) int { return strings.Compare(string(a.ID), string(b.ID)) })
	slices.SortStableFunc(s.Conversations, func(a, b model.Conversation) int { return strings.Compare(a.Key(), b.Key()) })
	slices.SortStableFunc(s.Stats, func(a, b model.CaptureStats) int { return strings.Compare(a.Source, b.Source) })
	slices.SortStableFunc(s.Journals, func(a, b Journal) int { return strings.Compare(a.Name, b.Name) })
}

// Write writes s as a bundle to w. The session is normalised (sorted) in
// place. Nothing is written to w until the content is encoded, so an
// encoding error leaves w untouched; a failing w (a full disk) returns its
// error — write to export.WriteFile so that the file is then removed.
func Write(w io.Writer, s *Session, o Options) error {
	s.Normalize()
	// The header carries the content's SHA-256, so the content is held
	// until it is complete: in chunks that are never copied as it grows,
	// hashed as it is written.
	var body chunks
	sum := sha256.New()
	var line bytes.Buffer
	counts := map[string]int{}
	done, total := 0, 1+len(s.Assets)+len(s.Conversations)+len(s.Stats)
	for _, j := range s.Journals {
		total += len(j.Records)
	}
	je := json.NewEncoder(&line)
	// Each line is {"type":T[,"journal":J],"data":D}: the prefix is written
	// by hand and D by the encoder (which ends it with a newline, replaced
	// by the closing brace and a newline).
	enc := func(typ, journal string, v any) error {
		line.Reset()
		line.WriteString(`{"type":`)
		writeJSONString(&line, typ)
		if journal != "" {
			line.WriteString(`,"journal":`)
			writeJSONString(&line, journal)
		}
		line.WriteString(`,"data":`)
		if err := je.Encode(v); err != nil {
			return fmt.Errorf("encode %s record: %w", typ, err)
		}
		line.Truncate(line.Len() - 1)
		line.WriteString("}\n")
		sum.Write(line.Bytes())
		body.write(line.Bytes())
		counts[typ]++
		if done++; o.Progress != nil && done%1000 == 0 {
			o.Progress(done, total)
		}
		return nil
	}

	if err := enc(TypeSession, "", s.Meta()); err != nil {
		return err
	}
	for i := range s.Assets {
		if err := enc(TypeAsset, "", &s.Assets[i]); err != nil {
			return err
		}
	}
	for i := range s.Conversations {
		if err := enc(TypeConversation, "", &s.Conversations[i]); err != nil {
			return err
		}
	}
	for i := range s.Stats {
		if err := enc(TypeStats, "", &s.Stats[i]); err != nil {
			return err
		}
	}
	for _, j := range s.Journals {
		if j.Name == "" {
			return errors.New("encode journal record: a journal has no name")
		}
		for _, r := range j.Records {
			if err := enc(TypeJournal, j.Name, r); err != nil {
				return err
			}
		}
	}
	if o.Progress != nil {
		o.Progress(done, total)
	}
	created := o.Created
	if created.IsZero() {
		created = time.Now()
	}
	h := Header{
		Format: Format, Schema: Schema, Otscope: o.Otscope, Session: s.Name, Site: s.Site, Sensor: s.Sensor,
		Created: created.UTC().Round(0), Pseudonymized: o.Pseudonymized, Counts: counts, SHA256: hex.EncodeToString(sum.Sum(nil)),
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode bundle header: %w", err)
	}

	var out io.Writer = w
	var encw io.WriteCloser
	if len(o.Recipients) > 0 {
		if encw, err = age.Encrypt(w, o.Recipients...); err != nil {
			return fmt.Errorf("encrypt bundle: %w", err)
		}
		out = encw
	}
	zw, err := gzip.NewWriterLevel(out, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if _, err := zw.Write(hb); err != nil {
		return err
	}
	if _, err := zw.Write([]byte{'\n'}); err != nil {
		return err
	}
	for _, c := range body {
		if _, err := zw.Write(c); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if encw != nil {
		if err := encw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// chunks holds a bundle's content in pieces of at most chunkSize bytes, so
// growing it never copies what is already written.
type chunks [][]byte

const chunkSize = 1 << 20

func (c *chunks) write(p []byte) {
	for len(p) > 0 {
		n := len(*c)
		if n == 0 || len((*c)[n-1]) == cap((*c)[n-1]) {
			*c = append(*c, make([]byte, 0, chunkSize))
			n++
		}
		last := &(*c)[n-1]
		k := min(len(p), cap(*last)-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
}

// writeJSONString writes s as a JSON string, as encoding/json would.
func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

// ReadOptions configure Read.
type ReadOptions struct {
	// Identities decrypt an encrypted bundle (X25519 identities or a
	// passphrase's scrypt identity; see Identities).
	Identities []age.Identity
	// MaxSize bounds the decompressed size; 0 means DefaultMaxSize.
	MaxSize int64
}

// DefaultMaxSize is the largest decompressed bundle Read accepts by default
// (a bound against compression bombs; a 10,000-asset session is ~60 MiB).
const DefaultMaxSize = 4 << 30

// maxLine bounds one record line.
const maxLine = 256 << 20

// ageMagic starts every age file.
var ageMagic = []byte("age-encryption.org/")

// Read reads and verifies a whole bundle. It returns the session only when
// the gzip stream is complete, the schema is known (older ones are
// migrated), the counts match and the checksum matches.
func Read(r io.Reader, o ReadOptions) (Session, Header, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	peek, _ := br.Peek(len(ageMagic))
	var src io.Reader = br
	if bytes.Equal(peek, ageMagic) {
		if len(o.Identities) == 0 {
			return Session{}, Header{}, fmt.Errorf("%w: pass the identity file or the passphrase it was encrypted with", ErrEncrypted)
		}
		d, err := age.Decrypt(br, o.Identities...)
		if err != nil {
			return Session{}, Header{}, fmt.Errorf("%w: cannot decrypt: %v", ErrEncrypted, err)
		}
		src = d
	} else if len(peek) < 2 || peek[0] != 0x1f || peek[1] != 0x8b {
		return Session{}, Header{}, fmt.Errorf("%w: it does not start with a gzip or age header", ErrNotBundle)
	}
	zr, err := gzip.NewReader(src)
	if err != nil {
		return Session{}, Header{}, fmt.Errorf("%w: %v", ErrNotBundle, err)
	}
	zr.Multistream(false)
	limit := o.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	lr := &io.LimitedReader{R: zr, N: limit + 1}
	s, h, err := decode(bufio.NewReaderSize(lr, 1<<16))
	if lr.N <= 0 {
		return Session{}, h, fmt.Errorf("%w: it decompresses to more than %d MiB", ErrCorrupt, limit>>20)
	}
	return s, h, err
}

// readLine returns the next line without its newline; io.EOF at the end.
func readLine(br *bufio.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("%w: a line is longer than %d MiB", ErrCorrupt, maxLine>>20)
		}
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) > 0 {
				return nil, fmt.Errorf("%w: the last line has no end", ErrTruncated)
			}
			return nil, io.EOF
		default:
			return nil, streamErr(err)
		}
	}
}

// streamErr classifies an error of the decompressing reader.
func streamErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the compressed stream ends early", ErrTruncated)
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

func decode(br *bufio.Reader) (Session, Header, error) {
	var h Header
	hl, err := readLine(br, nil)
	if errors.Is(err, io.EOF) {
		return Session{}, h, fmt.Errorf("%w: it is empty", ErrNotBundle)
	}
	if err != nil {
		return Session{}, h, err
	}
	if err := store.UnmarshalJSON(hl, &h); err != nil || h.Format != Format {
		return Session{}, h, fmt.Errorf("%w: the first line is not a bundle header", ErrNotBundle)
	}
	if h.Schema > Schema {
		return Session{}, h, fmt.Errorf("%w: schema %d, this otscope reads up to %d (exported by otscope %s); upgrade otscope",
			ErrNewerSchema, h.Schema, Schema, h.Otscope)
	}
	if h.Schema < 1 {
		return Session{}, h, fmt.Errorf("%w: schema %d is not a bundle schema", ErrCorrupt, h.Schema)
	}
	want, err := hex.DecodeString(h.SHA256)
	if err != nil || len(want) != sha256.Size {
		return Session{}, h, fmt.Errorf("%w: the header has no valid sha256", ErrCorrupt)
	}

	var (
		s       Session
		sum     = sha256.New()
		counts  = map[string]int{}
		buf     []byte
		n       int
		journal = map[string]int{} // name -> index in s.Journals
	)
	for {
		l, err := readLine(br, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Session{}, h, err
		}
		buf = l
		n++
		sum.Write(l)
		sum.Write([]byte{'\n'})
		rec, ok := splitLine(l)
		if !ok {
			if err := store.UnmarshalJSON(l, &rec); err != nil {
				return Session{}, h, fmt.Errorf("%w: record %d is not JSON: %v", ErrCorrupt, n, err)
			}
		}
		if err := migrate(h.Schema, &rec); err != nil {
			return Session{}, h, fmt.Errorf("%w: record %d: %v", ErrCorrupt, n, err)
		}
		counts[rec.Type]++
		var derr error
		switch rec.Type {
		case TypeSession:
			if counts[TypeSession] > 1 {
				return Session{}, h, fmt.Errorf("%w: record %d is a second session record", ErrCorrupt, n)
			}
			var m Meta
			if derr = store.UnmarshalJSON(rec.Data, &m); derr == nil {
				s.Name, s.Site, s.Sensor, s.Created, s.Updated = m.Name, m.Site, m.Sensor, m.Created, m.Updated
			}
		case TypeAsset:
			var a model.Asset
			if derr = store.UnmarshalJSON(rec.Data, &a); derr == nil {
				s.Assets = append(s.Assets, a)
			}
		case TypeConversation:
			var c model.Conversation
			if derr = store.UnmarshalJSON(rec.Data, &c); derr == nil {
				s.Conversations = append(s.Conversations, c)
			}
		case TypeStats:
			var st model.CaptureStats
			if derr = store.UnmarshalJSON(rec.Data, &st); derr == nil {
				s.Stats = append(s.Stats, st)
			}
		case TypeJournal:
			if rec.Journal == "" {
				derr = errors.New("a journal record has no journal name")
				break
			}
			i, ok := journal[rec.Journal]
			if !ok {
				i = len(s.Journals)
				journal[rec.Journal] = i
				s.Journals = append(s.Journals, Journal{Name: rec.Journal})
			}
			var c bytes.Buffer
			if derr = json.Compact(&c, rec.Data); derr == nil {
				s.Journals[i].Records = append(s.Journals[i].Records, json.RawMessage(c.Bytes()))
			}
		default:
			derr = fmt.Errorf("unknown record type %q", rec.Type)
		}
		if derr != nil {
			return Session{}, h, fmt.Errorf("%w: record %d (%s): %v", ErrCorrupt, n, rec.Type, derr)
		}
	}
	if got := sum.Sum(nil); !bytes.Equal(got, want) {
		return Session{}, h, fmt.Errorf("%w: the content was changed or damaged after export", ErrChecksum)
	}
	for _, t := range []string{TypeSession, TypeAsset, TypeConversation, TypeStats, TypeJournal} {
		if counts[t] != h.Counts[t] {
			return Session{}, h, fmt.Errorf("%w: %d %s records, the header says %d", ErrCorrupt, counts[t], t, h.Counts[t])
		}
	}
	if counts[TypeSession] != 1 {
		return Session{}, h, fmt.Errorf("%w: no session record", ErrCorrupt)
	}
	return s, h, nil
}

// linePrefixes are the line starts Write produces for records without a
// journal name.
var linePrefixes = func() map[string][]byte {
	m := map[string][]byte{}
	for _, t := range []string{TypeSession, TypeAsset, TypeConversation, TypeStats} {
		m[t] = []byte(`{"type":"` + t + `","data":`)
	}
	return m
}()

// splitLine takes a record line apart without decoding its data, when it
// has the exact shape Write gives it; ok is false otherwise (and the line
// is then decoded as JSON). The data is validated when it is decoded.
func splitLine(l []byte) (line, bool) {
	if len(l) < 2 || l[len(l)-1] != '}' {
		return line{}, false
	}
	for t, p := range linePrefixes {
		if bytes.HasPrefix(l, p) {
			return line{Type: t, Data: l[len(p) : len(l)-1]}, true
		}
	}
	return line{}, false
}

// migrate upgrades a record of an older schema to the current one in place.
// Schema 1 is the first bundle schema, so there is nothing older to upgrade
// yet; a schema 2 adds its upgrade of schema-1 records here, keyed on
// schema, and Read then accepts both.
func migrate(schema int, rec *line) error {
	if schema == Schema {
		return nil
	}
	return fmt.Errorf("no migration from bundle schema %d", schema)
}
