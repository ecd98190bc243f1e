package decode

import (
	"crypto/x509"
	"encoding/binary"
	"strings"
	"time"

	"otscope/model"
)

// TLS handshakes (RFC 5246, RFC 8446) on TLS ports, and on RDP's 3389 once
// the connection switches to TLS. The ClientHello's server name (SNI) names
// the server; the ServerHello gives the negotiated version; in TLS <= 1.2
// the server's Certificate is in clear and its leaf certificate names the
// server (subject, issuer, expiry). Only segments that start with a
// handshake record are read (application data is rejected on its first
// byte); a certificate is parsed only when all its bytes are in the segment.

// TLS fact fields.
const (
	fieldTLSSNI          = "tls.sni"
	fieldTLSClientSNI    = "tls.client_sni"
	fieldTLSVersion      = "tls.version"
	fieldTLSCertSubject  = "tls.cert_subject"
	fieldTLSCertIssuer   = "tls.cert_issuer"
	fieldTLSCertNotAfter = "tls.cert_not_after"
)

// once bits of a TLS flow
const (
	tlsOnceSNI     = 0x01
	tlsOnceVersion = 0x02
	tlsOnceCert    = 0x03
)

// maxCert bounds the certificate handed to crypto/x509.
const maxCert = 16384

func init() {
	registerParser("tls", parseTLS, []uint16{443, 8443, 636, 993, 995, 5671, 8883, 3389, 5986}, nil)
}

func parseTLS(c *appCtx, p []byte) {
	// record: type 22 (handshake), version 3.x, length
	for len(p) >= 5 && p[0] == 0x16 && p[1] == 3 {
		l := int(binary.BigEndian.Uint16(p[3:]))
		rec := p[5:]
		if l < len(rec) {
			rec = rec[:l]
		}
		c.identify("tls")
		tlsHandshakes(c, rec)
		if 5+l > len(p) {
			return
		}
		p = p[5+l:]
	}
}

// tlsHandshakes reads the handshake messages of one record (the last may
// be cut by the segment).
func tlsHandshakes(c *appCtx, b []byte) {
	for len(b) >= 4 {
		typ := b[0]
		l := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		msg := b[4:]
		whole := l <= len(msg)
		if whole {
			msg = msg[:l]
		}
		switch typ {
		case 1:
			if whole {
				tlsClientHello(c, msg)
			}
		case 2:
			tlsServerHello(c, msg)
		case 11:
			tlsCertificate(c, msg)
		}
		if !whole {
			return
		}
		b = b[4+l:]
	}
}

func tlsClientHello(c *appCtx, m []byte) {
	if httpSeen(c, tlsOnceSNI) {
		return
	}
	// version(2) random(32) session id, cipher suites, compression, extensions
	off := 34
	if off+1 > len(m) {
		return
	}
	off += 1 + int(m[off])
	if off+2 > len(m) {
		return
	}
	off += 2 + int(binary.BigEndian.Uint16(m[off:]))
	if off+1 > len(m) {
		return
	}
	off += 1 + int(m[off])
	if off+2 > len(m) {
		return
	}
	end := off + 2 + int(binary.BigEndian.Uint16(m[off:]))
	if end > len(m) {
		c.malformed()
		return
	}
	for off += 2; off+4 <= end; {
		typ := binary.BigEndian.Uint16(m[off:])
		l := int(binary.BigEndian.Uint16(m[off+2:]))
		e := m[off+4:]
		if l > len(e) {
			c.malformed()
			return
		}
		e = e[:l]
		off += 4 + l
		if typ != 0 || len(e) < 5 {
			continue
		}
		// server_name list: list length(2), type(1) = host_name, length(2), name
		nl := int(binary.BigEndian.Uint16(e[3:]))
		if e[2] != 0 || 5+nl > len(e) {
			c.malformed()
			return
		}
		name := cleanText(e[5 : 5+nl])
		if name == "" {
			return
		}
		c.once(tlsOnceSNI)
		c.fact(c.receiver(), fieldTLSSNI, name, "tls")
		c.fact(c.sender(), fieldTLSClientSNI, name, "tls")
		return
	}
}

func tlsServerHello(c *appCtx, m []byte) {
	if len(m) < 2 || httpSeen(c, tlsOnceVersion) {
		return
	}
	v := binary.BigEndian.Uint16(m)
	// TLS 1.3 says 1.2 here and the real version in supported_versions
	if v == 0x0303 && len(m) >= 35 {
		if sv := tlsSupportedVersion(m); sv != 0 {
			v = sv
		}
	}
	name := tlsVersionName(v)
	if name == "" {
		return
	}
	c.once(tlsOnceVersion)
	c.fact(c.sender(), fieldTLSVersion, name, "tls")
}

// tlsSupportedVersion finds the supported_versions extension of a
// ServerHello; 0 when there is none.
func tlsSupportedVersion(m []byte) uint16 {
	off := 34
	off += 1 + int(m[off])
	off += 3 // cipher suite, compression
	if off+2 > len(m) {
		return 0
	}
	end := off + 2 + int(binary.BigEndian.Uint16(m[off:]))
	if end > len(m) {
		return 0
	}
	for off += 2; off+4 <= end; {
		typ := binary.BigEndian.Uint16(m[off:])
		l := int(binary.BigEndian.Uint16(m[off+2:]))
		if off+4+l > end {
			return 0
		}
		if typ == 43 && l == 2 {
			return binary.BigEndian.Uint16(m[off+4:])
		}
		off += 4 + l
	}
	return 0
}

func tlsVersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	return ""
}

// tlsCertificate parses the leaf (first) certificate of a Certificate
// message when its bytes are all in the segment.
func tlsCertificate(c *appCtx, m []byte) {
	if len(m) < 6 || httpSeen(c, tlsOnceCert) {
		return
	}
	l := int(m[3])<<16 | int(m[4])<<8 | int(m[5])
	der := m[6:]
	if l > len(der) || l > maxCert || l == 0 {
		return // cut by the segment, or too large to bother
	}
	c.once(tlsOnceCert)
	cert, err := x509.ParseCertificate(der[:l])
	if err != nil {
		c.malformed()
		return
	}
	srv := c.sender()
	subj := tlsName(cert.Subject.CommonName, cert.Subject.Organization)
	issuer := tlsName(cert.Issuer.CommonName, cert.Issuer.Organization)
	detail := ""
	if cert.Subject.String() == cert.Issuer.String() {
		detail = "self-signed"
	}
	c.factDetail(srv, fieldTLSCertSubject, subj, detail, "tls")
	c.fact(srv, fieldTLSCertIssuer, issuer, "tls")
	c.fact(srv, fieldTLSCertNotAfter, cert.NotAfter.UTC().Format(time.DateOnly), "tls")
	if cn := cleanText([]byte(cert.Subject.CommonName)); cn != "" && !strings.ContainsAny(cn, " *") && strings.Contains(cn, ".") {
		c.factDetail(srv, model.FieldDNSName, cn, "TLS certificate subject", "tls")
	}
}

// tlsName renders "CN=name, O=org" from the parts present.
func tlsName(cn string, org []string) string {
	var parts []string
	if s := cleanText([]byte(cn)); s != "" {
		parts = append(parts, "CN="+s)
	}
	if len(org) > 0 {
		if s := cleanText([]byte(org[0])); s != "" {
			parts = append(parts, "O="+s)
		}
	}
	return strings.Join(parts, ", ")
}
