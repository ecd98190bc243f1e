package bundle_test

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"otscope/assets/bundle"
	"otscope/assets/bundle/bundletest"
	"otscope/assets/store"
	"otscope/model"
)

var created = time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)

// demo returns the demo plant read through the real pipeline, with journals.
func demo(t testing.TB) bundle.Session {
	t.Helper()
	s := bundletest.Ingest(t, "north", "plant.pcap", bundletest.PlantPcap(t, 8*time.Second))
	if len(s.Assets) < 10 || len(s.Conversations) < 10 {
		t.Fatalf("demo plant gave %d assets, %d conversations", len(s.Assets), len(s.Conversations))
	}
	bundletest.AddJournals(t, &s)
	return s
}

func write(t testing.TB, s bundle.Session, o bundle.Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if o.Created.IsZero() {
		o.Created = created
	}
	o.Otscope = "test"
	if err := bundle.Write(&b, &s, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func read(t testing.TB, b []byte) (bundle.Session, bundle.Header) {
	t.Helper()
	s, h, err := bundle.Read(bytes.NewReader(b), bundle.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s, h
}

// body returns the decompressed lines after the header, and the header.
func body(t testing.TB, b []byte) (string, bundle.Header) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, _ := strings.Cut(string(all), "\n")
	var h bundle.Header
	if err := json.Unmarshal([]byte(head), &h); err != nil {
		t.Fatal(err)
	}
	return rest, h
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Dir: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRoundTripThroughStore: a session saved in the store, exported,
// imported under another name and exported again gives the same bundle
// apart from the header's created time (and the session name it carries).
func TestRoundTripThroughStore(t *testing.T) {
	src := demo(t)
	src.Site, src.Sensor = "north-works", "jumphost-1"
	st := openStore(t)
	if err := bundle.ToStore(st, "north", &src); err != nil {
		t.Fatal(err)
	}
	first, _, err := bundle.FromStore(st, "north")
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Journals) != 3 || len(first.Assets) != len(src.Assets) || len(first.Conversations) != len(src.Conversations) {
		t.Fatalf("stored session has %d journals, %d assets, %d conversations; want 3, %d, %d",
			len(first.Journals), len(first.Assets), len(first.Conversations), len(src.Assets), len(src.Conversations))
	}
	var lastDone, lastTotal, calls int
	b1 := write(t, first, bundle.Options{Progress: func(d, tot int) { lastDone, lastTotal, calls = d, tot, calls+1 }})
	if calls == 0 || lastDone != lastTotal || lastTotal != 1+len(first.Assets)+len(first.Conversations)+len(first.Stats)+5 {
		t.Fatalf("progress ended at %d/%d after %d calls", lastDone, lastTotal, calls)
	}
	in, h := read(t, b1)
	if h.Counts[bundle.TypeAsset] != len(src.Assets) || h.Counts[bundle.TypeJournal] != 5 || h.Session != "north" {
		t.Fatalf("header %+v", h)
	}
	if err := bundle.ToStore(st, "laptop", &in); err != nil {
		t.Fatal(err)
	}
	again, _, err := bundle.FromStore(st, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	again.Name = "north"
	b2 := write(t, again, bundle.Options{Created: created.Add(time.Hour)})
	body1, h1 := body(t, b1)
	body2, h2 := body(t, b2)
	if body1 != body2 {
		t.Fatalf("export -> import -> export changed the content:\n%s", firstDiff(body1, body2))
	}
	if h1.Created.Equal(h2.Created) || h1.SHA256 != h2.SHA256 || !reflect.DeepEqual(h1.Counts, h2.Counts) {
		t.Fatalf("headers: %+v vs %+v", h1, h2)
	}
	// The imported session is the stored one, field by field.
	if again.Site != "north-works" || again.Sensor != "jumphost-1" {
		t.Fatalf("site %q sensor %q after the round trip", again.Site, again.Sensor)
	}
	if list, _ := st.Sessions(); len(list) != 2 {
		t.Fatalf("%d sessions after two imports (a temporary session left behind?)", len(list))
	}
	if !reflect.DeepEqual(first.Assets, again.Assets) || !first.Created.Equal(again.Created) || !first.Updated.Equal(again.Updated) {
		t.Fatal("the imported session differs from the exported one")
	}
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "line " + la[i] + "\nvs   " + lb[i]
		}
	}
	return "different number of lines"
}

func TestImportRefusesExistingName(t *testing.T) {
	s := demo(t)
	st := openStore(t)
	if err := bundle.ToStore(st, "north", &s); err != nil {
		t.Fatal(err)
	}
	before, _ := st.Load("north")
	err := bundle.ToStore(st, "north", &s)
	if !errors.Is(err, bundle.ErrExists) || !strings.Contains(err.Error(), "--as") {
		t.Fatalf("err = %v, want ErrExists naming --as", err)
	}
	after, _ := st.Load("north")
	if !reflect.DeepEqual(before, after) {
		t.Fatal("a refused import changed the existing session")
	}
}

func TestImportRefusesUnknownJournalBeforeWriting(t *testing.T) {
	s := demo(t)
	s.Journals = append(s.Journals, bundle.Journal{Name: "from the future", Records: []json.RawMessage{json.RawMessage(`{}`)}})
	st := openStore(t)
	if err := bundle.ToStore(st, "x", &s); !errors.Is(err, bundle.ErrUnknownJournal) {
		t.Fatalf("err = %v", err)
	}
	if list, _ := st.Sessions(); len(list) != 0 {
		t.Fatalf("sessions after a refused import: %v", list)
	}
}

// TestBadBundlesRefusedWhole: every damaged form is refused with its own
// error and nothing is returned.
func TestBadBundlesRefusedWhole(t *testing.T) {
	good := write(t, demo(t), bundle.Options{})
	plain, h := body(t, good)
	gz := func(head bundle.Header, rest string) []byte {
		hb, _ := json.Marshal(head)
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(hb)
		zw.Write([]byte("\n" + rest))
		zw.Close()
		return b.Bytes()
	}
	newer := h
	newer.Schema = bundle.Schema + 1
	badCount := h
	badCount.Counts = map[string]int{bundle.TypeSession: 1}
	tampered := strings.Replace(plain, `"packets":`, `"packets":1`, 1)
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"truncated", good[:len(good)/2], bundle.ErrTruncated},
		{"truncated at the end", good[:len(good)-5], bundle.ErrTruncated},
		{"newer schema", gz(newer, plain), bundle.ErrNewerSchema},
		{"checksum", gz(h, tampered), bundle.ErrChecksum},
		{"a line dropped", gz(h, plain[strings.Index(plain, "\n")+1:]), bundle.ErrChecksum},
		{"counts", gz(badCount, plain), bundle.ErrCorrupt},
		{"not a bundle", []byte("id,macs\n1,2\n"), bundle.ErrNotBundle},
		{"empty", nil, bundle.ErrNotBundle},
		{"not JSON", gz(h, "{nope\n"), bundle.ErrCorrupt},
	}
	for _, c := range cases {
		s, _, err := bundle.Read(bytes.NewReader(c.b), bundle.ReadOptions{})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if len(s.Assets) != 0 || s.Name != "" {
			t.Errorf("%s: a refused bundle returned content", c.name)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", c.name, err)
		}
	}
	if _, _, err := bundle.Read(bytes.NewReader(gz(newer, plain)), bundle.ReadOptions{}); !strings.Contains(err.Error(), "upgrade otscope") {
		t.Errorf("newer-schema error does not say what to do: %v", err)
	}
}

