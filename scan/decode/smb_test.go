package decode

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"
)

func utf16le(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

// ntlmChallengeMsg builds a CHALLENGE with target info and a version.
func ntlmChallengeMsg() []byte {
	var info []byte
	av := func(id uint16, s string) {
		v := utf16le(s)
		info = binary.LittleEndian.AppendUint16(info, id)
		info = binary.LittleEndian.AppendUint16(info, uint16(len(v)))
		info = append(info, v...)
	}
	av(2, "PLANT")
	av(1, "HIST01")
	av(4, "plant.local")
	av(3, "hist01.plant.local")
	info = append(info, 0, 0, 0, 0)
	m := make([]byte, 56)
	copy(m, ntlmSignature)
	binary.LittleEndian.PutUint32(m[8:], 2)
	binary.LittleEndian.PutUint32(m[20:], 0x02000001)
	binary.LittleEndian.PutUint16(m[40:], uint16(len(info)))
	binary.LittleEndian.PutUint32(m[44:], 56)
	copy(m[48:], []byte{6, 1, 0xb1, 0x1d, 0, 0, 0, 15}) // 6.1.7601
	return append(m, info...)
}

// ntlmAuthMsg builds an AUTHENTICATE with a domain, user and workstation.
func ntlmAuthMsg(domain, user, ws string) []byte {
	m := make([]byte, 72)
	copy(m, ntlmSignature)
	binary.LittleEndian.PutUint32(m[8:], 3)
	binary.LittleEndian.PutUint32(m[60:], 1)
	put := func(at int, s string) {
		v := utf16le(s)
		binary.LittleEndian.PutUint16(m[at:], uint16(len(v)))
		binary.LittleEndian.PutUint16(m[at+2:], uint16(len(v)))
		binary.LittleEndian.PutUint32(m[at+4:], uint32(len(m)))
		m = append(m, v...)
	}
	put(28, domain)
	put(36, user)
	put(44, ws)
	return m
}

// smb1Msg wraps an SMB1 command in a NetBIOS session header.
func smb1Msg(cmd byte, reply bool, words, data []byte) []byte {
	h := make([]byte, 32)
	copy(h, "\xffSMB")
	h[4] = cmd
	if reply {
		h[9] = 0x80
	}
	binary.LittleEndian.PutUint16(h[10:], 0xc801) // unicode, extended security
	h = append(h, byte(len(words)/2))
	h = append(h, words...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(data)))
	h = append(h, data...)
	out := []byte{0, 0, 0, 0}
	binary.BigEndian.PutUint16(out[2:], uint16(len(h)))
	return append(out, h...)
}

// smbSetupReply is a Session Setup AndX response (WC=4) carrying a blob,
// the native OS and LAN manager.
func smbSetupReply(blob []byte, os, lanman string) []byte {
	w := make([]byte, 8)
	w[0] = 0xff
	binary.LittleEndian.PutUint16(w[6:], uint16(len(blob)))
	data := append([]byte(nil), blob...)
	if (32+1+8+2+len(data))%2 == 1 {
		data = append(data, 0)
	}
	data = append(data, utf16le(os)...)
	data = append(data, 0, 0)
	data = append(data, utf16le(lanman)...)
	data = append(data, 0, 0, 0, 0)
	return smb1Msg(0x73, true, w, data)
}

// smbSetupRequest is a Session Setup AndX request (WC=12).
func smbSetupRequest(blob []byte, os string) []byte {
	w := make([]byte, 24)
	w[0] = 0xff
	binary.LittleEndian.PutUint16(w[14:], uint16(len(blob)))
	data := append([]byte(nil), blob...)
	if (32+1+24+2+len(data))%2 == 1 {
		data = append(data, 0)
	}
	data = append(data, utf16le(os)...)
	data = append(data, 0, 0, 0, 0)
	return smb1Msg(0x73, false, w, data)
}

func TestSMB1SessionSetupAndNTLM(t *testing.T) {
	reqBlob := append([]byte("\x60\x48spnego"), ntlmAuthMsg("", "", "ENG-WS7")...)
	f := ithFacts(t,
		ithPkt(t, false, false, 1234, 445, smb1Msg(0x72, false, nil, []byte("\x02NT LM 0.12\x00\x02SMB 2.002\x00"))),
		ithPkt(t, false, true, 445, 1234, smb1Msg(0x72, true, make([]byte, 34), nil)),
		ithPkt(t, false, true, 445, 1234, smbSetupReply(append([]byte("\xa1\x81spnego"), ntlmChallengeMsg()...), "Windows Server 2003 3790 Service Pack 2", "Windows Server 2003 5.2")),
		ithPkt(t, false, false, 1234, 445, smbSetupRequest(reqBlob, "Windows 2002 Service Pack 2 2600")),
	)
	ithExpect(t, f,
		"10.1.0.10 smb.dialects_offered=NT LM 0.12,SMB 2.002",
		"10.1.0.11 smb.dialect=NT LM 0.12",
		"10.1.0.11 smb.version=1",
		"10.1.0.11 smb.native_os=Windows Server 2003 3790 Service Pack 2",
		"10.1.0.11 os=Windows Server 2003 3790 Service Pack 2",
		"10.1.0.11 smb.native_lanman=Windows Server 2003 5.2",
		"10.1.0.11 ntlmssp.nb_computer_name=HIST01", "10.1.0.11 hostname=HIST01",
		"10.1.0.11 ntlmssp.nb_domain_name=PLANT", "10.1.0.11 ntlmssp.dns_domain_name=plant.local",
		"10.1.0.11 domain=plant.local", "10.1.0.11 ntlmssp.dns_computer_name=hist01.plant.local",
		"10.1.0.11 ntlmssp.os_version=6.1.7601", "10.1.0.11 os=Windows NT 6.1 build 7601",
		"10.1.0.10 smb.native_os=Windows 2002 Service Pack 2 2600",
		"10.1.0.10 ntlmssp.auth.hostname=ENG-WS7", "10.1.0.10 hostname=ENG-WS7",
		"10.1.0.10 ntlmssp.auth.domain=NULL")
	if d := f["10.1.0.10 ntlmssp.auth.domain=NULL"]; d != "empty domain and user: anonymous (null session) logon" {
		t.Errorf("null domain detail %q", d)
	}
}

