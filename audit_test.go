package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// siemensS7300Advisory is a CSAF 2.0 advisory the test writes itself, naming
// the S7-300 CPU of the demo plant, all versions affected.
const siemensS7300Advisory = `{
 "document": {"category": "csaf_security_advisory", "csaf_version": "2.0", "title": "Siemens SIMATIC S7-300 CPUs",
  "publisher": {"name": "CISA"},
  "tracking": {"id": "TEST-26-001-01", "initial_release_date": "2026-01-01T00:00:00Z", "current_release_date": "2026-01-02T00:00:00Z"}},
 "product_tree": {"branches": [{"category": "vendor", "name": "Siemens", "branches": [
  {"category": "product_name", "name": "SIMATIC S7-300 CPU 315-2 PN/DP", "branches": [
   {"category": "product_version_range", "name": "vers:all/*",
    "product": {"name": "SIMATIC S7-300 CPU 315-2 PN/DP: All versions", "product_id": "P1",
     "product_identification_helper": {"model_numbers": ["6ES7315-2EH14-0AB0"]}}}]}]}]},
 "vulnerabilities": [{"cve": "CVE-2026-00001", "product_status": {"known_affected": ["P1"]},
  "scores": [{"products": ["P1"], "cvss_v3": {"baseScore": 7.5, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}],
  "remediations": [{"category": "mitigation", "details": "Restrict access to port 102/tcp.", "product_ids": ["P1"]}]}]
}`

// TestLifecycleAndAdvisoriesCommands runs the offline catalogs over the demo
// plant: the S7-300 is past its active phase, the Windows 7 HMI is out of
// support, and an advisory that names the S7-300 by order number matches it
// with its reason; the asset JSON carries both.
func TestLifecycleAndAdvisoriesCommands(t *testing.T) {
	dir := demoSession(t, "2m", "p")
	code, out, errs := otscope(t, append([]string{"lifecycle", "--session", "p", "--format", "json"}, dbArgs(dir)...)...)
	if code != 0 {
		t.Fatalf("lifecycle: %d %s", code, errs)
	}
	var lc []struct {
		ID        string `json:"id"`
		Lifecycle struct {
			Phase        string `json:"phase"`
			EndOfSupport string `json:"end_of_support"`
			Rule         string `json:"rule"`
			Source       string `json:"source"`
		} `json:"lifecycle"`
	}
	if err := json.Unmarshal([]byte(out), &lc); err != nil {
		t.Fatalf("lifecycle JSON: %v\n%s", err, out)
	}
	phases := map[string]string{}
	for _, r := range lc {
		phases[r.ID] = r.Lifecycle.Phase
		if r.Lifecycle.Rule == "" || r.Lifecycle.Source == "" {
			t.Errorf("%s: verdict without rule or source: %+v", r.ID, r.Lifecycle)
		}
	}
	if p := phases["mac:00:0e:8c:9a:02:12"]; p == "" || p == "active" {
		t.Errorf("S7-300 phase = %q, want past active", p)
	}
	if p := phases["mac:00:1f:f8:2b:04:32"]; p != "discontinued" && p != "end-of-life" {
		t.Errorf("Windows 7 HMI phase = %q", p)
	}
	if p := phases["mac:00:1b:1b:6e:01:11"]; p != "active" {
		t.Errorf("S7-1500 phase = %q, want active", p)
	}

	csaf := filepath.Join(dir, "advisories")
	os.Mkdir(csaf, 0o755)
	os.WriteFile(filepath.Join(csaf, "test-26-001-01.json"), []byte(siemensS7300Advisory), 0o644)
	os.WriteFile(filepath.Join(csaf, "broken.json"), []byte(`{"document": `), 0o644)
	code, out, errs = otscope(t, append([]string{"advisories", "--session", "p", "--csaf", csaf, "--format", "table"}, dbArgs(dir)...)...)
	if code != 0 {
		t.Fatalf("advisories: %d %s", code, errs)
	}
	if !strings.Contains(out, "TEST-26-001-01") || !strings.Contains(out, "10.10.10.12") || !strings.Contains(out, "order number") {
		t.Errorf("advisory table does not name the S7-300 match:\n%s", out)
	}
	if !strings.Contains(errs, "broken.json") {
		t.Errorf("a malformed advisory file must be reported: %q", errs)
	}
	code, out, errs = otscope(t, append([]string{"assets", "--session", "p", "--format", "json", "--csaf", csaf}, dbArgs(dir)...)...)
	if code != 0 {
		t.Fatalf("assets: %d %s", code, errs)
	}
	var as []struct {
		ID         string                  `json:"id"`
		Lifecycle  *struct{ Phase string } `json:"lifecycle"`
		Advisories []struct {
			ID     string   `json:"id"`
			CVEs   []string `json:"cves"`
			Reason string   `json:"reason"`
		} `json:"advisories"`
	}
	if err := json.Unmarshal([]byte(out), &as); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range as {
		if a.ID == "mac:00:0e:8c:9a:02:12" {
			found = a.Lifecycle != nil && len(a.Advisories) == 1 && a.Advisories[0].CVEs[0] == "CVE-2026-00001" && a.Advisories[0].Reason != ""
		}
	}
	if !found {
		t.Error("asset JSON of the S7-300 lacks its lifecycle or the advisory")
	}
	if code, _, errs := otscope(t, append([]string{"advisories", "--session", "p"}, dbArgs(dir)...)...); code != 2 || !strings.Contains(errs, "--csaf") {
		t.Errorf("advisories without --csaf: %d %q", code, errs)
	}
}

