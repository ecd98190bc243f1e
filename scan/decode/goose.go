package decode

import (
	"hash/maphash"

	"otscope/model"
)

// IEC 61850-8-1 GOOSE (EtherType 0x88b8).
//
// Frame: APPID(2) length(2) reserved1(2) reserved2(2), then goosePdu
// [APPLICATION 1] { [0] gocbRef, [1] timeAllowedToLive, [2] datSet,
// [3] goID, [4] t, [5] stNum, [6] sqNum, [7] simulation, [8] confRev, ... }.
//
// A publisher retransmits every few milliseconds: each frame is reduced to
// a 64-bit key (publisher MAC, APPID, a hash of gocbRef, datSet, goID and
// confRev) checked in the decoder's once set; only a new key builds strings.
// The publisher is an IED; gocbRef "IED1CTRL/LLN0$GO$gcb1" names its IED and
// logical device ("IED1CTRL": the station name).

const (
	protoNameGOOSE = "goose"

	fieldGOOSEAppID   = "goose.appid"
	fieldGOOSEGoCBRef = "goose.gocb_ref"
	fieldGOOSEDataSet = "goose.dataset"
	fieldGOOSEGoID    = "goose.go_id"
	fieldGOOSEConfRev = "goose.conf_rev"

	onceKindGOOSE = 0x6185
	onceKindSV    = 0x6186
)

// l2Seed keys the hash of GOOSE/SV identities (process-wide, stable for
// the life of the process, which is all the once set needs).
var l2Seed = maphash.MakeSeed()

func init() {
	registerEtherType(0x88b8, parseGOOSE)
}

// iecL2Header checks the 8-byte GOOSE/SV header and returns the APPID and
// the APDU.
func iecL2Header(p []byte) (appid int, apdu []byte, ok bool) {
	if len(p) < 8 {
		return 0, nil, false
	}
	n := be16(p[2:])
	if n < 8 {
		return 0, nil, false
	}
	if n < len(p) {
		p = p[:n] // Ethernet padding follows
	}
	return be16(p), p[8:], true
}

// parseGOOSE reads one GOOSE frame.
func parseGOOSE(d *Decoder, fi *frameInfo) {
	appid, apdu, ok := iecL2Header(fi.payload)
	if !ok {
		d.stats.DecodeErrors++
		return
	}
	pdu, _, ok := berNext(apdu)
	if !ok || !pdu.is(berApplication, true, 1) {
		d.stats.DecodeErrors++
		return
	}
	// gocbRef [0], datSet [2], goID [3], ..., confRev [8]
	var f [9][]byte
	if !berContextFields(pdu.content, f[:]) {
		d.stats.DecodeErrors++
		return
	}
	gocbRef, datSet, goID, confRev := f[0], f[2], f[3], f[8]
	if gocbRef == nil {
		return
	}
	if !d.publisherOnce(fi, onceKindGOOSE, appid, gocbRef, datSet, goID, confRev) {
		return
	}
	ref := cleanText(gocbRef)
	d.publisherFacts(fi, &goosePublisher, appid, ref, cleanText(datSet), cleanText(goID), confRev, ref)
}

// iecPublisher names the facts of a GOOSE or SV publisher.
type iecPublisher struct {
	proto, what                       string // protocol; what it publishes
	appID, id, dataSet, goID, confRev string // fact fields (goID: GOOSE only)
}

var (
	goosePublisher = iecPublisher{protoNameGOOSE, "GOOSE",
		fieldGOOSEAppID, fieldGOOSEGoCBRef, fieldGOOSEDataSet, fieldGOOSEGoID, fieldGOOSEConfRev}
	svPublisher = iecPublisher{protoNameSV, "sampled values",
		fieldSVAppID, fieldSVID, fieldSVDataSet, "", fieldSVConfRev}
)

// publisherFacts records a GOOSE or SV publisher: its APPID, control block
// or stream id, data set, (GOOSE) goID, configuration revision, the IED
// named by ref, and the IED role.
func (d *Decoder) publisherFacts(fi *frameInfo, k *iecPublisher, appid int, id, datSet, goID string, confRev []byte, ref string) {
	pub := model.Endpoint{MAC: fi.src, VLAN: fi.vlan}
	d.fact(pub, k.appID, smallItoa(appid), k.proto)
	d.fact(pub, k.id, id, k.proto)
	d.fact(pub, k.dataSet, datSet, k.proto)
	if k.goID != "" {
		d.fact(pub, k.goID, goID, k.proto)
	}
	if v, ok := berUint(confRev); ok {
		d.fact(pub, k.confRev, smallItoa(int(v)), k.proto)
	}
	if name := iedName(ref); name != "" {
		d.fact(pub, model.FieldStationName, name, k.proto)
	}
	d.factDetail(pub, model.FieldRole, model.RoleIED, "publishes IEC 61850 "+k.what+" "+id, k.proto)
}

// iedName is the IED + logical device part of an object reference
// ("IED1CTRL/LLN0$GO$gcb1" -> "IED1CTRL").
func iedName(ref string) string {
	for i := 0; i < len(ref); i++ {
		if ref[i] == '/' {
			return ref[:i]
		}
	}
	return ""
}

// publisherOnce reports whether a layer-2 publisher (GOOSE, SV) announces
// this appid and these identity fields for the first time: it hashes the
// bytes (no allocation on the retransmissions that repeat them every few
// milliseconds) into the decoder's once set.
func (d *Decoder) publisherOnce(fi *frameInfo, kind uint16, appid int, fields ...[]byte) bool {
	var h maphash.Hash
	h.SetSeed(l2Seed)
	for i, f := range fields {
		if i > 0 {
			h.WriteByte(0)
		}
		h.Write(f)
	}
	return d.once(onceKey{mac: fi.src, kind: kind, id: h.Sum64() ^ uint64(appid)<<48})
}
