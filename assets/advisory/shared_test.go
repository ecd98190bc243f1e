package advisory

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"otscope/scan/testenv"
)

// sharedDir is the public advisory data set (see its README.md), or the
// directory in $OTSCOPE_ADVISORY_DATA; tests that need it skip when it is
// absent.
var sharedDir = func() string {
	if d := os.Getenv("OTSCOPE_ADVISORY_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "advisories")
}()

func needShared(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedDir, "csaf", "TRUTH.tsv")); err != nil {
		testenv.Skipf(t, "shared advisory data not present (%v)", err)
	}
	return sharedDir
}

// truthRow is one row of csaf/TRUTH.tsv.
type truthRow struct {
	file, id, vendor, family, product, category, expr, productID, fullName, models, cves, other string
}

func readTruth(t testing.TB) []truthRow {
	t.Helper()
	f, err := os.Open(filepath.Join(needShared(t), "csaf", "TRUTH.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []truthRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 0; sc.Scan(); n++ {
		if n == 0 {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 12 {
			t.Fatalf("TRUTH.tsv line %d: %d columns", n+1, len(c))
		}
		for i := range c {
			c[i] = unescapeTSV(c[i])
		}
		rows = append(rows, truthRow{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func unescapeTSV(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n", `\r`, "\r").Replace(s)
}
