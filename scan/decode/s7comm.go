package decode

import (
	"otscope/model"
)

// S7comm (protocol id 0x32) inside COTP data PDUs.
//
// What the server proves about itself comes from userdata responses to
// "read SZL" (function group 4 CPU functions, subfunction 1):
//   - SZL 0xxy11 module identification: index 1 the module's order number
//     (MLFB), 6 the basic hardware, 7 the basic firmware ('V' x.y.z in the
//     ausbg/ausbe words);
//   - SZL 0xxy1C component identification: 1 AS (station) name, 2 module
//     name, 3 plant id, 4 copyright, 5 serial, 7 module type name, 8 memory
//     card serial, 9 manufacturer and profile ids, 10 OEM ids, 11 location;
//   - SZL 0x0424 the current mode transition (RUN/STOP/STARTUP...).
//
// What a client sends (job functions, userdata requests) is recorded on the
// client as s7comm.function. Read var polling, the common case, is decided
// from two bytes and a once bit: no allocation.
//
// Responses longer than the negotiated PDU come in fragments ("more data
// follows"); the fragment boundary falls anywhere inside a record. The flow
// remembers where the last record was cut (u32, mode 2) and completes it
// from the next fragment when the cut fell after the record's index.

const (
	fieldS7Function        = "s7comm.function"
	fieldS7SZL0011         = "s7comm.szl.0011" // one module identification record: "index;mlfb;bgtyp;ausbg;ausbe"
	fieldS7ModuleName      = "s7comm.module_name"
	fieldS7PlantID         = "s7comm.plant_id"
	fieldS7Copyright       = "s7comm.copyright"
	fieldS7MemoryCard      = "s7comm.memory_card_serial"
	fieldS7ManufacturerID  = "s7comm.manufacturer_id"
	fieldS7ProfileID       = "s7comm.profile_id"
	fieldS7ProfileSpecType = "s7comm.profile_spec_type"
	fieldS7OEMID           = "s7comm.oem_id"
	fieldS7OEMAddID        = "s7comm.oem_add_id"
	fieldS7Location        = "s7comm.location"
)

// once bits of the port-102 parser.
const (
	bitS7Job      = 0   // 0-15: job functions (s7JobFuncs index)
	bitS7PI       = 16  // 16-31: PI services
	bitS7UD       = 32  // 32-63: userdata requests
	bitS7Mode     = 64  // 64-79: operating modes
	bitS7TSAP     = 80  // rack/slot reported
	bitS7Plus     = 81  // S7comm-plus identity reported
	bitS7Role     = 82  // plc role reported
	bitS7SZL11    = 96  // 96-127: SZL xy11 records by index
	bitS7SZL1C    = 128 // 128-159: SZL xy1C records by index
	bitMMSIdent   = 160 // 160-161: MMS identify response reported, by side (ICCP peers both answer)
	bitMMSNamePlt = 162 // 162-175: MMS name plate values by kind
)

type s7Func struct {
	code   byte
	value  string
	detail string
}

// s7JobFuncs are the job (ROSCTR 1) functions a client sends.
var s7JobFuncs = [...]s7Func{
	{0x04, "0x04 read var", "read"},
	{0x05, "0x05 write var", "write"},
	{0x1a, "0x1a request download", "program"},
	{0x1b, "0x1b download block", "program"},
	{0x1c, "0x1c download ended", "program"},
	{0x1d, "0x1d start upload", "program"},
	{0x1e, "0x1e upload", "program"},
	{0x1f, "0x1f end upload", "program"},
	{0x28, "0x28 pi service", "control"},
	{0x29, "0x29 plc stop", "control"},
	{0xf0, "0xf0 setup communication", "other"},
	{0x00, "0x00 cpu services", "other"},
}

// s7PIServices are the program invocation services of job function 0x28.
var s7PIServices = [...]struct {
	name   string
	value  string
	detail string
}{
	{"_INSE", "0x28 pi service _INSE (insert block)", "program"},
	{"_DELE", "0x28 pi service _DELE (delete block)", "program"},
	{"_GARB", "0x28 pi service _GARB (compress memory)", "program"},
	{"_MODU", "0x28 pi service _MODU (copy ram to rom)", "program"},
	{"P_PROGRAM", "0x28 pi service P_PROGRAM (start plc)", "control"},
	{"_EXEC", "0x28 pi service _EXEC", "control"},
}

