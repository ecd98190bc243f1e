package capture

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

func TestLiveOpenErrorTranslation(t *testing.T) {
	for _, injected := range []error{
		syscall.EPERM,
		fmt.Errorf("couldn't open packet socket: %w", syscall.EPERM),
		errors.New("couldn't open packet socket: operation not permitted"), // pcapgo formats with %s
	} {
		err := liveOpenError("eth0", injected)
		msg := err.Error()
		if !errors.Is(err, ErrPermission) || !strings.HasPrefix(msg, "capturing on eth0 needs CAP_NET_RAW") ||
			!strings.Contains(msg, "sudo setcap cap_net_raw,cap_net_admin+ep ") || strings.Contains(msg, "\n") {
			t.Errorf("%v -> %q", injected, msg)
		}
	}
	if err := liveOpenError("nosuchif0", syscall.ENODEV); !errors.Is(err, ErrNoInterface) || !strings.Contains(err.Error(), "available: ") {
		t.Errorf("ENODEV -> %v", err)
	}
	if err := liveOpenError("eth0", syscall.EIO); !errors.Is(err, syscall.EIO) || !strings.HasPrefix(err.Error(), "iface:eth0: ") {
		t.Errorf("EIO -> %v", err)
	}
}

func TestOpenLiveNoInterface(t *testing.T) {
	_, err := OpenLive("nosuchif0", Options{})
	if err == nil {
		t.Fatal("no error")
	}
	if errors.Is(err, ErrLiveUnsupported) {
		t.Skip(err)
	}
	msg := err.Error()
	if !errors.Is(err, ErrNoInterface) || !strings.Contains(msg, `"nosuchif0"`) || !strings.Contains(msg, "available: ") ||
		!strings.Contains(msg, "lo") || strings.Contains(msg, "\n") {
		t.Fatalf("err %q", msg)
	}
}
