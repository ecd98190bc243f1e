package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
)

const fileBufSize = 1 << 16

// OpenFile opens a pcap or pcapng file, recognised by its magic number, and
// transparently gunzips it if it is gzip-compressed (whatever its name). The
// path "-" reads standard input. Directories, empty files, other formats and
// unsupported link types give one-line errors wrapping ErrIsDirectory,
// ErrEmptyFile, ErrNotCapture and ErrLinkType; each includes the path.
func OpenFile(path string, o Options) (Source, error) {
	return openFile(path, o, &counters{})
}

// fileSource reads one capture file.
type fileSource struct {
	path       string
	closer     io.Closer
	gz         *gzip.Reader
	compressed bool
	rd         recordReader
	c          *counters

	frame   uint64
	lt      layers.LinkType
	done    bool
	snaplen int
	// emptyRun counts the zero-length records in a row (see maxEmptyRun).
	emptyRun int
	// pipe reads a non-regular file's records on a goroutine (pipe.go).
	pipe *pipeRecords

	// read counts the bytes read from the file (compressed bytes for a
	// gzipped one), for BytesRead; nil when not counted.
	read *atomic.Int64

	filter   string
	filters  []ltFilter // compiled per link type; usually one
	lastFilt int        // index into filters of the last link type used
}

// ltFilter is the userland filter compiled for one link type; vm is nil when
// the filter cannot apply to that link type (every frame is dropped).
type ltFilter struct {
	lt layers.LinkType
	vm *bpf.VM
}

