package decode

import (
	"testing"
	"time"

	"otscope/model"
)

// mstpFrameBytes builds an MS/TP frame as link type 165 carries it:
// preamble, header with its CRC, data and a data CRC field.
func mstpFrameBytes(ftype, dst, src byte, data []byte) []byte {
	h := []byte{ftype, dst, src, byte(len(data) >> 8), byte(len(data))}
	f := append([]byte{0x55, 0xff}, h...)
	f = append(f, ^mstpHeaderCRC(h))
	if len(data) > 0 {
		f = append(f, data...)
		f = append(f, 0, 0) // data CRC, not checked
	}
	return f
}

func feedMSTP(d *Decoder, frames ...[]byte) {
	for i, f := range frames {
		d.Decode(f, ci(len(f), time.Duration(i)*time.Millisecond), linkTypeMSTP, 0)
	}
}

// A BACnet MS/TP capture (link type 165): every station that passes the
// token is on the bus, and a data frame's I-Am names its device (issue 14,
// item 18). Station addresses become 00:00:00:00:00:<addr>, as a Cimetrics
// sniffer writes them.
func TestMSTPLinkType(t *testing.T) {
	iAm := append([]byte{0x01, 0x00}, bacIAmAPDU(86114, 260)...)
	d := New(Options{Origin: "t"})
	bad := mstpFrameBytes(0, 114, 1, nil)
	bad[7] ^= 0xff // header CRC broken: a station would drop it
	feedMSTP(d,
		mstpFrameBytes(0, 114, 1, nil),       // token 1 -> 114
		mstpFrameBytes(1, 2, 114, nil),       // poll for master 114 -> 2
		mstpFrameBytes(6, 255, 114, iAm),     // I-Am broadcast
		mstpFrameBytes(0, 1, 114, nil),       // token back
		bad,                                  // dropped
		mstpFrameBytes(0, 1, 255, nil),       // 255 never sends
		[]byte{0x55, 0xff, 0x06, 0xff, 0x72}, // short
	)
	b := d.Flush()
	st := model.MAC{0, 0, 0, 0, 0, 114}
	master := model.MAC{0, 0, 0, 0, 0, 1}
	hosts := map[model.MAC]bool{}
	facts := map[string]string{}
	for _, o := range b.Obs {
		switch o.Kind {
		case model.ObsHost:
			hosts[o.Subject.MAC] = true
		case model.ObsFact:
			if o.Subject.MAC == st {
				facts[o.Fact.Field] = o.Fact.Value
			}
		}
	}
	if !hosts[st] || !hosts[master] || len(hosts) != 2 {
		t.Errorf("stations on the bus: %v, want 00:..:01 and 00:..:72", hosts)
	}
	if facts[model.FieldBACnetInstance] != "86114" || facts[model.FieldBACnetVendorID] != "260" {
		t.Errorf("station 114 facts: %v", facts)
	}
	if d.Stats().Undecodable != 2 {
		t.Errorf("undecodable %d, want 2 (bad header CRC, short)", d.Stats().Undecodable)
	}
	// the CRC is the bus's: headers from the Cimetrics MS/TP capture in
	// ../shared/pcaps (a token 114 -> 1 and a broadcast data frame from 1)
	for _, h := range [][]byte{{0x00, 0x01, 0x72, 0x00, 0x00, 0x84}, {0x06, 0xff, 0x01, 0x00, 0x11, 0x73}} {
		if c := ^mstpHeaderCRC(h[:5]); c != h[5] || mstpHeaderCRC(h) != 0x55 {
			t.Errorf("header CRC of % x: %#02x, want %#02x", h[:5], c, h[5])
		}
	}
}
