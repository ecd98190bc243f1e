package assets

import (
	"slices"
	"strconv"
	"strings"

	"otscope/model"
)

// Role inference. Protocols that prove a device class (CIP device type,
// PROFINET role, DNP3 outstation, GOOSE publisher, BACnet device object, LLDP
// capabilities) record role facts themselves. This file adds roles from
// behaviour: what an asset answers on, which industrial servers it polls and
// which functions it sends. Each inferred role is a derived fact whose Detail
// gives the reasons; they are recomputed whenever the asset changes.

// Which protocols are industrial is model's registry's to say
// (model.IsIndustrial); role inference uses two role-specific parts of it.
// Cyclic I/O, publishing and discovery (enip-io, pn-rt, goose, sv, DCP)
// are industrial but prove neither part.

// controllerProtocols are the industrial protocols a controller answers on.
var controllerProtocols = map[string]bool{
	"s7comm": true, "s7comm-plus": true, "iso-tsap": true, "modbus": true, "enip": true, "omron-fins": true,
	"ads": true, "melsec": true, "ge-srtp": true, "codesys": true, "pcworx": true, "hart-ip": true,
}

// supervisoryProtocols are the industrial protocols an HMI, SCADA server
// or engineering tool uses as a client.
var supervisoryProtocols = map[string]bool{
	"s7comm": true, "s7comm-plus": true, "iso-tsap": true, "modbus": true, "enip": true,
	"omron-fins": true, "ads": true, "melsec": true, "ge-srtp": true, "codesys": true, "pcworx": true,
	"opcua": true, "bacnet": true, "dnp3": true, "iec104": true, "mms": true, "hart-ip": true, "c37.118": true,
}

// industrialServer and industrialClient report whether serving or polling
// with proto counts for the controller and supervisory roles.
func industrialServer(proto string) bool {
	return model.IsIndustrial(proto) && controllerProtocols[proto]
}
func industrialClient(proto string) bool {
	return model.IsIndustrial(proto) && supervisoryProtocols[proto]
}

// protocolRoles are roles only a protocol can prove; when one is present the
// behavioural controller guess is not added.
var protocolRoles = map[string]bool{
	model.RolePLC: true, model.RoleIO: true, model.RoleRTU: true, model.RoleIED: true, model.RoleBMS: true,
	model.RoleSwitch: true, model.RoleRouter: true, model.RoleIndustrialGateway: true,
}

const roleSource = "behaviour"

// clientUse records, per client asset, which servers it talks to with which
// industrial protocol (for role inference).
type clientUse map[string]map[model.AssetID]struct{}

// noteClient remembers that client talks to server with proto.
func (inv *Inventory) noteClient(client, server model.AssetID, proto string) {
	if !industrialClient(proto) || client == "" || server == "" || client == server {
		return
	}
	cu := inv.clients[client]
	if cu == nil {
		cu = clientUse{}
		inv.clients[client] = cu
	}
	set := cu[proto]
	if set == nil {
		set = map[model.AssetID]struct{}{}
		cu[proto] = set
	}
	if _, ok := set[server]; !ok {
		set[server] = struct{}{}
		if a := inv.assets[client]; a != nil {
			inv.touch(a)
		}
	}
}

