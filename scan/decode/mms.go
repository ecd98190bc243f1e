package decode

import (
	"bytes"

	"otscope/model"
)

// MMS (ISO 9506) over the ISO session (8327) and presentation (8823) layers
// on COTP: IEC 61850 servers, ICCP/TASE.2.
//
//   - Identify response: vendorName, modelName, revision -> vendor,
//     product, firmware of the responder.
//   - Reads of IEC 61850 name plates (LPHD PhyNam, NamPlt of any logical
//     node): the request names the item, the response with the same invoke
//     id carries the values; the flow keeps the one pending read in
//     appState.ids[3] (kind<<32 | invoke id).
//   - Confirmed requests are recorded on their sender as mms.function.
//
// Session data transfer is "01 00 01 00" (give tokens, data transfer), then
// the presentation fully-encoded-data [APPLICATION 1] with one PDV whose
// single-ASN1-type [0] holds the MMS PDU. Connect/accept SPDUs are only
// checked for the MMS abstract syntax.

const (
	fieldMMSFunction      = "mms.function"
	fieldMMSLDDescription = "mms.ld_description" // LLN0 NamPlt.d
	fieldMMSLocation      = "mms.location"       // LPHD PhyNam.location
)

// mmsAbstractSyntax is the encoded OID 1.0.9506.2.1 (mms-abstract-syntax-version1).
var mmsAbstractSyntax = []byte{0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x01}

// parseSession reads an ISO session SPDU carrying presentation data.
func parseSession(c *appCtx, p []byte) { parseSessionCut(c, p, false) }

// parseSessionCut reads a session SPDU; cut says the PDU continues in the
// next segment (a large read response): only what arrived is read, and
// only complete values are reported.
func parseSessionCut(c *appCtx, p []byte, cut bool) {
	switch p[0] {
	case 0x0d, 0x0e: // connect, accept: the presentation context names MMS
		if bytes.Contains(p, mmsAbstractSyntax) {
			c.identify(protoMMS)
		}
		return
	}
	if len(p) < 4 || p[1] != 0 || p[2] != 0x01 || p[3] != 0 {
		return
	}
	pres, _, ok := berOpen(p[4:], cut)
	if !ok || !pres.is(berApplication, true, 1) {
		return
	}
	pdv, _, ok := berOpen(pres.content, cut)
	if !ok || !pdv.is(berUniversal, true, 16) {
		return
	}
	for b := pdv.content; len(b) > 0; {
		e, rest, ok := berOpen(b, cut)
		if !ok {
			c.malformed()
			return
		}
		if e.is(berContext, true, 0) { // single-ASN1-type
			parseMMS(c, e.content, cut)
			return
		}
		b = rest
	}
}

// parseMMS reads one MMS PDU.
func parseMMS(c *appCtx, p []byte, cut bool) {
	pdu, _, ok := berOpen(p, cut)
	if !ok || pdu.class != berContext || !pdu.constructed {
		c.malformed()
		return
	}
	switch pdu.tag {
	case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13:
		c.identify(protoMMS)
	default:
		return
	}
	if pdu.tag != 0 && pdu.tag != 1 {
		return
	}
	id, rest, ok := berNext(pdu.content)
	if !ok || !id.is(berUniversal, false, 2) {
		return
	}
	invoke, ok := berUint(id.content)
	if !ok {
		return
	}
	svc, _, ok := berOpen(rest, cut)
	if !ok || svc.class != berContext {
		return
	}
	if pdu.tag == 0 {
		if !cut {
			mmsRequest(c, invoke, svc)
		}
		return
	}
	switch svc.tag {
	case 2:
		if svc.constructed {
			mmsIdentify(c, svc.content)
		}
	case 4:
		if svc.constructed {
			mmsReadResponse(c, invoke, svc.content, cut)
		}
	}
}

// mmsIdentify reports an Identify response: [0] vendorName, [1] modelName,
// [2] revision.
func mmsIdentify(c *appCtx, b []byte) {
	if !c.once(uint8(bitMMSIdent + c.side&1)) {
		return
	}
	ep := c.sender()
	for len(b) > 0 {
		e, rest, ok := berNext(b)
		if !ok {
			c.malformed()
			return
		}
		if e.class == berContext && !e.constructed {
			switch e.tag {
			case 0:
				c.fact(ep, model.FieldVendor, cleanText(e.content), protoMMS)
			case 1:
				c.fact(ep, model.FieldProduct, cleanText(e.content), protoMMS)
			case 2:
				c.fact(ep, model.FieldFirmware, cleanText(e.content), protoMMS)
			}
		}
		b = rest
	}
}

