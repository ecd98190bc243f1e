// Package bundletest builds sessions for the tests and benchmarks of the
// bundle, merge, diff and report packages: from the demo plant generator or
// a capture, read through the real ingest pipeline and inventory.
package bundletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"otscope/assets"
	"otscope/assets/advisory"
	"otscope/assets/bundle"
	"otscope/assets/export"
	"otscope/assets/lifecycle"
	"otscope/assets/oui"
	"otscope/assets/policy"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/model"
	"otscope/scan"
	"otscope/scan/capture"
	"otscope/scan/plant/planttest"
	"otscope/scan/testenv"
)

// PlantPcap returns the demo plant's capture of plant time d (seed 1), as
// planttest.Pcap does.
func PlantPcap(tb testing.TB, d time.Duration) []byte {
	tb.Helper()
	return planttest.Pcap(tb, d)
}

// Ingest reads a pcap (or pcapng) through capture, scan.Ingest and the
// inventory, as otscope does, and returns the session it builds.
func Ingest(tb testing.TB, name, origin string, raw []byte) bundle.Session {
	tb.Helper()
	inv := assets.NewInventory(oui.Lookup)
	IngestInto(tb, inv, origin, raw)
	return FromInventory(name, inv)
}

// IngestInto reads raw into inv.
func IngestInto(tb testing.TB, inv *assets.Inventory, origin string, raw []byte) {
	tb.Helper()
	src, err := capture.OpenReader(origin, bytes.NewReader(raw), capture.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	out := make(chan model.Batch, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range out {
			inv.Apply(b)
		}
	}()
	st, err := scan.Ingest(context.Background(), src, out, scan.IngestOptions{})
	close(out)
	<-done
	if err != nil {
		tb.Fatalf("ingest %s: %v", origin, err)
	}
	inv.SetStats(st)
}

// FromInventory returns the inventory's content as a session.
func FromInventory(name string, inv *assets.Inventory) bundle.Session {
	s := bundle.Session{
		Name: name, Assets: inv.Assets(), Conversations: inv.Conversations(), Stats: inv.Stats(),
	}
	for _, st := range s.Stats {
		if s.Created.IsZero() || st.FirstPacket.Before(s.Created) {
			s.Created = st.FirstPacket.UTC()
		}
		if st.LastPacket.After(s.Updated) {
			s.Updated = st.LastPacket.UTC()
		}
	}
	s.Normalize()
	return s
}

// AddJournals gives the session a waiver, state transitions and a scan-log
// record for its first assets, as the store's journals hold them.
func AddJournals(tb testing.TB, s *bundle.Session) {
	tb.Helper()
	if len(s.Assets) == 0 {
		tb.Fatal("no assets to journal")
	}
	at := s.Updated
	raw := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	a := s.Assets[0]
	var states, waivers, log []json.RawMessage
	for i := range min(3, len(s.Assets)) {
		states = append(states, raw(review.StateRecord{AssetID: s.Assets[i].ID, Transition: lifecycle.Transition{
			From: lifecycle.Untracked, To: lifecycle.Discovered, At: at.Add(time.Duration(i) * time.Second), By: lifecycle.System, Why: "first seen"}}))
	}
	waivers = append(waivers, raw(review.WaiverRecord{Waiver: policy.Waiver{RuleID: "cleartext-engineering", AssetID: a.ID,
		Reason: "vendor laptop, <script>alert(1)</script>", By: "ops"}, At: at}))
	target := netip.MustParseAddr("10.0.0.1")
	if len(a.IPs) > 0 {
		target = a.IPs[0]
	}
	log = append(log, raw(model.ScanRecord{Scan: at.Format(time.RFC3339), Seq: 1, Time: at, Target: target, Transport: "tcp",
		Port: 502, Probe: "modbus", Kind: "modbus.read_device_id", Bytes: 12, Packets: 6, Answer: "3 objects", AnswerBytes: 40}))
	s.Journals = append(s.Journals,
		bundle.Journal{Name: store.StateHistory.String(), Records: states},
		bundle.Journal{Name: store.Waivers.String(), Records: waivers},
		bundle.Journal{Name: store.ScanLog.String(), Records: log})
	s.Normalize()
}

// Scale returns a session of n assets: copies of s's assets, each copy on
// its own addresses (MACs and IPs shifted per copy), with the conversations
// between the copies' addresses. It is how the benchmarks build a
// 10,000-asset plant from the demo plant.
func Scale(s bundle.Session, n int) bundle.Session {
	out := bundle.Session{Name: s.Name, Site: s.Site, Created: s.Created, Updated: s.Updated, Stats: s.Stats}
	idmap := map[model.AssetID]model.AssetID{}
	for copyN := 0; len(out.Assets) < n; copyN++ {
		clear(idmap)
		for _, a := range s.Assets {
			if len(out.Assets) >= n {
				break
			}
			c := a.Clone()
			for i := range c.MACs {
				c.MACs[i] = shiftMAC(c.MACs[i], copyN)
			}
			for i := range c.IPs {
				c.IPs[i] = shiftIP(c.IPs[i], copyN)
			}
			for i := range c.Services {
				c.Services[i].IP = shiftIP(c.Services[i].IP, copyN)
			}
			for i := range c.Facts {
				c.Facts[i].Source.IP = shiftIP(c.Facts[i].Source.IP, copyN)
			}
			c.ID = model.AssetID(fmt.Sprintf("%s#%d", a.ID, copyN))
			switch {
			case len(c.MACs) > 0 && a.ID == model.MACAssetID(a.MACs[0]):
				c.ID = model.MACAssetID(c.MACs[0])
			case len(c.IPs) > 0 && a.ID == model.IPAssetID(a.IPs[0]):
				c.ID = model.IPAssetID(c.IPs[0])
			}
			idmap[a.ID] = c.ID
			out.Assets = append(out.Assets, c)
		}
		for _, cv := range s.Conversations {
			cl, ok1 := idmap[cv.Client]
			sv, ok2 := idmap[cv.Server]
			if !ok1 || !ok2 {
				continue
			}
			cv.Client, cv.Server = cl, sv
			cv.ClientIP, cv.ServerIP = shiftIP(cv.ClientIP, copyN), shiftIP(cv.ServerIP, copyN)
			cv.ClientMAC, cv.ServerMAC = shiftMAC(cv.ClientMAC, copyN), shiftMAC(cv.ServerMAC, copyN)
			out.Conversations = append(out.Conversations, cv)
		}
	}
	out.Normalize()
	return out
}

func shiftMAC(m model.MAC, k int) model.MAC {
	if k == 0 || !m.IsUnicast() {
		return m
	}
	m[3] ^= byte(k >> 8)
	m[4] ^= byte(k)
	return m
}

func shiftIP(a netip.Addr, k int) netip.Addr {
	if k == 0 || !a.Is4() || a.IsMulticast() {
		return a
	}
	b := a.As4()
	b[1] = byte(int(b[1]) + k>>8)
	b[2] = byte(int(b[2]) + k)
	return netip.AddrFrom4(b)
}

// SharedDir returns ../shared (beside the repository), or skips the test
// when it is absent.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "pcaps")); err != nil {
		tb.Skipf("../shared is absent (%v)", err)
	}
	return dir
}

