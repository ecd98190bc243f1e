package decode

// pnVendors maps PROFINET vendor ids (assigned by PROFIBUS & PROFINET
// International, PI; the VendorID of a GSDML file's DeviceIdentity and of
// DCP DeviceID) to the vendor's name.
//
// The PI registry is not published as a machine-readable list, so the table
// holds only ids confirmed by public material: GSDML DeviceIdentity
// elements (VendorID next to VendorName), vendors' PROFINET stacks, the
// OpenCommissioning PROFINET device-id collection and the DCP captures in
// ../shared/pcaps. An id that is not here gets its numeric fact only: a
// wrong vendor name would be worse than none.
var pnVendors = map[uint16]string{
	0x002a: "Siemens",                  // GSDML ET 200SP, SINAMICS G120D; DCP captures (SCALANCE X208)
	0x00b0: "Phoenix Contact",          // PC Worx / AXC GSDML (DeviceID 0x015F)
	0x010a: "SEW-Eurodrive",            // GSDML DFE/DFS fieldbus interfaces
	0x010c: "HMS Industrial Networks",  // GSDML Anybus (p-net based)
	0x011e: "Baumer",                   // GSDML Baumer Group
	0x015a: "GE Intelligent Platforms", // VersaMax IC200PNS001 (DCP capture)
	0x0493: "RT-Labs",                  // p-net stack GSDML
}

// pnVendorName returns the registered name of a PROFINET vendor id, or "".
func pnVendorName(id uint16) string { return pnVendors[id] }
