package assetpane

import (
	"slices"
	"strconv"
	"strings"

	"otscope/model"
	"otscope/ui/format"
)

// chatter is what nearly every host speaks (model.ClassNetwork): it says
// nothing about what a device is, so it is shown only when an asset speaks
// nothing else.
func chatter(p string) bool { return model.ClassOf(p) == model.ClassNetwork }

// telling orders an asset's protocols for a narrow column: what it serves
// before what it only speaks as a client, industrial before IT, and leaves
// out chatter (ARP, ICMP, DNS, DHCP, LLDP…) unless there is nothing else.
func telling(a *model.Asset) []string {
	served := map[string]bool{}
	all := slices.Clone(a.Protocols)
	for _, s := range a.Services {
		if s.Protocol == "" {
			continue
		}
		served[s.Protocol] = true
		if !slices.Contains(all, s.Protocol) {
			all = append(all, s.Protocol)
		}
	}
	// Tiers: served industrial, served IT, client-only industrial,
	// client-only IT, then chatter and bare tcp/udp.
	rank := func(p string) (tier, pos int) {
		switch {
		case p == "tcp" || p == "udp":
			return 8, 0 // a port without a known protocol: last of all
		case chatter(p):
			tier = 4
		case model.IsIndustrial(p):
			pos = model.ProtocolRank(p) // most telling first
		default:
			tier = 1
		}
		if !served[p] {
			tier += 2
		}
		return tier, pos
	}
	slices.SortStableFunc(all, func(x, y string) int {
		xt, xp := rank(x)
		yt, yp := rank(y)
		if xt != yt {
			return xt - yt
		}
		return xp - yp
	})
	if i := slices.IndexFunc(all, chatter); i > 0 {
		all = all[:i]
	}
	return all
}

// fitList joins items with "," in at most w cells, keeping whole items and
// ending with " +N" for the N left out; when the first item does not fit
// it alone is shown, cut with "…".
func fitList(items []string, w int) string {
	out := ""
	for i, it := range items {
		cand := it
		if i > 0 {
			cand = out + "," + it
		}
		suffix := ""
		if rest := len(items) - i - 1; rest > 0 {
			suffix = " +" + strconv.Itoa(rest)
		}
		if format.Width(cand)+len(suffix) <= w {
			out = cand
			continue
		}
		if i > 0 {
			return out + " +" + strconv.Itoa(len(items)-i)
		}
		// "engineering…" reads better than "enginee… +1".
		return format.Truncate(it, w)
	}
	return out
}

// roleCell is the narrow ROLE/PROTO cell: the roles when any are known,
// else the most telling protocols.
func roleCell(roles, protos []string, w int) string {
	if len(roles) > 0 {
		return fitList(roles, w)
	}
	return fitList(protos, w)
}

// roleProtoCell is the wide "roles · protocols" cell.
func roleProtoCell(roles, protos []string, w int) string {
	if len(roles) == 0 || len(protos) == 0 {
		return roleCell(roles, protos, w)
	}
	r := fitList(roles, w)
	if room := w - format.Width(r) - 3; room >= 6 {
		return r + " · " + fitList(protos, room)
	}
	return r
}

// legalForms are company-form endings dropped from vendor names in the
// table ("Siemens AG" → "Siemens"); the detail shows the full name.
var legalForms = []string{
	",", " &", " inc.", " inc", " gmbh", " ag", " se", " kg", " co.", " co", " ltd.", " ltd",
	" co.,ltd.", " co.,ltd", " llc", " corp.", " corp", " corporation", " s.a.", " b.v.", " oy", " ab",
}

// shortVendor drops trailing legal forms from a vendor name.
func shortVendor(v string) string {
	for {
		lower := strings.ToLower(v)
		cut := false
		for _, f := range legalForms {
			if strings.HasSuffix(lower, f) && len(v) > len(f) {
				v = strings.TrimRight(v[:len(v)-len(f)], " ")
				cut = true
				break
			}
		}
		if !cut {
			return v
		}
	}
}

// shortFirmware drops a leading "Version"/"Firmware"/"FW" word from a
// firmware string for the narrow column ("Version V4.1.3" → "V4.1.3");
// the detail shows the value as the device said it.
func shortFirmware(v string) string {
	for _, p := range []string{"version", "firmware", "fw", "sw"} {
		if len(v) > len(p)+1 && strings.EqualFold(v[:len(p)], p) {
			rest := strings.TrimLeft(v[len(p):], " :")
			if rest != "" && len(rest) < len(v)-len(p) {
				return rest
			}
		}
	}
	return v
}
