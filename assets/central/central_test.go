package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"otscope/assets/central/pgtest"
	"otscope/model"
)

// plant builds n assets with facts per asset, and a few records.
func plant(n, facts int, site byte) Content {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	c := Content{Session: fmt.Sprintf("site-%c", site)}
	for i := range n {
		mac := model.MAC{0x00, 0x1b, 0x1b, site, byte(i >> 8), byte(i)}
		ip := netip.AddrFrom4([4]byte{10, site, byte(i >> 8), byte(i)})
		a := model.Asset{ID: model.MACAssetID(mac), MACs: []model.MAC{mac}, IPs: []netip.Addr{ip},
			Vendor: "Siemens", Product: "S7-1500", OrderNumber: "6ES7 515-2AM02-0AB0", Firmware: "V2.9.4",
			Serial: fmt.Sprintf("S C-X%06d", i), FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
		for f := range facts {
			a.Facts = append(a.Facts, model.Fact{Field: fmt.Sprintf("f%d", f), Value: fmt.Sprintf("v%d", i),
				Source:   model.Source{Kind: model.Passive, Protocol: "s7comm", Origin: "plant.pcap", Frame: uint64(i*facts + f + 1), Time: t0},
				LastSeen: t0, Count: 3})
		}
		c.Assets = append(c.Assets, a)
	}
	for i := range n / 2 {
		conv := model.Conversation{Client: c.Assets[i].ID, Server: c.Assets[i+1].ID, ClientIP: c.Assets[i].IPs[0], ServerIP: c.Assets[i+1].IPs[0], Transport: "tcp", Port: 102, Protocol: "s7comm", Packets: 10}
		b, _ := json.Marshal(conv)
		c.Records = append(c.Records, Record{Type: "conversation", Key: conv.Key(), Data: b})
	}
	c.Records = append(c.Records, Record{Type: "journal:waivers", Key: "0000000000000001", Data: json.RawMessage(`{"rule":"telnet","asset":"*"}`)})
	return c
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// freshDB is an empty database of its own in the shared cluster.
func freshDB(t *testing.T) (*pgtest.Server, string) {
	srv := pgtest.Shared(t)
	name := strings.ToLower(strings.NewReplacer("/", "_").Replace(t.Name()))
	return srv, srv.CreateDB(t, name)
}

func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPushIdempotentAndReadBack(t *testing.T) {
	_, dsn := freshDB(t)
	db := open(t, dsn)
	ctx := context.Background()
	c := plant(500, 10, 'a')
	st, err := db.Push(ctx, c, PushOptions{Site: "plant-a", Sensor: "jump-1", Batch: 200})
	if err != nil {
		t.Fatal(err)
	}
	if st.AssetsSent != 500 || st.Facts != 5000 || st.RecordsSent != len(c.Records) {
		t.Fatalf("first push sent %+v", st)
	}
	st, err = db.Push(ctx, c, PushOptions{Site: "plant-a", Sensor: "jump-1"})
	if err != nil {
		t.Fatal(err)
	}
	if st.AssetsSent != 0 || st.RecordsSent != 0 || st.AssetsDeleted != 0 {
		t.Fatalf("second push of the same session sent %+v, want nothing", st)
	}
	// One firmware change and one asset gone: exactly those travel.
	c.Assets[7].Firmware = "V3.0.1"
	c.Assets = c.Assets[:499]
	st, err = db.Push(ctx, c, PushOptions{Site: "plant-a", Sensor: "jump-1"})
	if err != nil {
		t.Fatal(err)
	}
	if st.AssetsSent != 1 || st.AssetsDeleted != 1 {
		t.Fatalf("push after one change sent %+v, want 1 sent and 1 deleted", st)
	}
	var facts int
	if err := db.conn.QueryRow(ctx, `SELECT count(*) FROM otscope.fact`).Scan(&facts); err != nil {
		t.Fatal(err)
	}
	if facts != 4990 {
		t.Fatalf("%d fact rows, want 4990 (no duplicates)", facts)
	}
	got, err := db.Load(ctx, LoadOptions{Sites: []string{"plant-a"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Assets) != 499 || len(got[0].Records) != len(c.Records) {
		t.Fatalf("read back %d sensors, %d assets, %d records", len(got), len(got[0].Assets), len(got[0].Records))
	}
	byID := map[model.AssetID]model.Asset{}
	for _, a := range got[0].Assets {
		byID[a.ID] = a
	}
	a := byID[c.Assets[7].ID]
	if a.Firmware != "V3.0.1" || len(a.Facts) != 10 || a.Facts[3].Source.Frame != c.Assets[7].Facts[3].Source.Frame {
		t.Fatalf("asset read back wrong: firmware %q, %d facts", a.Firmware, len(a.Facts))
	}
	// Exactly what was pushed comes back, facts with their provenance.
	for _, want := range c.Assets {
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(byID[want.ID])
		if string(wb) != string(gb) {
			t.Fatalf("asset %s changed on the way:\n%s\n%s", want.ID, wb, gb)
		}
	}
	if !got[0].Sensor.Complete || got[0].Sensor.Session != "site-a" {
		t.Fatalf("sensor %+v", got[0].Sensor)
	}
	if _, err := db.Load(ctx, LoadOptions{Sites: []string{"nowhere"}}); err == nil || !strings.Contains(err.Error(), "no site") {
		t.Fatalf("unknown site: %v", err)
	}
}

func TestConcurrentSensorsOneSite(t *testing.T) {
	_, dsn := freshDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []byte{'b', 'c'} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			for range 3 { // overlapping pushes, repeated
				if _, err := db.Push(ctx, plant(300, 5, s), PushOptions{Site: "plant-b", Sensor: "jump-" + string(s), Batch: 50}); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	db := open(t, dsn)
	sites, err := db.Sites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != 1 || len(sites[0].Sensors) != 2 || sites[0].Assets != 600 {
		t.Fatalf("sites after concurrent pushes: %+v", sites)
	}
}

func TestInterruptedPushResumes(t *testing.T) {
	_, dsn := freshDB(t)
	db := open(t, dsn)
	c := plant(1000, 4, 'd')
	ctx, cancel := context.WithCancel(context.Background())
	_, err := db.Push(ctx, c, PushOptions{Site: "plant-d", Sensor: "jump-1", Batch: 100, Progress: func(sent, total int) {
		if sent >= 300 {
			cancel()
		}
	}})
	if err == nil || !strings.Contains(err.Error(), "run push again") {
		t.Fatalf("interrupted push: %v", err)
	}
	// A fresh connection: the old one may be mid-statement.
	db2 := open(t, dsn)
	sites, _ := db2.Sites(context.Background())
	if len(sites) != 1 || sites[0].Sensors[0].Complete || sites[0].Assets != 300 {
		t.Fatalf("after the interruption: %+v", sites)
	}
	st, err := db2.Push(context.Background(), c, PushOptions{Site: "plant-d", Sensor: "jump-1", Batch: 100})
	if err != nil {
		t.Fatal(err)
	}
	if st.AssetsSent != 700 {
		t.Fatalf("resumed push sent %d assets, want the 700 left", st.AssetsSent)
	}
	sites, _ = db2.Sites(context.Background())
	if !sites[0].Sensors[0].Complete || sites[0].Assets != 1000 {
		t.Fatalf("after resuming: %+v", sites)
	}
}

func TestServerGoesAwayMidPush(t *testing.T) {
	srv := pgtest.Start(t)
	db := open(t, srv.DSN("otscope"))
	c := plant(600, 4, 'e')
	var once sync.Once
	_, err := db.Push(context.Background(), c, PushOptions{Site: "plant-e", Sensor: "jump-1", Batch: 100, Progress: func(sent, total int) {
		once.Do(func() {
			if err := srv.Stop(); err != nil {
				t.Error(err)
			}
		})
	}})
	if err == nil || !strings.Contains(err.Error(), "push stopped after 100 changed assets") {
		t.Fatalf("push against a stopped server: %v", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	_, dsn := freshDB(t)
	db := open(t, dsn)
	if _, err := db.conn.Exec(context.Background(), `INSERT INTO otscope.schema_version (version, name) VALUES (999, 'from the future')`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dsn)
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "version 999") {
		t.Fatalf("newer schema: %v", err)
	}
}

func TestWrongPasswordAndTCP(t *testing.T) {
	srv := pgtest.Shared(t)
	_, err := Open(context.Background(), srv.TCPDSN("wrong"))
	if err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the error shows the password: %v", err)
	}
	db := open(t, srv.TCPDSN(srv.Password))
	if db.Schema != Known() {
		t.Fatalf("schema %d, want %d", db.Schema, Known())
	}
}

func TestResolveDSN(t *testing.T) {
	t.Setenv("OTSCOPE_DSN", "host=/run/postgresql dbname=fromenv")
	if _, err := ResolveDSN("postgres://u:pw@db/x", ""); !errors.Is(err, ErrPasswordOnCommandLine) {
		t.Fatalf("URL with password: %v", err)
	}
	if _, err := ResolveDSN("host=db password=pw dbname=x", ""); !errors.Is(err, ErrPasswordOnCommandLine) {
		t.Fatalf("keyword password: %v", err)
	}
	if d, err := ResolveDSN("postgres://u@db/x", ""); err != nil || d != "postgres://u@db/x" {
		t.Fatalf("flag: %q %v", d, err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "dsn")
	os.WriteFile(f, []byte("postgres://u:pw@db/x\n"), 0o644)
	if _, err := ResolveDSN("", f); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable dsn file with a password: %v", err)
	}
	os.Chmod(f, 0o600)
	if d, err := ResolveDSN("", f); err != nil || d != "postgres://u:pw@db/x" {
		t.Fatalf("dsn file: %q %v", d, err)
	}
	if d, err := ResolveDSN("", ""); err != nil || d != "host=/run/postgresql dbname=fromenv" {
		t.Fatalf("env: %q %v", d, err)
	}
	t.Setenv("OTSCOPE_DSN", "")
	if _, err := ResolveDSN("", ""); !errors.Is(err, ErrNoDSN) {
		t.Fatalf("nothing: %v", err)
	}
}
