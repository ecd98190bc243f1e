package review

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"otscope/assets/policy"
	"otscope/model"
)

// WaiverRecord is one acknowledgement as the store.Waivers journal keeps
// it: a policy.Waiver (inlined in JSON) and when it was made. A later
// record for the same rule and asset supersedes an earlier one; a record
// whose Until is its own At revokes.
type WaiverRecord struct {
	policy.Waiver
	At time.Time `json:"at"`
}

// Key identifies what a waiver acknowledges: a rule and an asset (or "*").
type Key struct {
	Rule  string
	Asset model.AssetID
}

// KeyOf returns the waiver's key.
func KeyOf(w policy.Waiver) Key { return Key{w.RuleID, w.AssetID} }

// Errors of NewWaiver and ParseExpiry.
var (
	ErrWaiver = errors.New("invalid waiver")
	ErrExpiry = errors.New("invalid expiry")
)

// NewWaiver checks and builds a waiver record made at time at. until may be
// zero (no expiry) but not before at.
func NewWaiver(rule string, asset model.AssetID, reason, by string, until, at time.Time) (WaiverRecord, error) {
	rule, reason, by = strings.TrimSpace(rule), strings.TrimSpace(reason), strings.TrimSpace(by)
	switch {
	case rule == "":
		return WaiverRecord{}, fmt.Errorf("%w: no rule", ErrWaiver)
	case asset == "":
		return WaiverRecord{}, fmt.Errorf("%w: no asset (an asset ID, or * for every asset)", ErrWaiver)
	case reason == "":
		return WaiverRecord{}, fmt.Errorf("%w: no reason", ErrWaiver)
	case by == "":
		return WaiverRecord{}, fmt.Errorf("%w: no author", ErrWaiver)
	case !until.IsZero() && !until.After(at):
		return WaiverRecord{}, fmt.Errorf("%w: expiry %s is not in the future", ErrWaiver, until.Format(time.DateTime))
	}
	return WaiverRecord{Waiver: policy.Waiver{RuleID: rule, AssetID: asset, Reason: reason, By: by, Until: until}, At: at}, nil
}

// Revoke builds the record that ends the waiver for key at time at.
func Revoke(k Key, reason, by string, at time.Time) WaiverRecord {
	if strings.TrimSpace(reason) == "" {
		reason = "revoked"
	}
	return WaiverRecord{Waiver: policy.Waiver{RuleID: k.Rule, AssetID: k.Asset, Reason: reason, By: by, Until: at}, At: at}
}

// Revoked reports whether the record is a revocation (it expired the
// moment it was made).
func (r WaiverRecord) Revoked() bool { return !r.Until.IsZero() && !r.Until.After(r.At) }

// Status words a record at now: "active", "expired" or "revoked".
func (r WaiverRecord) Status(now time.Time) string {
	switch {
	case r.Revoked():
		return "revoked"
	case r.Active(now):
		return "active"
	}
	return "expired"
}

// Latest returns the last record of each key, in the order of their first
// appearance: the records that are in force or that ended a waiver.
func Latest(recs []WaiverRecord) []WaiverRecord {
	idx := map[Key]int{}
	var out []WaiverRecord
	for _, r := range recs {
		k := KeyOf(r.Waiver)
		if i, ok := idx[k]; ok {
			out[i] = r
			continue
		}
		idx[k] = len(out)
		out = append(out, r)
	}
	return out
}

// Effective returns the waivers to hand to policy.Audit at now: the last
// record of each rule and asset, if it is still active. (Audit alone would
// pick the longest-lived of several waivers; here a later record always
// supersedes an earlier one, so shortening or revoking works.)
func Effective(recs []WaiverRecord, now time.Time) []policy.Waiver {
	var out []policy.Waiver
	for _, r := range Latest(recs) {
		if r.Active(now) {
			out = append(out, r.Waiver)
		}
	}
	return out
}

// ParseExpiry reads an expiry relative to now: "" (none), a date
// "2027-01-31" (the waiver lasts through that day, local time), a date and
// time "2027-01-31 18:00", or a duration "30d", "2w", "12h", "90m".
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, now.Location()); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", time.DateTime, time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	d, err := ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w %q: want a date (2027-01-31) or a duration (30d, 2w, 12h)", ErrExpiry, s)
	}
	return now.Add(d), nil
}

// ParseDuration reads a positive duration with days ("30d") and weeks
// ("2w") besides Go's units ("12h", "90m").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	switch {
	case strings.HasSuffix(s, "d") || strings.HasSuffix(s, "w"):
		n, perr := strconv.Atoi(s[:len(s)-1])
		if perr == nil && n > 100*366 {
			perr = errors.New("too long") // would overflow time.Duration
		}
		unit := 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			unit *= 7
		}
		d, err = time.Duration(n)*unit, perr
	default:
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w %q: not a positive duration", ErrExpiry, s)
	}
	return d, nil
}
