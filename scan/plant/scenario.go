package plant

import "otscope/scan/internal/ber"

// Policy-exercise scenarios: Telnet on a switch, a program download from
// an office PC, SMB1 to the Windows 7 HMI, an OPC UA endpoint without
// security. See doc.go for the timeline.

// Message numbers of the scenario apps.
const (
	mDlReq    = 20 // S7 request download (PG -> PLC)
	mDlReqAck = 21
	mDlBlock  = 22 // download block (PLC -> PG)
	mDlData   = 23 // its answer with the block data
	mDlEnd    = 24 // download ended (PLC -> PG)
	mDlEndAck = 25
	mClose    = 26 // OPC UA CloseSecureChannel
	mText0    = 30 // telnet text messages mText0+i
)

// s7DownloadApp is an S7comm program download as STEP 7 performs it: the
// PG asks to download a block, the PLC pulls it (download block) and ends
// the transfer (download ended).
type s7DownloadApp struct {
	s7App
	file string // "_0800001P": OB 1, passive file system
	code []byte // the block (MC7 code and header)
}

func (a *s7DownloadApp) job(b []byte, rosctr byte, param []byte, data []byte) []byte {
	if rosctr == 1 || rosctr == 7 {
		a.pduRef++
	}
	b, at := a.s7Header(b, rosctr, len(param), len(data))
	b = append(b, param...)
	b = append(b, data...)
	return tpktEnd(b, at)
}

func (a *s7DownloadApp) payload(g *Generator, d *dialog, msg uint8, b []byte) []byte {
	var p [48]byte
	switch msg {
	case mDlReq:
		q := append(p[:0], 0x1a, 0x00, 0x00, 0x00, 0, 0, 0, 0, byte(len(a.file)))
		q = append(q, a.file...)
		q = append(q, 13, '1')
		q = append(q, "000286"...)
		q = append(q, "000196"...)
		return a.job(b, 1, q, nil)
	case mDlReqAck:
		return a.job(b, 3, append(p[:0], 0x1a), nil)
	case mDlBlock, mDlEnd:
		fn := byte(0x1b)
		if msg == mDlEnd {
			fn = 0x1c
		}
		q := append(p[:0], fn, 0x00, 0x00, 0x00, 0, 0, 0, 0, byte(len(a.file)))
		q = append(q, a.file...)
		return a.job(b, 1, q, nil)
	case mDlData:
		b, at := a.s7Header(b, 3, 2, 4+len(a.code))
		b = append(b, 0x1b, 0x00)
		b = be16(b, uint16(len(a.code)))
		b = append(b, 0x00, 0xfb)
		b = append(b, a.code...)
		return tpktEnd(b, at)
	case mDlEndAck:
		return a.job(b, 3, append(p[:0], 0x1c), nil)
	}
	return a.s7App.payload(g, d, msg, b)
}

// s7DownloadScript: connect, setup, download OB 1, close.
var s7DownloadScript = &script{steps: append(append(handshake(),
	step{cli, fPA, mOpen, wProc}, step{srv, fPA, mOpened, wNet},
	step{cli, fPA, mSetup, wProc}, step{srv, fPA, mSetupd, wNet},
	step{cli, fPA, mDlReq, wProc}, step{srv, fPA, mDlReqAck, wProc},
	step{srv, fPA, mDlBlock, wProc}, step{cli, fPA, mDlData, wProc},
	step{srv, fPA, mDlEnd, wProc}, step{cli, fPA, mDlEndAck, wStart}),
	clientClose...), loopStart: -1, loopEnd: -1}

// telnetApp is a Telnet login on a switch's console: the switch's option
// negotiation and banner, the login, one command.
type telnetApp struct {
	text []string
}

func (a *telnetApp) payload(_ *Generator, _ *dialog, msg uint8, b []byte) []byte {
	return append(b, a.text[int(msg-mText0)]...)
}

// telnetScript: the server speaks first (negotiation, banner), then the
// client logs in and runs a command.
func telnetScript(n int) *script {
	st := handshake()
	for i := 0; i < n; i++ {
		from, w := srv, wNet
		if i%2 == 1 {
			from, w = cli, wProc
		}
		st = append(st, step{from, fPA, uint8(mText0 + i), w})
	}
	st = append(st, clientClose...)
	return &script{steps: st, loopStart: -1, loopEnd: -1}
}

// smb1App is an SMB1 NEGOTIATE and SESSION SETUP ANDX (NTLMSSP) as an
// inventory scanner sends it; the Windows 7 server answers with its
// NTLMSSP challenge (version 6.1 build 7601) and its native OS and LAN
// manager strings.
type smb1App struct {
	server   string // NetBIOS name
	domain   string
	nativeOS string
	lanman   string
	guid     [16]byte
	tmp      []byte
}

func smb1Header(b []byte, cmd byte, resp bool, status uint32, mid uint16) []byte {
	b = append(b, 0xff, 'S', 'M', 'B', cmd)
	b = le32(b, status)
	if resp {
		b = append(b, 0x98)
		b = le16(b, 0xc807)
	} else {
		b = append(b, 0x18)
		b = le16(b, 0xc807)
	}
	b = append(b, zeros[:12]...) // PID high, signature, reserved
	b = le16(b, 0)               // TID
	b = le16(b, 0xfeff)          // PID
	b = le16(b, 0)               // UID
	return le16(b, mid)
}

