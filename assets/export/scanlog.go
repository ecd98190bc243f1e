package export

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"otscope/model"
)

// ScanLogCSVHeader is the header row of ScanLog's CSV format.
var ScanLogCSVHeader = []string{
	"scan", "seq", "time", "target", "transport", "port", "probe", "kind",
	"bytes", "packets", "answer", "answer_bytes", "error",
}

// ScanLog writes the active scanner's packet log in the named format: JSON
// (an array of model.ScanRecord), CSV (one row per record) or a table. A
// plant files it with its change record, so every record is written, in
// order, with its times in UTC.
func ScanLog(w io.Writer, format string, recs []model.ScanRecord) error {
	switch format {
	case "json":
		if recs == nil {
			recs = []model.ScanRecord{}
		}
		return writeJSON(w, recs)
	case "csv":
		cw := newCSV(w)
		if err := cw.Write(ScanLogCSVHeader); err != nil {
			return err
		}
		for _, r := range recs {
			if err := cw.Write([]string{
				r.Scan, strconv.FormatUint(r.Seq, 10), r.Time.UTC().Format(time.RFC3339Nano), r.Target.String(),
				r.Transport, strconv.Itoa(int(r.Port)), r.Probe, r.Kind, strconv.Itoa(r.Bytes),
				strconv.Itoa(r.Packets), r.Answer, strconv.Itoa(r.AnswerBytes), r.Error,
			}); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "table":
		if len(recs) == 0 {
			_, err := fmt.Fprintln(w, "no scans yet: 'otscope scan' records here every packet it sends")
			return err
		}
		tw := newTable(w, 2)
		tw.row("TIME", "TARGET", "PORT", "KIND", "BYTES", "PKTS", "ANSWER")
		for _, r := range recs {
			port := "-"
			if r.Port != 0 {
				port = r.Transport + "/" + strconv.Itoa(int(r.Port))
			} else if r.Transport != "" {
				port = r.Transport
			}
			ans := r.Answer
			if r.Error != "" {
				ans = r.Error
			}
			tw.row(r.Time.UTC().Format("15:04:05.000"), r.Target.String(), port, r.Kind, strconv.Itoa(r.Bytes),
				strconv.Itoa(r.Packets), dash(ans))
		}
		return tw.Flush()
	}
	return fmt.Errorf("%q: %w", format, ErrFormat)
}
