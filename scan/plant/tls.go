package plant

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"time"
)

// selfSignedCert returns the DER certificate a host presents for RDP or
// HTTPS: self-signed, CN = host name. The key is derived from the name, and
// Ed25519 signatures are deterministic, so the bytes never change.
func selfSignedCert(host string) []byte {
	seed := sha256.Sum256([]byte("otscope demo plant key " + host))
	key := ed25519.NewKeyFromSeed(seed[:])
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(seed[:8]),
		Subject:      pkix.Name{CommonName: host},
		Issuer:       pkix.Name{CommonName: host},
		NotBefore:    time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2033, 9, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		// The template is fixed; failing here is a programming error.
		panic("plant: self-signed certificate: " + err.Error())
	}
	return der
}

// TLS message numbers (after the X.224 exchange of rdpApp).
const (
	mKeyX  = 7 // ClientKeyExchange, ChangeCipherSpec, Finished
	mKeyXd = 8 // ChangeCipherSpec, Finished
)

// tlsRecord appends a record header; tlsRecordEnd patches its length.
func tlsRecord(b []byte, typ byte) ([]byte, int) {
	at := len(b)
	return append(b, typ, 3, 3, 0, 0), at
}

func tlsRecordEnd(b []byte, at int) []byte {
	put16(b[at+3:], uint16(len(b)-at-5))
	return b
}

// tlsHandshake appends a handshake header; tlsHandshakeEnd patches it.
func tlsHandshake(b []byte, typ byte) ([]byte, int) {
	at := len(b)
	return append(b, typ, 0, 0, 0), at
}

func tlsHandshakeEnd(b []byte, at int) []byte {
	n := len(b) - at - 4
	b[at+1], b[at+2], b[at+3] = byte(n>>16), byte(n>>8), byte(n)
	return b
}

func (g *Generator) random(b []byte, n int) []byte {
	for i := 0; i < n; i += 8 {
		v := g.rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b = append(b, byte(v>>(8*j)))
		}
	}
	return b
}

// clientHello appends a TLS 1.2 ClientHello record, with a server name
// indication when sni is set.
func (g *Generator) clientHello(b []byte, sni string) []byte {
	b, rec := tlsRecord(b, 0x16)
	b[rec+2] = 1 // record version TLS 1.0, as clients send it
	b, hs := tlsHandshake(b, 1)
	b = append(b, 3, 3)
	b = g.random(b, 32)
	b = append(b, 0)                                        // session id
	b = append(b, 0, 6, 0xc0, 0x2c, 0xc0, 0x30, 0xc0, 0x2b) // cipher suites
	b = append(b, 1, 0)                                     // compression: null
	ext := len(b)
	b = append(b, 0, 0)
	if sni != "" {
		n := len(sni)
		b = append(b, 0, 0, byte((n+5)>>8), byte(n+5), byte((n+3)>>8), byte(n+3), 0, byte(n>>8), byte(n))
		b = append(b, sni...)
	}
	b = append(b, 0x00, 0x0a, 0, 6, 0, 4, 0x00, 0x1d, 0x00, 0x17) // supported groups
	b = append(b, 0x00, 0x0b, 0, 2, 1, 0)                         // ec point formats
	b = append(b, 0x00, 0x0d, 0, 8, 0, 6, 8, 7, 4, 3, 4, 1)       // signature algorithms
	b = append(b, 0x00, 0x17, 0, 0)                               // extended master secret
	b = append(b, 0xff, 0x01, 0, 1, 0)                            // renegotiation info
	put16(b[ext:], uint16(len(b)-ext-2))
	return tlsRecordEnd(tlsHandshakeEnd(b, hs), rec)
}

// serverHello appends ServerHello, Certificate, ServerKeyExchange and
// ServerHelloDone in one record.
func (g *Generator) serverHello(b []byte, cert []byte) []byte {
	b, rec := tlsRecord(b, 0x16)
	b, hs := tlsHandshake(b, 2)
	b = append(b, 3, 3)
	b = g.random(b, 32)
	b = append(b, 32)
	b = g.random(b, 32)
	b = append(b, 0xc0, 0x2c, 0)
	b = append(b, 0, 9, 0xff, 0x01, 0, 1, 0, 0x00, 0x17, 0, 0)
	b = tlsHandshakeEnd(b, hs)

	b, hs = tlsHandshake(b, 11)
	n := len(cert)
	b = append(b, byte((n+3)>>16), byte((n+3)>>8), byte(n+3), byte(n>>16), byte(n>>8), byte(n))
	b = append(b, cert...)
	b = tlsHandshakeEnd(b, hs)

	b, hs = tlsHandshake(b, 12)
	b = append(b, 3, 0x00, 0x1d, 32)
	b = g.random(b, 32)
	b = append(b, 8, 7, 0, 64)
	b = g.random(b, 64)
	b = tlsHandshakeEnd(b, hs)

	b, hs = tlsHandshake(b, 14)
	b = tlsHandshakeEnd(b, hs)
	return tlsRecordEnd(b, rec)
}

// finish appends [ClientKeyExchange,] ChangeCipherSpec and the encrypted
// Finished message.
func (g *Generator) finish(b []byte, client bool) []byte {
	if client {
		var rec, hs int
		b, rec = tlsRecord(b, 0x16)
		b, hs = tlsHandshake(b, 16)
		b = append(b, 32)
		b = g.random(b, 32)
		b = tlsRecordEnd(tlsHandshakeEnd(b, hs), rec)
	}
	b = append(b, 0x14, 3, 3, 0, 1, 1)
	b, rec := tlsRecord(b, 0x16)
	b = g.random(b, 40)
	return tlsRecordEnd(b, rec)
}

// appData appends one TLS application data record of n random bytes.
func (g *Generator) appData(b []byte, n int) []byte {
	b, rec := tlsRecord(b, 0x17)
	b = g.random(b, n)
	return tlsRecordEnd(b, rec)
}

// tlsApp is an HTTPS session: TLS 1.2 handshake with a server name and the
// server's certificate, then one request and one response as application
// data.
type tlsApp struct {
	sni  string
	cert []byte
	req  int // request size
	resp int // response size
}

func (a *tlsApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mSetup:
		return g.clientHello(b, a.sni)
	case mSetupd:
		return g.serverHello(b, a.cert)
	case mKeyX, mKeyXd:
		return g.finish(b, msg == mKeyX)
	case mReq:
		return g.appData(b, a.req+g.rng.IntN(64))
	default:
		return g.appData(b, a.resp+g.rng.IntN(256))
	}
}
