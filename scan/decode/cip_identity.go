package decode

import (
	"strconv"

	"otscope/model"
)

// How an Identity answer reached us.
const (
	cipDirect    = iota // the target itself (ListIdentity, direct request)
	cipBackplane        // a module behind the target, port 1 slot N
	cipRouted           // a device further along a route
)

// cipIdentityFacts reports an Identity object. Every answer adds the CIP
// values (cip.*) to the IP that answered, as the protocol shows them;
// the target's own answer is its identity, a backplane module's answer a
// module fact (rack 0, slot N).
func cipIdentityFacts(c *appCtx, ep model.Endpoint, id *cipIdentity, mode int, slot uint8) {
	detail := ""
	switch mode {
	case cipBackplane:
		detail = "backplane slot " + strconv.Itoa(int(slot))
	case cipRouted:
		detail = "answer through a route"
	}
	fd := func(field, value string) { c.factDetail(ep, field, value, detail, protoENIP) }
	var name, rev, serial, catalog, series string
	if id.has&cipHasVendor != 0 {
		fd(model.FieldCIPVendorID, strconv.Itoa(int(id.vendor)))
	}
	if id.has&cipHasType != 0 {
		fd(model.FieldCIPDeviceType, strconv.Itoa(int(id.dtype)))
	}
	if id.has&cipHasCode != 0 {
		fd(model.FieldCIPProductCode, strconv.Itoa(int(id.code)))
	}
	if id.has&cipHasRev != 0 {
		rev = strconv.Itoa(int(id.major)) + "." + cipPad2(id.minor)
		fd(FieldCIPRevision, rev)
	}
	if id.has&cipHasStatus != 0 {
		fd(model.FieldCIPStatus, "0x"+enipHex4(id.status))
	}
	if id.has&cipHasSerial != 0 {
		serial = "0x" + enipHex4(uint16(id.serial>>16)) + enipHex4(uint16(id.serial))
		fd(FieldCIPSerial, serial)
	}
	if id.has&cipHasName != 0 {
		name = cleanText(id.name)
		fd(FieldCIPProductName, name)
	}
	if id.has&cipHasState != 0 {
		fd(model.FieldCIPState, "0x"+mbHex2(id.state))
	}
	if id.has&cipHasVendor != 0 && id.vendor == 1 {
		catalog, series = rockwellCatalog(name)
	}
	// A status-only answer (engineering tools poll attribute 5) gives the
	// mode of a device already known, on this IP, as a Logix controller:
	// vendor 1 and device type 14, possibly from separate answers.
	isVendor := onceKey{ip: c.src, kind: onceCIPLogix, id: 1}
	isPLC := onceKey{ip: c.src, kind: onceCIPLogix, id: 2}
	if id.has&cipHasVendor != 0 && id.vendor == 1 {
		c.d.once(isVendor)
	}
	if id.has&cipHasType != 0 && id.dtype == 0x0e {
		c.d.once(isPLC)
	}
	vendor, dtype := id.vendor, id.dtype
	if id.has&(cipHasVendor|cipHasType) != cipHasVendor|cipHasType {
		_, v := c.d.onceSet[isVendor]
		_, p := c.d.onceSet[isPLC]
		if v && p {
			vendor, dtype = 1, 0x0e
		}
	}
	if id.has&cipHasStatus != 0 {
		if m := cipOperatingMode(vendor, dtype, id.status); m != "" {
			md := "CIP identity status 0x" + enipHex4(id.status) + " (Rockwell key switch, bits 12-13; I/O run/idle, bits 4-7)"
			if mode == cipBackplane {
				md += ", controller in backplane slot " + strconv.Itoa(int(slot))
			}
			if mode != cipRouted {
				c.factDetail(ep, model.FieldOperatingMode, m, md, protoENIP)
			}
		}
	}
	switch mode {
	case cipDirect:
		if id.has&cipHasVendor != 0 {
			if v, ok := cipVendors[id.vendor]; ok {
				c.fact(ep, model.FieldVendor, v, protoENIP)
			}
		}
		if id.has&cipHasType != 0 {
			if t := cipDeviceType(id.dtype); t != "" {
				c.fact(ep, model.FieldDeviceType, t, protoENIP)
			}
			if role := cipRole(id.dtype); role != "" {
				c.factDetail(ep, model.FieldRole, role, "CIP identity device type "+strconv.Itoa(int(id.dtype))+" ("+cipDeviceType(id.dtype)+")", protoENIP)
			}
		}
		c.fact(ep, model.FieldProduct, name, protoENIP)
		c.fact(ep, model.FieldFirmware, rev, protoENIP)
		c.fact(ep, model.FieldSerial, serial, protoENIP)
		c.fact(ep, model.FieldOrderNumber, catalog, protoENIP)
		if series != "" {
			c.fact(ep, model.FieldHardwareVersion, "Series "+series, protoENIP)
		}
	case cipBackplane:
		if name != "" || rev != "" || serial != "" {
			c.fact(ep, model.FieldModule, model.FormatModule(model.Module{
				Rack: 0, Slot: int(slot), Product: name, OrderNumber: catalog, Firmware: rev, Serial: serial,
			}), protoENIP)
		}
	}
}

// cipRole is the role a CIP device type proves.
func cipRole(t uint16) string {
	switch t {
	case 0x0e:
		return model.RolePLC
	case 0x18:
		return model.RoleHMI
	case 0x07, 0x23, 0x2a:
		return model.RoleIO
	}
	return ""
}

// cipOperatingMode reads the operating mode from an Identity status word
// where the vendor defines it. Rockwell Logix controllers (vendor 1,
// device type 14) put the key switch position in bits 12-13 (1 RUN, 2
// PROGRAM, 3 REMOTE); in REMOTE the mode follows the extended device
// status (bits 4-7): 6 = I/O connections in run mode, 7 = all in idle.
func cipOperatingMode(vendor, dtype, status uint16) string {
	if vendor != 1 || dtype != 0x0e {
		return ""
	}
	ext := (status >> 4) & 0x0f
	switch (status >> 12) & 0x03 {
	case 1:
		return "RUN"
	case 2:
		return "PROGRAM"
	case 3:
		switch ext {
		case 6:
			return "REMOTE RUN"
		case 7:
			return "REMOTE PROGRAM"
		}
		return "REMOTE"
	}
	return ""
}

// rockwellCatalog splits an Allen-Bradley product name such as
// "1756-L61/B LOGIX5561" into the catalog number ("1756-L61") and the
// series ("B"). It returns "" when the name does not start with a catalog
// number (four digits, a dash).
func rockwellCatalog(name string) (catalog, series string) {
	if len(name) < 6 || name[4] != '-' {
		return "", ""
	}
	for i := 0; i < 4; i++ {
		if name[i] < '0' || name[i] > '9' {
			return "", ""
		}
	}
	end := len(name)
	for i := 5; i < len(name); i++ {
		if name[i] == ' ' {
			end = i
			break
		}
	}
	tok := name[:end]
	for i := 5; i < len(tok); i++ {
		if tok[i] == '/' {
			if i+1 < len(tok) {
				series = tok[i+1:]
			}
			return tok[:i], series
		}
	}
	return tok, ""
}

func cipPad2(v uint8) string {
	if v < 10 {
		return "0" + strconv.Itoa(int(v))
	}
	return strconv.Itoa(int(v))
}