func openFile(path string, o Options, c *counters) (*fileSource, error) {
	var f *os.File
	if path == "-" {
		f = os.Stdin
	} else {
		st, err := os.Stat(path)
		if err != nil {
			return nil, pathError(path, err)
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s: %w; give the capture files inside it (e.g. %s/*.pcap)", path, ErrIsDirectory, path)
		}
		if st.Mode().IsRegular() && st.Size() == 0 {
			return nil, fmt.Errorf("%s: %w; there is nothing to read (was the capture stopped before the first packet?)", path, ErrEmptyFile)
		}
		if f, err = os.Open(path); err != nil {
			return nil, pathError(path, err)
		}
	}
	var r io.ReadCloser = f
	if f != os.Stdin { // standard input has no size to compare with
		r = &countingReader{f: f}
	}
	fsrc, err := newFileSource(path, r, o, c)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		// a pipe, a FIFO or a terminal: reads must not block Ctrl-C
		p := newPipeRecords(fsrc.rd)
		fsrc.rd, fsrc.pipe = p, p
	}
	return fsrc, nil
}

// pathError renders an os error as "PATH: reason; hint".
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w; check the path", path, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: %w; make the file readable for this user", path, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// newFileSource recognises the format of r and reads its headers.
func newFileSource(path string, r io.ReadCloser, o Options, c *counters) (*fileSource, error) {
	fsrc := &fileSource{path: path, closer: r, c: c, snaplen: o.snapLen(), filter: o.Filter}
	if cr, ok := r.(*countingReader); ok {
		fsrc.read = &cr.n
	}
	br := bufio.NewReaderSize(r, fileBufSize)
	head, err := br.Peek(4)
	if len(head) == 0 && err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: %w; there is nothing to read (was the capture stopped before the first packet?)", path, ErrEmptyFile)
		}
		return nil, pathError(path, err)
	}
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: gzip header: %v; check that the file was copied completely", path, ErrNotCapture, err)
		}
		fsrc.gz, fsrc.compressed = gz, true
		br = bufio.NewReaderSize(gz, fileBufSize)
		head, err = br.Peek(4)
		if len(head) == 0 {
			if err == io.EOF {
				return nil, fmt.Errorf("%s: %w (gzip with no content); there is nothing to read", path, ErrEmptyFile)
			}
			return nil, fsrc.truncated(&badRecord{off: 0, reason: fmt.Sprintf("gzip: %v", err), err: err}, 0)
		}
	}
	if len(head) < 4 {
		return nil, fmt.Errorf("%s: %w (only %d bytes); check the path", path, ErrNotCapture, len(head))
	}
	s := &stream{br: br}
	magic := binary.LittleEndian.Uint32(head)
	switch magic {
	case magicPcapMicro, magicPcapNano, magicPcapMicroSwap, magicPcapNanoSwap:
		fsrc.rd, err = newPcapReader(s)
	case magicPcapng:
		fsrc.rd, err = newNgReader(s)
	case magicPcapKuznetzov, magicPcapKuzSwap:
		return nil, fmt.Errorf("%s: %w (modified \"Kuznetzov\" pcap); convert it with: editcap -F pcap %s out.pcap", path, ErrNotCapture, path)
	default:
		err = ErrNotCapture
	}
	if err != nil {
		var br *badRecord
		if errors.As(err, &br) {
			return nil, fsrc.truncated(br, 0)
		}
		return nil, fmt.Errorf("%s: %w (starts with % x); give a .pcap or .pcapng file, or convert it with: editcap -F pcapng %s out.pcapng",
			path, ErrNotCapture, head[:4], path)
	}
	if lt, ok := fsrc.rd.firstLinkType(); ok {
		hand, supported := supportedLinkType(lt)
		if !supported {
			return nil, linkTypeError(path, lt)
		}
		fsrc.lt = hand
	} else {
		fsrc.lt = layers.LinkTypeEthernet
	}
	if fsrc.filter != "" {
		prog, err := CompileFilter(fsrc.filter, fsrc.lt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", path, ErrFilter, err)
		}
		fsrc.filters = []ltFilter{{lt: fsrc.lt, vm: vm}}
	}
	return fsrc, nil
}

// maxEmptyRun is how many zero-length records in a row a file may hold
// before it is refused as not a capture.
const maxEmptyRun = 4096

// truncated turns a record reader's badRecord into a *TruncatedError.
func (f *fileSource) truncated(br *badRecord, packets uint64) *TruncatedError {
	return &TruncatedError{
		Path:       f.path,
		Offset:     br.off,
		Packets:    int(packets),
		Reason:     br.reason,
		Compressed: f.compressed,
		Err:        br.err,
	}
}

// ZeroCopyReadPacketData returns the next frame that passes the filter.
func (f *fileSource) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	for {
		if f.done {
			return nil, gopacket.CaptureInfo{}, io.EOF
		}
		data, ci, lt, err := f.rd.next()
		if err == ErrIdle {
			return nil, gopacket.CaptureInfo{}, ErrIdle
		}
		if err != nil {
			f.done = true
			var br *badRecord
			if errors.As(err, &br) {
				return nil, gopacket.CaptureInfo{}, f.truncated(br, f.frame)
			}
			return nil, gopacket.CaptureInfo{}, err
		}
		f.frame++
		if len(data) == 0 {
			// A record with no captured byte is no packet: it is not
			// counted or decoded. A long run of them is a crafted or
			// broken file (16 bytes each, they compress to nothing: a
			// 2 MB gzip held 134 million) and ends the file.
			if f.emptyRun++; f.emptyRun > maxEmptyRun {
				f.done = true
				return nil, gopacket.CaptureInfo{}, f.truncated(&badRecord{off: f.rd.offset(), reason: fmt.Sprintf(
					"more than %d records in a row hold no packet data: not a capture", maxEmptyRun)}, f.c.packets.Load())
			}
			continue
		}
		f.emptyRun = 0
		f.c.packets.Add(1)
		f.c.bytes.Add(uint64(len(data)))
		hand, ok := supportedLinkType(lt)
		if !ok {
			f.c.skipped.Add(1)
			continue
		}
		if lt == linkTypeLinuxSLL2 {
			data, ci = sll2ToSLL(data, ci)
		}
		if len(data) > f.snaplen {
			data = data[:f.snaplen]
			ci.CaptureLength = f.snaplen
		}
		f.lt = hand
		if f.filter != "" && !f.pass(data) {
			f.c.filtered.Add(1)
			continue
		}
		return data, ci, nil
	}
}

// pass runs the userland filter compiled for the current link type.
func (f *fileSource) pass(data []byte) bool {
	if f.filters[f.lastFilt].lt != f.lt {
		f.lastFilt = -1
		for i := range f.filters {
			if f.filters[i].lt == f.lt {
				f.lastFilt = i
				break
			}
		}
		if f.lastFilt < 0 {
			var vm *bpf.VM
			if prog, err := CompileFilter(f.filter, f.lt); err == nil {
				vm, _ = bpf.NewVM(prog)
			}
			f.filters = append(f.filters, ltFilter{lt: f.lt, vm: vm})
			f.lastFilt = len(f.filters) - 1
		}
	}
	vm := f.filters[f.lastFilt].vm
	if vm == nil {
		return false
	}
	n, err := vm.Run(data)
	return err == nil && n > 0
}

// sll2ToSLL rewrites a Linux SLL2 header (20 bytes) in place as an SLL
// header (16 bytes), because layers.LinkType cannot hold 276 and gopacket
// decodes SLL. Frames too short to hold the header are returned unchanged.
func sll2ToSLL(data []byte, ci gopacket.CaptureInfo) ([]byte, gopacket.CaptureInfo) {
	if len(data) < 20 {
		return data, ci
	}
	var addr [8]byte
	proto0, proto1 := data[0], data[1]
	hatype0, hatype1 := data[8], data[9]
	pkttype, alen := data[10], data[11]
	copy(addr[:], data[12:20])
	out := data[4:]
	out[0], out[1] = 0, pkttype
	out[2], out[3] = hatype0, hatype1
	out[4], out[5] = 0, alen
	copy(out[6:14], addr[:])
	out[14], out[15] = proto0, proto1
	ci.CaptureLength -= 4
	ci.Length -= 4
	return out, ci
}

// LinkType is the link type of the frame returned last.
func (f *fileSource) LinkType() layers.LinkType { return f.lt }

// Name is the file path as given.
func (f *fileSource) Name() string { return f.path }

// BytesRead returns how many bytes of the file have been read so far (of
// the compressed file for a gzipped one, so it compares with the file's
// size), for a progress bar. Safe to call from any goroutine while the
// source is read.
func (f *fileSource) BytesRead() int64 {
	if f.read == nil {
		return 0
	}
	return f.read.Load()
}

// countingReader counts the bytes read from a file: one atomic add per
// buffered read (64 KiB), never per packet.
type countingReader struct {
	f *os.File
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.f.Close() }

// Frame is the record number of the frame returned last (tshark's frame.number).
func (f *fileSource) Frame() uint64 { return f.frame }

// Live reports false.
func (f *fileSource) Live() bool { return false }

// Stats returns the counters.
func (f *fileSource) Stats() Stats { return f.c.snapshot() }

// Close closes the file. Closing twice is harmless.
func (f *fileSource) Close() error {
	f.done = true
	if f.pipe != nil {
		// the goroutine may be inside the gzip reader: leave it alone
		f.pipe.close()
		f.gz = nil
	}
	if f.closer == nil {
		return nil
	}
	defer func() { f.closer, f.gz = nil, nil }()
	var gzErr error
	if f.gz != nil {
		gzErr = f.gz.Close()
	}
	if f.closer == os.Stdin {
		return gzErr
	}
	return errors.Join(f.closer.Close(), gzErr)
}
