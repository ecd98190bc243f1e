package cli

import (
	"bufio"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"otscope/assets/bundle"
	"otscope/assets/store"
)

func (a *app) newImportCmd() *cobra.Command {
	var as, identity, passFile string
	cmd := &cobra.Command{
		Use:   "import FILE [--as NAME] [--identity FILE] [--passphrase-file FILE]",
		Short: "import a session bundle (from 'otscope export -f bundle')",
		Long: `import recreates the session a bundle holds, under its own name or --as NAME.
The whole bundle is checked first (a truncated, damaged or altered bundle, or
one from a newer otscope, is refused and nothing is written); an existing
session is never overwritten. An encrypted bundle needs --identity (age
identity file) or the passphrase (--passphrase-file or $OTSCOPE_PASSPHRASE).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if as != "" {
				if err := store.ValidSessionName(as); err != nil {
					return usagef("import", "--as %q: %v", as, err)
				}
			}
			ids, err := readIdentities(identity, passFile)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			s, h, err := bundle.Read(bufio.NewReader(f), bundle.ReadOptions{Identities: ids})
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			name := as
			if name == "" {
				name = s.Name
			}
			return a.withStore(func(st *store.Store) error {
				if err := bundle.ToStore(st, name, &s); err != nil {
					return err
				}
				fmt.Fprintf(a.io.Stdout, "imported session %s: %d assets, %d conversations, %d journal records (exported by otscope %s on %s)\n",
					name, len(s.Assets), len(s.Conversations), h.Counts[bundle.TypeJournal], h.Otscope, h.Created.Format("2006-01-02 15:04 MST"))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "import under session `NAME` instead of the bundle's")
	cmd.Flags().StringVar(&identity, "identity", "", "age identity `FILE` for an encrypted bundle")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase `FILE` for an encrypted bundle (or $OTSCOPE_PASSPHRASE)")
	return cmd
}
