package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"filippo.io/age"

	"otscope/assets/bundle"
)

// ownFormatFlag adds -f/--format with the command's own formats (checked
// by checkFlags) and default def.
func ownFormatFlag(cmd *cobra.Command, p *string, def string, formats []string) {
	cmd.Flags().StringVarP(p, "format", "f", def, "output `FORMAT`: "+strings.Join(formats, ", "))
	cmd.Flags().SetAnnotation("format", annFormats, formats)
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}

// passphrase reads --passphrase-file, else $OTSCOPE_PASSPHRASE; "" when
// neither is given. A passphrase is never taken from the command line,
// where other users of the host could read it.
func passphrase(file string) (string, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		p, err := bundle.ReadPassphrase(f)
		if err != nil {
			return "", fmt.Errorf("--passphrase-file %s: %w", file, err)
		}
		return p, nil
	}
	return os.Getenv("OTSCOPE_PASSPHRASE"), nil
}

// readIdentities reads an age identity file and/or the passphrase.
func readIdentities(identityFile, passFile string) ([]age.Identity, error) {
	var r io.Reader
	if identityFile != "" {
		f, err := os.Open(identityFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	pass, err := passphrase(passFile)
	if err != nil {
		return nil, err
	}
	return bundle.Identities(r, pass)
}
