package capture

import (
	"errors"
	"fmt"
	"io"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// OpenFiles chains capture files in the order given. Every file is checked
// first (opened and its header read), and the problems of all bad files are
// returned together, one line each. Files are then opened one at a time while
// reading; Name and Frame follow the current file and Stats add up over all
// of them. A *TruncatedError (or an error reopening a file) ends only that
// file: the next read continues with the following one.
func OpenFiles(paths []string, o Options) (Source, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w; give one or more .pcap or .pcapng files", ErrNoFiles)
	}
	if len(paths) == 1 {
		return OpenFile(paths[0], o)
	}
	var errs []error
	for _, p := range paths {
		if p == "-" {
			errs = append(errs, errors.New("-: standard input can only be read on its own, not with other files"))
			continue
		}
		f, err := openFile(p, o, &counters{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_ = f.Close()
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m := &multiSource{paths: paths, o: o, c: &counters{}, name: paths[0], next: 1}
	// Open the first file now so LinkType is right before the first read.
	cur, err := openFile(paths[0], o, m.c)
	if err != nil {
		return nil, err
	}
	m.cur, m.lt = cur, cur.lt
	return m, nil
}

// multiSource reads several files one after another.
type multiSource struct {
	paths  []string
	o      Options
	c      *counters
	next   int         // index of the next file to open
	cur    *fileSource // nil between files
	name   string      // file of the frame or error returned last
	lt     layers.LinkType
	closed bool
}

// ZeroCopyReadPacketData returns the next frame of the current file, moving
// on to the next file at the end of one.
func (m *multiSource) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	for {
		if m.closed {
			return nil, gopacket.CaptureInfo{}, io.EOF
		}
		if m.cur == nil {
			if m.next >= len(m.paths) {
				return nil, gopacket.CaptureInfo{}, io.EOF
			}
			m.name = m.paths[m.next]
			cur, err := openFile(m.paths[m.next], m.o, m.c)
			m.next++
			if err != nil {
				return nil, gopacket.CaptureInfo{}, err
			}
			m.cur = cur
		}
		data, ci, err := m.cur.ZeroCopyReadPacketData()
		if err == nil {
			m.lt = m.cur.lt
			return data, ci, nil
		}
		if err == ErrIdle {
			return nil, ci, err // a FIFO with nothing yet: still open
		}
		_ = m.cur.Close()
		if err == io.EOF {
			m.cur = nil
			continue
		}
		m.cur = nil
		return nil, gopacket.CaptureInfo{}, err
	}
}

// LinkType is the link type of the frame returned last.
func (m *multiSource) LinkType() layers.LinkType { return m.lt }

// Name is the path of the current file.
func (m *multiSource) Name() string { return m.name }

// Frame is the record number of the frame returned last within its file.
func (m *multiSource) Frame() uint64 {
	if m.cur != nil {
		return m.cur.frame
	}
	return 0
}

// Live reports false.
func (m *multiSource) Live() bool { return false }

// Stats returns counters summed over all files read so far.
func (m *multiSource) Stats() Stats { return m.c.snapshot() }

// Close closes the current file.
func (m *multiSource) Close() error {
	m.closed = true
	if m.cur != nil {
		err := m.cur.Close()
		m.cur = nil
		return err
	}
	return nil
}
