package advisory

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/testenv"
)

// bigCSAF is one advisory naming n products (the issue 13 item 10 input:
// 100k products took 27 s, 250k 117 s), all affected by one vulnerability
// and each with its own remediation.
func bigCSAF(tb testing.TB, n int) []byte {
	var prods []any
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("CSAFPID-%d", i)
		prods = append(prods, map[string]any{"category": "product_version_range", "name": fmt.Sprintf("vers:all/<V%d.0", i%9+1),
			"product": map[string]any{"name": fmt.Sprintf("Acme Widget %d", i), "product_id": ids[i],
				"product_identification_helper": map[string]any{"model_numbers": []string{fmt.Sprintf("ACM %06d", i)}}}})
	}
	doc := fixtureCSAF("ICSA-99-001-01", "2099-02-01T00:00:00Z", []any{
		map[string]any{"category": "product_name", "name": "Widgets", "branches": prods},
	}, []any{map[string]any{
		"cve":            "CVE-2099-9999",
		"product_status": map[string]any{"known_affected": ids},
		"remediations":   []any{map[string]any{"category": "vendor_fix", "details": "update", "product_ids": ids}},
	}})
	data, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func loadAndMatch(tb testing.TB, n int) time.Duration {
	data := bigCSAF(tb, n)
	start := testenv.CPUTime()
	a, _, err := parseCSAF(data, "big.json")
	if err != nil {
		tb.Fatal(err)
	}
	db := &DB{byID: map[string]int{a.ID: 0}, advisories: []*Advisory{a}}
	db.reindex()
	ms := db.Match(&model.Asset{Vendor: "Acme Automation GmbH", Product: "Acme Widget 17", OrderNumber: "ACM 000017", Firmware: "V1.0"})
	if len(ms) == 0 {
		tb.Fatalf("%d products: the asset named like product 17 matched nothing", n)
	}
	return testenv.CPUTime() - start
}

// Loading and matching one advisory grows about linearly with its products
// (issue 13 item 10).
func TestManyProductsLinear(t *testing.T) {
	small, big := loadAndMatch(t, 5000), loadAndMatch(t, 40000)
	if ratio := float64(big) / float64(small); ratio > 16 {
		t.Errorf("5k products %v, 40k %v: ×%.1f for ×8 the products", small, big, ratio)
	}
	if big > 30*time.Second {
		t.Errorf("40k products took %v", big)
	}
}
