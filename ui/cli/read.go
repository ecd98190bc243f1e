package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"

	"github.com/spf13/cobra"

	"otscope/assets/store"
	"otscope/model/safe"
	"otscope/scan"
	"otscope/scan/capture"
)

func (a *app) newReadCmd() *cobra.Command {
	var (
		session, filter, cpuprofile string
		quiet, force                bool
		speed                       float64
	)
	cmd := &cobra.Command{
		Use:   "read FILE... -s SESSION [--force]",
		Short: "ingest pcap/pcapng files (gzip ok) into a session",
		Long: `Read capture files into a session, one after the other. A file the session
has already read to its end is recognised by its content and skipped (its
packets would be counted twice); --force reads it again. Each file is
recorded as a run of the session, so a read that is killed shows as
interrupted in 'otscope sessions'.`,
		RunE: func(cmd *cobra.Command, files []string) error {
			if len(files) == 0 {
				return usagef("read", "no capture files given")
			}
			if speed < 0 {
				return usagef("read", "--speed must be >= 0")
			}
			opts := capture.Options{Filter: filter}
			if len(files) > 1 && slices.Contains(files, "-") {
				return usagef("read", "-: standard input can only be read on its own, not with other files")
			}
			// every file is checked before the first is read (a typo in the
			// last one must not leave half a read behind, nor a new session)
			if check := openableAhead(files); len(check) > 0 {
				src, err := capture.OpenFiles(check, opts)
				if err != nil {
					return err
				}
				src.Close()
			}
			return a.withEnv(func(e *env) error {
				runs, err := a.readRuns(e.st, session, files, opts, force)
				if err != nil {
					return err
				}
				if len(runs) == 0 {
					fmt.Fprintf(a.io.Stdout, "session %s: nothing to read\n", session)
					return nil
				}
				if cpuprofile != "" {
					pf, err := os.Create(cpuprofile)
					if err != nil {
						return err
					}
					defer pf.Close()
					if err := pprof.StartCPUProfile(pf); err != nil {
						return err
					}
					defer pprof.StopCPUProfile()
				}
				return headlessEnv(e, session, a.io.Stderr, a.io.Stdout, runs, scan.IngestOptions{Pace: speed}, !quiet)
			})
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "session to add to (required)", true)
	fs.StringVar(&filter, "filter", "", "capture `FILTER` (tcpdump syntax subset)")
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	fs.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	fs.BoolVar(&force, "force", false, "read files the session has already read again")
	fs.Float64Var(&speed, "speed", 0, "replay at capture-time speed times this (0: as fast as possible)")
	return cmd
}

// openableAhead returns the files that can be checked ahead without
// blocking: not "-" and not pipes (missing files and directories are
// kept, to fail the check).
func openableAhead(files []string) []string {
	var out []string
	for _, f := range files {
		if fi, err := os.Stat(f); f != "-" && (err != nil || fi.Mode().IsRegular() || fi.IsDir()) {
			out = append(out, f)
		}
	}
	return out
}

// readRuns turns files into runs, skipping (with a line on stdout) those
// the session has read to their end before unless force is set.
func (a *app) readRuns(st *store.Store, session string, files []string, opts capture.Options, force bool) ([]run, error) {
	var runs []run
	seen := map[store.FileID]string{}
	for _, path := range files {
		r := run{name: path, open: func() (capture.Source, error) { return capture.OpenFile(path, opts) }}
		// pipes have no identity (and opening one would block here)
		if fi, err := os.Stat(path); path != "-" && err == nil && fi.Mode().IsRegular() {
			if id, err := store.IdentifyFile(path); err == nil {
				r.file = &id
			}
		}
		if r.file != nil {
			if first, dup := seen[*r.file]; dup {
				fmt.Fprintf(a.io.Stdout, "%s: same capture as %s, read once\n", safe.Text(path), safe.Text(first))
				continue
			}
			seen[*r.file] = path
			prev, read, err := st.FileRead(session, *r.file)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if read && !force {
				pkts := uint64(0)
				if prev.Stats != nil {
					pkts = prev.Stats.Packets
				}
				fmt.Fprintf(a.io.Stdout, "%s: already read into %s on %s (%d packets); --force reads it again\n",
					safe.Text(path), session, prev.Finished.Local().Format("2006-01-02 15:04"), pkts)
				continue
			}
			r.forced = read
		}
		runs = append(runs, r)
	}
	return runs, nil
}
