package export

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"otscope/model"
	"otscope/model/safe"
)

// CycloneDX spec versions the BOM writer supports.
const (
	CycloneDX16 = "1.6"
	CycloneDX17 = "1.7"
)

// ErrSpecVersion is returned for a CycloneDX version the writer does not
// write.
var ErrSpecVersion = errors.New("unsupported CycloneDX version (use 1.6 or 1.7)")

// Property names of the BOM. The cdx: ones are CycloneDX's taxonomy; plant
// data is under otscope:.
const (
	propSerial       = "cdx:device:serialNumber"
	propMAC          = "cdx:device:macAddress"
	propEndOfSupport = "cdx:lifecycle:milestone:endOfSupport"
	propPrefix       = "otscope:"
)

// CycloneDX writes the session's hardware bill of materials as CycloneDX
// JSON in the given spec version ("" means 1.6). Each asset is a device
// component: manufacturer (the vendor), name (the product, else the order
// number, else the asset's label), version (the hardware revision), its
// serial number and MAC addresses as cdx:device properties, its end of
// support as a cdx:lifecycle milestone, and the plant data (asset ID, IPs,
// roles, location, order number, lifecycle phase, state, verdict, VLANs,
// when seen) as otscope: properties. Its firmware is a nested firmware
// component and its rack modules nested devices (with their own firmware).
// The BOM has a urn:uuid serial number and the report's time as timestamp.
func CycloneDX(w io.Writer, rep *Report, version string) error {
	spec := cdx.SpecVersion1_6
	switch version {
	case "", CycloneDX16:
	case CycloneDX17:
		spec = cdx.SpecVersion1_7
	default:
		return fmt.Errorf("%q: %w", version, ErrSpecVersion)
	}
	bom := cdx.NewBOM()
	serial, err := uuid4()
	if err != nil {
		return err
	}
	bom.SerialNumber = "urn:uuid:" + serial
	now := rep.Now
	if now.IsZero() {
		now = time.Now()
	}
	meta := []cdx.Property{{Name: propPrefix + "session", Value: safe.Text(rep.Session)}}
	if rep.Site != "" {
		meta = append(meta, cdx.Property{Name: propPrefix + "site", Value: safe.Text(rep.Site)})
	}
	if rep.Sensor != "" {
		meta = append(meta, cdx.Property{Name: propPrefix + "sensor", Value: safe.Text(rep.Sensor)})
	}
	toolVersion := rep.Otscope
	if toolVersion == "" {
		toolVersion = "unknown"
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp:  now.UTC().Format(time.RFC3339),
		Tools:      &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "otscope", Version: toolVersion}}},
		Properties: &meta,
	}
	order := make([]int, len(rep.Records))
	for i := range order {
		order[i] = i
	}
	sortByAddress(rep.Records, order)
	comps := make([]cdx.Component, 0, len(rep.Records))
	for _, i := range order {
		comps = append(comps, device(rep, &rep.Records[i]))
	}
	bom.Components = &comps
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	return enc.EncodeVersion(bom, spec)
}

