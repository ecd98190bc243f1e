package capture

import (
	"time"

	"github.com/google/gopacket"
)

// A pipe or standard input can stay silent for as long as its writer
// likes, and a read of it cannot be interrupted. So its records are read
// by a goroutine of their own and handed over one by one; the reader waits
// for the next at most pipeIdle and then returns ErrIdle, as a quiet live
// interface does, so the caller can look at its context (Ctrl-C) and flush
// what it has. The goroutine ends with the stream, or when the source is
// closed; one blocked in a read of a silent writer ends with the process.

// pipeIdle is how long a read waits for a pipe before it returns ErrIdle.
const pipeIdle = 250 * time.Millisecond

type pipeRecord struct {
	data []byte
	ci   gopacket.CaptureInfo
	lt   uint32
	off  int64
	err  error
}

// pipeRecords is a recordReader over another one read by a goroutine.
type pipeRecords struct {
	in    chan pipeRecord
	free  chan []byte
	stop  chan struct{}
	last  []byte // the buffer handed out by the previous next
	off   int64
	lt    uint32
	ltOK  bool
	timer *time.Timer
}

func newPipeRecords(rd recordReader) *pipeRecords {
	p := &pipeRecords{in: make(chan pipeRecord, 16), free: make(chan []byte, 18), stop: make(chan struct{}), off: rd.offset()}
	p.lt, p.ltOK = rd.firstLinkType()
	go p.pump(rd)
	return p
}

// pump reads records until the stream ends or the source is closed.
func (p *pipeRecords) pump(rd recordReader) {
	for {
		data, ci, lt, err := rd.next()
		var buf []byte
		select {
		case buf = <-p.free:
		default:
		}
		rec := pipeRecord{data: append(buf[:0], data...), ci: ci, lt: lt, off: rd.offset(), err: err}
		select {
		case p.in <- rec:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *pipeRecords) next() ([]byte, gopacket.CaptureInfo, uint32, error) {
	if p.last != nil {
		select {
		case p.free <- p.last:
		default:
		}
		p.last = nil
	}
	var rec pipeRecord
	select {
	case rec = <-p.in:
	default:
		if p.timer == nil {
			p.timer = time.NewTimer(pipeIdle)
		} else {
			p.timer.Reset(pipeIdle)
		}
		select {
		case rec = <-p.in:
			p.timer.Stop()
		case <-p.timer.C:
			return nil, gopacket.CaptureInfo{}, p.lt, ErrIdle
		}
	}
	p.off, p.last = rec.off, rec.data
	return rec.data, rec.ci, rec.lt, rec.err
}

func (p *pipeRecords) firstLinkType() (uint32, bool) { return p.lt, p.ltOK }

func (p *pipeRecords) offset() int64 { return p.off }

// close stops the goroutine once its pending read returns.
func (p *pipeRecords) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
}
