package assets

import (
	"slices"
	"strconv"
	"strings"

	"otscope/model"
)

// deriveIdentity fills an asset's identity fields from its facts: for each
// field the value the device itself stated most often (a value it reported
// about another module, or a derivation, only when nothing else is known); the operating mode is the latest one seen;
// lists (unit ids, addresses, modules) take every value.
func deriveIdentity(a *model.Asset) {
	pick := func(field string) string {
		best, bestRank, bestCount := "", -1, uint64(0)
		for i := range a.Facts {
			f := &a.Facts[i]
			if f.Field != field {
				continue
			}
			rank := 2 // the device said it about itself
			switch {
			case f.Source.Kind == model.Derived:
				rank = 0
			case f.Detail != "":
				rank = 1 // about another module it reported (a backplane slot)
			}
			if rank > bestRank || (rank == bestRank && f.Count > bestCount) {
				best, bestRank, bestCount = f.Value, rank, f.Count
			}
		}
		return best
	}
	latest := func(field string) string {
		best := -1
		for i := range a.Facts {
			if a.Facts[i].Field == field && (best < 0 || a.Facts[i].LastSeen.After(a.Facts[best].LastSeen)) {
				best = i
			}
		}
		if best < 0 {
			return ""
		}
		return a.Facts[best].Value
	}
	all := func(field string) []string {
		var out []string
		for i := range a.Facts {
			if a.Facts[i].Field == field && !slices.Contains(out, a.Facts[i].Value) {
				out = append(out, a.Facts[i].Value)
			}
		}
		slices.SortFunc(out, compareNumeric)
		return out
	}
	a.Product = pick(model.FieldProduct)
	a.OrderNumber = pick(model.FieldOrderNumber)
	a.Firmware = pick(model.FieldFirmware)
	a.HardwareVersion = pick(model.FieldHardwareVersion)
	a.Serial = pick(model.FieldSerial)
	a.DeviceType = pick(model.FieldDeviceType)
	a.OperatingMode = latest(model.FieldOperatingMode)
	ids := model.ProtocolIDs{
		CIPVendorID:           pick(model.FieldCIPVendorID),
		CIPProductCode:        pick(model.FieldCIPProductCode),
		BACnetInstance:        pick(model.FieldBACnetInstance),
		BACnetVendorID:        pick(model.FieldBACnetVendorID),
		ProfinetStationName:   pick(model.FieldStationName),
		ProfinetVendorID:      pick(model.FieldPNVendorID),
		ProfinetDeviceID:      pick(model.FieldPNDeviceID),
		ModbusUnitIDs:         all(model.FieldModbusUnitID),
		DNP3Addresses:         all(model.FieldDNP3Address),
		IEC104CommonAddresses: all(model.FieldIEC104CommonAddr),
		AMSNetID:              pick(model.FieldAMSNetID),
		OPCUAApplicationURI:   pick(model.FieldOPCUAAppURI),
		SNMPSysObjectID:       pick(model.FieldSNMPSysObjectID),
	}
	if ids.CIPVendorID+ids.CIPProductCode+ids.BACnetInstance+ids.BACnetVendorID+ids.ProfinetStationName+
		ids.ProfinetVendorID+ids.ProfinetDeviceID+ids.AMSNetID+ids.OPCUAApplicationURI+ids.SNMPSysObjectID == "" &&
		len(ids.ModbusUnitIDs)+len(ids.DNP3Addresses)+len(ids.IEC104CommonAddresses) == 0 {
		a.ProtocolIDs = nil
	} else {
		// a fresh copy only here: most assets (IT hosts) have no protocol
		// IDs, and derive runs at every fact an asset gains
		p := new(model.ProtocolIDs)
		*p = ids
		a.ProtocolIDs = p
	}
	a.Modules = a.Modules[:0]
	for i := range a.Facts {
		if a.Facts[i].Field != model.FieldModule {
			continue
		}
		m, ok := model.ParseModule(a.Facts[i].Value)
		if !ok {
			continue
		}
		j := slices.IndexFunc(a.Modules, func(x model.Module) bool { return x.Rack == m.Rack && x.Slot == m.Slot })
		if j < 0 {
			a.Modules = append(a.Modules, m)
			continue
		}
		e := &a.Modules[j]
		for _, p := range [][2]*string{{&e.Product, &m.Product}, {&e.OrderNumber, &m.OrderNumber}, {&e.Firmware, &m.Firmware}, {&e.Serial, &m.Serial}} {
			if *p[0] == "" {
				*p[0] = *p[1]
			}
		}
	}
	// The module a COTP connection addressed (rack/slot from the TSAP) is the
	// CPU that answered: what it said about itself describes that module.
	if rack, slot := pick("s7.rack"), pick("s7.slot"); rack != "" && slot != "" {
		for i := range a.Modules {
			m := &a.Modules[i]
			if strconv.Itoa(m.Rack) != rack || strconv.Itoa(m.Slot) != slot {
				continue
			}
			for _, p := range [][2]*string{{&m.Product, &a.Product}, {&m.OrderNumber, &a.OrderNumber}, {&m.Firmware, &a.Firmware}, {&m.Serial, &a.Serial}} {
				if *p[0] == "" {
					*p[0] = *p[1]
				}
			}
		}
	}
	slices.SortFunc(a.Modules, func(x, y model.Module) int {
		if x.Rack != y.Rack {
			return x.Rack - y.Rack
		}
		return x.Slot - y.Slot
	})
	if a.Modules == nil {
		a.Modules = []model.Module{}
	}
}

// compareNumeric orders numbers numerically and everything else as text.
func compareNumeric(x, y string) int {
	a, errA := strconv.ParseUint(x, 10, 64)
	b, errB := strconv.ParseUint(y, 10, 64)
	switch {
	case errA == nil && errB == nil:
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
		return 0
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(x, y)
}