// s7UDFuncs are userdata requests: group<<8 | subfunction.
var s7UDFuncs = [...]struct {
	key    uint16
	value  string
	detail string
}{
	{0x0401, "0x4401 read szl", "diagnostic"},
	{0x0402, "0x4402 message service", "diagnostic"},
	{0x0403, "0x4403 diagnostic message", "diagnostic"},
	{0x0301, "0x4301 list blocks", "diagnostic"},
	{0x0302, "0x4302 list blocks of type", "diagnostic"},
	{0x0303, "0x4303 get block info", "diagnostic"},
	{0x0701, "0x4701 read clock", "read"},
	{0x0702, "0x4702 set clock", "write"},
	{0x0501, "0x4501 plc password", "other"},
	{0x0201, "0x4201 cyclic data memory", "read"},
	{0x0101, "0x4101 programmer commands", "program"},
}

const s7ReadSZLIdent = "0x4401 read szl (module identification)"

// parseS7 reads one S7comm PDU.
func parseS7(c *appCtx, p []byte) {
	if len(p) < 10 {
		c.malformed()
		return
	}
	rosctr := p[1]
	hdr := 10
	if rosctr == 2 || rosctr == 3 {
		hdr = 12
	}
	if len(p) < hdr {
		c.malformed()
		return
	}
	parLen, datLen := be16(p[6:]), be16(p[8:])
	if hdr+parLen+datLen > len(p) {
		c.malformed()
		return
	}
	c.identify(protoS7)
	par := p[hdr : hdr+parLen]
	data := p[hdr+parLen : hdr+parLen+datLen]
	switch rosctr {
	case 1:
		if !c.fromServer() {
			s7Job(c, par)
		}
	case 7:
		s7Userdata(c, par, data)
	}
}

// s7Job records a client's job function once per flow.
func s7Job(c *appCtx, par []byte) {
	if len(par) < 1 {
		return
	}
	fn := par[0]
	if fn == 0x28 {
		s7PIService(c, par)
		return
	}
	for i := range s7JobFuncs {
		if s7JobFuncs[i].code == fn {
			if c.once(uint8(bitS7Job + i)) {
				c.factDetail(c.sender(), fieldS7Function, s7JobFuncs[i].value, s7JobFuncs[i].detail, protoS7)
			}
			return
		}
	}
}

// s7PIService names the program invocation service of a 0x28 job: after
// the function code, 7 bytes, a 2-byte parameter block length, the block,
// and the service name as a length-prefixed string.
func s7PIService(c *appCtx, par []byte) {
	name := []byte(nil)
	if len(par) >= 10 {
		off := 10 + be16(par[8:])
		if off < len(par) {
			n := int(par[off])
			if off+1+n <= len(par) {
				name = par[off+1 : off+1+n]
			}
		}
	}
	for i := range s7PIServices {
		if string(name) == s7PIServices[i].name {
			if c.once(uint8(bitS7PI + 1 + i)) {
				c.factDetail(c.sender(), fieldS7Function, s7PIServices[i].value, s7PIServices[i].detail, protoS7)
			}
			return
		}
	}
	if c.once(bitS7PI) {
		c.factDetail(c.sender(), fieldS7Function, "0x28 pi service", "control", protoS7)
	}
}

// s7Userdata reads a userdata PDU: requests from clients, SZL responses from
// servers.
func s7Userdata(c *appCtx, par, data []byte) {
	if len(par) < 8 || par[0] != 0 || par[1] != 1 || par[2] != 0x12 {
		return
	}
	typ, grp, sub := par[5]>>4, par[5]&0x0f, par[6]
	switch typ {
	case 4: // request
		s7UDRequest(c, uint16(grp)<<8|uint16(sub), data)
	case 8: // response
		if grp == 4 && sub == 1 && len(par) >= 12 {
			more := par[9] != 0
			if be16(par[10:]) == 0 { // error code
				s7SZLResponse(c, data, par[8], more)
			}
		}
	}
}

func s7UDRequest(c *appCtx, key uint16, data []byte) {
	if key == 0x0401 && len(data) >= 8 && data[0] == 0xff {
		id := be16(data[4:]) & 0xff
		if id == 0x11 || id == 0x1c {
			if c.once(bitS7UD + 31) {
				c.factDetail(c.sender(), fieldS7Function, s7ReadSZLIdent, "identify", protoS7)
			}
			return
		}
	}
	for i := range s7UDFuncs {
		if s7UDFuncs[i].key == key {
			if c.once(uint8(bitS7UD + i)) {
				c.factDetail(c.sender(), fieldS7Function, s7UDFuncs[i].value, s7UDFuncs[i].detail, protoS7)
			}
			return
		}
	}
}

// SZL kinds kept in the continuation state.
const (
	szlKind11 = 1
	szlKind1C = 2
)

func szlRecordLen(kind uint32) int {
	if kind == szlKind11 {
		return 28
	}
	return 34
}

