package lifecycle

import (
	"fmt"
	"strconv"
	"time"
)

// Date is a calendar date at the precision the source gives it: a year
// ("2033"), a month ("2025-10") or a day ("2020-01-14"). Vendors often
// announce only a year or a quarter; a Date never pretends to more precision
// than that. The zero Date means "not known".
type Date struct {
	Year  int // 0 when the date is not known
	Month int // 1-12, or 0 for a year-only date
	Day   int // 1-31, or 0 for a year or month date
}

// ParseDate reads "", "YYYY", "YYYY-MM" or "YYYY-MM-DD". The empty string
// gives the zero Date.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	var layout string
	switch len(s) {
	case 4:
		layout = "2006"
	case 7:
		layout = "2006-01"
	case 10:
		layout = "2006-01-02"
	default:
		return Date{}, fmt.Errorf("bad date %q (want YYYY, YYYY-MM or YYYY-MM-DD)", s)
	}
	t, err := time.Parse(layout, s)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		return Date{}, fmt.Errorf("bad date %q (want YYYY, YYYY-MM or YYYY-MM-DD between 1900 and 2200)", s)
	}
	d := Date{Year: t.Year()}
	if len(s) >= 7 {
		d.Month = int(t.Month())
	}
	if len(s) == 10 {
		d.Day = t.Day()
	}
	return d, nil
}

// MustDate is ParseDate for constants; it panics on a malformed date.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether the date is unknown.
func (d Date) IsZero() bool { return d.Year == 0 }

// String returns the date as written: "2033", "2025-10", "2020-01-14", or "".
func (d Date) String() string {
	switch {
	case d.Year == 0:
		return ""
	case d.Month == 0:
		return strconv.Itoa(d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// End is the first instant (UTC) after the period the date names: the day
// after a day, the first of the next month, the next New Year. The zero
// Date has the zero End.
func (d Date) End() time.Time {
	switch {
	case d.Year == 0:
		return time.Time{}
	case d.Month == 0:
		return time.Date(d.Year+1, 1, 1, 0, 0, 0, 0, time.UTC)
	case d.Day == 0:
		return time.Date(d.Year, time.Month(d.Month)+1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day+1, 0, 0, 0, 0, time.UTC)
}

// Passed reports whether the whole period the date names lies before now:
// "2033" has passed only from 2034-01-01. A zero Date never passes.
func (d Date) Passed(now time.Time) bool {
	return !d.IsZero() && !now.Before(d.End())
}
