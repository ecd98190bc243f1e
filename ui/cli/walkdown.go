package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"otscope/assets"
	"otscope/assets/export"
	"otscope/assets/lifecycle"
	"otscope/assets/store"
	"otscope/assets/walkdown"
	"otscope/model"
)

// The walkdown commands (issue 9): import the documented inventory, print
// a checklist, record nameplates, add devices the network cannot see,
// place assets and give verdicts. Each is one call of assets/walkdown's
// API; every asset is named the one way (resolveAsset).

func (a *app) newInventoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory import|checklist",
		Short: "the documented inventory: import the plant's list, print checklists",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("inventory", "give import or checklist")
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	cmd.AddCommand(a.newInventoryImportCmd(), a.newChecklistCmd())
	return cmd
}

func (a *app) newInventoryImportCmd() *cobra.Command {
	var (
		session, sheet, by string
		maps               []string
	)
	cmd := &cobra.Command{
		Use:   "import FILE -s SESSION [--map COLUMN=field]... [--sheet NAME]",
		Short: "import the documented inventory (CSV or XLSX) into a session",
		Long: `Import the plant's own device list (CSV or XLSX) as the documented inventory
of the session. Rows that cannot be used are reported with their place on
stderr and skipped; a newer file updates the rows it lists and withdraws the
tags it no longer lists. --map COLUMN=field names a column the headers do not
make clear (fields: tag, location, vendor, product, order_number, serial,
firmware, hardware_version, ip, mac, description).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("inventory import", "give one FILE (CSV or XLSX)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := walkdown.ParseMap(maps); err != nil {
				return usagef("inventory import", "%v", err)
			}
			return a.withSession(session, func(e *env, _ store.Snapshot) error {
				sum, im, err := walkdown.ImportFile(e.st, session, args[0], maps, sheet, by)
				for _, p := range im.Problems {
					fmt.Fprintf(a.io.Stderr, "otscope: %s\n", p.Error())
				}
				if err != nil {
					return err // the file is refused whole: nothing stored
				}
				fmt.Fprintf(a.io.Stdout, "%s: %d rows imported (%d new, %d updated, %d unchanged, %d withdrawn), %d skipped\n",
					args[0], len(im.Rows), sum.Added, sum.Updated, sum.Unchanged, sum.Withdrawn, len(im.Problems))
				if len(im.Ignored) > 0 {
					fmt.Fprintf(a.io.Stdout, "columns not used: %s (name them with --map COLUMN=field)\n", strings.Join(im.Ignored, ", "))
				}
				return nil
			})
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	fs.StringArrayVar(&maps, "map", nil, "`COLUMN=field`: read a column as a field (repeatable)")
	fs.StringVar(&sheet, "sheet", "", "XLSX sheet `NAME` (default: the first)")
	fs.StringVar(&by, "by", operator(), "who imports it")
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{"csv", "xlsx"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return cmd
}

func (a *app) newChecklistCmd() *cobra.Command {
	var session, at, format, out string
	cmd := &cobra.Command{
		Use:   "checklist -s SESSION [--at PATH] [-f html|csv] [-o FILE]",
		Short: "print what is expected at a location (HTML or CSV)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withSession(session, func(e *env, snap store.Snapshot) error {
				write := func(w io.Writer) error {
					return walkdown.Checklist(e.st, session, snap.Assets, at, format, w)
				}
				if out == "" || out == "-" {
					return write(a.io.Stdout)
				}
				if err := export.WriteFile(out, write); err != nil {
					return err
				}
				fmt.Fprintf(a.io.Stderr, "otscope: wrote %s\n", out)
				return nil
			})
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	fs.StringVar(&at, "at", "", "location `PATH` (Plant/Hall 1/Cabinet +A2; default: the whole plant)")
	ownFormatFlag(cmd, &format, "html", []string{"html", "csv"})
	fs.StringVarP(&out, "output", "o", "", "write to `FILE` (default: stdout)")
	cmd.RegisterFlagCompletionFunc("at", a.completeLocations)
	return cmd
}

func (a *app) newNameplateCmd() *cobra.Command {
	var session, asset, by string
	cmd := &cobra.Command{
		Use:   "nameplate -s SESSION --asset REF field=value...",
		Short: "record what an asset's nameplate says (manual facts)",
		Long: `Record values read from an asset's nameplate as manual facts (who and when
kept). Discovery never overwrites them; where they disagree with the network
both stay and the walkdown verdict compares them.
Fields:
  ` + strings.Join(walkdown.NameplateFields, ", ") + ".",
		RunE: func(cmd *cobra.Command, args []string) error {
			if asset == "" || len(args) == 0 {
				return usagef("nameplate", "give --asset and at least one field=value")
			}
			if _, err := walkdown.ParseValues(args); err != nil {
				return usagef("nameplate", "%v", err)
			}
			return a.withSession(session, func(e *env, snap store.Snapshot) error {
				id, err := walkdown.SetNameplate(e.st, session, snap.Assets, asset, args, by)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.io.Stdout, "%s: recorded %s (by %s)\n", id, strings.Join(args, ", "), by)
				return nil
			})
		},
		ValidArgsFunction: walkdownFieldCompletions("="),
	}
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	assetFlag(a, cmd, &asset, "`REF`: the asset's id, IP, MAC, name or tag (required)")
	cmd.Flags().StringVar(&by, "by", operator(), "who read it")
	return cmd
}

func (a *app) newAddCmd() *cobra.Command {
	var session, name, parent, slot, location, by string
	cmd := &cobra.Command{
		Use:   "add -s SESSION --name NAME [--parent REF --slot N] [--location PATH] [field=value...]",
		Short: "add a device the network cannot see (an I/O module, a serial device)",
		Long: `Add a device the network cannot see as a manual asset (id manual:<name>), with
its nameplate values, the asset it sits in (--parent, --slot) and where it is.
It is exported, audited and checked against the lifecycle catalog like any
other asset.
Fields:
  ` + strings.Join(walkdown.NameplateFields, ", ") + ".",
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(name) == "" {
				return usagef("add", "--name is required")
			}
			if _, err := walkdown.ParseValues(args); err != nil {
				return usagef("add", "%v", err)
			}
			if slot != "" && parent == "" {
				return usagef("add", "--slot needs --parent")
			}
			return a.withSession(session, func(e *env, snap store.Snapshot) error {
				id, err := walkdown.AddDevice(e.st, session, snap.Assets, name, parent, slot, location, args, by)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.io.Stdout, "added %s\n", id)
				return nil
			})
		},
		ValidArgsFunction: walkdownFieldCompletions("="),
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	fs.StringVar(&name, "name", "", "the device's `NAME` (its tag on the floor; required)")
	fs.StringVar(&parent, "parent", "", "`REF` of the asset it sits in (rack, PLC, gateway)")
	fs.StringVar(&slot, "slot", "", "its slot `N` in --parent")
	fs.StringVar(&location, "location", "", "where it is: `PATH` (Plant/Hall 1/Cabinet +A2)")
	fs.StringVar(&by, "by", operator(), "who adds it")
	cmd.RegisterFlagCompletionFunc("parent", a.completeAssetRefs)
	cmd.RegisterFlagCompletionFunc("location", a.completeLocations)
	return cmd
}

func (a *app) newLocateCmd() *cobra.Command {
	var (
		session, at, by string
		refs            []string
	)
	cmd := &cobra.Command{
		Use:   "locate -s SESSION --asset REF... --at PATH",
		Short: "place assets at a location (Plant/Hall 1/Cabinet +A2)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(refs) == 0 || strings.TrimSpace(at) == "" {
				return usagef("locate", "give --asset (repeatable) and --at PATH")
			}
			return a.withSession(session, func(e *env, snap store.Snapshot) error {
				ids, err := walkdown.LocateAssets(e.st, session, snap.Assets, refs, at, by)
				if err != nil {
					return err
				}
				loc := model.ParseLocation(at)
				for _, id := range ids {
					fmt.Fprintf(a.io.Stdout, "%s: at %s\n", id, loc)
				}
				return nil
			})
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	fs.StringArrayVar(&refs, "asset", nil, "`REF`: an asset's id, IP, MAC, name or tag (repeatable)")
	cmd.RegisterFlagCompletionFunc("asset", a.completeAssetRefs)
	fs.StringVar(&at, "at", "", "the location `PATH`, levels joined with / (required)")
	fs.StringVar(&by, "by", operator(), "who places them")
	cmd.RegisterFlagCompletionFunc("at", a.completeLocations)
	return cmd
}

// verdictValues are the verdicts a person gives.
var verdictValues = []string{"match", "compatible", "mismatch", "missing"}

func (a *app) newVerdictCmd() *cobra.Command {
	var session, asset, set, why, by string
	cmd := &cobra.Command{
		Use:   "verdict -s SESSION --asset REF --set match|compatible|mismatch|missing --why TEXT",
		Short: "give an asset the verdict of the walkdown",
		Long: `Give an asset (or a documented tag no asset matched) the walkdown verdict, with
--why. The inventory state follows: match and compatible verify the asset,
mismatch withdraws a verification, missing marks it missing. --set unverified
withdraws the person's verdict.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case asset == "" || set == "":
				return usagef("verdict", "--asset and --set are required")
			case strings.TrimSpace(why) == "":
				return usagef("verdict", "--why is required")
			}
			if _, ok := model.ParseVerdict(set); !ok {
				return usagef("verdict", "--set %q: give %s", set, strings.Join(verdictValues, ", "))
			}
			return a.withSession(session, func(e *env, snap store.Snapshot) error {
				j, err := assets.ReadJournals(e.st, session)
				if err != nil {
					return err
				}
				tr := stateTracker(e.st, session, snap, j)
				b, _, err := walkdown.Open(e.st, session)
				if err != nil {
					return err
				}
				// The inventory state follows for assets the tracker knows
				// (a device added by hand has no automatic state to start from).
				var states walkdown.States
				if id, err := b.Resolve(snap.Assets, asset); err == nil {
					if err := trackFirst(tr, snap, id); err != nil {
						return err
					}
					if tr.Current(id) != lifecycle.Untracked {
						states = tr
					}
				}
				target, err := walkdown.SetAssetVerdict(e.st, session, snap.Assets, asset, set, why, by, states)
				if target == "" {
					return err
				}
				fmt.Fprintf(a.io.Stdout, "%s: %s (by %s)\n", target, strings.ToLower(set), by)
				if err != nil {
					return err // the verdict is stored; the state could not follow
				}
				if states != nil {
					fmt.Fprintf(a.io.Stdout, "%s: state %s\n", target, tr.Current(model.AssetID(target)))
				}
				return nil
			})
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &session, "`SESSION` (required)", true)
	assetFlag(a, cmd, &asset, "`REF`: the asset's id, IP, MAC, name or tag, or a documented tag (required)")
	fs.StringVar(&set, "set", "", "the verdict: "+strings.Join(verdictValues, ", "))
	fs.StringVar(&why, "why", "", "what was found (required)")
	fs.StringVar(&by, "by", operator(), "who gives it")
	cmd.RegisterFlagCompletionFunc("set", cobra.FixedCompletions(append(verdictValues, "unverified"), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// assetFlag adds --asset (one REF) with the completion of asset references.
func assetFlag(a *app, cmd *cobra.Command, p *string, help string) {
	cmd.Flags().StringVar(p, "asset", "", help)
	cmd.RegisterFlagCompletionFunc("asset", a.completeAssetRefs)
}

// walkdownFieldCompletions completes field=value arguments with the
// nameplate fields.
func walkdownFieldCompletions(suffix string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		out := make([]cobra.Completion, 0, len(walkdown.NameplateFields))
		for _, f := range walkdown.NameplateFields {
			out = append(out, f+suffix)
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}