// s7SZLResponse reads the data of a read-SZL response fragment.
func s7SZLResponse(c *appCtx, data []byte, ref byte, more bool) {
	if len(data) < 4 || data[0] != 0xff {
		return
	}
	n := be16(data[2:])
	body := data[4:]
	if n < len(body) {
		body = body[:n]
	}
	st := c.state()
	if st.u32>>30 == cotpModeSZL && byte(st.u32>>16) == ref {
		// continuation of the previous fragment: records without a header
		kind := st.u32 >> 28 & 3
		off := int(st.u32 >> 8 & 0xff)
		index := int(st.u32 & 0xff)
		st.u32 = 0
		rl := szlRecordLen(kind)
		rest := rl - off
		if rest > len(body) || off >= rl {
			return
		}
		if off == 2 && index != 0 {
			s7SZLRecord(c, kind, index, body[:rest])
		}
		s7SZLRecords(c, kind, body[rest:], ref, more)
		return
	}
	if len(body) < 8 {
		return
	}
	id, recLen := be16(body[0:]), be16(body[4:])
	recs := body[8:]
	switch {
	case id&0xff == 0x11 && recLen == 28:
		s7SZLRecords(c, szlKind11, recs, ref, more)
	case id&0xff == 0x1c && recLen == 34:
		s7SZLRecords(c, szlKind1C, recs, ref, more)
	case id == 0x0424 && recLen >= 4 && len(recs) >= 4:
		s7Mode(c, recs[3]&0x0f)
	}
}

// s7SZLRecords walks whole records; a record cut at the end of a fragment
// that has more to follow is remembered for the next one.
func s7SZLRecords(c *appCtx, kind uint32, recs []byte, ref byte, more bool) {
	rl := szlRecordLen(kind)
	for len(recs) >= rl {
		s7SZLRecord(c, kind, be16(recs), recs[2:rl])
		recs = recs[rl:]
	}
	if more {
		index := 0
		if len(recs) >= 2 && recs[0] == 0 {
			index = int(recs[1])
		}
		c.state().u32 = cotpModeSZL<<30 | kind<<28 | uint32(ref)<<16 | uint32(len(recs))<<8 | uint32(index)
	}
}

// s7SZLRecord reports one record (body follows the 2-byte index).
func s7SZLRecord(c *appCtx, kind uint32, index int, body []byte) {
	if kind == szlKind11 {
		s7ModuleIdent(c, index, body)
		return
	}
	s7ComponentIdent(c, index, body)
}

// s7ModuleIdent reads an SZL xy11 record: mlfb[20] bgtyp ausbg ausbe.
func s7ModuleIdent(c *appCtx, index int, b []byte) {
	if len(b) < 26 {
		return
	}
	bit := bitS7SZL11
	switch {
	case index <= 0x0f:
		bit += index
	case index >= 0x80 && index <= 0x8f:
		bit += 16 + index - 0x80
	}
	if !c.once(uint8(bit)) {
		return
	}
	srv := c.sender()
	mlfb := trimText(b[:20])
	bgtyp, ausbg, ausbe := be16(b[20:]), be16(b[22:]), be16(b[24:])
	// the record as tshark's s7comm dissector lists it
	rec := make([]byte, 0, 64)
	rec = appendHex16(rec, index)
	rec = append(rec, ';')
	rec = append(rec, cleanText(mlfb)...)
	rec = append(rec, ';')
	rec = appendHex16(rec, bgtyp)
	rec = append(rec, ';')
	rec = appendUint(rec, uint64(ausbg))
	rec = append(rec, ';')
	rec = appendUint(rec, uint64(ausbe))
	c.fact(srv, fieldS7SZL0011, string(rec), protoS7)
	rack, slot, haveRS := s7RackSlot(c)
	switch index {
	case 1:
		order := cleanText(mlfb)
		c.fact(srv, model.FieldOrderNumber, order, protoS7)
		if haveRS && order != "" {
			c.fact(srv, model.FieldModule, model.FormatModule(model.Module{Rack: rack, Slot: slot, OrderNumber: order}), protoS7)
		}
		if hasPrefix(mlfb, "6ES7") && c.once(bitS7Role) {
			c.factDetail(srv, model.FieldRole, model.RolePLC, "answers S7comm SZL module identification with a SIMATIC S7 order number ("+order+")", protoS7)
		}
	case 6:
		c.fact(srv, model.FieldHardwareVersion, s7Version(ausbg, ausbe), protoS7)
	case 7:
		fw := s7Version(ausbg, ausbe)
		c.fact(srv, model.FieldFirmware, fw, protoS7)
		if haveRS && fw != "" {
			c.fact(srv, model.FieldModule, model.FormatModule(model.Module{Rack: rack, Slot: slot, Firmware: fw}), protoS7)
		}
	}
}

