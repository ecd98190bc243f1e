package probe

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"otscope/model"
)

// Targets returns one target per scope address with what the session's
// assets already tell of it. Targets whose asset has one of excludeRoles
// (an asset class the user keeps out: "safety controller") are left out.
func Targets(scope *Scope, assets []model.Asset, excludeRoles []string) []Target {
	byIP := map[netip.Addr]*model.Asset{}
	for i := range assets {
		for _, ip := range assets[i].IPs {
			if _, dup := byIP[ip.Unmap()]; !dup {
				byIP[ip.Unmap()] = &assets[i]
			}
		}
	}
	var out []Target
	for _, a := range scope.Addrs() {
		t := Target{Addr: a, Known: Known{Fields: map[string]bool{}}}
		if as := byIP[a]; as != nil {
			if hasRole(as, excludeRoles) {
				continue
			}
			c := as.Clone()
			t.Asset = &c
			t.Known = known(&c)
			// a MAC-keyed asset is on the local segment; a routed host's
			// MAC would be the router's
			if strings.HasPrefix(string(c.ID), "mac:") && len(c.MACs) > 0 {
				t.MAC = c.MACs[0]
			}
		}
		out = append(out, t)
	}
	return out
}

func hasRole(a *model.Asset, roles []string) bool {
	for _, r := range roles {
		for _, ar := range a.Roles {
			if strings.EqualFold(strings.TrimSpace(r), ar) {
				return true
			}
		}
	}
	return false
}

// known collects what an asset says of its services and identity.
func known(a *model.Asset) Known {
	k := Known{Fields: map[string]bool{}}
	for _, s := range a.Services {
		switch s.Transport {
		case "tcp":
			if !slices.Contains(k.TCP, s.Port) {
				k.TCP = append(k.TCP, s.Port)
			}
		case "udp":
			if !slices.Contains(k.UDP, s.Port) {
				k.UDP = append(k.UDP, s.Port)
			}
		}
		if s.Protocol != "" && !slices.Contains(k.Protocols, s.Protocol) {
			k.Protocols = append(k.Protocols, s.Protocol)
		}
	}
	// a.Protocols also holds what the asset spoke as a client (an
	// engineering station "speaks" s7comm): only its services say what it
	// serves, so only they are protocols to ask it about.
	slices.Sort(k.TCP)
	slices.Sort(k.UDP)
	slices.Sort(k.Protocols)
	for field, v := range map[string]string{
		model.FieldVendor: a.Vendor, model.FieldProduct: a.Product, model.FieldOrderNumber: a.OrderNumber,
		model.FieldFirmware: a.Firmware, model.FieldHardwareVersion: a.HardwareVersion, model.FieldSerial: a.Serial,
		model.FieldDeviceType: a.DeviceType, model.FieldOperatingMode: a.OperatingMode,
	} {
		if v != "" {
			k.Fields[field] = true
		}
	}
	for _, f := range a.Facts {
		if f.Value != "" {
			k.Fields[f.Field] = true
		}
	}
	if a.ProtocolIDs != nil {
		for _, u := range a.ModbusUnitIDs {
			if n, err := strconv.Atoi(u); err == nil && n >= 0 && n <= 255 && !slices.Contains(k.ModbusUnits, uint8(n)) {
				k.ModbusUnits = append(k.ModbusUnits, uint8(n))
			}
		}
		slices.Sort(k.ModbusUnits)
	}
	return k
}

// ScopeFromAssets is "the assets of this session" as a scope: every IPv4
// address they hold, under the same rules as a typed scope.
func ScopeFromAssets(assets []model.Asset, o ScopeOptions) (*Scope, error) {
	var addrs []string
	for i := range assets {
		for _, ip := range assets[i].IPs {
			if ip = ip.Unmap(); ip.Is4() {
				addrs = append(addrs, ip.String())
			}
		}
	}
	return ParseScope(addrs, o)
}
