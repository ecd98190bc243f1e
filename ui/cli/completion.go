package cli

import (
	"github.com/spf13/cobra"
)

func (a *app) newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "print the shell completion script",
		Long: `Print the completion script for your shell. It completes commands, flags,
session names, asset references, rule ids and probe names.

  bash:  source <(otscope completion bash)
  zsh:   otscope completion zsh > "${fpath[1]}/_otscope"
  fish:  otscope completion fish > ~/.config/fish/completions/otscope.fish`,
		ValidArgs: []cobra.Completion{"bash", "zsh", "fish"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), a.io.Stdout
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			default:
				return root.GenFishCompletion(out, true)
			}
		},
	}
}
