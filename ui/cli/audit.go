package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"otscope/assets/export"
	"otscope/assets/policy"
)

func (a *app) newAuditCmd() *cobra.Command {
	var (
		r        reportCmd
		failOn   string
		policies []string
		cf       centralFlags
		site     string
	)
	cmd := &cobra.Command{
		Use:   "audit -s SESSION [--policy F]... [-f table|json|csv] [--fail-on SEVERITY]",
		Short: "check the session against the policy packs; exit 3 on --fail-on",
		Long: `Check the session against the default policy pack and your --policy files.
Exits 3 when unwaived violations at or above --fail-on exist.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var threshold policy.Severity
			if failOn != "" {
				sev, err := policy.ParseSeverity(failOn)
				if err != nil {
					return usagef("audit", "--fail-on: %v", err)
				}
				threshold = sev
			}
			src, err := r.cat.sources(a.io.Stderr, true, policies)
			if err != nil {
				return err
			}
			if cf.given() == (r.session != "") {
				return usagef("audit", "give -s SESSION, or --from DSN --site NAME for the central database")
			}
			if cf.given() {
				ctx, stop := signalContext()
				defer stop()
				from := cf
				cf = centralFlags{}
				return a.withCentralSite(ctx, &from, "audit", site, func(tmp string) error {
					r.session = tmp
					return cmd.RunE(cmd, nil)
				})
			}
			snap, an, err := a.analyse(r.session, src)
			if err != nil {
				return err
			}
			rep := an.Report
			if err := export.Audit(a.io.Stdout, r.format, rep, snap.Assets); err != nil {
				return err
			}
			for _, p := range rep.Errors {
				fmt.Fprintf(a.io.Stderr, "otscope: policy: %v\n", p)
			}
			if failOn != "" && len(policy.SeverityAtLeast(unwaived(rep.Violations), threshold)) > 0 {
				return ErrViolations
			}
			// A rule that did not load, or failed to run, leaves the audit
			// incomplete: a CI gate must not pass on it (exit 1; exit 3
			// above already fails it).
			if unrun := unrunRules(r.cat.policyProblems, rep.Errors); len(unrun) > 0 {
				return fmt.Errorf("audit incomplete: %s did not run (see above); fix the policy or remove it", strings.Join(unrun, ", "))
			}
			return nil
		},
	}
	a.reportFlags(cmd, &r)
	cmd.Flags().SetAnnotation("session", annRequired, nil) // or --from
	cf.register(cmd, "from", "audit a site's merged inventory in the central database")
	cmd.Flags().StringVar(&site, "site", "", "with --from: the site `NAME`")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit 3 when violations of this severity or higher exist (info, low, medium, high, critical)")
	policyFlag(cmd, &policies, "policy file or directory `PATH` (YAML; repeatable), on top of the default pack")
	cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"info", "low", "medium", "high", "critical"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// unrunRules names the rules (or, for a problem outside a rule, the files)
// that load problems and evaluation errors kept from running, each once.
func unrunRules(lists ...[]policy.Problem) []string {
	var out []string
	for _, ps := range lists {
		for _, p := range ps {
			n := p.File
			if p.Rule != "" {
				n = fmt.Sprintf("rule %q", p.Rule)
			}
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}
