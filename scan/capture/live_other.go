//go:build !linux

package capture

import "fmt"

// OpenLive captures from a network interface. Only Linux is supported.
func OpenLive(iface string, o Options) (Source, error) {
	return nil, fmt.Errorf("%s: %w; read a capture file instead", liveName(iface), ErrLiveUnsupported)
}