// device builds an asset's component.
func device(rep *Report, r *Record) cdx.Component {
	a := &r.Asset
	ref := string(a.ID)
	c := cdx.Component{
		BOMRef:  ref,
		Type:    cdx.ComponentTypeDevice,
		Name:    safe.Text(firstNonEmpty(a.Product, a.OrderNumber, a.Label())),
		Version: safe.Text(a.HardwareVersion),
	}
	if a.Vendor != "" {
		c.Manufacturer = &cdx.OrganizationalEntity{Name: safe.Text(a.Vendor)}
	}
	if a.DeviceType != "" {
		c.Description = safe.Text(a.DeviceType)
	}
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: safe.Text(value)})
		}
	}
	add(propSerial, a.Serial)
	for _, m := range a.MACs {
		add(propMAC, m.String())
	}
	if r.Lifecycle != nil {
		if !r.Lifecycle.EndOfSupport.IsZero() {
			add(propEndOfSupport, r.Lifecycle.EndOfSupport.String())
		}
		if !r.Lifecycle.EndOfSale.IsZero() {
			add(propPrefix+"lifecycle:endOfSale", r.Lifecycle.EndOfSale.String())
		}
		add(propPrefix+"lifecycle:phase", r.Phase(rep.Now))
		add(propPrefix+"lifecycle:successor", r.Lifecycle.Successor)
		add(propPrefix+"lifecycle:source", r.Lifecycle.Source)
	}
	add(propPrefix+"assetId", string(a.ID))
	add(propPrefix+"orderNumber", a.OrderNumber)
	add(propPrefix+"product", a.Product)
	for _, ip := range a.IPs {
		add(propPrefix+"ip", ip.String())
	}
	for _, v := range a.VLANs {
		add(propPrefix+"vlan", strconv.Itoa(int(v)))
	}
	for _, role := range a.Roles {
		add(propPrefix+"role", role)
	}
	for _, n := range a.Names {
		add(propPrefix+"name", n)
	}
	add(propPrefix+"location", Location(a, rep.walkdown(a.ID)))
	add(propPrefix+"state", r.State())
	add(propPrefix+"verdict", r.Verdict(rep.Audited))
	if wd := rep.walkdown(a.ID); wd != nil {
		add(propPrefix+"walkdown", wd.State)
	}
	add(propPrefix+"protocols", strings.Join(a.Protocols, ","))
	add(propPrefix+"firstSeen", stamp(a.FirstSeen))
	add(propPrefix+"lastSeen", stamp(a.LastSeen))
	for _, adv := range r.Advisories {
		add(propPrefix+"advisory", adv.AdvisoryID)
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	var sub []cdx.Component
	if a.Firmware != "" {
		sub = append(sub, firmware(ref, c.Name, a.Firmware))
	}
	seen := map[string]int{}
	for _, m := range a.Modules {
		sub = append(sub, module(ref, m, seen))
	}
	if len(sub) > 0 {
		c.Components = &sub
	}
	return c
}

// firmware is the firmware component nested in a device.
func firmware(parent, name, version string) cdx.Component {
	return cdx.Component{
		BOMRef:  parent + "#firmware",
		Type:    cdx.ComponentTypeFirmware,
		Name:    name + " firmware",
		Version: safe.Text(version),
	}
}

// module is one rack module, nested in its device as a device.
// seen counts the references given out, so that two modules reported in
// one slot still get distinct bom-refs.
func module(parent string, m model.Module, seen map[string]int) cdx.Component {
	ref := parent + "#module-" + strconv.Itoa(m.Rack) + "-" + strconv.Itoa(m.Slot)
	if n := seen[ref]; n > 0 {
		seen[ref]++
		ref += "-" + strconv.Itoa(n+1)
	} else {
		seen[ref] = 1
	}
	c := cdx.Component{
		BOMRef: ref,
		Type:   cdx.ComponentTypeDevice,
		Name:   safe.Text(firstNonEmpty(m.Product, m.OrderNumber, "module "+strconv.Itoa(m.Rack)+"/"+strconv.Itoa(m.Slot))),
	}
	props := []cdx.Property{
		{Name: propPrefix + "rack", Value: strconv.Itoa(m.Rack)},
		{Name: propPrefix + "slot", Value: strconv.Itoa(m.Slot)},
	}
	if m.Serial != "" {
		props = append(props, cdx.Property{Name: propSerial, Value: safe.Text(m.Serial)})
	}
	if m.OrderNumber != "" {
		props = append(props, cdx.Property{Name: propPrefix + "orderNumber", Value: safe.Text(m.OrderNumber)})
	}
	c.Properties = &props
	if m.Firmware != "" {
		c.Components = &[]cdx.Component{firmware(ref, c.Name, m.Firmware)}
	}
	return c
}

// uuid4 returns a random RFC 9562 version 4 UUID.
func uuid4() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, v := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[v>>4], hex[v&0x0f])
	}
	return string(out), nil
}
