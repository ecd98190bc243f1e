package lifecycle

import (
	"fmt"
	"testing"

	"otscope/model"
)

// plantAssets builds n assets in a plant-like mix: PLCs of several vendors
// with order numbers and rack modules, Windows hosts with OS facts, network
// gear with firmware, and unidentified IT hosts.
func plantAssets(n int) []*model.Asset {
	kinds := []func(i int) *model.Asset{
		func(i int) *model.Asset {
			return asset(fmt.Sprint("s7-", i), fact(model.FieldVendor, "Siemens", "s7comm"),
				fact(model.FieldProduct, "CPU 315-2 PN/DP", "s7comm"),
				fact(model.FieldOrderNumber, fmt.Sprintf("6ES7 315-2EH1%d-0AB0", i%5), "s7comm"),
				fact(model.FieldModule, model.FormatModule(model.Module{Rack: 0, Slot: 4, OrderNumber: "6ES7 321-1BH02-0AA0"}), "s7comm"))
		},
		func(i int) *model.Asset {
			return asset(fmt.Sprint("cl-", i), fact(model.FieldVendor, "Rockwell Automation/Allen-Bradley", "enip"),
				fact(model.FieldProduct, fmt.Sprintf("1756-L7%d/B LOGIX557%d", i%5+1, i%5+1), "enip"),
				fact(model.FieldOrderNumber, fmt.Sprintf("1756-L7%d", i%5+1), "enip"))
		},
		func(i int) *model.Asset {
			return asset(fmt.Sprint("m580-", i), fact(model.FieldVendor, "Schneider Electric", "modbus"),
				fact(model.FieldProduct, "BMEP582040", "modbus"), fact(model.FieldOrderNumber, "BMEP582040", "modbus"))
		},
		func(i int) *model.Asset {
			return asset(fmt.Sprint("hmi-", i), fact(model.FieldVendor, "Hewlett Packard", "oui"),
				fact(model.FieldOS, "Windows 7 Professional 7601 Service Pack 1", "smb"),
				fact(model.FieldOS, "Windows 7 (NT 6.1)", "browser"))
		},
		func(i int) *model.Asset {
			return asset(fmt.Sprint("srv-", i), fact(model.FieldVendor, "Dell", "oui"),
				fact(model.FieldOS, "Windows Server 2016 Standard 14393", "smb"))
		},
		func(i int) *model.Asset {
			return asset(fmt.Sprint("sw-", i), fact(model.FieldVendor, "Cisco", "cdp"),
				fact(model.FieldOS, "Cisco IOS XE 17.9.4", "snmp"), fact(model.FieldFirmware, "17.9.4", "snmp"),
				fact(model.FieldCDPPlatform, "cisco C9300-48P", "cdp"))
		},
		func(i int) *model.Asset {
			return asset(fmt.Sprint("moxa-", i), fact(model.FieldVendor, "Moxa Technologies Co., Ltd.", "oui"),
				fact(model.FieldProduct, "EDS-408A", "telnet"), fact(model.FieldFirmware, "V3.8", "telnet"))
		},
		func(i int) *model.Asset {
			return asset(fmt.Sprint("it-", i), fact(model.FieldVendor, "Intel Corporate", "oui"), fact(model.FieldHostname, "pc", "dhcp"))
		},
		func(i int) *model.Asset { return asset(fmt.Sprint("bare-", i)) },
		func(i int) *model.Asset {
			return asset(fmt.Sprint("cam-", i), fact(model.FieldVendor, "Axis Communications AB", "oui"),
				fact(model.FieldProduct, "AXIS P1448-LE", "http"), fact(model.FieldFirmware, "10.12.114", "http"))
		},
	}
	out := make([]*model.Asset, n)
	for i := range out {
		out[i] = kinds[i%len(kinds)](i)
	}
	return out
}

// BenchmarkMatch10k matches the built-in catalog against 10,000 assets (and
// their modules) per operation.
func BenchmarkMatch10k(b *testing.B) {
	c := defaultCatalog(b)
	as := plantAssets(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		matched := 0
		for _, a := range as {
			if _, ok := c.Match(a); ok {
				matched++
			}
			c.MatchModules(a)
		}
		if matched != 7000 {
			b.Fatalf("%d of 10000 matched, want 7000", matched)
		}
	}
}
