package central

import (
	"io"

	"otscope/assets/export"
	"otscope/model"

	"context"
	"fmt"
	"otscope/assets/central/pgtest"
	"testing"
	"time"
)

// BenchmarkPush10k pushes a 10,000-asset session with 300,000 facts, then
// pushes it again unchanged (go test -run '^$' -bench Push -benchtime 1x).
func BenchmarkPush10k(b *testing.B) {
	srv := pgtest.Shared(b)
	c := plant(10000, 30, 'p')
	ctx := context.Background()
	for i := range b.N {
		dsn := srv.CreateDB(b, fmt.Sprintf("bench_push_%d_%d", time.Now().UnixNano()%1e6, i))
		db, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		st, err := db.Push(ctx, c, PushOptions{Site: "plant", Sensor: "jump-1"})
		if err != nil {
			b.Fatal(err)
		}
		first := time.Since(t0)
		t0 = time.Now()
		st2, err := db.Push(ctx, c, PushOptions{Site: "plant", Sensor: "jump-1"})
		if err != nil {
			b.Fatal(err)
		}
		again := time.Since(t0)
		b.ReportMetric(first.Seconds(), "s-first")
		b.ReportMetric(again.Seconds(), "s-unchanged")
		b.ReportMetric(float64(st.Facts), "facts")
		if st2.AssetsSent != 0 {
			b.Fatalf("unchanged push sent %d", st2.AssetsSent)
		}
		db.Close()
	}
}

// BenchmarkLoad100k reads 100,000 assets of 20 sites back and writes them
// as `assets --from DSN -f table` does (read, merge per site, table).
func BenchmarkLoad100k(b *testing.B) {
	srv := pgtest.Shared(b)
	ctx := context.Background()
	dsn := srv.CreateDB(b, fmt.Sprintf("bench_load_%d", time.Now().UnixNano()%1e6))
	db, err := Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for s := range 20 {
		if _, err := db.Push(ctx, plant(5000, 8, byte('A'+s)), PushOptions{Site: fmt.Sprintf("site-%02d", s), Sensor: "jump-1"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		got, err := db.Load(ctx, LoadOptions{AssetsOnly: true, NoFacts: true})
		if err != nil {
			b.Fatal(err)
		}
		sites, err := MergeSites(got)
		if err != nil {
			b.Fatal(err)
		}
		var all []model.Asset
		for _, s := range sites {
			all = append(all, s.Session.Assets...)
		}
		if len(all) != 100000 {
			b.Fatalf("%d assets", len(all))
		}
		if err := export.Assets(io.Discard, "table", all); err != nil {
			b.Fatal(err)
		}
	}
}
