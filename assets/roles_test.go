package assets

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"otscope/model"
)

func conv(client, server model.MAC, cip, sip string, port uint16, proto string) model.Observation {
	return model.Observation{Kind: model.ObsConversation, Subject: model.Endpoint{MAC: client, IP: ip(cip)},
		Peer: model.Endpoint{MAC: server, IP: ip(sip)}, Transport: "tcp", Port: port, Protocol: proto, Packets: 2, Flows: 1,
		First: t0, Last: t0}
}

func service(m model.MAC, a string, port uint16, proto string) model.Observation {
	return model.Observation{Kind: model.ObsService, Subject: model.Endpoint{MAC: m, IP: ip(a)}, First: t0, Last: t0,
		Service: model.Service{Transport: "tcp", Port: port, Protocol: proto, IP: ip(a), FirstSeen: t0, LastSeen: t0}}
}

func roleOf(t *testing.T, inv *Inventory, id model.AssetID) (roles []string, reasons map[string]string) {
	t.Helper()
	inv.Changes(ForUI)
	a, ok := inv.Asset(id)
	if !ok {
		t.Fatalf("no asset %s", id)
	}
	reasons = map[string]string{}
	for _, f := range a.Facts {
		if f.Field == model.FieldRole {
			reasons[f.Value] = f.Detail
		}
	}
	return a.Roles, reasons
}

func TestRolesFromBehaviour(t *testing.T) {
	inv := NewInventory(nil)
	apply(inv, host(macPLC, "10.10.1.10"), service(macPLC, "10.10.1.10", 502, "modbus"),
		host(macHMI, "10.10.1.20"), conv(macHMI, macPLC, "10.10.1.20", "10.10.1.10", 502, "modbus"))
	roles, why := roleOf(t, inv, model.MACAssetID(macPLC))
	if !slices.Contains(roles, model.RolePLC) || why[model.RolePLC] == "" {
		t.Errorf("PLC roles = %v %v", roles, why)
	}
	roles, why = roleOf(t, inv, model.MACAssetID(macHMI))
	if !slices.Equal(roles, []string{model.RoleHMI}) || why[model.RoleHMI] != "polls 1 device(s) (modbus)" {
		t.Errorf("HMI roles = %v %v", roles, why)
	}
	// a program download makes it an engineering workstation instead
	dl := fact(macHMI, "10.10.1.20", "s7comm.function", "0x1a request download", 30)
	dl.Fact.Detail = "program"
	apply(inv, dl)
	roles, why = roleOf(t, inv, model.MACAssetID(macHMI))
	if !slices.Equal(roles, []string{model.RoleEngineering}) || why[model.RoleEngineering] == "" {
		t.Errorf("after a download roles = %v %v", roles, why)
	}
	// polling many devices makes a SCADA server
	scada := model.MAC{0, 0x50, 0x56, 9, 9, 9}
	apply(inv, host(scada, "10.10.1.5"))
	for i := 0; i < 6; i++ {
		m := model.MAC{0, 0x80, 0xf4, 0, 0, byte(i)}
		a := fmt.Sprintf("10.10.2.%d", i+1)
		apply(inv, host(m, a), conv(scada, m, "10.10.1.5", a, 502, "modbus"))
	}
	roles, _ = roleOf(t, inv, model.MACAssetID(scada))
	if !slices.Equal(roles, []string{model.RoleSCADA}) {
		t.Errorf("scada roles = %v", roles)
	}
}

func TestProvenRoleSuppressesGuess(t *testing.T) {
	inv := NewInventory(nil)
	io := fact(macPLC, "10.10.1.10", model.FieldRole, model.RoleIO, 3)
	io.Fact.Source.Protocol = "profinet"
	apply(inv, host(macPLC, "10.10.1.10"), io, service(macPLC, "10.10.1.10", 44818, "enip"))
	roles, _ := roleOf(t, inv, model.MACAssetID(macPLC))
	if !slices.Equal(roles, []string{model.RoleIO}) {
		t.Errorf("roles = %v, want only the proven io device", roles)
	}
}

