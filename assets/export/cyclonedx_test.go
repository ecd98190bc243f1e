package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"otscope/assets/bundle/bundletest"
	"otscope/assets/export"
	"otscope/scan/testenv"
)

// cdxSchema compiles the official CycloneDX JSON schema of version v from
// ../shared/schemas/cyclonedx (with the schemas it refers to), or skips.
func cdxSchema(t *testing.T, v string) *jsonschema.Schema {
	t.Helper()
	dir := filepath.Join(filepath.Dir(bundletest.SharedDir(t)), "shared", "schemas", "cyclonedx")
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []string{"bom-" + v + ".schema.json", "spdx.schema.json", "jsf-0.82.schema.json", "cryptography-defs.schema.json"} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			if f == "cryptography-defs.schema.json" {
				continue
			}
			testenv.Skipf(t, "CycloneDX schema: %v", err)
		}
		doc, err := jsonschema.UnmarshalJSON(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+f, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("http://cyclonedx.org/schema/bom-" + v + ".schema.json")
	if err != nil {
		t.Fatalf("compile the %s schema: %v", v, err)
	}
	return s
}

func TestCycloneDXValidates(t *testing.T) {
	rep, s := plantReport(t)
	for _, v := range []string{export.CycloneDX16, export.CycloneDX17} {
		schema := cdxSchema(t, v)
		var b bytes.Buffer
		if err := export.CycloneDX(&b, rep, v); err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Fatalf("CycloneDX %s BOM fails the official schema: %v", v, err)
		}
		// The validator does reject a broken BOM.
		bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(strings.Replace(b.String(), `"type": "device"`, `"type": "gadget"`, 1)))
		if schema.Validate(bad) == nil {
			t.Fatal("the schema accepted a component of type gadget")
		}
		var bom struct {
			SpecVersion  string `json:"specVersion"`
			SerialNumber string `json:"serialNumber"`
			Metadata     struct {
				Timestamp string `json:"timestamp"`
			} `json:"metadata"`
			Components []component `json:"components"`
		}
		if err := json.Unmarshal(b.Bytes(), &bom); err != nil {
			t.Fatal(err)
		}
		if bom.SpecVersion != v || !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) ||
			bom.Metadata.Timestamp != "2026-12-07T00:00:00Z" {
			t.Fatalf("spec %s serial %s timestamp %s", bom.SpecVersion, bom.SerialNumber, bom.Metadata.Timestamp)
		}
		if len(bom.Components) != len(s.Assets) {
			t.Fatalf("%d components for %d assets", len(bom.Components), len(s.Assets))
		}
		var firmware, modules, serials, macs, eos, plant int
		for _, c := range bom.Components {
			if c.Type != "device" || c.Name == "" {
				t.Errorf("component %s: type %s name %q", c.BOMRef, c.Type, c.Name)
			}
			for _, p := range c.Properties {
				switch {
				case p.Name == "cdx:device:serialNumber":
					serials++
				case p.Name == "cdx:device:macAddress":
					macs++
				case p.Name == "cdx:lifecycle:milestone:endOfSupport":
					eos++
				case strings.HasPrefix(p.Name, "otscope:"):
					plant++
				}
			}
			for _, sub := range c.Components {
				switch sub.Type {
				case "firmware":
					firmware++
				case "device":
					modules++
				}
			}
		}
		for name, n := range map[string]int{"firmware": firmware, "module": modules, "serial": serials, "MAC": macs, "end of support": eos, "otscope:": plant} {
			if n == 0 {
				t.Errorf("CycloneDX %s: no %s in the demo plant's BOM", v, name)
			}
		}
		if strings.Contains(b.String(), "\x1b") {
			t.Error("a terminal escape reached the BOM")
		}
	}
	if err := export.CycloneDX(&bytes.Buffer{}, rep, "1.2"); !errors.Is(err, export.ErrSpecVersion) {
		t.Fatalf("1.2: %v", err)
	}
}

type component struct {
	BOMRef     string `json:"bom-ref"`
	Type       string `json:"type"`
	Name       string `json:"name"`
	Properties []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"properties"`
	Components []component `json:"components"`
}
