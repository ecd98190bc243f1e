package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// liveName is the provenance name of a live source.
func liveName(iface string) string { return "iface:" + iface }

// noInterfaceError says which interfaces exist.
func noInterfaceError(iface string) error {
	var names []string
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			names = append(names, ifc.Name)
		}
	}
	sort.Strings(names)
	avail := strings.Join(names, ", ")
	if avail == "" {
		avail = "none found"
	}
	return fmt.Errorf("%w: %q; available: %s", ErrNoInterface, iface, avail)
}

// permissionError says how to grant the capability to this executable.
func permissionError(iface string) error {
	exe, err := os.Executable()
	if err != nil {
		exe = "$(command -v otscope)"
	} else if strings.ContainsAny(exe, " \t'\"$") {
		exe = strconv.Quote(exe)
	}
	return fmt.Errorf("capturing on %s needs CAP_NET_RAW (%w): run as root, or grant it once with: sudo setcap cap_net_raw,cap_net_admin+ep %s",
		iface, ErrPermission, exe)
}

// liveOpenError translates an error from opening or configuring a packet
// socket into a one-line error that says what to do.
func liveOpenError(iface string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES),
		strings.Contains(msg, syscall.EPERM.Error()), strings.Contains(msg, syscall.EACCES.Error()):
		return permissionError(iface)
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO),
		strings.Contains(msg, syscall.ENODEV.Error()), strings.Contains(msg, "no such network interface"):
		return noInterfaceError(iface)
	case errors.Is(err, syscall.ENETDOWN), strings.Contains(msg, syscall.ENETDOWN.Error()):
		return fmt.Errorf("%s: %w; bring it up first: sudo ip link set %s up", liveName(iface), err, iface)
	}
	return fmt.Errorf("%s: %w", liveName(iface), err)
}
