package export_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"otscope/assets/export"
	"otscope/scan/testenv"
)

func renderHTML(t testing.TB) (string, *export.Report) {
	t.Helper()
	rep, _ := plantReport(t)
	var b bytes.Buffer
	if err := export.HTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.String(), rep
}

// TestHTMLReport parses the report and checks what a reader relies on:
// every in-page link resolves, nothing is loaded from elsewhere, device
// strings are escaped, and each asset has its section with identity,
// provenance, lifecycle, violations, advisories and walkdown state.
func TestHTMLReport(t *testing.T) {
	out, rep := renderHTML(t)
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	ids, hrefs := map[string]bool{}, []string{}
	scripts := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					if ids[a.Val] {
						t.Errorf("duplicate id %q", a.Val)
					}
					ids[a.Val] = true
				case "href":
					hrefs = append(hrefs, a.Val)
				case "src", "srcset", "action", "formaction", "poster", "data":
					t.Errorf("<%s %s=%q> would load something", n.Data, a.Key, a.Val)
				}
			}
			switch n.Data {
			case "link", "iframe", "img", "object", "embed":
				t.Errorf("<%s> element in a self-contained report", n.Data)
			case "script":
				scripts++
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if scripts != 1 {
		t.Errorf("%d script elements, want the one inline script (the injected one must be text)", scripts)
	}
	internal := 0
	for _, h := range hrefs {
		if frag, ok := strings.CutPrefix(h, "#"); ok {
			internal++
			if !ids[frag] {
				t.Errorf("link %q has no target", h)
			}
			continue
		}
		if !strings.HasPrefix(h, "https://") && !strings.HasPrefix(h, "http://") {
			t.Errorf("link %q is neither in-page nor a web page", h)
		}
	}
	if internal < 2*len(rep.Records) {
		t.Errorf("%d in-page links for %d assets", internal, len(rep.Records))
	}
	if strings.Contains(out, "<script>alert") || strings.ContainsRune(out, 0x1b) {
		t.Error("a device string reached the page unescaped")
	}
	if !strings.Contains(out, "&lt;script&gt;alert") || !strings.Contains(out, "North &lt;Works&gt; &amp; Co") {
		t.Error("escaped device strings are missing")
	}
	for _, want := range []string{"By vendor", "By role", "By lifecycle phase", "By verdict", "Open violations by severity",
		"Facts and provenance", "Lifecycle", "Violations", "Advisories", "Walkdown", "verified by anna", "Hall 2, cabinet &lt;7&gt;",
		"Scan log", "1 requests, 6 packets", "&lt;img src=x onerror=alert(1)&gt;", "&lt;/td&gt;&lt;script&gt;alert(2)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	evidence := 0
	for i := range rep.Records {
		for _, v := range rep.Records[i].Violations {
			for _, e := range v.Evidence {
				evidence++
				if !strings.Contains(out, html.EscapeString(e)) {
					t.Errorf("evidence %q of %s is not in the report", e, v.RuleID)
				}
			}
		}
	}
	if evidence == 0 {
		t.Error("the audit of the demo plant found no violation with evidence; the report proves nothing about violations")
	}
	// The summary's phase counts agree with the records.
	phases := 0
	for i := range rep.Records {
		if rep.Records[i].Phase(rep.Now) != "" {
			phases++
		}
	}
	if phases == 0 {
		t.Error("no asset of the demo plant has a lifecycle phase; the report proves nothing about lifecycle")
	}
}

// TestHTMLInChromium renders the report in headless Chromium (when
// installed): it loads, the in-page links resolve, the script runs (it
// shows the filter box) and no console error is logged.
func TestHTMLInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Skip(t, "chromium is not installed")
	}
	out, rep := renderHTML(t)
	// A test script, run after the report's own: filter on a string only
	// one asset has, then sort the address column descending, and record
	// what the page shows.
	probe := `<script>
(function () {
  var f = document.getElementById("filter");
  f.value = "calc";
  f.dispatchEvent(new Event("input"));
  var rows = document.getElementById("assets").tBodies[0].rows, shown = 0;
  for (var i = 0; i < rows.length; i++) { if (!rows[i].hidden) { shown++; } }
  document.body.setAttribute("data-shown", String(shown));
  f.value = "";
  f.dispatchEvent(new Event("input"));
  var th = document.querySelector("#assets th");
  th.click(); th.click();
  document.body.setAttribute("data-first", rows[0].cells[0].textContent);
})();
</script></body>`
	probed := strings.Replace(out, "</body>", probe, 1)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, []byte(probed), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
		"--dump-dom", "file://"+page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := stdout.String()
	if !strings.Contains(dom, `id="asset-1"`) || !strings.Contains(dom, rep.Session) {
		t.Fatalf("chromium's DOM lacks the report (%d bytes)", len(dom))
	}
	// The script ran: it removes the hidden attribute of the filter box.
	if regexp.MustCompile(`<input id="filter"[^>]*hidden`).MatchString(dom) {
		t.Error("the inline script did not run (the filter box is still hidden)")
	}
	if !strings.Contains(dom, `data-shown="1"`) {
		t.Errorf("filtering on a unique string does not leave one row: %s", regexp.MustCompile(`data-shown="[^"]*"`).FindString(dom))
	}
	last := ""
	for _, m := range regexp.MustCompile(`<tr><td><a href="#asset-\d+">([^<]*)</a>`).FindAllStringSubmatch(out, -1) {
		last = m[1]
	}
	if got := regexp.MustCompile(`data-first="([^"]*)"`).FindStringSubmatch(dom); got == nil || got[1] != html.UnescapeString(last) {
		t.Errorf("sorting the address column descending puts %v first, want %q", got, last)
	}
	// The report's script logs nothing: any console line (an uncaught
	// error, a Content-Security-Policy violation of a resource the page
	// tried to load) is a failure. Chromium logs them all as INFO:CONSOLE.
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			t.Errorf("console: %s", l)
		}
	}
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(dom, -1) {
		if !strings.Contains(dom, `id="`+m[1]+`"`) {
			t.Errorf("link #%s does not resolve in the rendered page", m[1])
		}
	}
	// A screenshot proves it rendered pixels.
	shot := filepath.Join(dir, "shot.png")
	cmd = exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--user-data-dir="+filepath.Join(dir, "profile2"), "--window-size=1280,900", "--screenshot="+shot, "file://"+page)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, b)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Fatalf("screenshot: %v", err)
	}
}
