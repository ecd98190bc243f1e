package cli

import (
	"net"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"otscope/assets/store"
	"otscope/assets/walkdown"
	"otscope/scan/probe"
)

// Dynamic shell completion: session names, asset references, rule ids,
// probe names and interfaces. The database is opened read-only and only
// when it exists; a database in use by a running otscope completes nothing.

// readStore opens the database of --db read-only, or returns nil.
func (a *app) readStore() *store.Store {
	dir := a.db
	if dir == "" {
		var err error
		if dir, err = store.DefaultDir(); err != nil {
			return nil
		}
	}
	st, err := store.Open(store.Options{Dir: dir, ReadOnly: true})
	if err != nil {
		return nil
	}
	return st
}

func (a *app) completeSessions(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	st := a.readStore()
	if st == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer st.Close()
	infos, _ := st.Sessions()
	var out []cobra.Completion
	for _, s := range infos {
		out = append(out, cobra.CompletionWithDesc(s.Name, strings.Join(s.Sources, ", ")))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// assetRefs lists the references resolveAsset accepts for the assets of
// the session given with -s: ids, IP addresses and names, devices added by
// hand included.
func (a *app) assetRefs(cmd *cobra.Command) []cobra.Completion {
	snap, b := a.completionSession(cmd)
	if b == nil {
		return nil
	}
	var out []cobra.Completion
	for _, as := range append(snap.Assets, b.ManualAssets()...) {
		desc := strings.Join(as.Names, ", ")
		if desc == "" {
			desc = as.Vendor
		}
		out = append(out, cobra.CompletionWithDesc(string(as.ID), desc))
		for _, ip := range as.IPs {
			out = append(out, cobra.CompletionWithDesc(ip.String(), string(as.ID)))
		}
		for _, n := range as.Names {
			if !strings.ContainsAny(n, " \t") {
				out = append(out, cobra.CompletionWithDesc(n, string(as.ID)))
			}
		}
	}
	return out
}

// completionSession loads the session given with -s and its walkdown
// book from the read-only database; b is nil when there is none.
func (a *app) completionSession(cmd *cobra.Command) (snap store.Snapshot, b *walkdown.Book) {
	session, _ := cmd.Flags().GetString("session")
	if session == "" || store.ValidSessionName(session) != nil {
		return snap, nil
	}
	st := a.readStore()
	if st == nil {
		return snap, nil
	}
	defer st.Close()
	snap, err := st.Load(session)
	if err != nil {
		return snap, nil
	}
	if b, _, err = walkdown.Open(st, session); err != nil {
		return snap, nil
	}
	return snap, b
}

func (a *app) completeAssets(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return append(a.assetRefs(cmd), cobra.CompletionWithDesc("*", "every asset")), cobra.ShellCompDirectiveNoFileComp
}

// completeAssetRefs completes one asset reference (no "*").
func (a *app) completeAssetRefs(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return a.assetRefs(cmd), cobra.ShellCompDirectiveNoFileComp
}

// completeLocations offers the locations the session's walkdown knows
// (placed assets and documented rows).
func (a *app) completeLocations(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	snap, b := a.completionSession(cmd)
	if b == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	seen := map[string]bool{}
	var out []cobra.Completion
	ev := b.Evaluate(snap.Assets)
	for i := range ev.Items {
		if l := ev.Items[i].Location.String(); l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeTargets offers "assets" and the addresses of the session's
// assets as scan targets.
func (a *app) completeTargets(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out := []cobra.Completion{cobra.CompletionWithDesc("assets", "every address of the session's assets")}
	for _, r := range a.assetRefs(cmd) {
		ref, _, _ := strings.Cut(r, "\t")
		if _, err := netip.ParseAddr(ref); err == nil {
			out = append(out, r)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeRules lists the rules of the default pack and of --policy files.
func (a *app) completeRules(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	policies, _ := cmd.Flags().GetStringArray("policy")
	var out []cobra.Completion
	pack, _ := loadPack(policies, nopWriter{})
	for _, r := range pack.Rules {
		out = append(out, cobra.CompletionWithDesc(r.ID, r.Title))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeProbes completes a comma-separated list of probe names.
func completeProbes(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done, _ := cutLast(toComplete, ",")
	out := []cobra.Completion{}
	if done == "" {
		out = append(out, "all")
	}
	for _, p := range probe.Probes() {
		if !strings.Contains(","+done+",", ","+p.Name()+",") {
			out = append(out, prefixJoin(done, p.Name()))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeProbePorts completes --port probe=PORT with the probe names.
func completeProbePorts(_ *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, p := range probe.Probes() {
		out = append(out, p.Name()+"=")
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

func completeInterfaces(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ifs, _ := net.Interfaces()
	var out []cobra.Completion
	for _, i := range ifs {
		out = append(out, i.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// cutLast splits s at the last sep: "a,b,c" -> "a,b", "c".
func cutLast(s, sep string) (string, string) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):]
	}
	return "", s
}

func prefixJoin(done, name string) string {
	if done == "" {
		return name
	}
	return done + "," + name
}

// nopWriter swallows the policy-loading problems while completing.
type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