// s7Version renders ausbg/ausbe: "V3.2.7" when ausbg starts with 'V'
// (firmware), else the hardware release number.
func s7Version(ausbg, ausbe int) string {
	if ausbg>>8 == 'V' {
		b := make([]byte, 0, 12)
		b = append(b, 'V')
		b = appendUint(b, uint64(ausbg&0xff))
		b = append(b, '.')
		b = appendUint(b, uint64(ausbe>>8))
		b = append(b, '.')
		b = appendUint(b, uint64(ausbe&0xff))
		return string(b)
	}
	if ausbg == 0 {
		return ""
	}
	return smallItoa(ausbg)
}

// s7ComponentIdent reads an SZL xy1C record (32 bytes after the index).
func s7ComponentIdent(c *appCtx, index int, b []byte) {
	if index < 1 || index > 0x1f || len(b) < 32 {
		return
	}
	if !c.once(uint8(bitS7SZL1C + index)) {
		return
	}
	srv := c.sender()
	text := func() string { return cleanText(trimText(b[:32])) }
	switch index {
	case 1:
		c.fact(srv, model.FieldStationName, text(), protoS7)
	case 2:
		c.fact(srv, fieldS7ModuleName, text(), protoS7)
	case 3:
		c.fact(srv, fieldS7PlantID, text(), protoS7)
	case 4:
		c.fact(srv, fieldS7Copyright, text(), protoS7)
	case 5:
		serial := text()
		c.fact(srv, model.FieldSerial, serial, protoS7)
		if rack, slot, ok := s7RackSlot(c); ok && serial != "" {
			c.fact(srv, model.FieldModule, model.FormatModule(model.Module{Rack: rack, Slot: slot, Serial: serial}), protoS7)
		}
	case 7:
		product := text()
		c.fact(srv, model.FieldProduct, product, protoS7)
		if rack, slot, ok := s7RackSlot(c); ok && product != "" {
			c.fact(srv, model.FieldModule, model.FormatModule(model.Module{Rack: rack, Slot: slot, Product: product}), protoS7)
		}
	case 8:
		c.fact(srv, fieldS7MemoryCard, text(), protoS7)
	case 9:
		id := be16(b[0:])
		c.fact(srv, fieldS7ManufacturerID, smallItoa(id), protoS7)
		if name := piVendorName(id); name != "" {
			c.fact(srv, model.FieldVendor, name, protoS7)
		}
		c.fact(srv, fieldS7ProfileID, smallItoa(be16(b[2:])), protoS7)
		c.fact(srv, fieldS7ProfileSpecType, smallItoa(be16(b[4:])), protoS7)
	case 10:
		c.fact(srv, fieldS7OEMID, smallItoa(be16(b[0:])), protoS7)
		c.fact(srv, fieldS7OEMAddID, smallItoa(be16(b[2:])<<16|be16(b[4:])), protoS7)
	case 11:
		c.fact(srv, fieldS7Location, text(), protoS7)
	}
}

// piVendorName names a PROFIBUS & PROFINET International manufacturer id
// (the id SZL 0x001C index 9 reports). Source: the PI manufacturer id list
// (PROFINET vendor id registry); only the vendors that build S7comm stacks.
func piVendorName(id int) string {
	switch id {
	case 0x002a:
		return "Siemens"
	}
	return ""
}

// s7Modes maps the bzu-id of SZL 0x0424 (requested mode) to the mode and
// its reading, as the S7 system software manual names them.
var s7Modes = [...]struct{ mode, reading string }{
	1:   {"STOP", "STOP (update)"},
	2:   {"STOP", "STOP (memory reset)"},
	3:   {"STOP", "STOP (self initialization)"},
	4:   {"STOP", "STOP (internal)"},
	5:   {"STARTUP", "startup (complete restart)"},
	6:   {"STARTUP", "startup (cold restart)"},
	7:   {"STARTUP", "startup (restart)"},
	8:   {"RUN", "RUN"},
	9:   {"RUN", "RUN (redundant)"},
	0xa: {"HOLD", "HOLD"},
	0xd: {"DEFECT", "DEFECT"},
}

// s7Mode reports the CPU's operating mode from SZL 0x0424.
func s7Mode(c *appCtx, m byte) {
	if int(m) >= len(s7Modes) || s7Modes[m].mode == "" {
		return
	}
	if c.once(bitS7Mode + m) {
		c.factDetail(c.sender(), model.FieldOperatingMode, s7Modes[m].mode, "SZL 0x0424: "+s7Modes[m].reading, protoS7)
	}
}
