// Package cli is otscope's command line: one file per command on
// github.com/spf13/cobra, a shared root with the persistent flags (--db,
// --log) and one place that checks session names and --format values.
//
// Adding a command: write NAME.go with a func newNAMECmd(a *app)
// *cobra.Command, register its session with a.sessionFlag (and its format
// with a.formatFlag) so the root checks them, return usage mistakes wrapped
// in ErrUsage, and add the constructor to commands() below.
package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"otscope/assets/export"
	"otscope/assets/store"
)

// ErrUsage marks command-line mistakes (exit status 2).
var ErrUsage = errors.New("usage")

// ErrViolations marks an audit that found violations at or above --fail-on
// (exit status 3, so scripts can tell it from an error).
var ErrViolations = errors.New("violations at or above the --fail-on severity")

// IO is where a command reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// app is one invocation: its streams, the persistent flags and the
// arguments as given.
type app struct {
	io      IO
	version string
	db      string
	logPath string
	args    []string
}

// Execute runs one command line (without the program name). Usage mistakes
// wrap ErrUsage, audits that fail wrap ErrViolations; help is not an error.
func Execute(args []string, streams IO, version string) error {
	a := &app{io: streams, version: version, args: args}
	root := a.newRoot()
	root.SetArgs(legacyFlags(root, args))
	root.SetIn(streams.Stdin)
	root.SetOut(streams.Stdout)
	root.SetErr(streams.Stderr)
	return tidyErr(root.Execute())
}

// commands are the subcommands, in the order help lists them.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.newUICmd(), a.newDemoCmd(), a.newReadCmd(), a.newCaptureCmd(),
		a.newAssetsCmd(), a.newLifecycleCmd(), a.newAdvisoriesCmd(), a.newAuditCmd(),
		a.newWaiveCmd(), a.newWaiversCmd(), a.newStateCmd(),
		a.newInventoryCmd(), a.newNameplateCmd(), a.newAddCmd(), a.newLocateCmd(), a.newVerdictCmd(),
		a.newScanCmd(), a.newScanLogCmd(), a.newSessionsCmd(),
		a.newExportCmd(), a.newImportCmd(), a.newMergeCmd(), a.newDiffCmd(),
		a.newPushCmd(), a.newPullCmd(), a.newSitesCmd(),
		a.newVersionCmd(), a.newCompletionCmd(),
	}
}

func (a *app) newRoot() *cobra.Command {
	var o uiOptions
	root := &cobra.Command{
		Use:   "otscope",
		Short: "OT asset inventory for plant networks (passive first)",
		Long: `otscope builds an inventory of an industrial plant network from its own traffic
(passive first), asks devices read-only questions under a hard packet budget
when told to, and shows it all in a terminal UI.

Without a command it opens the TUI on the most recent session (the flags of
'otscope ui' apply).`,
		Version:           a.appVersion(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		ValidArgsFunction: cobra.NoFileCompletions,
		Args: func(cmd *cobra.Command, args []string) error {
			// a first word that is no command is a typo, not a file
			if len(a.args) > 0 && !strings.HasPrefix(a.args[0], "-") {
				return fmt.Errorf("%w: unknown command %q", ErrUsage, a.args[0])
			}
			return nil
		},
		PersistentPreRunE: a.checkFlags,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runUI(o, args)
		},
	}
	root.SetVersionTemplate("otscope {{.Version}}\n")
	root.PersistentFlags().StringVar(&a.db, "db", "", "sessions directory `DIR` (default $XDG_DATA_HOME/otscope/sessions)")
	root.PersistentFlags().StringVar(&a.logPath, "log", "", "log `FILE` (default $XDG_STATE_HOME/otscope/otscope.log)")
	a.uiFlags(root, &o)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w: %s: %v", ErrUsage, cmd.Name(), err)
	})
	root.SetUsageTemplate(usageTemplate)
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "help about any command",
		ValidArgsFunction: func(c *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var names []cobra.Completion
			for _, sub := range root.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		Run: func(c *cobra.Command, args []string) {
			cmd, _, err := root.Find(args)
			if cmd == nil || err != nil {
				cmd = root
			}
			cmd.InitDefaultHelpFlag()
			cmd.Help()
		},
	})
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(a.commands()...)
	root.SetGlobalNormalizationFunc(aliases)
	return root
}

