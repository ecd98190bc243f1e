package cli

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"otscope/assets/advisory"
	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/assets/review"
	"otscope/assets/store"
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
	snap, j, err := a.loadSession(session)
	if err != nil {
		return snap, nil, err
	}
	job := review.Job{States: stateHistories(j.States), Waivers: j.Waivers, Now: time.Now()}
	for i := range snap.Assets {
		job.Assets = append(job.Assets, &snap.Assets[i])
	}
	for i := range snap.Conversations {
		job.Conversations = append(job.Conversations, &snap.Conversations[i])
	}
	return snap, review.NewAnalyzer(src).Run(job), nil
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

// findAsset resolves an asset by ID, IP address, MAC address or name.
func findAsset(snap store.Snapshot, session, ref string) (model.AssetID, error) {
	ref = strings.TrimSpace(ref)
	var hits []model.AssetID
	ipRef, ipErr := netip.ParseAddr(ref)
	macRef, macErr := model.ParseMAC(ref)
	for i := range snap.Assets {
		a := &snap.Assets[i]
		switch {
		case string(a.ID) == ref:
			return a.ID, nil
		case ipErr == nil && slices.Contains(a.IPs, ipRef),
			macErr == nil && slices.Contains(a.MACs, macRef),
			slices.ContainsFunc(a.Names, func(n string) bool { return strings.EqualFold(n, ref) }):
			hits = append(hits, a.ID)
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("no asset %q in session %q (give its id, IP, MAC or name; see otscope assets)", ref, session)
	case 1:
		return hits[0], nil
	}
	return "", fmt.Errorf("%q names %d assets (%s): give the id", ref, len(hits), hits[0])
}
