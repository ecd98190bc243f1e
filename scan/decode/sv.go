package decode

// IEC 61850-9-2 Sampled Values (EtherType 0x88ba).
//
// Frame: APPID(2) length(2) reserved1(2) reserved2(2), then savPdu
// [APPLICATION 0] { [0] noASDU, [2] seqASDU SEQUENCE OF ASDU }, each ASDU
// { [0] svID, [1] datSet (optional), [2] smpCnt, [3] confRev, ... }.
// A merging unit sends thousands of frames a second: the first ASDU's svID
// is hashed with the APPID and checked in the decoder's once set before any
// string is built.

const (
	protoNameSV = "sv"

	fieldSVAppID   = "sv.appid"
	fieldSVID      = "sv.sv_id"
	fieldSVDataSet = "sv.dataset"
	fieldSVConfRev = "sv.conf_rev"
)

func init() {
	registerEtherType(0x88ba, parseSV)
}

// parseSV reads one Sampled Values frame.
func parseSV(d *Decoder, fi *frameInfo) {
	appid, apdu, ok := iecL2Header(fi.payload)
	if !ok {
		d.stats.DecodeErrors++
		return
	}
	// The outer elements are read as far as they arrived (berOpen): a
	// frame of eight ASDUs cut by the snap length still holds the first
	// ASDU's svID. The identity fields themselves are read whole.
	pdu, _, ok := berOpen(apdu, true)
	if !ok || !pdu.is(berApplication, true, 0) {
		d.stats.DecodeErrors++
		return
	}
	var seq berElem
	found := false
	for b := pdu.content; len(b) > 0; {
		e, rest, ok := berOpen(b, true)
		if !ok {
			d.stats.DecodeErrors++
			return
		}
		if e.is(berContext, true, 2) {
			seq, found = e, true
			break
		}
		b = rest
	}
	if !found {
		return
	}
	asdu, _, ok := berOpen(seq.content, true)
	if !ok || !asdu.is(berUniversal, true, 16) {
		d.stats.DecodeErrors++
		return
	}
	// svID [0], datSet [1], smpCnt [2], confRev [3]; a cut ASDU keeps the
	// fields before the cut
	var f [4][]byte
	complete := berContextFields(asdu.content, f[:])
	svID, datSet, confRev := f[0], f[1], f[3]
	if svID == nil {
		if !complete {
			d.stats.DecodeErrors++
		}
		return
	}
	if !d.publisherOnce(fi, onceKindSV, appid, svID, datSet, confRev) {
		return
	}
	ds := cleanText(datSet)
	d.publisherFacts(fi, &svPublisher, appid, cleanText(svID), ds, "", confRev, ds)
}