// mmsService names a confirmed service (ISO 9506-2 ConfirmedServiceRequest).
type mmsService struct {
	code   uint8
	value  string
	detail string
}

var mmsServices = [...]mmsService{
	{0, "0x00 status", "diagnostic"},
	{1, "0x01 getNameList", "identify"},
	{2, "0x02 identify", "identify"},
	{4, "0x04 read", "read"},
	{5, "0x05 write", "write"},
	{6, "0x06 getVariableAccessAttributes", "identify"},
	{11, "0x0b defineNamedVariableList", "other"},
	{12, "0x0c getNamedVariableListAttributes", "identify"},
	{13, "0x0d deleteNamedVariableList", "other"},
	{26, "0x1a initiateDownloadSequence", "program"},
	{27, "0x1b downloadSegment", "program"},
	{28, "0x1c terminateDownloadSequence", "program"},
	{29, "0x1d initiateUploadSequence", "program"},
	{30, "0x1e uploadSegment", "program"},
	{31, "0x1f terminateUploadSequence", "program"},
	{32, "0x20 requestDomainDownload", "program"},
	{33, "0x21 requestDomainUpload", "program"},
	{34, "0x22 loadDomainContent", "program"},
	{35, "0x23 storeDomainContent", "program"},
	{36, "0x24 deleteDomain", "program"},
	{37, "0x25 getDomainAttributes", "identify"},
	{38, "0x26 createProgramInvocation", "control"},
	{39, "0x27 deleteProgramInvocation", "control"},
	{40, "0x28 start", "control"},
	{41, "0x29 stop", "control"},
	{42, "0x2a resume", "control"},
	{43, "0x2b reset", "control"},
	{44, "0x2c kill", "control"},
	{45, "0x2d getProgramInvocationAttributes", "diagnostic"},
	{46, "0x2e obtainFile", "program"},
	{65, "0x41 readJournal", "read"},
	{72, "0x48 fileOpen", "read"},
	{73, "0x49 fileRead", "read"},
	{74, "0x4a fileClose", "read"},
	{75, "0x4b fileRename", "write"},
	{76, "0x4c fileDelete", "write"},
	{77, "0x4d fileDirectory", "read"},
}

// mmsRequest records the service a client asked for and remembers a name
// plate read.
func mmsRequest(c *appCtx, invoke uint32, svc berElem) {
	for i := range mmsServices {
		if uint32(mmsServices[i].code) == svc.tag {
			// codes are below 128: onceID bits 192-255 hold no once bits
			if c.onceID(mmsServices[i].code) {
				c.factDetail(c.sender(), fieldMMSFunction, mmsServices[i].value, mmsServices[i].detail, protoMMS)
			}
			break
		}
	}
	if svc.tag == 4 && svc.constructed {
		if kind := mmsReadKind(svc.content); kind != 0 {
			st := c.state()
			st.ids[3] = st.ids[3]&^(1<<40-1) | uint64(kind)<<32 | uint64(invoke)
		}
	}
}

// Name plate items a read may ask for.
const (
	mmsItemVendor = iota + 1
	mmsItemModel
	mmsItemSwRev
	mmsItemHwRev
	mmsItemSerial
	mmsItemLDDesc
	mmsItemLocation
	mmsItemPhyNam // the PhyNam structure
	mmsItemLPHDDC // LPHD's DC structure (PhyNam first)
	mmsItemNamPlt // an LLN0 NamPlt structure
)

var mmsItemSuffixes = [...]struct {
	suffix string
	kind   uint8
}{
	{"$PhyNam$vendor", mmsItemVendor},
	{"$PhyNam$model", mmsItemModel},
	{"$PhyNam$swRev", mmsItemSwRev},
	{"$PhyNam$hwRev", mmsItemHwRev},
	{"$PhyNam$serNum", mmsItemSerial},
	{"$PhyNam$location", mmsItemLocation},
	{"$DC$PhyNam", mmsItemPhyNam},
	{"$DC$NamPlt$vendor", mmsItemVendor},
	{"$DC$NamPlt$swRev", mmsItemSwRev},
	{"LLN0$DC$NamPlt$d", mmsItemLDDesc},
	{"LLN0$DC$NamPlt", mmsItemNamPlt},
}