func appendUTF16(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// ntlmChallenge appends an NTLMSSP CHALLENGE from a Windows 7 SP1 host.
func (a *smb1App) ntlmChallenge(g *Generator, b []byte) []byte {
	start := len(b)
	b = append(b, "NTLMSSP\x00"...)
	b = le32(b, 2)
	dom := 2 * len(a.domain)
	b = le16(b, uint16(dom))
	b = le16(b, uint16(dom))
	b = le32(b, 56)
	b = le32(b, 0xe2898215)
	b = g.random(b, 8)
	b = append(b, zeros[:8]...)
	infoLen := 4*4 + 2*len(a.domain)*2 + 2*len(a.server)*2 + 4 + 12
	b = le16(b, uint16(infoLen))
	b = le16(b, uint16(infoLen))
	b = le32(b, uint32(56+dom))
	b = append(b, 6, 1)
	b = le16(b, 7601)
	b = append(b, 0, 0, 0, 15)
	b = appendUTF16(b, a.domain)
	av := func(b []byte, id uint16, s string) []byte {
		b = le16(b, id)
		b = le16(b, uint16(2*len(s)))
		return appendUTF16(b, s)
	}
	b = av(b, 2, a.domain)
	b = av(b, 1, a.server)
	b = av(b, 4, a.domain)
	b = av(b, 3, a.server)
	b = le16(b, 7)
	b = le16(b, 8)
	b = le64(b, g.filetime(g.now))
	b = le32(b, 0)
	_ = start
	return b
}

func (a *smb1App) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	switch msg {
	case mReq: // NEGOTIATE: NT LM 0.12 only
		b = smb1Header(b, 0x72, false, 0, 1)
		b = append(b, 0)
		b = le16(b, 12)
		b = append(b, 0x02)
		b = append(b, "NT LM 0.12\x00"...)
	case mResp:
		b = smb1Header(b, 0x72, true, 0, 1)
		b = append(b, 17)
		b = le16(b, 0)    // dialect index
		b = append(b, 3)  // security mode: user, encrypt passwords
		b = le16(b, 50)   // max mpx
		b = le16(b, 1)    // max VCs
		b = le32(b, 4356) // max buffer
		b = le32(b, 65536)
		b = le32(b, 0)
		b = le32(b, 0x8001f3fd) // capabilities incl. extended security
		b = le64(b, g.filetime(g.now))
		b = le16(b, 0)
		b = append(b, 0)
		b = le16(b, 16)
		b = append(b, a.guid[:]...)
	case mSetup: // SESSION SETUP ANDX with NTLMSSP NEGOTIATE in SPNEGO
		b = smb1Header(b, 0x73, false, 0, 2)
		blob, open := spnegoInitOpen(a.tmp[:0], false)
		blob, tok := ber.Open(blob, 0xa2)
		blob, os := ber.Open(blob, 0x04)
		blob = append(blob, "NTLMSSP\x00"...)
		blob = le32(blob, 1)
		blob = le32(blob, 0x60088215)
		blob = append(blob, zeros[:16]...)
		blob = ber.Close(blob, os)
		blob = ber.Close(blob, tok)
		blob = spnegoInitClose(blob, open)
		a.tmp = blob
		b = append(b, 12, 0xff, 0, 0, 0)
		b = le16(b, 4356)
		b = le16(b, 50)
		b = le16(b, 0)
		b = le32(b, 0)
		b = le16(b, uint16(len(blob)))
		b = le32(b, 0)
		b = le32(b, 0x800000d4)
		bc := len(b)
		b = le16(b, 0)
		b = append(b, blob...)
		if (len(b)-at-4)%2 == 1 {
			b = append(b, 0)
		}
		b = appendUTF16(b, "Unix\x00")
		b = appendUTF16(b, "Samba\x00")
		put16le(b[bc:], uint16(len(b)-bc-2))
	default: // mSetupd: MORE_PROCESSING_REQUIRED with the challenge
		b = smb1Header(b, 0x73, true, 0xc0000016, 2)
		blob := a.tmp[:0]
		blob, resp := ber.Open(blob, 0xa1)
		blob, seq := ber.Open(blob, 0x30)
		blob = append(blob, 0xa0, 0x03, 0x0a, 0x01, 0x01)
		blob, mech := ber.Open(blob, 0xa1)
		blob = berOID(blob, 1, 3, 6, 1, 4, 1, 311, 2, 2, 10)
		blob = ber.Close(blob, mech)
		blob, tok := ber.Open(blob, 0xa2)
		blob, os := ber.Open(blob, 0x04)
		blob = a.ntlmChallenge(g, blob)
		blob = ber.Close(blob, os)
		blob = ber.Close(blob, tok)
		blob = ber.Close(blob, seq)
		blob = ber.Close(blob, resp)
		a.tmp = blob
		b = append(b, 4, 0xff, 0, 0, 0)
		b = le16(b, 0)
		b = le16(b, uint16(len(blob)))
		bc := len(b)
		b = le16(b, 0)
		b = append(b, blob...)
		if (len(b)-at-4)%2 == 1 {
			b = append(b, 0)
		}
		b = appendUTF16(b, a.nativeOS+"\x00")
		b = appendUTF16(b, a.lanman+"\x00")
		b = appendUTF16(b, a.domain+"\x00")
		put16le(b[bc:], uint16(len(b)-bc-2))
	}
	n := len(b) - at - 4
	b[at+1], b[at+2], b[at+3] = byte(n>>16), byte(n>>8), byte(n)
	return b
}

var smb1Script = tcpOnce([][2]uint8{{mReq, mResp}, {mSetup, mSetupd}}, false)
