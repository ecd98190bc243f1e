// Package policy audits the inventory against declarative policies: rules
// written in CEL (https://cel.dev) over assets, their facts, services and
// flows, and a zone model (IEC 62443 zones and conduits) that flags flows
// crossing zones outside a conduit.
//
//	user, problems := policy.Load("/media/usb/plant-policy.yaml")
//	for _, p := range problems {
//		log.Print(p) // plant-policy.yaml:12: rule "x" skipped: when: col 7: undefined field 'rolez'
//	}
//	pack := policy.Merge(policy.DefaultPack(), user)
//	rep := policy.Audit(policy.Input{Assets: as, Conversations: cs, Lifecycle: lc, Advisories: adv, Now: now}, pack, waivers)
//	for _, v := range policy.SeverityAtLeast(rep.Violations, policy.High) { ... }
//
// # Policy files
//
// A policy file is YAML with three lists:
//
//	rules:
//	  - id: smbv1                      # unique; a later file's rule replaces it
//	    title: SMBv1 in use
//	    severity: high                 # info, low, medium, high, critical
//	    rationale: ...
//	    remediation: ...
//	    references: [IEC 62443-3-3 SR 7.7]
//	    scope: asset                   # or conversation
//	    when: asset.has_fact('smb.version', '1')
//	    evidence: asset.evidence('smb.version', '1')   # string or list of strings
//	  - id: snmp-v1-v2c
//	    disabled: true                 # removes the rule of an earlier file
//	zones:
//	  - {name: control, purdue: 1, subnets: [10.10.10.0/24], vlans: [10], assets: ["mac:00:0e:8c:9a:02:12"]}
//	conduits:
//	  - {from: supervisory, to: control, protocols: [s7comm], ports: [102], bidirectional: false}
//
// Unknown fields are errors (as with yaml.v3's KnownFields), but checked per
// rule, zone and conduit: a bad one is reported as a Problem with the file,
// line and reason and skipped, and everything else in the file is used. A
// YAML syntax error loses the file, not the other files. CEL errors name
// the line of the expression and the column inside it.
//
// # The CEL environment
//
// Asset rules see "asset", conversation rules "conv"; both see
// "zones_defined" (bool: the packs define at least one zone) and "now"
// (timestamp: Input.Now). The standard CEL library and the cel-go strings
// extension (lowerAscii, upperAscii, split, ...) are available.
//
// asset (otscope.Asset): id, vendor, product, order_number, firmware,
// hardware_version, device_type, operating_mode (strings); ips, macs,
// names, roles, protocols (lists of strings); vlans (list of ints);
// services (list of {transport, port, protocol, industrial}); functions (list of
// {protocol, value, category}: the "<proto>.function" facts, category
// from the fact's detail); facts (map field → list of values); lifecycle
// {phase, end_of_support, known} (empty when Input.Lifecycle has no
// verdict); advisories (list of {id, title, cvss, kev}); zone {name,
// purdue} (purdue -1 for "unassigned"); first_seen, last_seen
// (timestamps); packets (int); gateway (bool).
//
// Helper methods on asset (all string comparisons ignore case):
//
//	has_fact(field) has_fact(field, value)     fact(field) fact_values(field)
//	fact_matches(field, regexp)                has_role(role) has_any_role([roles])
//	has_protocol(p) has_service(protocol)      has_service(transport, port)
//	has_function(category)                     has_function(protocol, category)
//	evidence(field) evidence(field, value)     evidence_matching(field, regexp)
//	function_evidence(category)                function_evidence(protocol, category)
//	service_evidence(protocol)
//
// The *evidence helpers return the matching facts with their provenance,
// "smb.version=1 (smb · plant.pcap #812)", and set the violation's first
// and last seen to the span of what they cite (else the asset's).
//
// conv (otscope.Conversation): client, server (assets as above; an asset
// missing from the input has only its id), client_ip, server_ip,
// transport, protocol (strings), port, packets, bytes (ints), industrial
// (bool), client_zone, server_zone (zones), allowed (bool: same zone, or a
// conduit allows the flow), first_seen, last_seen. industrial, on a
// service or a conversation, is model.IsIndustrial of its protocol: the
// registry the asset list, the detail pane and role inference use too. Conversation violations are
// grouped by rule, client and server, and list up to MaxFlowEvidence flows.
//
// # Zones
//
// An asset belongs to the zone that lists its ID, else to the zone with the
// longest subnet holding one of its addresses, else to the zone of one of
// its VLANs, else to "unassigned". A conversation end is placed by its ID,
// then by the address the flow used, then by its asset's zone. The default
// pack defines no zones, so its zone rules only fire once the user's pack
// defines some.
//
// # The default pack
//
// default.yaml (embedded; DefaultYAML returns its text) holds, each with
// rationale, remediation and references (IEC 62443-3-3 SRs, CISA guidance):
// lifecycle-discontinued, lifecycle-end-of-life, os-unsupported,
// cleartext-telnet, cleartext-ftp, cleartext-http-admin,
// snmp-default-community, snmp-v1-v2c, smbv1, opcua-security-none,
// plc-not-in-run, plc-key-remote, program-change-from-non-ews,
// diagnostic-from-non-ews, write-from-unexpected-client,
// control-zone-unknown-device, advisory-kev-or-critical,
// undocumented-device, documented-device-unseen, nameplate-mismatch (these
// three read the walkdown.* facts assets/walkdown adds) and
// cross-zone-flow.
//
// # Waivers
//
// A Waiver acknowledges a violation (rule, asset or "*", reason, who,
// expiry). Audit marks waived violations (Violation.Waived) and leaves
// them out of the counts; an expired waiver does not apply. Waivers belong
// to the session: the caller stores them and passes them to Audit.
//
// # Speed
//
// Every expression is compiled once, when the pack is parsed; parsing also
// derives, for each asset rule, a prefilter: a necessary condition made of
// the helper calls and comparisons its condition requires (has_fact,
// has_service, has_role, has_any_role, has_protocol, has_function, fact
// equality, non-empty fields and lists, zones_defined, combined by && and
// ||). An asset whose features cannot satisfy it is skipped: CEL would
// return a plain false there, since its && and || let false win over
// errors. Audit builds one view per asset (costly fields on first use).
// Conversations are grouped by client and server with one map lookup per
// flow; each conversation rule is evaluated once per distinct projection
// of the fields it reads (zones, protocol, port, ... but not per-flow
// counters), the flows of a group that share an outcome are aggregated
// once, and evidence lines are built only for the first MaxFlowEvidence
// flows of a violation. The report is assembled in its final order (rule
// by severity and ID, asset, server) without sorting the violations.
//
// BenchmarkAudit (10,000 assets, the default pack replicated to 100 rules,
// 1M conversations, 116,000 violations) on the 2-core VM, one core:
//
//	go test ./assets/policy -run '^$' -bench 'Audit$' -cpu 1 -count 5
//	before: 2.63 s/op; now 0.57-0.76 s/op (the VM varies ±25%)
//
// TestAuditSpeed fails above 1.5 s (best of three). TestAuditMatchesReference
// compares Audit with a straightforward evaluation (every rule on every
// asset and flow, no prefilter, memo or grouping, one stable sort) on
// generated plants and on the benchmark plant: same violations, evidence,
// times, waivers, counts and errors.
//
// # Incremental audits
//
// The live violations pane calls an Auditor every second or two:
//
//	aud := policy.NewAuditor(pack, waivers)
//	rep := aud.Audit(policy.Input{Assets: inv.Assets(), Conversations: inv.Conversations(), Now: now, ...})
//
// It keeps each asset's results and each client/server pair's results
// and re-evaluates only those whose content hash changed (every field of
// the asset; every flow of the pair and both assets), plus the rules that
// read "now" when the clock moved. What remains per call is hashing the
// input (about 4 ms per 10,000 assets and 4 ms per 100,000 flows) and
// assembling the report. BenchmarkAuditorIncremental, 100 changed assets
// of 10,000, 100 rules, flows in inventory order:
//
//	go test ./assets/policy -run '^$' -bench AuditorIncremental -cpu 1 -count 5
//	100,000 conversations: 51-64 ms/op; 1M conversations: 150-174 ms/op
//
// (a third of it copies the 116,000 violations into the new report and
// collects the garbage that makes: that part shrinks with the report).
// TestAuditorMatchesAudit applies random changes (facts, roles changed in
// place, modes, products, addresses, added and removed assets and flows,
// reordered flows, the clock, waivers) and checks after each step that the
// Auditor's report equals Audit's (and, now and then, the reference's).
//
// Errors (Report.Errors) name, once per rule in pack order, the first
// failing asset in ID order (for conversation rules the first failing
// client/server pair, at its first failing flow), so that both kinds of
// audit report the same.
//
// # Concurrency
//
// Audit runs on the calling goroutine. Packs are immutable and safe for
// concurrent audits; Audit does not modify its Input. An Auditor serves
// one goroutine.
package policy