// TestRoleProtocolsIndustrial checks role inference takes "industrial"
// from model's registry, like the asset list and INDUSTRIAL PEERS: its
// controller and supervisory protocols are registered industrial ones,
// and no IT or network protocol ever counts.
func TestRoleProtocolsIndustrial(t *testing.T) {
	for _, set := range []map[string]bool{controllerProtocols, supervisoryProtocols} {
		for p := range set {
			if !model.IsIndustrial(p) {
				t.Errorf("%s counts for a role but the registry does not class it industrial (%s)", p, model.ClassOf(p))
			}
		}
	}
	for _, p := range model.Protocols() {
		if p.Class != model.ClassIndustrial && (industrialServer(p.Name) || industrialClient(p.Name)) {
			t.Errorf("%s (%s) counts for an OT role", p.Name, p.Class)
		}
	}
}

// A CIP communications adapter (device type 12, a 1734-AENTR) answers
// EtherNet/IP but is not a controller: it gets "io device", never "plc",
// so the PLC policy rules and --exclude-role plc do not take it (issue 14,
// item 10). A drive (type 2) answering EtherNet/IP is no PLC either.
func TestRoleCIPCommunicationsAdapter(t *testing.T) {
	inv := NewInventory(nil)
	adapter := model.MAC{0x00, 0x1d, 0x9c, 1, 2, 3}
	drive := model.MAC{0x00, 0x1d, 0x9c, 1, 2, 4}
	plc := model.MAC{0x00, 0x1d, 0x9c, 1, 2, 5}
	apply(inv, host(adapter, "10.10.1.30"), service(adapter, "10.10.1.30", 44818, "enip"),
		fact(adapter, "10.10.1.30", model.FieldCIPDeviceType, "12", 5),
		host(drive, "10.10.1.31"), service(drive, "10.10.1.31", 44818, "enip"),
		fact(drive, "10.10.1.31", model.FieldCIPDeviceType, "2", 6),
		host(plc, "10.10.1.32"), service(plc, "10.10.1.32", 44818, "enip"))
	roles, why := roleOf(t, inv, model.MACAssetID(adapter))
	if slices.Contains(roles, model.RolePLC) || !slices.Contains(roles, model.RoleIO) || why[model.RoleIO] == "" {
		t.Errorf("communications adapter roles = %v %v", roles, why)
	}
	if roles, _ := roleOf(t, inv, model.MACAssetID(drive)); slices.Contains(roles, model.RolePLC) {
		t.Errorf("drive roles = %v", roles)
	}
	// no identity: answering EtherNet/IP still suggests a controller
	if roles, _ := roleOf(t, inv, model.MACAssetID(plc)); !slices.Contains(roles, model.RolePLC) {
		t.Errorf("controller without identity roles = %v", roles)
	}
}

