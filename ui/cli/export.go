package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets/bundle"
	"otscope/assets/export"
)

// exportFormats are the formats of 'otscope export'.
var exportFormats = append([]string{"bundle"}, export.ReportFormats...)

func (a *app) newExportCmd() *cobra.Command {
	var (
		session, format, out, passFile, keyFile string
		to                                      []string
		pseudo                                  bool
		cat                                     catalogFlags
	)
	cmd := &cobra.Command{
		Use:   "export -s SESSION [-f bundle|json|csv|html|cyclonedx|cyclonedx-1.7] [-o FILE]",
		Short: "export a session: a bundle to import elsewhere, or a report",
		Long: `export writes the session as a bundle (everything it holds, to 'otscope import'
on another machine; --encrypt-to age recipients or a passphrase from
--passphrase-file or $OTSCOPE_PASSPHRASE; --pseudonymize --key FILE replaces
addresses and names for sharing) or as a report: json, csv, html (one
self-contained file), cyclonedx (hardware BOM, CycloneDX 1.6) or
cyclonedx-1.7. With -o the file is written whole or not at all.`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "bundle" && (len(to) > 0 || passFile != "" || pseudo || keyFile != "") {
				return usagef("export", "--encrypt-to, --passphrase-file and --pseudonymize are for -f bundle")
			}
			if pseudo != (keyFile != "") {
				return usagef("export", "--pseudonymize needs --key FILE (64 hex digits; it stays on this machine)")
			}
			if out == "" && format == "bundle" && isTerminal(a.io.Stdout) {
				return usagef("export", "a bundle is binary: give -o FILE")
			}
			write, err := a.exportWriter(session, format, to, passFile, keyFile, &cat)
			if err != nil {
				return err
			}
			if out == "" {
				return write(a.io.Stdout)
			}
			if err := export.WriteFile(out, write); err != nil {
				return err
			}
			fmt.Fprintf(a.io.Stderr, "wrote %s\n", out)
			return nil
		},
	}
	a.sessionFlag(cmd, &session, "`SESSION` to export (required)", true)
	ownFormatFlag(cmd, &format, "bundle", exportFormats)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` (default standard output)")
	cmd.Flags().StringSliceVar(&to, "encrypt-to", nil, "encrypt the bundle to age `RECIPIENT` (age1...; repeatable)")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "encrypt the bundle with the passphrase in `FILE` (or $OTSCOPE_PASSPHRASE)")
	cmd.Flags().BoolVar(&pseudo, "pseudonymize", false, "replace IPs, MACs and names (keyed with --key)")
	cmd.Flags().StringVar(&keyFile, "key", "", "pseudonymization key `FILE` (64 hex digits)")
	cat.register(cmd)
	return cmd
}

// exportWriter loads what the format needs and returns the function that
// writes it.
func (a *app) exportWriter(session, format string, to []string, passFile, keyFile string, cat *catalogFlags) (func(io.Writer) error, error) {
	if format == "bundle" {
		pass := ""
		if passFile != "" || len(to) == 0 {
			var err error
			if pass, err = passphrase(passFile); err != nil {
				return nil, err
			}
		}
		recips, err := bundle.Recipients(to, pass)
		if err != nil {
			return nil, fmt.Errorf("%w: export: %v", ErrUsage, err)
		}
		var key []byte
		if keyFile != "" {
			raw, err := os.ReadFile(keyFile)
			if err != nil {
				return nil, err
			}
			if key, err = bundle.ParseKey(raw); err != nil {
				return nil, fmt.Errorf("--key %s: %w", keyFile, err)
			}
		}
		e, err := openEnvAt(a.db, a.logPath, true)
		if err != nil {
			return nil, err
		}
		s, skipped, err := bundle.FromStore(e.st, session)
		e.close()
		if err != nil {
			return nil, err
		}
		if skipped > 0 {
			fmt.Fprintf(a.io.Stderr, "warning: %d damaged records of session %s could not be read and are not in the bundle\n", skipped, session)
		}
		if key != nil {
			if err := bundle.Pseudonymize(&s, key); err != nil {
				return nil, err
			}
		}
		o := bundle.Options{Otscope: a.appVersion(), Recipients: recips, Pseudonymized: key != nil}
		return func(w io.Writer) error { return bundle.Write(w, &s, o) }, nil
	}
	src, err := cat.sources(a.io.Stderr, true, nil)
	if err != nil {
		return nil, err
	}
	e, err := openEnvAt(a.db, a.logPath, true)
	if err != nil {
		return nil, err
	}
	rep, err := sessionReport(e.st, session, a.appVersion(), src, time.Now())
	e.close()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(export.ReportFormats, format) {
		return nil, usagef("export", "--format %q", format)
	}
	return func(w io.Writer) error { return export.WriteReport(w, format, rep) }, nil
}
