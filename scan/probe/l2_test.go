package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"otscope/scan/testenv"
)

// testl2 is a test-only layer-2 family: a 60-byte frame of the local
// experimental EtherType 0x88b5 ("identify"), or an ARP request.
const l2Name = "testl2"

func init() {
	registerDissector(l2Name, func(f []byte) (Kind, error) {
		if len(f) < 14 {
			return "", errors.New("short frame")
		}
		switch binary.BigEndian.Uint16(f[12:14]) {
		case 0x88b5:
			if len(f) == 60 {
				return KindDCPIdentify, nil
			}
		case 0x0806:
			if len(f) == 42 {
				return KindARPRequest, nil
			}
		}
		return "", errors.New("not a testl2 frame")
	})
}

func l2Frame(marker byte) []byte {
	f := make([]byte, 60)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5})
	f[14] = marker
	return f
}

func arpFrame(tpa netip.Addr) []byte {
	f := make([]byte, 42)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1})
	a := tpa.As4()
	copy(f[38:], a[:])
	return f
}

// TestExchangeL2 sends a frame on lo and collects it back (lo delivers
// what is sent on it): one record, one packet, the ARP target checked.
func TestExchangeL2(t *testing.T) {
	rec := &recorder{}
	sc := New(Options{Scope: mustScope(t, "127.0.0.2"), Iface: "lo", Log: rec.log})
	s, err := sc.NewSession(&Target{Addr: netip.MustParseAddr("127.0.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := &Request{Kind: KindDCPIdentify, Payload: l2Frame(0x5a), Timeout: 300 * time.Millisecond}
	start := time.Now()
	got, err := s.ExchangeL2(ctx, l2Name, req, func(f []byte) bool { return len(f) >= 15 && f[12] == 0x88 && f[13] == 0xb5 && f[14] == 0x5a })
	if errors.Is(err, ErrNeedRaw) {
		testenv.Skip(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 250*time.Millisecond || took > time.Second {
		t.Fatalf("collected for %v, timeout 300ms", took)
	}
	if len(got) == 0 || !bytes.Equal(got[0][:15], req.Payload[:15]) {
		t.Fatalf("frames %x", got)
	}
	if _, err := s.ExchangeL2(ctx, l2Name, &Request{Kind: KindARPRequest, Payload: arpFrame(netip.MustParseAddr("127.0.0.9"))},
		func([]byte) bool { return true }); err == nil || !bytes.Contains([]byte(err.Error()), []byte("not the target")) {
		t.Fatalf("ARP for another address: %v", err)
	}
	if _, err := s.ExchangeL2(ctx, l2Name, &Request{Kind: KindARPRequest, Payload: l2Frame(1)}, func([]byte) bool { return true }); err == nil {
		t.Fatal("a frame claimed as another kind went out")
	}
	r := rec.all()
	if len(r) != 3 || r[0].Transport != "l2" || r[0].Packets != 1 || r[0].Kind != string(KindDCPIdentify) || r[0].Bytes != 60 ||
		r[0].Answer == "timeout" || r[1].Answer != "not sent" || r[2].Answer != "not sent" {
		t.Fatalf("records %+v", r)
	}
	if g := sc.Gauges(); g.Sent != 1 {
		t.Fatalf("gauges %+v", g)
	}
}

// TestExchangeL2NeedRaw runs itself without CAP_NET_RAW (setpriv drops it
// from the bounding set) and expects ErrNeedRaw.
func TestExchangeL2NeedRaw(t *testing.T) {
	if os.Getenv("OTSCOPE_TEST_NORAW") == "1" {
		sc := New(Options{Scope: mustScope(t, "127.0.0.2"), Iface: "lo"})
		s, _ := sc.NewSession(&Target{Addr: netip.MustParseAddr("127.0.0.2")})
		_, err := s.ExchangeL2(context.Background(), l2Name, &Request{Kind: KindDCPIdentify, Payload: l2Frame(1)}, func([]byte) bool { return true })
		if !errors.Is(err, ErrNeedRaw) {
			t.Fatalf("without CAP_NET_RAW: %v", err)
		}
		if err.Error() != "needs CAP_NET_RAW: run as root or setcap cap_net_raw+ep otscope" {
			t.Fatalf("message %q", err)
		}
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		testenv.Skip(t, "needs root and setpriv to drop CAP_NET_RAW")
	}
	cmd := exec.Command(setpriv, "--bounding-set=-net_raw", "--inh-caps=-net_raw", os.Args[0], "-test.run=^TestExchangeL2NeedRaw$", "-test.v")
	cmd.Env = append(os.Environ(), "OTSCOPE_TEST_NORAW=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestExchangeL2NeedRaw")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