// Roles are inferred when a consumer takes an asset's changes, and when that
// happens is a matter of the clock (the session's 500 ms flush, the UI's
// 100 ms notify). The inventory it leaves must not depend on it: the same
// observations give the same assets whether changes were taken after every
// one or only at the end. Here a PLC is first a PLC by behaviour (it answers
// Modbus) and later by its own CIP identity, an HMI polls it, and time goes
// on between them.
func TestRolesDoNotDependOnWhenChangesAreTaken(t *testing.T) {
	at := func(o model.Observation, s int) model.Observation {
		ts := t0.Add(time.Duration(s) * time.Second)
		o.First, o.Last = ts, ts
		if o.Fact.Field != "" {
			o.Fact.Source.Time, o.Fact.LastSeen = ts, ts
		}
		if o.Kind == model.ObsService {
			o.Service.FirstSeen, o.Service.LastSeen = ts, ts
		}
		return o
	}
	proven := fact(macPLC, "10.10.1.10", model.FieldRole, model.RolePLC, 40)
	proven.Fact.Source.Protocol = "enip"
	proven.Fact.Detail = "CIP identity device type 14 (Programmable Logic Controller)"
	opc := fact(macPLC, "10.10.1.10", model.FieldRole, model.RoleOPCServer, 2)
	opc.Fact.Source.Protocol = "opcua"
	seq := []model.Observation{
		at(host(macPLC, "10.10.1.10"), 0),
		at(service(macPLC, "10.10.1.10", 502, "modbus"), 1),
		at(opc, 1),
		at(service(macPLC, "10.10.1.10", 4840, "opcua"), 1),
		at(host(macHMI, "10.10.1.20"), 2),
		at(conv(macHMI, macPLC, "10.10.1.20", "10.10.1.10", 502, "modbus"), 3),
		at(host(macPLC, "10.10.1.10"), 10),
		at(conv(macHMI, macPLC, "10.10.1.20", "10.10.1.10", 502, "modbus"), 15),
		at(host(macHMI, "10.10.1.20"), 16),
		at(proven, 20),
		at(proven, 25),
		at(host(macPLC, "10.10.1.10"), 30),
		// a second capture file with an earlier packet: the HMI's first
		// packet, and so its inferred role's source time, goes back
		at(host(macHMI, "10.10.1.20"), -5),
	}
	read := func(every bool) []model.Asset {
		inv := NewInventory(vendor)
		inv.SetConsumers(ForStore | ForUI)
		st := memSession(t)
		save := func() {
			inv.Changes(ForUI) // the UI takes first, and roles change as it does
			if err := st.Save("s", storeFlush(inv.changes(ForStore, true, false), t0)); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range seq {
			apply(inv, o)
			if every {
				save()
			}
		}
		save()
		all := inv.Assets()
		// what the store holds is what the inventory holds
		snap, err := st.Load("s")
		if err != nil {
			t.Fatal(err)
		}
		stored := map[model.AssetID]model.Asset{}
		for _, a := range snap.Assets {
			stored[a.ID] = a
		}
		for _, a := range all {
			if s := stored[a.ID]; !reflect.DeepEqual(s, a) {
				t.Errorf("changes taken after every observation %v: %s stored as\n%+v\nheld as\n%+v", every, a.ID, s.Facts, a.Facts)
			}
		}
		return all
	}
	often, once := read(true), read(false)
	if !reflect.DeepEqual(often, once) {
		for i := range often {
			if !reflect.DeepEqual(often[i], once[i]) {
				t.Errorf("%s differs:\nchanges taken after every observation: %+v\nonly at the end: %+v",
					often[i].ID, often[i].Facts, once[i].Facts)
			}
		}
	}
	// and what it leaves is what was observed: the PLC's role is its CIP
	// identity's, counted twice (the inference it replaced counts nothing),
	// and its OPC UA server role the one its OPC UA traffic said, not a
	// second fact of the same value inferred from its port (counter records
	// widen the first fact of a field and value, so a duplicate's times
	// would be those of whichever save last wrote the asset whole)
	for _, a := range once {
		seen := map[[2]string]bool{}
		for _, f := range a.Facts {
			if k := [2]string{f.Field, f.Value}; seen[k] {
				t.Errorf("%s has two %s facts %q", a.ID, f.Field, f.Value)
			} else {
				seen[k] = true
			}
			if f.Field != model.FieldRole {
				continue
			}
			switch {
			case a.ID == model.MACAssetID(macPLC) && f.Value == model.RoleOPCServer:
				if f.Source.Protocol != "opcua" {
					t.Errorf("PLC OPC UA role fact = %+v, want the OPC UA traffic's", f)
				}
			case a.ID == model.MACAssetID(macPLC):
				if f.Source.Kind != model.Passive || f.Detail != proven.Fact.Detail || f.Count != 2 {
					t.Errorf("PLC role fact = %+v, want the CIP identity's, count 2", f)
				}
			case a.ID == model.MACAssetID(macHMI):
				if f.Value != model.RoleHMI || !f.Source.Time.Equal(t0.Add(-5*time.Second)) || !f.LastSeen.Equal(t0.Add(16*time.Second)) {
					t.Errorf("HMI role fact = %+v, want hmi from its first to its last packet", f)
				}
			}
		}
	}
}
