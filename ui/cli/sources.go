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
	"otscope/assets/export"
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

// enricher loads the catalogs; problems in them are reported on stderr and
// skipped (the rest is used), a file that cannot be read at all is an error.
func (cf *catalogFlags) enricher(stderr io.Writer, withLifecycle bool) (export.Enricher, error) {
	var en export.Enricher
	if withLifecycle {
		cat, problems := lifecycle.Load(cf.catalogs...)
		for _, p := range problems {
			fmt.Fprintf(stderr, "otscope: catalog: %v (skipped)\n", p)
		}
		if cat == nil {
			return en, fmt.Errorf("lifecycle catalog could not be loaded")
		}
		en.Catalog = cat
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
			return en, fmt.Errorf("no advisories could be loaded from %s", strings.Join(cf.csaf, ", "))
		}
		en.Advisories = db
	} else if cf.kev != "" {
		return en, fmt.Errorf("%w: --kev needs --csaf (KEV flags CVEs of the advisories)", ErrUsage)
	}
	return en, nil
}

// loadPack is the default policy pack plus the user's files; problems are
// reported on stderr and the rest is used.
func loadPack(policies []string, stderr io.Writer) *policy.Pack {
	pack := policy.DefaultPack()
	if len(policies) > 0 {
		user, problems := policy.Load(policies...)
		for _, p := range problems {
			fmt.Fprintf(stderr, "otscope: policy: %v (skipped; the other rules run)\n", p)
		}
		pack = policy.Merge(pack, user)
	}
	return pack
}

// tuiSources loads what the TUI analyses the inventory with: the embedded
// lifecycle catalog (plus --catalog files), advisories when --csaf is
// given, and the policy pack.
func tuiSources(cat catalogFlags, policies []string, stderr io.Writer) (review.Sources, error) {
	en, err := cat.enricher(stderr, true)
	if err != nil {
		return review.Sources{}, err
	}
	return review.Sources{Catalog: en.Catalog, Advisories: en.Advisories, Pack: loadPack(policies, stderr)}, nil
}

// auditInput connects a stored session and the offline catalogs to the
// policy engine.
func auditInput(snap store.Snapshot, en export.Enricher) policy.Input {
	return review.AuditInput(snap.Assets, snap.Conversations, review.Sources{Catalog: en.Catalog, Advisories: en.Advisories}, time.Now())
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
