package capture

import "io"

// OpenReader reads a pcap or pcapng stream (gzip-compressed or not) from r,
// under the given name for provenance. The demo replay uses it to send the
// generated plant through exactly the reader a capture file goes through.
// Closing the source closes r when r is an io.Closer.
func OpenReader(name string, r io.Reader, o Options) (Source, error) {
	rc, ok := r.(io.ReadCloser)
	if !ok {
		rc = io.NopCloser(r)
	}
	return newFileSource(name, rc, o, &counters{})
}
