package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"otscope/assets/bundle"
	"otscope/assets/bundle/bundletest"
	"otscope/assets/diff"
	"otscope/assets/export"
	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/ui"
)

// TestTUITravel drives the TUI's export and diff over a store holding two
// visits of the demo plant: every format the TUI offers is written whole,
// the bundle reads back, and the diff finds what changed between visits.
func TestTUITravel(t *testing.T) {
	st, err := store.Open(store.Options{Dir: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := bundletest.Ingest(t, "north-dec", "plant.pcap", bundletest.PlantPcap(t, 30*time.Second))
	bundletest.AddJournals(t, &now)
	if len(now.Assets) < 3 {
		t.Fatalf("the demo plant gave %d assets", len(now.Assets))
	}
	// the earlier visit: one asset not yet there, another on older firmware
	before := now
	before.Name = "north-jun"
	before.Assets = slices.Clone(now.Assets[1:])
	before.Assets[0] = before.Assets[0].Clone()
	before.Assets[0].Firmware = "V0.9-old"
	before.Journals = nil
	for _, s := range []*bundle.Session{&before, &now} {
		if err := bundle.ToStore(st, s.Name, s); err != nil {
			t.Fatal(err)
		}
	}
	cat, problems := lifecycle.Load()
	if cat == nil {
		t.Fatalf("lifecycle catalog: %v", problems)
	}
	tr := &tuiTravel{st: st, session: "north-dec", version: "v9.9.9", src: review.Sources{Catalog: cat}, now: time.Now}

	// every format the TUI offers is one the exporters write
	for _, f := range ui.ExportFormats {
		if f.Name != "bundle" && !slices.Contains(export.ReportFormats, f.Name) {
			t.Errorf("the TUI offers %q, which no exporter writes", f.Name)
		}
	}
	dir := t.TempDir()
	for _, f := range ui.ExportFormats {
		path := filepath.Join(dir, "north"+f.Ext)
		var last [2]int
		sum, err := tr.Export(context.Background(), f.Name, path, func(done, total int) { last = [2]int{done, total} })
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Assets != len(now.Assets) || sum.Bytes != fi.Size() || sum.Bytes == 0 {
			t.Errorf("%s: summary %+v, want %d assets and %d bytes", f.Name, sum, len(now.Assets), fi.Size())
		}
		if last[1] == 0 || last[0] != last[1] {
			t.Errorf("%s: last progress %v, want done == total", f.Name, last)
		}
		raw, _ := os.ReadFile(path)
		switch f.Name {
		case "bundle":
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, h, err := bundle.Read(fh, bundle.ReadOptions{})
			fh.Close()
			if err != nil || h.Session != "north-dec" || len(got.Assets) != len(now.Assets) || len(got.Journals) != len(now.Journals) {
				t.Errorf("bundle reads back as %q with %d assets, %d journals (%v)", h.Session, len(got.Assets), len(got.Journals), err)
			}
		case "html":
			if !strings.Contains(string(raw), "<html") {
				t.Errorf("html export is not HTML")
			}
		case "csv":
			if n := strings.Count(string(raw), "\n"); n < len(now.Assets) {
				t.Errorf("csv export has %d lines for %d assets", n, len(now.Assets))
			}
		}
	}
	if _, err := tr.Export(context.Background(), "xlsx", filepath.Join(dir, "x.xlsx"), nil); err == nil {
		t.Error("an unknown format exported")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.xlsx")); !os.IsNotExist(err) {
		t.Error("an unknown format left a file")
	}
	// a directory that does not exist: an error, nothing written
	if _, err := tr.Export(context.Background(), "csv", filepath.Join(dir, "no", "x.csv"), nil); err == nil {
		t.Error("an export into a missing directory succeeded")
	}

	// quitting waits for a running export to finish, then refuses new work
	late := filepath.Join(dir, "late.otsb")
	inside, release, exported := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	once := false
	go func() {
		_, err := tr.Export(context.Background(), "bundle", late, func(int, int) {
			if !once {
				once = true
				close(inside)
				<-release
			}
		})
		exported <- err
	}()
	<-inside
	if _, err := os.Stat(late); !os.IsNotExist(err) {
		t.Fatalf("the export's file is there before it finished: %v", err)
	}
	closed := make(chan struct{})
	go func() { tr.close(); close(closed) }()
	close(release)
	<-closed
	if _, err := os.Stat(late); err != nil {
		t.Fatalf("close returned before the export finished: %v", err)
	}
	if err := <-exported; err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Export(context.Background(), "csv", filepath.Join(dir, "after.csv"), nil); !errors.Is(err, errClosing) {
		t.Fatalf("an export after close: %v, want errClosing", err)
	}
	tr = &tuiTravel{st: st, session: "north-dec", version: "v9.9.9", src: review.Sources{Catalog: cat}, now: time.Now}

	r, err := tr.Diff(context.Background(), "north-jun")
	if err != nil {
		t.Fatal(err)
	}
	if r.From != "north-jun" || r.To != "north-dec" {
		t.Fatalf("diff %s -> %s", r.From, r.To)
	}
	var newAsset, firmware bool
	for _, c := range r.Changes {
		if c.Subject == diff.Asset && c.Kind == diff.New && c.Field == "" && c.Asset == now.Assets[0].ID {
			newAsset = true
		}
		if c.Field == diff.FieldFirmware && c.Old == "V0.9-old" && c.Asset == before.Assets[0].ID {
			firmware = true
		}
	}
	if !newAsset || !firmware {
		t.Errorf("diff missed the new asset (%v) or the firmware change (%v): %+v", newAsset, firmware, r.Counts)
	}
	if _, err := tr.Diff(context.Background(), "nope"); err == nil {
		t.Error("a diff with a missing session succeeded")
	}
}