func init() {
	cobra.EnableCommandSorting = false // commands() gives the order
	cobra.AddTemplateFunc("flagUsages", func(fs *pflag.FlagSet) string {
		return strings.TrimRight(fs.FlagUsagesWrapped(80), "\n")
	})
}

// usageTemplate is cobra's, with flag help wrapped at 80 columns (the
// terminal of a plant engineer over SSH).
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{flagUsages .LocalFlags}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{flagUsages .InheritedFlags}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`

// Annotations on a command's flags that checkFlags acts on.
const (
	annRequired = "otscope_required"
	// annFormats lists the --format values of a command whose formats are
	// not the exports' json, csv and table.
	annFormats = "otscope_formats"
)

// sessionFlag adds -s/--session to cmd; required sessions are checked
// before the command runs, and every given name is validated.
func (a *app) sessionFlag(cmd *cobra.Command, p *string, help string, required bool) {
	if !strings.Contains(help, "`") {
		help = strings.Replace(help, "session", "`SESSION`", 1) // the name help shows
	}
	cmd.Flags().StringVarP(p, "session", "s", "", help)
	if required {
		cmd.Flags().SetAnnotation("session", annRequired, []string{"true"})
	}
	cmd.RegisterFlagCompletionFunc("session", a.completeSessions)
}

// formatFlag adds -f/--format (json, csv or table) to cmd; the value is
// checked before the command runs.
func (a *app) formatFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "format", "f", "table", "output `FORMAT`: "+strings.Join(export.Formats, ", "))
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(export.Formats, cobra.ShellCompDirectiveNoFileComp))
}

// checkFlags is the one place the shared flags are checked: a required
// --session is given and valid, --format is one the exports write.
func (a *app) checkFlags(cmd *cobra.Command, _ []string) error {
	if f := cmd.Flags().Lookup("session"); f != nil {
		name := f.Value.String()
		switch {
		case name == "" && len(f.Annotations[annRequired]) > 0:
			return fmt.Errorf("%w: %s: --session is required", ErrUsage, cmd.Name())
		case name != "":
			if err := store.ValidSessionName(name); err != nil {
				return fmt.Errorf("%w: --session %q: %v", ErrUsage, name, err)
			}
		}
	}
	if f := cmd.Flags().Lookup("format"); f != nil {
		// a command with formats of its own lists them in annFormats
		if own := f.Annotations[annFormats]; len(own) > 0 {
			if !slices.Contains(own, f.Value.String()) {
				return fmt.Errorf("%w: %s: --format %q: use %s", ErrUsage, cmd.Name(), f.Value.String(), strings.Join(own, ", "))
			}
		} else if !slices.Contains(export.Formats, f.Value.String()) {
			return fmt.Errorf("%w: %s: --format %q: %v", ErrUsage, cmd.Name(), f.Value.String(), export.ErrFormat)
		}
	}
	return nil
}

// legacyFlags rewrites the single-dash long flags Go's flag package took
// (`-session S`, `-format=json`) to the GNU spelling cobra parses, so
// command lines written for earlier versions keep working. Only names of
// the command's long flags are rewritten; a flag's value is left alone.
func legacyFlags(root *cobra.Command, args []string) []string {
	if len(args) > 0 && strings.HasPrefix(args[0], "__complete") {
		return args
	}
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	lookup := func(name string) *pflag.Flag {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f
		}
		return cmd.InheritedFlags().Lookup(name)
	}
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		arg := out[i]
		if arg == "--" {
			break
		}
		var f *pflag.Flag
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		switch {
		case strings.HasPrefix(arg, "--"):
			f = lookup(name)
		case strings.HasPrefix(arg, "-") && len(name) > 1:
			if f = lookup(name); f != nil {
				out[i] = "-" + arg
			}
		case strings.HasPrefix(arg, "-") && len(name) == 1:
			f = cmd.Flags().ShorthandLookup(name)
			if f == nil {
				f = cmd.InheritedFlags().ShorthandLookup(name)
			}
		}
		if f != nil && !hasValue && f.NoOptDefVal == "" {
			i++ // the flag's value, whatever it looks like
		}
	}
	return out
}

// usagef is a command-line mistake of command cmd.
func usagef(cmd, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrUsage, cmd, fmt.Sprintf(format, args...))
}

// aliases maps the older spellings of flags to their names: scan's
// --iface is -i/--interface everywhere.
func aliases(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if name == "iface" {
		name = "interface"
	}
	return pflag.NormalizedName(name)
}