// A Kerberos blob pushes the native OS string across the segment boundary.
func TestSMB1NativeOSAcrossSegments(t *testing.T) {
	blob := make([]byte, 1400)
	msg := smbSetupRequest(blob, "Windows 2002 Service Pack 2 2600")
	cut := 4 + 32 + 1 + 24 + 2 + 1400 + 10 // inside the native OS string
	f := ithFacts(t,
		ithPkt(t, false, false, 1234, 445, msg[:cut]),
		ithPkt(t, false, false, 1234, 445, msg[cut:]))
	ithExpect(t, f, "10.1.0.10 smb.native_os=Windows 2002 Service Pack 2 2600")
	for k := range f {
		if k == "10.1.0.10 smb.native_os=Windo" || k == "10.1.0.10 smb.native_os=Windows" {
			t.Errorf("partial string %q", k)
		}
	}
	// strings that start in the next segment
	cut = 4 + 32 + 1 + 24 + 2 + 700
	f = ithFacts(t,
		ithPkt(t, false, false, 1234, 445, msg[:cut]),
		ithPkt(t, false, false, 1234, 445, msg[cut:]))
	ithExpect(t, f, "10.1.0.10 smb.native_os=Windows 2002 Service Pack 2 2600")
}

func TestSMB2NegotiateAndSessionRequest(t *testing.T) {
	smb2 := func(cmd uint16, reply bool, body []byte) []byte {
		h := make([]byte, 64)
		copy(h, "\xfeSMB")
		binary.LittleEndian.PutUint16(h[12:], cmd)
		if reply {
			h[16] = 1
		}
		h = append(h, body...)
		out := []byte{0, 0, 0, 0}
		binary.BigEndian.PutUint16(out[2:], uint16(len(h)))
		return append(out, h...)
	}
	req := make([]byte, 36)
	binary.LittleEndian.PutUint16(req[2:], 3)
	for _, d := range []uint16{0x0202, 0x0210, 0x0311} {
		req = binary.LittleEndian.AppendUint16(req, d)
	}
	resp := make([]byte, 64)
	binary.LittleEndian.PutUint16(resp[4:], 0x0311)
	chal := ntlmChallengeMsg()
	ss := make([]byte, 8)
	binary.LittleEndian.PutUint16(ss[4:], 72)
	binary.LittleEndian.PutUint16(ss[6:], uint16(len(chal)))
	ss = append(ss, chal...)
	// a NetBIOS session request on 139 first
	sreq := append([]byte{0x81, 0, 0, 68}, nbEncode("HIST01", 0x20)...)
	sreq = append(sreq, nbEncode("ENG-WS7", 0)...)
	f := ithFacts(t,
		ithPkt(t, false, false, 1234, 139, sreq),
		ithPkt(t, false, false, 1234, 139, smb2(0, false, req)),
		ithPkt(t, false, true, 139, 1234, smb2(0, true, resp)),
		ithPkt(t, false, true, 139, 1234, smb2(1, true, ss)))
	ithExpect(t, f, "10.1.0.10 smb.dialects_offered=2.0.2,2.1,3.1.1", "10.1.0.11 smb.dialect=3.1.1",
		"10.1.0.11 smb.version=3", "10.1.0.11 ntlmssp.nb_computer_name=HIST01",
		"10.1.0.11 netbios.called_name=HIST01<20> (Server service)",
		"10.1.0.10 netbios.calling_name=ENG-WS7<00> (Workstation/Redirector)")
	for k := range f {
		if k == "10.1.0.11 smb.version=1" {
			t.Error("SMB2 server reported as SMBv1")
		}
	}
}

// BenchmarkSMBFileTransfer: SMB2 read responses and body segments of an
// established session; nothing new, no allocation.
func BenchmarkSMBFileTransfer(b *testing.B) {
	rd := make([]byte, 4+64+16+1000)
	binary.BigEndian.PutUint16(rd[2:], uint16(len(rd)-4))
	copy(rd[4:], "\xfeSMB")
	binary.LittleEndian.PutUint16(rd[4+12:], 8) // READ
	body := make([]byte, 1400)
	benchFrames(b, [][]byte{ithPkt(b, false, true, 445, 1234, rd), ithPkt(b, false, true, 445, 1234, body),
		ithPkt(b, false, false, 1234, 445, rd[:4+64+48])})
}

func FuzzSMB(f *testing.F) {
	f.Add(smbSetupReply(ntlmChallengeMsg(), "Windows 5.1", "Windows 2000 LAN Manager"))
	f.Add(smbSetupRequest(ntlmAuthMsg("D", "u", "W"), "Windows 5.1"))
	for _, p := range ithSeedPayloads(f, "smb-netbios", 445, 139) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) { ithFuzzParser(t, parseSMB, false, 445, p) })
}

func FuzzNTLMSSP(f *testing.F) {
	f.Add(ntlmChallengeMsg())
	f.Add(ntlmAuthMsg("PLANT", "op", "HMI-1"))
	f.Fuzz(func(t *testing.T, p []byte) {
		ithFuzzParser(t, func(c *appCtx, p []byte) { parseNTLMSSP(c, p, "smb") }, false, 445, p)
	})
}
