package plant

// opcuaDiscovery is an OPC UA client discovering a server's endpoints:
// Hello/Acknowledge, OpenSecureChannel with SecurityPolicy None,
// GetEndpoints and CloseSecureChannel. The server offers two endpoints: one
// without security (SecurityMode None, policy None, anonymous login) and
// one with SignAndEncrypt / Basic256Sha256.
type opcuaDiscovery struct {
	hello      opcuaApp
	url        string
	appURI     string
	productURI string
	appName    string
	cert       []byte
	channel    uint32
	seq        uint32
	req        uint32
}

const (
	uaPolicyNone   = "http://opcfoundation.org/UA/SecurityPolicy#None"
	uaPolicyBasic  = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"
	uaTransportTCP = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary"
)

func uaString(b []byte, s string) []byte {
	b = le32(b, uint32(len(s)))
	return append(b, s...)
}

func uaNull(b []byte) []byte { return le32(b, 0xffffffff) }

func uaNodeID(b []byte, id uint16) []byte { return le16(append(b, 0x01, 0x00), id) }

func (a *opcuaDiscovery) requestHeader(g *Generator, b []byte) []byte {
	b = append(b, 0x00, 0x00) // authentication token: null NodeId
	b = le64(b, g.filetime(g.now))
	b = le32(b, a.req)
	b = le32(b, 0)
	b = uaNull(b)
	b = le32(b, 10000)
	return append(b, 0x00, 0x00, 0x00)
}

func (a *opcuaDiscovery) responseHeader(g *Generator, b []byte) []byte {
	b = le64(b, g.filetime(g.now))
	b = le32(b, a.req)
	b = le32(b, 0)
	b = append(b, 0x00)
	b = le32(b, 0)
	return append(b, 0x00, 0x00, 0x00)
}

func (a *opcuaDiscovery) endpoint(b []byte, mode uint32, policy string, level byte) []byte {
	b = uaString(b, a.url)
	b = uaString(b, a.appURI)
	b = uaString(b, a.productURI)
	b = append(b, 0x03)
	b = uaString(b, "en")
	b = uaString(b, a.appName)
	b = le32(b, 0) // ApplicationType server
	b = uaNull(b)
	b = uaNull(b)
	b = le32(b, 1)
	b = uaString(b, a.url)
	b = le32(b, uint32(len(a.cert)))
	b = append(b, a.cert...)
	b = le32(b, mode)
	b = uaString(b, policy)
	if mode == 1 {
		b = le32(b, 1)
		b = uaString(b, "Anonymous")
		b = le32(b, 0)
		b = uaNull(b)
		b = uaNull(b)
		b = uaNull(b)
	} else {
		b = le32(b, 1)
		b = uaString(b, "UserName")
		b = le32(b, 1)
		b = uaNull(b)
		b = uaNull(b)
		b = uaString(b, uaPolicyBasic)
	}
	b = uaString(b, uaTransportTCP)
	return append(b, level)
}

func (a *opcuaDiscovery) payload(g *Generator, d *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mOpen, mOpened:
		return a.hello.payload(g, d, msg, b)
	}
	at := len(b)
	switch msg {
	case mSetup, mSetupd:
		b = append(b, 'O', 'P', 'N', 'F', 0, 0, 0, 0)
		if msg == mSetup {
			a.channel = 0
			a.seq = 51
			a.req = 1
			b = le32(b, 0)
		} else {
			a.channel = 0x10000000 | g.rng.Uint32()&0xffffff
			b = le32(b, a.channel)
		}
		b = uaString(b, uaPolicyNone)
		b = uaNull(b)
		b = uaNull(b)
		b = le32(b, a.seq)
		b = le32(b, a.req)
		if msg == mSetup {
			b = uaNodeID(b, 446)
			b = a.requestHeader(g, b)
			b = le32(b, 0)
			b = le32(b, 0) // issue
			b = le32(b, 1) // SecurityMode None
			b = le32(b, 0) // empty client nonce
			b = le32(b, 3600000)
		} else {
			b = uaNodeID(b, 449)
			b = a.responseHeader(g, b)
			b = le32(b, 0)
			b = le32(b, a.channel)
			b = le32(b, 1)
			b = le64(b, g.filetime(g.now))
			b = le32(b, 3600000)
			b = le32(b, 0)
		}
	case mReq, mResp, mClose:
		if msg == mClose {
			b = append(b, 'C', 'L', 'O', 'F', 0, 0, 0, 0)
		} else {
			b = append(b, 'M', 'S', 'G', 'F', 0, 0, 0, 0)
		}
		if msg != mResp {
			a.seq++
			a.req++
		}
		b = le32(b, a.channel)
		b = le32(b, 1)
		b = le32(b, a.seq)
		b = le32(b, a.req)
		switch msg {
		case mReq:
			b = uaNodeID(b, 428)
			b = a.requestHeader(g, b)
			b = uaString(b, a.url)
			b = uaNull(b)
			b = uaNull(b)
		case mClose:
			b = uaNodeID(b, 452)
			b = a.requestHeader(g, b)
		default:
			b = uaNodeID(b, 431)
			b = a.responseHeader(g, b)
			b = le32(b, 2)
			b = a.endpoint(b, 1, uaPolicyNone, 0)
			b = a.endpoint(b, 3, uaPolicyBasic, 3)
		}
	}
	l := uint32(len(b) - at)
	b[at+4], b[at+5], b[at+6], b[at+7] = byte(l), byte(l>>8), byte(l>>16), byte(l>>24)
	return b
}

// opcuaDiscoveryScript: connect, Hello, OpenSecureChannel, GetEndpoints,
// CloseSecureChannel, close.
var opcuaDiscoveryScript = &script{steps: append(append(handshake(),
	step{cli, fPA, mOpen, wProc}, step{srv, fPA, mOpened, wNet},
	step{cli, fPA, mSetup, wProc}, step{srv, fPA, mSetupd, wNet},
	step{cli, fPA, mReq, wProc}, step{srv, fPA, mResp, wNet},
	step{cli, fPA, mClose, wNet}), clientClose...), loopStart: -1, loopEnd: -1}
