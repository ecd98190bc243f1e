package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/xuri/excelize/v2"

	"otscope/assets"
	"otscope/assets/oui"
	"otscope/assets/store"
	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/scan"
	"otscope/scan/capture"
	"otscope/scan/plant"
)

// demoAssets runs a minute of the demo plant through the real decoders
// and inventory.
func demoAssets(t *testing.T) []model.Asset {
	t.Helper()
	var b bytes.Buffer
	if _, err := plant.WritePcap(&b, plant.Options{Seed: 1, Duration: 60 * time.Second}); err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenReader("plant.pcap", bytes.NewReader(b.Bytes()), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan model.Batch, 64)
	inv := assets.NewInventory(oui.Lookup)
	done := make(chan struct{})
	go func() {
		for bt := range out {
			inv.Apply(bt)
		}
		close(done)
	}()
	if _, err := scan.Ingest(context.Background(), src, out, scan.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	close(out)
	<-done
	return inv.Assets()
}

// cabinets places the demo zones in the plant.
var cabinets = map[string]string{
	plant.ZoneCellA: "Plant/Hall 1/Cabinet +A1", plant.ZoneCellB: "Plant/Hall 1/Cabinet +B1",
	plant.ZoneCellC: "Plant/Hall 2/Cabinet +C1", plant.ZonePumpStation: "Plant/Pump station/+P1",
}

// documentedInventory writes the plant's "as documented" list from the
// demo plant's devices and what the network says about them, with
// deliberate discrepancies, and returns the expected verdict per tag.
func documentedInventory(t *testing.T, found []model.Asset) ([][]string, map[string]model.VerdictValue) {
	t.Helper()
	byMAC := map[model.MAC]*model.Asset{}
	for i := range found {
		for _, m := range found[i].MACs {
			byMAC[m] = &found[i]
		}
	}
	rows := [][]string{{"Tag", "Location", "Manufacturer", "Order No.", "Serial No", "Firmware", "IP address", "MAC"}}
	want := map[string]model.VerdictValue{}
	for _, d := range plant.Devices() {
		loc, ok := cabinets[d.Zone]
		a := byMAC[d.MAC]
		if !ok || a == nil || a.OrderNumber == "" {
			continue // not documented: these come out as new
		}
		tag := "+" + strings.Split(loc, "+")[1] + "-" + d.Name
		serial, fw, order := a.Serial, a.Firmware, a.OrderNumber
		want[tag] = model.VerdictMatch
		switch d.Name {
		case "plc-a1": // replaced like for like: another serial
			serial, want[tag] = "S V-X0X000000000", model.VerdictCompatible
		case "plc-a2": // firmware updated since the list was written
			fw, want[tag] = "V3.2.8", model.VerdictCompatible
		case "sw-cella": // wrong order number in the list
			order, want[tag] = "6GK5 208-0BA00-2AA3", model.VerdictMismatch
		}
		rows = append(rows, []string{tag, loc, d.Vendor, order, serial, fw, d.IP.String(), d.MAC.String()})
	}
	// documented, not on the network: an ET 200SP head in cabinet +A1
	rows = append(rows, []string{"+A1-K99", cabinets[plant.ZoneCellA], "Siemens", "6ES7 155-6AU01-0BN0", "S C-ABSENT", "", "", ""})
	want["+A1-K99"] = model.VerdictUnseen
	return rows, want
}

func writeCSV(t *testing.T, path string, rows [][]string) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = ';'
	_ = w.WriteAll(rows)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeXLSXFile(t *testing.T, path string, rows [][]string) {
	f := excelize.NewFile()
	_ = f.SetSheetName("Sheet1", "Inventory")
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Inventory", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// verdicts maps the documented tags (and undocumented assets) to their
// verdicts.
func verdicts(ev *walkdown.Evaluation) map[string]model.Verdict {
	out := map[string]model.Verdict{}
	for _, it := range ev.Items {
		k := it.Key
		if it.Doc != nil {
			k = it.Doc.Tag
		}
		out[k] = it.Verdict
	}
	return out
}

func TestWalkdownOfTheDemoPlant(t *testing.T) {
	found := demoAssets(t)
	rows, want := documentedInventory(t, found)
	if len(want) < 10 {
		t.Fatalf("only %d documented devices", len(want))
	}
	dir := t.TempDir()
	csvPath, xlsxPath := filepath.Join(dir, "inventory.csv"), filepath.Join(dir, "inventory.xlsx")
	writeCSV(t, csvPath, rows)
	writeXLSXFile(t, xlsxPath, rows)

	// Both files give the same verdicts, every one as planned.
	var fromCSV map[string]model.Verdict
	for _, p := range []string{csvPath, xlsxPath} {
		im, err := walkdown.ReadFile(p, walkdown.ImportOptions{})
		if err != nil || len(im.Problems) != 0 || len(im.Rows) != len(want) {
			t.Fatalf("%s: %v, %d rows, problems %v", p, err, len(im.Rows), im.Problems)
		}
		b, _ := walkdown.NewBook(nil, nil)
		if _, err := b.Import(im, p, "anna", time.Now()); err != nil {
			t.Fatal(err)
		}
		got := verdicts(b.Evaluate(found))
		for tag, v := range want {
			if got[tag].Value != v {
				t.Errorf("%s: %s is %s (%s), want %s", filepath.Base(p), tag, got[tag].Value, got[tag].Why, v)
			}
		}
		news := 0
		for _, v := range got {
			if v.Value == model.VerdictNew {
				news++
			}
		}
		if news != len(found)-(len(want)-1) {
			t.Errorf("%s: %d new, want %d (every undocumented asset)", filepath.Base(p), news, len(found)-(len(want)-1))
		}
		if p == csvPath {
			fromCSV = got
		} else {
			for k, v := range got {
				if fromCSV[k].Value != v.Value {
					t.Errorf("%s: CSV %s, XLSX %s", k, fromCSV[k].Value, v.Value)
				}
			}
		}
	}
	if v := fromCSV["+A1-plc-a1"]; len(v.Compared) != 4 || v.Compared[2].Field != "serial" || v.Compared[2].Agree {
		t.Errorf("plc-a1 compared = %+v", v.Compared)
	}

	// Walk two cabinets in the TUI with keys only, on a stored session.
	dbDir := filepath.Join(dir, "db")
	st, err := store.Open(store.Options{Dir: dbDir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnsureSession("walk", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := walkdown.ImportFile(st, "walk", xlsxPath, nil, "", "anna"); err != nil {
		t.Fatal(err)
	}
	book, _, err := walkdown.Open(st, "walk")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan model.Update, 1)
	ch <- model.Update{Reset: true, Assets: found}
	tm := teatest.NewTestModel(t, New(Config{Session: "walk", Updates: ch, Walkdown: book, User: "anna"}),
		teatest.WithInitialTermSize(80, 24))
	waitFor := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			return bytes.Contains([]byte(ansi.Strip(string(b))), []byte(what))
		}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	keys := func(ks ...string) {
		for _, k := range ks {
			switch k {
			case "down":
				tm.Send(tea.KeyMsg{Type: tea.KeyDown})
			case "right":
				tm.Send(tea.KeyMsg{Type: tea.KeyRight})
			case "left":
				tm.Send(tea.KeyMsg{Type: tea.KeyLeft})
			case "enter":
				tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
			default:
				tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
			}
		}
	}
	total := len(found) + 1
	keys("8")
	waitFor("walked 0/")
	// Cabinet +A1: All, Plant, Hall 1, Cabinet +A1. Its checklist in tag
	// order: +A1-K99 (absent), +A1-plc-a1, +A1-plc-a2, +A1-sw-cella.
	keys("down", "down", "down", "right")
	keys("-", "down") // K99: not there
	waitFor("walked 1/")
	// plc-a1: read the nameplate with a scanner (serial), then compatible
	keys("n", "Siemens", "enter", "enter", "6ES7 516-3AN02-0AB0", "enter", "S V-X0X000000000", "enter", "enter", "enter", "enter", "enter")
	waitFor("nameplate stored")
	keys("c", "down")
	waitFor("walked 2/")
	keys("c", "down") // plc-a2: firmware differs
	waitFor("walked 3/")
	keys("x") // sw-cella: order number differs
	waitFor("walked 4/")
	// Cabinet +B1: every device matches.
	keys("left", "down", "right", "m", "down", "m", "down", "m")
	waitFor("walked 7/")
	waitFor("/" + strconv.Itoa(total))
	keys("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	_, _ = io.Copy(io.Discard, tm.FinalOutput(t))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen from disk: every confirmed action is there.
	st2, err := store.Open(store.Options{Dir: dbDir})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	book2, skipped, err := walkdown.Open(st2, "walk")
	if err != nil || skipped != 0 {
		t.Fatal(err, skipped)
	}
	got := verdicts(book2.Evaluate(found))
	walked := map[string]model.VerdictValue{"+A1-K99": model.VerdictMissing, "+A1-plc-a1": model.VerdictCompatible,
		"+A1-plc-a2": model.VerdictCompatible, "+A1-sw-cella": model.VerdictMismatch}
	for tag, v := range want {
		if strings.HasPrefix(tag, "+B1-") {
			walked[tag] = v
		}
	}
	if len(walked) != 7 {
		t.Fatalf("cabinets hold %d documented devices, the walk assumed 7: %v", len(walked), walked)
	}
	for tag, v := range walked {
		if g := got[tag]; g.Value != v || g.Basis != model.BasisWalkdown || g.By != "anna" {
			t.Errorf("after reopen %s = %s by %q (%s), want %s by anna", tag, g.Value, g.By, g.Basis, v)
		}
	}
	var plcA1 model.AssetID
	for i := range found {
		if found[i].Label() == "plc-a1" {
			plcA1 = found[i].ID
		}
	}
	fs := book2.ManualFacts(plcA1)
	if len(fs) != 3 || fs[2].Field != model.FieldSerial || fs[2].Value != "S V-X0X000000000" || fs[2].Source.Origin != "anna" {
		t.Errorf("plc-a1 nameplate after reopen = %+v", fs)
	}
}