// inferRoles replaces the asset's behavioural role facts with the current
// inference and reports whether its content changed (more than a time).
func (inv *Inventory) inferRoles(a *model.Asset) bool {
	proven := map[string]bool{}
	for _, f := range a.Facts {
		if f.Field == model.FieldRole && !inferredRole(&f) {
			proven[f.Value] = true
		}
	}
	var want [][2]string // role, reason
	add := func(role, reason string) {
		if proven[role] {
			// the asset's own traffic says it already: a second fact of
			// the same field and value would be a duplicate
			return
		}
		for i := range want {
			if want[i][0] == role {
				want[i][1] += "; " + reason
				return
			}
		}
		want = append(want, [2]string{role, reason})
	}
	hasProven := false
	for r := range proven {
		if protocolRoles[r] {
			hasProven = true
		}
	}
	// what it answers on
	var serves []string
	for _, s := range a.Services {
		if industrialServer(s.Protocol) && !slices.Contains(serves, s.Protocol) {
			serves = append(serves, s.Protocol+" on "+s.Transport+"/"+strconv.Itoa(int(s.Port)))
		}
		switch s.Protocol {
		case "pi-historian":
			add(model.RoleHistorian, "answers the PI historian protocol on tcp/"+strconv.Itoa(int(s.Port)))
		case "opcua", "opcua-tls":
			add(model.RoleOPCServer, "answers OPC UA on tcp/"+strconv.Itoa(int(s.Port)))
		case "jetdirect", "ipp", "lpd":
			add(model.RolePrinter, "answers "+s.Protocol+" on "+s.Transport+"/"+strconv.Itoa(int(s.Port)))
		case "rtsp":
			add(model.RoleCamera, "answers RTSP on tcp/"+strconv.Itoa(int(s.Port)))
		}
	}
	// what it sends: programming and control functions, and whom it polls
	var program, diagnostic []string
	for _, f := range a.Facts {
		if !strings.HasSuffix(f.Field, ".function") {
			continue
		}
		proto := strings.TrimSuffix(f.Field, ".function")
		switch f.Detail {
		case "program":
			program = appendUnique(program, proto+" "+f.Value)
		case "diagnostic":
			diagnostic = appendUnique(diagnostic, proto+" "+f.Value)
		}
	}
	polled, polledProtos := 0, []string(nil)
	for proto, servers := range inv.clients[a.ID] {
		polled += len(servers)
		polledProtos = append(polledProtos, proto)
	}
	slices.Sort(polledProtos)
	// A host behind a router (no MAC on the captured segment) is not taken
	// for an engineering workstation from what it sends: programming a PLC
	// from another network is what a policy must flag, not explain away.
	local := len(a.MACs) > 0
	switch {
	case len(program) > 0 && local:
		add(model.RoleEngineering, "sent "+strings.Join(firstN(program, 3), ", "))
	case len(diagnostic) > 0 && local:
		// reading a controller's diagnostics (S7 SZL, Modbus diagnostics) is
		// what an engineering tool does when it goes online
		add(model.RoleEngineering, "sent "+strings.Join(firstN(diagnostic, 3), ", "))
	case polled >= 5:
		add(model.RoleSCADA, "polls "+strconv.Itoa(polled)+" devices ("+strings.Join(polledProtos, ", ")+")")
	case polled > 0 && len(serves) == 0 && local:
		add(model.RoleHMI, "polls "+strconv.Itoa(polled)+" device(s) ("+strings.Join(polledProtos, ", ")+")")
	}
	// A CIP identity names the device type: answering EtherNet/IP does not
	// make a communications adapter (a 1734-AENTR heading a rack of I/O) a
	// controller. It is the I/O head, as a PROFINET interface module is.
	cipType := a.Fact(model.FieldCIPDeviceType)
	if cipType == "12" && !hasProven {
		add(model.RoleIO, "CIP identity device type 12 (Communications Adapter)")
	}
	notPLC := cipType != "" && cipType != "14"
	if len(serves) > 0 && !hasProven && !notPLC && len(program)+len(diagnostic) == 0 {
		add(model.RolePLC, "answers "+strings.Join(firstN(serves, 3), ", "))
	}
	if os := a.Fact(model.FieldOS); strings.Contains(strings.ToLower(os), "windows") && len(want) == 0 && len(proven) == 0 {
		add(model.RoleWindowsHost, "reports "+os)
	}
	// Replace the previous inference. The inferred roles stand last, in the
	// order of want: where they stand does not depend on when they were
	// first inferred (addFact puts what frames say before them). An
	// inferred role speaks of the asset's traffic from its first packet to
	// its last, so those are its times: the inference runs whenever a
	// consumer takes the asset's changes, at moments the clock picks, and
	// what it leaves must be the same whenever that was. The last-seen
	// time moves on like a counter; a new role, reason or order, or an
	// earlier first packet (a merge), is a change of content.
	var buf [4]model.Fact
	before := buf[:0]
	kept := a.Facts[:0]
	moved := false // an inferred role stood before a fact of frames (an older session)
	for _, f := range a.Facts {
		if inferredRole(&f) {
			before = append(before, f)
			continue
		}
		moved = moved || len(before) > 0
		kept = append(kept, f)
	}
	a.Facts = kept
	changed := moved || len(before) != len(want)
	for i, w := range want {
		j := slices.IndexFunc(before, func(f model.Fact) bool { return f.Value == w[0] })
		var f model.Fact
		if j >= 0 {
			f = before[j]
		} else {
			f = model.Fact{Field: model.FieldRole, Value: w[0], Count: 1,
				Source: model.Source{Kind: model.Derived, Protocol: "roles", Origin: roleSource}}
		}
		if j != i || f.Detail != w[1] || !f.Source.Time.Equal(a.FirstSeen) {
			changed = true
		}
		f.Detail, f.Source.Time = w[1], a.FirstSeen
		if a.LastSeen.After(f.LastSeen) {
			f.LastSeen = a.LastSeen
		}
		a.Facts = appendFact(a.Facts, f)
	}
	if changed {
		derive(a)
	}
	return changed
}

// inferredRole reports whether f is a role inferRoles inferred.
func inferredRole(f *model.Fact) bool {
	return f.Field == model.FieldRole && f.Source.Kind == model.Derived && f.Source.Origin == roleSource
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

// rolePriority orders roles by what matters most to an OT engineer, so the
// first role is the one to show in a narrow column.
var rolePriority = []string{
	model.RolePLC, model.RoleRTU, model.RoleIED, "pmu", model.RoleIO, model.RoleBMS, model.RoleEngineering,
	model.RoleSCADA, model.RoleHistorian, model.RoleHMI, model.RoleIndustrialGateway, model.RoleOPCServer,
	model.RoleRouter, model.RoleGateway, model.RoleSwitch, model.RoleDHCP, model.RoleDNS,
	model.RoleNetworkMonitoring, model.RoleWindowsHost, model.RolePrinter, model.RoleCamera,
}

// compareRoles orders roles by rolePriority, unknown ones last by name.
func compareRoles(a, b string) int {
	ia, ib := slices.Index(rolePriority, a), slices.Index(rolePriority, b)
	if ia < 0 {
		ia = len(rolePriority)
	}
	if ib < 0 {
		ib = len(rolePriority)
	}
	if ia != ib {
		return ia - ib
	}
	return strings.Compare(a, b)
}
