package capture

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of these (check
// with errors.Is) and read as a single line that names the file or interface
// and says what to do.
var (
	// ErrIsDirectory: a directory was given where a capture file was expected.
	ErrIsDirectory = errors.New("is a directory, not a capture file")
	// ErrEmptyFile: the file (or its gzip content) has no bytes at all.
	ErrEmptyFile = errors.New("file is empty")
	// ErrNotCapture: the file does not start with a pcap or pcapng magic number.
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	// ErrLinkType: the capture's link-layer type is not one otscope decodes.
	ErrLinkType = errors.New("link type not supported")
	// ErrNoInterface: the named network interface does not exist.
	ErrNoInterface = errors.New("no such interface")
	// ErrPermission: live capture needs CAP_NET_RAW (and CAP_NET_ADMIN for
	// promiscuous mode).
	ErrPermission = errors.New("permission denied")
	// ErrTruncated: a capture file ends in the middle of a record, or a record
	// header is corrupt. Returned as a *TruncatedError.
	ErrTruncated = errors.New("capture truncated")
	// ErrFilter: the capture filter uses syntax the filter compiler does not
	// support, or is malformed.
	ErrFilter = errors.New("capture filter not supported")
	// ErrNoFiles: OpenFiles was given no paths.
	ErrNoFiles = errors.New("no capture files given")
	// ErrLiveUnsupported: live capture was requested on a platform other than
	// Linux.
	ErrLiveUnsupported = errors.New("live capture is only supported on Linux")
	// ErrIdle: no frame arrived on a live interface for a while (returned only
	// with Options.ReportIdle, so the reader can do periodic work); read again.
	ErrIdle = errors.New("no frame yet")
)

// TruncatedError reports where a capture file stopped being readable. The
// packets before Offset were returned normally; the source moves on (to the
// next file, or io.EOF) after returning it.
type TruncatedError struct {
	// Path is the file as given to OpenFile.
	Path string
	// Offset is the byte offset of the first record that could not be read.
	// For a gzip-compressed file it counts bytes of the uncompressed stream.
	Offset int64
	// Packets is the number of packet records read from the file before it.
	Packets int
	// Reason says what was wrong, e.g. "packet data cut short: 100 of 1514 bytes".
	Reason string
	// Compressed is true when Offset is in the uncompressed stream of a gzip file.
	Compressed bool
	// Err is the underlying cause (io.ErrUnexpectedEOF, a gzip or I/O error),
	// or nil for a corrupt record header.
	Err error
}

// Error renders the error as one line.
func (e *TruncatedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: capture truncated at byte %d", e.Path, e.Offset)
	if e.Compressed {
		b.WriteString(" of the uncompressed data")
	}
	fmt.Fprintf(&b, " after %d packets (%s); the packets before it were read", e.Packets, e.Reason)
	return b.String()
}

// Unwrap makes errors.Is match ErrTruncated and the underlying cause.
func (e *TruncatedError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrTruncated}
	}
	return []error{ErrTruncated, e.Err}
}
