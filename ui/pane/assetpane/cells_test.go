package assetpane

import (
	"slices"
	"testing"

	"otscope/model"
)

func TestTelling(t *testing.T) {
	for name, tc := range map[string]struct {
		protos   []string
		services []string
		want     []string
	}{
		"served industrial first": {
			protos: []string{"arp", "dns", "http", "icmp", "iso-tsap", "ntp"}, services: []string{"http", "iso-tsap"},
			want: []string{"iso-tsap", "http"},
		},
		"served IT before client-only industrial": {
			protos: []string{"arp", "enip", "https", "modbus", "smb"}, services: []string{"smb"},
			want: []string{"smb", "modbus", "enip", "https"}, // industrial in list order
		},
		"services missing from protocols count": {
			protos: []string{"arp", "enip"}, services: []string{"enip-io"},
			want: []string{"enip-io", "enip"},
		},
		"chatter only when nothing else": {
			protos: []string{"arp", "icmp", "lldp", "udp"}, services: []string{"lldp"},
			want: []string{"lldp", "arp", "icmp", "udp"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := &model.Asset{Protocols: tc.protos}
			for _, s := range tc.services {
				a.Services = append(a.Services, model.Service{Protocol: s})
			}
			if got := telling(a); !slices.Equal(got, tc.want) {
				t.Fatalf("telling = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTellingClasses checks the column's tiers follow model's registry,
// as INDUSTRIAL PEERS and role inference do: every industrial protocol is
// listed before an IT one, and network chatter is left out beside them.
func TestTellingClasses(t *testing.T) {
	for _, p := range model.Protocols() {
		if p.Name == "tcp" || p.Name == "udp" {
			continue // bare ports: always last
		}
		a := &model.Asset{Protocols: []string{"rdp", "arp", p.Name}}
		got := telling(a)
		switch p.Class {
		case model.ClassIndustrial:
			if !slices.Equal(got, []string{p.Name, "rdp"}) {
				t.Errorf("%s (industrial): telling = %v", p.Name, got)
			}
		case model.ClassIT:
			if slices.Contains(got, "arp") || !slices.Contains(got, p.Name) || (p.Name != "rdp" && got[0] != "rdp") {
				t.Errorf("%s (IT): telling = %v", p.Name, got)
			}
		case model.ClassNetwork:
			if !slices.Equal(got, []string{"rdp"}) {
				t.Errorf("%s (network): telling = %v", p.Name, got)
			}
		}
	}
}

func TestFitList(t *testing.T) {
	for _, tc := range []struct {
		items []string
		w     int
		want  string
	}{
		{[]string{"enip", "enip-io", "modbus"}, 20, "enip,enip-io,modbus"},
		{[]string{"enip", "enip-io", "modbus"}, 15, "enip,enip-io +1"},
		{[]string{"enip", "enip-io", "modbus"}, 10, "enip +2"},
		{[]string{"engineering station", "it host"}, 11, "engineerin…"},
		{nil, 10, ""},
	} {
		if got := fitList(tc.items, tc.w); got != tc.want {
			t.Errorf("fitList(%v, %d) = %q, want %q", tc.items, tc.w, got, tc.want)
		}
	}
}

func TestShortVendor(t *testing.T) {
	for in, want := range map[string]string{
		"Siemens AG":                             "Siemens",
		"Hirschmann Automation and Control GmbH": "Hirschmann Automation and Control",
		"Phoenix Contact GmbH & Co. KG":          "Phoenix Contact",
		"Super Micro Computer, Inc.":             "Super Micro Computer",
		"Rockwell Automation":                    "Rockwell Automation",
		"AG":                                     "AG",
	} {
		if got := shortVendor(in); got != want {
			t.Errorf("shortVendor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShortFirmware(t *testing.T) {
	for in, want := range map[string]string{
		"Version V4.1.3": "V4.1.3", "FW: 2.0": "2.0", "firmware 1.2": "1.2", "V3.2.7": "V3.2.7",
		"Versionless": "Versionless", "Version": "Version", "fw2.1": "fw2.1", "": "",
	} {
		if got := shortFirmware(in); got != want {
			t.Errorf("shortFirmware(%q) = %q, want %q", in, got, want)
		}
	}
}
