package detailpane

import (
	"slices"
	"testing"
	"time"

	"otscope/model"
)

func TestShortOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"/work/shared/pcaps/s7comm/s7comm_reading_plc_status.pcap": "s7comm_reading_plc_status.pcap",
		`C:\captures\line1.pcapng`:                                 "line1.pcapng",
		"iface:eth0":                                               "iface:eth0",
		"demo":                                                     "demo",
		"/caps/a_very_long_capture_file_name_from_the_plant_historian.pcapng": "a_very_long_cap…historian.pcapng",
		"dir/": "dir/",
	} {
		got := shortOrigin(in)
		if got != want {
			t.Errorf("shortOrigin(%q) = %q, want %q", in, got, want)
		}
		if n := len([]rune(got)); n > maxOrigin {
			t.Errorf("shortOrigin(%q) is %d runes", in, n)
		}
	}
}

// TestIndustrialProtocol checks INDUSTRIAL PEERS counts exactly the
// protocols model's registry classes industrial, like the asset list and
// role inference do.
func TestIndustrialProtocol(t *testing.T) {
	for _, p := range []string{"s7comm", "modbus", "enip", "enip-io", "profinet-rt", "bacnet", "dnp3", "iec104", "goose", "mms", "opcua", "s7comm-plus"} {
		if !industrialProtocol(p) {
			t.Errorf("%s is not industrial", p)
		}
	}
	for _, p := range []string{"http", "DNS", "smb", "rtsp", "snmp", "tcp", "udp", "arp", "rdp", "", "some-unregistered-name"} {
		if industrialProtocol(p) {
			t.Errorf("%q is industrial", p)
		}
	}
	for _, p := range model.Protocols() {
		if industrialProtocol(p.Name) != (p.Class == model.ClassIndustrial) {
			t.Errorf("%s (%s): INDUSTRIAL PEERS disagrees with the registry", p.Name, p.Class)
		}
	}
}

func TestFunctionCategories(t *testing.T) {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	fn := func(field, value, cat string, at time.Duration) model.Fact {
		return model.Fact{Field: field, Value: value, Detail: cat,
			Source: model.Source{Kind: model.Passive, Time: t0.Add(at)}, LastSeen: t0.Add(at)}
	}
	client := &model.Asset{Facts: []model.Fact{
		fn("s7comm.function", "0x04 read var", "read", time.Minute),
		fn("s7comm.function", "0x1a request download", "program", 9*time.Minute),
		fn("cip.function", "0x4c read tag", "read", time.Minute),
		fn("cip.function", "0x4d write tag", "", 2*time.Minute),
		fn("modbus.function", "16 write multiple registers", "write", time.Minute),
		fn("fins.function", "0x0102 memory area write", "write", time.Minute),
		fn("hart.function", "0 read unique identifier", "identify", time.Minute),
		fn("c37118.function", "send config-2", "identify", time.Minute),
	}}
	conv := func(proto string, from, to time.Duration) *model.Conversation {
		return &model.Conversation{Protocol: proto, FirstSeen: t0.Add(from), LastSeen: t0.Add(to)}
	}
	for _, tc := range []struct {
		c    *model.Conversation
		want []string
	}{
		{conv("s7comm", 0, 10*time.Minute), []string{"read", "program"}},
		{conv("iso-tsap", 0, 5*time.Minute), []string{"read"}}, // ended before the download
		{conv("enip", 0, 10*time.Minute), []string{"read", "other"}},
		{conv("modbus-tls", 0, 10*time.Minute), []string{"write"}},
		{conv("bacnet", 0, 10*time.Minute), nil},
		// the conversation and the facts name these differently; one family
		{conv("omron-fins", 0, 10*time.Minute), []string{"write"}},
		{conv("hart-ip", 0, 10*time.Minute), []string{"identify"}},
		{conv("c37.118", 0, 10*time.Minute), []string{"identify"}},
		{&model.Conversation{Protocol: "s7comm"}, []string{"read", "program"}}, // no times: no window
	} {
		if got := functionCategories(nil, client, tc.c); !slices.Equal(got, tc.want) {
			t.Errorf("%s %v–%v: %v, want %v", tc.c.Protocol, tc.c.FirstSeen.Sub(t0), tc.c.LastSeen.Sub(t0), got, tc.want)
		}
	}
}