// TestAuditCommand audits the demo plant with the default policy pack: the
// office PC's program download through the firewall is critical, the exit
// status says so with --fail-on, and a user policy with a broken rule is
// reported while its good rule still runs.
func TestAuditCommand(t *testing.T) {
	dir := demoSession(t, "5m", "p")
	pol := filepath.Join(dir, "site.yaml")
	os.WriteFile(pol, []byte(`rules:
  - id: site-no-telnet-anywhere
    title: No Telnet on the site
    severity: medium
    rationale: site rule
    remediation: disable it
    when: asset.has_service('tcp', 23)
  - id: site-broken
    title: Broken
    severity: low
    rationale: x
    remediation: x
    when: asset.vendor ==
`), 0o644)
	code, out, errs := otscope(t, append([]string{"audit", "--session", "p", "--policy", pol, "--format", "json", "--fail-on", "critical"}, dbArgs(dir)...)...)
	if code != 3 {
		t.Fatalf("audit --fail-on critical: exit %d, want 3 (%s)", code, errs)
	}
	if !strings.Contains(errs, "site.yaml:") || !strings.Contains(errs, "site-broken") {
		t.Errorf("the broken user rule must be reported with file:line: %q", errs)
	}
	var rep struct {
		Violations []struct {
			Rule     string   `json:"rule"`
			Severity string   `json:"severity"`
			Asset    string   `json:"asset"`
			Evidence []string `json:"evidence"`
		} `json:"violations"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	rules := map[string][]string{}
	for _, v := range rep.Violations {
		rules[v.Rule] = append(rules[v.Rule], v.Asset)
		if len(v.Evidence) == 0 && !strings.HasPrefix(v.Rule, "site-") {
			t.Errorf("%s on %s has no evidence", v.Rule, v.Asset)
		}
	}
	if got := rules["program-change-from-non-ews"]; len(got) != 1 || !strings.HasPrefix(got[0], "ip:192.168.50.") {
		t.Errorf("program download from the office PC: %v", got)
	}
	if got := rules["write-from-unexpected-client"]; len(got) != 1 || !strings.HasPrefix(got[0], "ip:192.168.50.") {
		t.Errorf("Modbus write from the office PC: %v", got)
	}
	for _, want := range []string{"cleartext-telnet", "site-no-telnet-anywhere", "smbv1", "os-unsupported", "opcua-security-none",
		"lifecycle-end-of-life", "snmp-default-community"} {
		if len(rules[want]) == 0 {
			t.Errorf("rule %s did not fire on the demo plant (fired: %v)", want, rules)
		}
	}
	if code, _, errs := otscope(t, append([]string{"audit", "--session", "p", "--fail-on", "severe"}, dbArgs(dir)...)...); code != 2 || !strings.Contains(errs, "fail-on") {
		t.Errorf("bad --fail-on: exit %d %q", code, errs)
	}
}
