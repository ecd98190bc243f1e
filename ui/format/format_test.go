package format

import (
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Count(0), "0"}, {Count(999), "999"}, {Count(1234), "1.2k"}, {Count(45_600), "46k"},
		{Count(9_990), "10k"}, {Count(1_200_000), "1.2M"}, {Count(3_400_000_000), "3.4G"},
		{Bytes(512), "512B"}, {Bytes(1_200), "1.2kB"}, {Bytes(96_200_000), "96MB"},
		{Rate(0), "0"}, {Rate(0.5), "0.5"}, {Rate(7.6), "8"}, {Rate(960), "960"}, {Rate(1_100), "1.1k"},
		{Thousands(7), "7"}, {Thousands(1234567), "1,234,567"}, {Thousands(100000), "100,000"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestTimes(t *testing.T) {
	now := time.Date(2025, 3, 4, 10, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		got, want string
	}{
		{Ago(now, time.Time{}), "-"}, {Ago(now, now.Add(time.Second)), "0s"}, {Ago(now, now.Add(-3*time.Second)), "3s"},
		{Ago(now, now.Add(-4*time.Minute)), "4m"}, {Ago(now, now.Add(-26*time.Hour)), "26h"}, {Ago(now, now.Add(-72*time.Hour)), "3d"},
		{Clock(now, now.Add(-time.Minute)), "10:04:00"}, {Clock(now, now.Add(-48*time.Hour)), "Mar 02 10:05"},
		{Clock(now, now.AddDate(-1, 0, 0)), "2024-03-04 10:05"}, {Clock(now, time.Time{}), "-"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		s    string
		w    int
		fit  string
		fitR string
	}{
		{"abc", 5, "abc  ", "  abc"},
		{"abcdef", 4, "abc…", "abc…"},
		{"Größe", 4, "Grö…", "Grö…"},
		{"⚠ x", 3, "⚠ x", "⚠ x"},
		{"abc", 0, "", ""},
	} {
		if got := Fit(tc.s, tc.w); got != tc.fit || ansi.StringWidth(got) != tc.w {
			t.Errorf("Fit(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.fit)
		}
		if got := FitRight(tc.s, tc.w); got != tc.fitR {
			t.Errorf("FitRight(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.fitR)
		}
	}
	if Dash("") != "-" || Dash("x") != "x" {
		t.Errorf("Dash: %q, %q", Dash(""), Dash("x"))
	}
}

func TestSparkline(t *testing.T) {
	for _, tc := range []struct {
		vals  []float64
		width int
		want  string
	}{
		{[]float64{1, 2, 4, 8}, 4, "▁▂▄█"},
		{[]float64{0, 8, 0}, 5, "   █ "},
		{[]float64{0, 0}, 2, "▁▁"},
		{[]float64{5, 1, 2, 3, 4, 8}, 3, "▃▄█"},
		{nil, 3, "   "},
	} {
		if got := Sparkline(tc.vals, tc.width); got != tc.want {
			t.Errorf("Sparkline(%v, %d) = %q, want %q", tc.vals, tc.width, got, tc.want)
		}
	}
}