// mmsReadKind finds the first variable of a read request
// ([1] variableAccessSpecification, [0] listOfVariable, SEQUENCE,
// [0] name, [1] domain-specific, domainId, itemId) and classifies it.
func mmsReadKind(b []byte) uint8 {
	var spec berElem
	found := false
	for len(b) > 0 {
		e, rest, ok := berNext(b)
		if !ok {
			return 0
		}
		if e.is(berContext, true, 1) {
			spec, found = e, true
			break
		}
		b = rest
	}
	if !found {
		return 0
	}
	list, ok := berFirst(spec.content)
	if !ok || !list.is(berContext, true, 0) {
		return 0
	}
	item, ok := berFirst(list.content)
	if !ok || !item.is(berUniversal, true, 16) {
		return 0
	}
	name, ok := berFirst(item.content)
	if !ok || !name.is(berContext, true, 0) {
		return 0
	}
	dom, ok := berFirst(name.content)
	if !ok || !dom.is(berContext, true, 1) {
		return 0
	}
	itemID, ok := berChild(dom.content, 1)
	if !ok || itemID.constructed {
		return 0
	}
	id := itemID.content
	for _, s := range mmsItemSuffixes {
		if hasSuffix(id, s.suffix) {
			return s.kind
		}
	}
	if hasPrefix(id, "LPHD") && hasSuffix(id, "$DC") && bytes.IndexByte(id, '$') == len(id)-3 {
		return mmsItemLPHDDC
	}
	return 0
}

// mmsReadResponse reads the first access result of the response to a
// pending name plate read.
func mmsReadResponse(c *appCtx, invoke uint32, b []byte, cut bool) {
	st := c.state()
	pending := st.ids[3] & (1<<40 - 1)
	kind := uint8(pending >> 32)
	if kind == 0 || uint32(pending) != invoke {
		return
	}
	st.ids[3] &^= 1<<40 - 1
	for len(b) > 0 {
		e, rest, ok := berOpen(b, cut)
		if !ok {
			c.malformed()
			return
		}
		if e.is(berContext, true, 1) { // listOfAccessResult
			if r, _, ok := berOpen(e.content, cut); ok {
				mmsNamePlate(c, kind, r, 0)
			}
			return
		}
		b = rest
	}
}

// mmsNamePlate reports the value(s) of a name plate item. Data: [10]
// visible-string, [16] MMSString, [2] structure.
func mmsNamePlate(c *appCtx, kind uint8, d berElem, depth int) {
	if depth > berMaxDepth {
		return
	}
	switch kind {
	case mmsItemLPHDDC:
		if first, ok := berFirst(d.content); ok && d.is(berContext, true, 2) && first.is(berContext, true, 2) {
			mmsNamePlate(c, mmsItemPhyNam, first, depth+1)
		}
		return
	case mmsItemPhyNam:
		// DPL: vendor, hwRev, swRev, serNum, model, location, ...
		if !d.is(berContext, true, 2) {
			return
		}
		for i, k := range [...]uint8{mmsItemVendor, mmsItemHwRev, mmsItemSwRev, mmsItemSerial, mmsItemModel, mmsItemLocation} {
			if e, ok := berChild(d.content, i); ok {
				mmsNamePlate(c, k, e, depth+1)
			}
		}
		return
	case mmsItemNamPlt:
		// LPL: vendor, swRev, d, ...
		if !d.is(berContext, true, 2) {
			return
		}
		for i, k := range [...]uint8{mmsItemVendor, mmsItemSwRev, mmsItemLDDesc} {
			if e, ok := berChild(d.content, i); ok {
				mmsNamePlate(c, k, e, depth+1)
			}
		}
		return
	}
	if d.class != berContext || d.constructed || (d.tag != 10 && d.tag != 16) {
		return
	}
	v := cleanText(d.content)
	if v == "" || !c.once(bitMMSNamePlt+kind) {
		return
	}
	ep := c.sender()
	switch kind {
	case mmsItemVendor:
		c.fact(ep, model.FieldVendor, v, protoMMS)
	case mmsItemModel:
		c.fact(ep, model.FieldProduct, v, protoMMS)
	case mmsItemSwRev:
		c.fact(ep, model.FieldFirmware, v, protoMMS)
	case mmsItemHwRev:
		c.fact(ep, model.FieldHardwareVersion, v, protoMMS)
	case mmsItemSerial:
		c.fact(ep, model.FieldSerial, v, protoMMS)
	case mmsItemLDDesc:
		c.fact(ep, fieldMMSLDDescription, v, protoMMS)
	case mmsItemLocation:
		c.fact(ep, fieldMMSLocation, v, protoMMS)
	}
}

// hasPrefix and hasSuffix compare packet bytes with a string constant
// without converting either.
func hasPrefix(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

func hasSuffix(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	return hasPrefix(b[len(b)-len(s):], s)
}
