package decode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"testing"
	"time"
)

func tlsRecord(msgs ...[]byte) []byte {
	var body []byte
	for _, m := range msgs {
		body = append(body, m...)
	}
	out := []byte{0x16, 3, 3, 0, 0}
	binary.BigEndian.PutUint16(out[3:], uint16(len(body)))
	return append(out, body...)
}

func tlsHS(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func tlsClientHelloMsg(sni string) []byte {
	b := make([]byte, 34) // version, random
	b[0], b[1] = 3, 3
	b = append(b, 0)                // session id
	b = append(b, 0, 2, 0x13, 0x01) // cipher suites
	b = append(b, 1, 0)             // compression
	name := []byte(sni)
	ext := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(ext[2:], uint16(len(name)+5))
	binary.BigEndian.PutUint16(ext[4:], uint16(len(name)+3))
	binary.BigEndian.PutUint16(ext[7:], uint16(len(name)))
	ext = append(ext, name...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ext)))
	return tlsHS(1, append(b, ext...))
}

func tlsTestCert(t testing.TB) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "plc-a1.plant.local", Organization: []string{"Plant"}},
		NotBefore:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestTLSHandshake(t *testing.T) {
	der := tlsTestCert(t)
	sh := make([]byte, 38)
	sh[0], sh[1] = 3, 3
	// certificate list: total length, then one certificate
	cl := []byte{0, 0, 0, byte(len(der) >> 16), byte(len(der) >> 8), byte(len(der))}
	total := len(der) + 3
	cl[0], cl[1], cl[2] = byte(total>>16), byte(total>>8), byte(total)
	cl = append(cl, der...)
	f := ithFacts(t,
		ithPkt(t, false, false, 50000, 443, tlsRecord(tlsClientHelloMsg("plc-a1.plant.local"))),
		ithPkt(t, false, true, 443, 50000, tlsRecord(tlsHS(2, sh), tlsHS(11, cl))),
		ithPkt(t, false, true, 443, 50000, []byte{0x17, 3, 3, 0, 4, 1, 2, 3, 4}))
	ithExpect(t, f, "10.1.0.11 tls.sni=plc-a1.plant.local", "10.1.0.10 tls.client_sni=plc-a1.plant.local",
		"10.1.0.11 tls.version=TLS 1.2", "10.1.0.11 tls.cert_subject=CN=plc-a1.plant.local, O=Plant",
		"10.1.0.11 tls.cert_issuer=CN=plc-a1.plant.local, O=Plant", "10.1.0.11 tls.cert_not_after=2034-01-01",
		"10.1.0.11 dns_name=plc-a1.plant.local")
	if f["10.1.0.11 tls.cert_subject=CN=plc-a1.plant.local, O=Plant"] != "self-signed" {
		t.Error("self-signed certificate not flagged")
	}
}

// A certificate cut by the segment is not parsed (and not misread).
func TestTLSCutCertificate(t *testing.T) {
	der := tlsTestCert(t)
	cl := []byte{0, 0, 0, byte(len(der) >> 16), byte(len(der) >> 8), byte(len(der))}
	total := len(der) + 3
	cl[0], cl[1], cl[2] = byte(total>>16), byte(total>>8), byte(total)
	cl = append(cl, der...)
	rec := tlsRecord(tlsHS(11, cl))
	f := ithFacts(t, ithPkt(t, false, true, 443, 50000, rec[:len(rec)-20]))
	for k := range f {
		if len(k) > 0 && (k[len("10.1.0.11 "):] >= "tls.cert" && k[len("10.1.0.11 "):] < "tls.certz") {
			t.Errorf("fact from a cut certificate: %s", k)
		}
	}
}

// BenchmarkTLSAppData: application data records of established sessions.
func BenchmarkTLSAppData(b *testing.B) {
	rec := make([]byte, 1400)
	rec[0], rec[1], rec[2] = 0x17, 3, 3
	binary.BigEndian.PutUint16(rec[3:], 1395)
	benchFrames(b, [][]byte{ithPkt(b, false, false, 50000, 443, rec), ithPkt(b, false, true, 443, 50000, rec)})
}

func FuzzTLS(f *testing.F) {
	f.Add(tlsRecord(tlsClientHelloMsg("a.example")))
	f.Add(tlsRecord(tlsHS(2, make([]byte, 38))))
	for _, p := range ithSeedPayloads(f, "opcua", 443, 4843) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) { ithFuzzParser(t, parseTLS, false, 443, p) })
}
