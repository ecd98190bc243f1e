package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets"
	"otscope/assets/advisory"
	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/assets/walkdown"
	"otscope/model"
)

// catalogFlags are the offline catalogs a command can enrich assets with.
type catalogFlags struct {
	catalogs, csaf []string
	kev            string
	// policyProblems are the problems sources met in the --policy files
	// (rules that did not load and so do not run).
	policyProblems []policy.Problem
}

func (cf *catalogFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringArrayVar(&cf.catalogs, "catalog", nil, "user lifecycle catalog `FILE` (YAML or CSV; repeatable), on top of the embedded one")
	fs.StringArrayVar(&cf.csaf, "csaf", nil, "CISA CSAF 2.0 advisory file or directory (`PATH`; repeatable)")
	fs.StringVar(&cf.kev, "kev", "", "CISA KEV catalog `FILE` (known_exploited_vulnerabilities.json)")
	cmd.MarkFlagFilename("catalog", "yaml", "yml", "csv")
	cmd.MarkFlagFilename("kev", "json")
}

// policyFlag adds the repeatable --policy flag.
func policyFlag(cmd *cobra.Command, p *[]string, help string) {
	cmd.Flags().StringArrayVar(p, "policy", nil, help)
}

// sources loads the catalogs (the lifecycle catalog when withLifecycle,
// advisories when --csaf is given) and the policy pack; problems in them are
// reported on stderr and skipped (the rest is used), a file that cannot be
// read at all is an error.
func (cf *catalogFlags) sources(stderr io.Writer, withLifecycle bool, policies []string) (review.Sources, error) {
	pack, problems := loadPack(policies, stderr)
	cf.policyProblems = problems
	src := review.Sources{Pack: pack}
	if withLifecycle {
		cat, problems := lifecycle.Load(cf.catalogs...)
		for _, p := range problems {
			fmt.Fprintf(stderr, "otscope: catalog: %v (skipped)\n", p)
		}
		if cat == nil {
			return src, fmt.Errorf("lifecycle catalog could not be loaded")
		}
		src.Catalog = cat
	}
	if len(cf.csaf) > 0 {
		db, errs := advisory.Load(cf.csaf...)
		for _, err := range errs {
			fmt.Fprintf(stderr, "otscope: advisories: %v (skipped)\n", err)
		}
		if cf.kev != "" {
			for _, err := range db.LoadKEV(cf.kev) {
				fmt.Fprintf(stderr, "otscope: kev: %v (skipped)\n", err)
			}
		}
		if db.Len() == 0 {
			return src, fmt.Errorf("no advisories could be loaded from %s", strings.Join(cf.csaf, ", "))
		}
		src.Advisories = db
	} else if cf.kev != "" {
		return src, fmt.Errorf("%w: --kev needs --csaf (KEV flags CVEs of the advisories)", ErrUsage)
	}
	return src, nil
}

// analyse runs over a stored session the analysis the TUI renders:
// lifecycle, advisories, the audit with the session's waivers, states.
func (a *app) analyse(session string, src review.Sources) (store.Snapshot, *review.Analysis, error) {
	snap, j, b, err := a.loadSession(session)
	if err != nil {
		return snap, nil, err
	}
	return snap, analyseSnapshot(&snap, j, b, src, time.Now()), nil
}

// analyseSnapshot runs the analysis over a loaded session, its journals and
// its walkdown at now (analyse, and the TUI's export and diff over its open
// store). snap's assets get the walkdown's overlay and manual assets.
func analyseSnapshot(snap *store.Snapshot, j assets.Journals, b *walkdown.Book, src review.Sources, now time.Time) *review.Analysis {
	// The audit sees the walkdown: manual facts and assets, locations,
	// verdicts and the documented rows no asset matched.
	audited, notes := b.Review(snap.Assets)
	snap.Assets = withWalkdown(b, snap.Assets)
	job := review.Job{States: stateHistories(j.States), Waivers: j.Waivers, Now: now}
	for i := range audited {
		job.Assets = append(job.Assets, &audited[i])
	}
	for i := range snap.Conversations {
		job.Conversations = append(job.Conversations, &snap.Conversations[i])
	}
	an := review.NewAnalyzer(src).Run(job)
	an.Walkdown = notes
	return an
}

// loadPack is the default policy pack plus the user's files; problems are
// reported on stderr (and returned) and the rest is used.
func loadPack(policies []string, stderr io.Writer) (*policy.Pack, []policy.Problem) {
	pack := policy.DefaultPack()
	var problems []policy.Problem
	if len(policies) > 0 {
		var user *policy.Pack
		user, problems = policy.Load(policies...)
		for _, p := range problems {
			fmt.Fprintf(stderr, "otscope: policy: %v (skipped; the other rules run)\n", p)
		}
		pack = policy.Merge(pack, user)
	}
	return pack, problems
}

func unwaived(vs []policy.Violation) []policy.Violation {
	return slices.DeleteFunc(slices.Clone(vs), func(v policy.Violation) bool { return v.Waived != nil })
}

// stateHistories replays a session's state journal.
func stateHistories(j []review.StateRecord) map[model.AssetID]lifecycle.History {
	tr, _ := review.NewTracker(j, lifecycle.MissingPolicy{}, nil)
	return tr.Snapshot()
}

// resolveAsset resolves an asset of the session by ID, IP address, MAC
// address, name or tag, manual assets included: the walkdown book's
// Resolve, the one way every command names an asset.
func resolveAsset(st *store.Store, snap store.Snapshot, session, ref string) (model.AssetID, error) {
	b, _, err := walkdown.Open(st, session)
	if err != nil {
		return "", fmt.Errorf("session %q: %w", session, err)
	}
	id, err := b.Resolve(snap.Assets, ref)
	if err != nil {
		return "", fmt.Errorf("session %q: %w", session, err)
	}
	return id, nil
}