// Report enriches the session as the export commands do: the embedded
// lifecycle catalog, the advisories of ../shared when present, the default
// policy pack's audit with the session's waivers, its state histories and
// its scan log.
func Report(tb testing.TB, s *bundle.Session, now time.Time) *export.Report {
	tb.Helper()
	cat, problems := lifecycle.Load()
	if cat == nil {
		tb.Fatalf("lifecycle catalog: %v", problems)
	}
	src := review.Sources{Catalog: cat}
	_, file, _, _ := runtime.Caller(0)
	adv := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "advisories")
	if _, err := os.Stat(adv); err == nil {
		db, _ := advisory.Load(filepath.Join(adv, "csaf"))
		if db != nil {
			db.LoadKEV(filepath.Join(adv, "kev", "known_exploited_vulnerabilities.json"))
			src.Advisories = db
		}
	}
	rep := &export.Report{Session: s.Name, Site: s.Site, Sensor: s.Sensor, Otscope: "test", Now: now,
		Audited: true, Conversations: s.Conversations, Stats: s.Stats}
	job := review.Job{States: map[model.AssetID]lifecycle.History{}, Now: now}
	for _, j := range s.Journals {
		for _, r := range j.Records {
			var err error
			switch j.Name {
			case store.Waivers.String():
				var w review.WaiverRecord
				if err = json.Unmarshal(r, &w); err == nil {
					job.Waivers = append(job.Waivers, w)
				}
			case store.StateHistory.String():
				var st review.StateRecord
				if err = json.Unmarshal(r, &st); err == nil {
					job.States[st.AssetID] = append(job.States[st.AssetID], st.Transition)
				}
			case store.ScanLog.String():
				var sr model.ScanRecord
				if err = json.Unmarshal(r, &sr); err == nil {
					rep.ScanLog = append(rep.ScanLog, sr)
				}
			}
			if err != nil {
				tb.Fatalf("%s record: %v", j.Name, err)
			}
		}
	}
	for i := range s.Assets {
		job.Assets = append(job.Assets, &s.Assets[i])
	}
	for i := range s.Conversations {
		job.Conversations = append(job.Conversations, &s.Conversations[i])
	}
	an := review.NewAnalyzer(src).Run(job)
	rep.Records = export.Records(s.Assets, an)
	return rep
}

// Large returns a session of n assets built from 30 s of the demo plant
// (Scale), with journals: the benchmarks' 10,000-asset plant.
func Large(tb testing.TB, name string, n int) bundle.Session {
	tb.Helper()
	s := Ingest(tb, name, "plant.pcap", PlantPcap(tb, 30*time.Second))
	big := Scale(s, n)
	big.Name = name
	AddJournals(tb, &big)
	return big
}

// ReportCPU reports the CPU seconds per operation since start.
func ReportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric((testenv.CPUTime()-start).Seconds()/float64(b.N), "cpu-s/op")
}