// failAfter fails every write once n bytes were written, like a full disk.
type failAfter struct{ n int }

var errFull = errors.New("no space left on device")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errFull
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriteReportsFullDisk(t *testing.T) {
	s := demo(t)
	size := len(write(t, s, bundle.Options{}))
	for _, n := range []int{0, 10, size / 2, size - 1} {
		if err := bundle.Write(&failAfter{n: n}, &s, bundle.Options{Created: created, Otscope: "test"}); !errors.Is(err, errFull) {
			t.Fatalf("after %d of %d bytes: err = %v, want the write error", n, size, err)
		}
	}
}

func TestEncryptedBundle(t *testing.T) {
	s := demo(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := bundle.Recipients([]string{id.Recipient().String()}, "")
	if err != nil {
		t.Fatal(err)
	}
	enc := write(t, s, bundle.Options{Recipients: rs})
	if bytes.Contains(enc, []byte("north")) || !bytes.HasPrefix(enc, []byte("age-encryption.org/v1")) {
		t.Fatal("the encrypted bundle is not an age file")
	}
	if _, _, err := bundle.Read(bytes.NewReader(enc), bundle.ReadOptions{}); !errors.Is(err, bundle.ErrEncrypted) {
		t.Fatalf("without identity: %v", err)
	}
	other, _ := age.GenerateX25519Identity()
	if _, _, err := bundle.Read(bytes.NewReader(enc), bundle.ReadOptions{Identities: []age.Identity{other}}); !errors.Is(err, bundle.ErrEncrypted) {
		t.Fatalf("with the wrong identity: %v", err)
	}
	ids, err := bundle.Identities(strings.NewReader(id.String()+"\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := bundle.Read(bytes.NewReader(enc), bundle.ReadOptions{Identities: ids})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Assets, s.Assets) {
		t.Fatal("decrypted assets differ")
	}
	// A passphrase from a file.
	pass, err := bundle.ReadPassphrase(strings.NewReader("correct horse battery staple\n"))
	if err != nil {
		t.Fatal(err)
	}
	rs, _ = bundle.Recipients(nil, pass)
	enc = write(t, s, bundle.Options{Recipients: rs})
	ids, _ = bundle.Identities(nil, pass)
	if _, _, err := bundle.Read(bytes.NewReader(enc), bundle.ReadOptions{Identities: ids}); err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.ReadPassphrase(strings.NewReader("\n")); !errors.Is(err, bundle.ErrNoPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
}

func TestPseudonymize(t *testing.T) {
	s := demo(t)
	key := make([]byte, bundle.KeySize)
	rand.Read(key)
	orig, _ := json.Marshal(s)
	p1, p2 := clone(t, s), clone(t, s)
	if err := bundle.Pseudonymize(&p1, key); err != nil {
		t.Fatal(err)
	}
	if err := bundle.Pseudonymize(&p2, key); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p1, p2) {
		t.Fatal("the same key gave two different mappings")
	}
	out, _ := json.Marshal(p1)
	for _, a := range s.Assets {
		for _, ip := range a.IPs {
			if ip.Is4() && !ip.IsMulticast() && bytes.Contains(out, []byte(`"`+ip.String()+`"`)) {
				t.Errorf("IP %s is still in the pseudonymized session", ip)
			}
		}
		for _, m := range a.MACs {
			if m.IsUnicast() && bytes.Contains(out, []byte(m.String())) {
				t.Errorf("MAC %s is still in the pseudonymized session", m)
			}
		}
		for _, n := range a.Names {
			if len(n) >= 3 && bytes.Contains(out, []byte(n)) {
				t.Errorf("name %q is still in the pseudonymized session", n)
			}
		}
	}
	if len(p1.Assets) != len(s.Assets) || len(p1.Conversations) != len(s.Conversations) {
		t.Fatalf("pseudonymizing lost records: %d/%d assets", len(p1.Assets), len(s.Assets))
	}
	// Identity facts that are not addresses or names survive.
	var fw int
	for _, a := range p1.Assets {
		if a.Firmware != "" {
			fw++
		}
	}
	if fw == 0 {
		t.Fatal("firmware versions were lost")
	}
	// Conversations still point at assets of the session.
	linked := func(s bundle.Session) int {
		ids := map[model.AssetID]bool{}
		for _, a := range s.Assets {
			ids[a.ID] = true
		}
		n := 0
		for _, c := range s.Conversations {
			if ids[c.Client] && ids[c.Server] {
				n++
			}
		}
		return n
	}
	if a, b := linked(s), linked(p1); a != b || a == 0 {
		t.Fatalf("%d conversations link two assets after pseudonymizing, %d before", b, a)
	}
	if !bytes.Equal(orig, mustJSON(t, s)) {
		t.Fatal("Pseudonymize changed its input's copy")
	}
	// And the pseudonymized session still round-trips.
	b := write(t, p1, bundle.Options{Pseudonymized: true})
	got, h := read(t, b)
	if !h.Pseudonymized || len(got.Assets) != len(p1.Assets) {
		t.Fatal("pseudonymized bundle did not round-trip")
	}
	if err := bundle.Pseudonymize(&p1, key[:5]); !errors.Is(err, bundle.ErrKey) {
		t.Fatalf("short key: %v", err)
	}
}

func clone(t testing.TB, s bundle.Session) bundle.Session {
	var c bundle.Session
	if err := json.Unmarshal(mustJSON(t, s), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealCaptures round-trips sessions read from the public captures.
func TestRealCaptures(t *testing.T) {
	dir := bundletest.SharedDir(t)
	for _, p := range []string{"s7comm/s7ident.pcap", "modbus/modbus_test.pcap", "enip/ControlLogix_Logix5000_download_upload_run.pcap", "s7comm/tia_s300_goOnline.pcapng"} {
		raw, err := os.ReadFile(filepath.Join(dir, "pcaps", p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		s := bundletest.Ingest(t, "real", p, raw)
		b := write(t, s, bundle.Options{})
		got, _ := read(t, b)
		if !reflect.DeepEqual(mustJSON(t, got), mustJSON(t, s)) {
			t.Errorf("%s: the session changed through a bundle", p)
		}
	}
}

func FuzzRead(f *testing.F) {
	// A small hand-made session: the fuzz workers build it quickly.
	ip := netip.MustParseAddr("10.0.0.7")
	s := bundle.Session{Name: "fuzz", Site: "north", Created: created, Updated: created,
		Assets: []model.Asset{{ID: "mac:00:1b:1b:01:02:03", MACs: []model.MAC{{0, 0x1b, 0x1b, 1, 2, 3}}, IPs: []netip.Addr{ip},
			Product: "CPU 315-2 PN/DP", Firmware: "V3.2.7", Facts: []model.Fact{{Field: "firmware", Value: "V3.2.7",
				Source: model.Source{Kind: model.Active, Protocol: "s7", Origin: "probe", Time: created}, Count: 1}}}},
		Conversations: []model.Conversation{{Client: "ip:10.0.0.9", Server: "mac:00:1b:1b:01:02:03", ServerIP: ip,
			ClientIP: netip.MustParseAddr("10.0.0.9"), Transport: "tcp", Port: 102, Protocol: "s7comm", Packets: 4}},
		Stats:    []model.CaptureStats{{Source: "plant.pcap", Packets: 9}},
		Journals: []bundle.Journal{{Name: "waivers", Records: []json.RawMessage{json.RawMessage(`{"rule_id":"x","at":"2026-01-01T00:00:00Z"}`)}}},
	}
	var b bytes.Buffer
	bundle.Write(&b, &s, bundle.Options{Created: created})
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:b.Len()/3])
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte("age-encryption.org/v1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, h, err := bundle.Read(bytes.NewReader(data), bundle.ReadOptions{MaxSize: 8 << 20})
		if err != nil {
			if s.Name != "" || len(s.Assets) != 0 {
				t.Fatal("an error came with content")
			}
			return
		}
		// What was accepted writes back to a bundle that reads the same.
		var out bytes.Buffer
		if err := bundle.Write(&out, &s, bundle.Options{Created: h.Created}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := bundle.Read(&out, bundle.ReadOptions{}); err != nil {
			t.Fatalf("re-read: %v", err)
		}
	})
}

func TestKeyFile(t *testing.T) {
	k, err := bundle.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	got, err := bundle.ParseKey([]byte(" " + strings.ToUpper(hexOf(k)) + "\n"))
	if err != nil || !bytes.Equal(got, k) {
		t.Fatalf("ParseKey: %v", err)
	}
	for _, bad := range []string{"", "zz", hexOf(k[:16])} {
		if _, err := bundle.ParseKey([]byte(bad)); !errors.Is(err, bundle.ErrKey) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, v := range b {
		out = append(out, digits[v>>4], digits[v&15])
	}
	return string(out)
}
