package lifecycle

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"otscope/scan/testenv"
)

// eolDir holds real endoflife.date product pages (Markdown with a YAML front
// matter), see /work/shared/advisories/README.md.
var eolDir = filepath.Join("..", "..", "..", "shared", "advisories", "lifecycle")

// eolRelease is one release of an endoflife.date page. eol is a date or a
// boolean there, so the raw scalar is kept.
type eolRelease struct {
	Cycle string    `yaml:"releaseCycle"`
	EOL   yaml.Node `yaml:"eol"`
	EOAS  yaml.Node `yaml:"eoas"`
}

// readEOL parses the front matter of an endoflife.date page into its
// releases by cycle.
func readEOL(t *testing.T, name string) map[string]eolRelease {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eolDir, name))
	if err != nil {
		t.Fatal(err)
	}
	parts := bytes.SplitN(data, []byte("\n---\n"), 2)
	front := bytes.TrimPrefix(parts[0], []byte("---\n"))
	var page struct {
		Releases []eolRelease `yaml:"releases"`
	}
	if err := yaml.Unmarshal(front, &page); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string]eolRelease{}
	for _, r := range page.Releases {
		out[r.Cycle] = r
	}
	if len(out) == 0 {
		t.Fatalf("%s: no releases", name)
	}
	return out
}

// TestEndOfSupportMatchesEndOfLifeDate cross-checks the built-in end-of-
// support dates of Windows, Windows Server, Windows Embedded, Cisco IOS XE
// and FortiOS against endoflife.date's "eol" (end of security support).
func TestEndOfSupportMatchesEndOfLifeDate(t *testing.T) {
	if _, err := os.Stat(eolDir); err != nil {
		testenv.Skip(t, "endoflife.date pages not available: ", err)
	}
	checks := map[string][2]string{ // entry id -> page, releaseCycle
		"windows-xp":                    {"windows.md", "5-sp3"},
		"windows-vista":                 {"windows.md", "6-sp2"},
		"windows-7":                     {"windows.md", "7-sp1"},
		"windows-8":                     {"windows.md", "8"},
		"windows-8.1":                   {"windows.md", "8.1"},
		"windows-10":                    {"windows.md", "10-22h2"},
		"windows-10-ltsb-2015":          {"windows.md", "10-1507-e-lts"},
		"windows-10-ltsb-2016":          {"windows.md", "10-1607-e-lts"},
		"windows-10-ltsc-2019":          {"windows.md", "10-1809-e-lts"},
		"windows-10-ltsc-2021":          {"windows.md", "10-21h2-e-lts"},
		"windows-10-iot-ltsc-2021":      {"windows.md", "10-21h2-iot-lts"},
		"windows-server-2003":           {"windows-server.md", "2003-sp2"},
		"windows-server-2008":           {"windows-server.md", "2008-sp2"},
		"windows-server-2008-r2":        {"windows-server.md", "2008-r2-sp1"},
		"windows-server-2012":           {"windows-server.md", "2012"},
		"windows-server-2012-r2":        {"windows-server.md", "2012-r2"},
		"windows-server-2016":           {"windows-server.md", "2016"},
		"windows-server-2019":           {"windows-server.md", "2019"},
		"windows-server-2022":           {"windows-server.md", "2022"},
		"windows-server-2025":           {"windows-server.md", "2025"},
		"windows-embedded-standard-7":   {"windows-embedded.md", "standard-7-sp1"},
		"windows-embedded-posready-7":   {"windows-embedded.md", "posready-7"},
		"windows-embedded-8.1-industry": {"windows-embedded.md", "8.1-industry"},
		"windows-embedded-compact-7":    {"windows-embedded.md", "compact-7"},
		"windows-embedded-compact-2013": {"windows-embedded.md", "compact-2013"},
		"cisco-ios-xe-16":               {"cisco-ios-xe.md", "16.12"},
		"cisco-ios-xe-17.3":             {"cisco-ios-xe.md", "17.3"},
		"cisco-ios-xe-17.6":             {"cisco-ios-xe.md", "17.6"},
		"cisco-ios-xe-17.9":             {"cisco-ios-xe.md", "17.9"},
		"cisco-ios-xe-17.12":            {"cisco-ios-xe.md", "17.12"},
		"cisco-ios-xe-17.15":            {"cisco-ios-xe.md", "17.15"},
		"cisco-ios-xe-17.18":            {"cisco-ios-xe.md", "17.18"},
		"fortios-6":                     {"fortios.md", "6.4"},
		"fortios-7.0":                   {"fortios.md", "7.0"},
		"fortios-7.2":                   {"fortios.md", "7.2"},
		"fortios-7.4":                   {"fortios.md", "7.4"},
		"fortios-7.6":                   {"fortios.md", "7.6"},
		"fortios-8.0":                   {"fortios.md", "8.0"},
	}
	pages := map[string]map[string]eolRelease{}
	byID := map[string]Entry{}
	for _, e := range defaultCatalog(t).Entries() {
		byID[e.ID] = e
	}
	for id, ref := range checks {
		e, ok := byID[id]
		if !ok {
			t.Errorf("%s: not in the default catalog", id)
			continue
		}
		if pages[ref[0]] == nil {
			pages[ref[0]] = readEOL(t, ref[0])
		}
		rel, ok := pages[ref[0]][ref[1]]
		if !ok {
			t.Errorf("%s: %s has no release %q", id, ref[0], ref[1])
			continue
		}
		if e.EndOfSupport.String() != rel.EOL.Value {
			t.Errorf("%s: end_of_support %q, endoflife.date %s %s eol %q", id, e.EndOfSupport, ref[0], ref[1], rel.EOL.Value)
		}
	}
	// every dated Windows entry that has a page is in the list above
	for id, e := range byID {
		if e.Vendor == "Microsoft" && !e.EndOfSupport.IsZero() && e.AsOf.Year > 2025 {
			if _, ok := checks[id]; !ok {
				t.Errorf("%s: dated from endoflife.date but not cross-checked", id)
			}
		}
	}
}
