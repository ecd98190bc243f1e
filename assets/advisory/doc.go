// Package advisory imports CISA ICS advisories (CSAF 2.0 JSON) and the CISA
// Known Exploited Vulnerabilities (KEV) catalog, offline, and matches them
// to assets: which advisories apply to a device, with the CVEs, CVSS, KEV
// flag, remediation and the reason for the match.
//
// Loading never fails as a whole: a file that cannot be read or is not CSAF
// is skipped, a bad entry inside a file is skipped and the rest imported,
// and every problem is returned:
//
//	db, problems := advisory.Load("/data/csaf")   // files or directories
//	problems = append(problems, db.LoadKEV("/data/known_exploited_vulnerabilities.json")...)
//	for _, m := range db.Match(&asset) {
//		fmt.Println(m.AdvisoryID, m.CVEs, m.MaxCVSS, m.KEV, m.Reason)
//	}
//
// Matching. An asset matches an advisory product when the vendors are the
// same company (names are normalised: "Schneider Electric Software, LLC" is
// Schneider Electric, "Rockwell Automation/Allen-Bradley" is Rockwell,
// Hirschmann is Belden) and
//   - the advisory lists order numbers and one is the asset's (or one of its
//     modules'): "6ES7 315-2EH14-0AB0" equals "6ES7315-2EH14-0AB0"; "x" after
//     a digit, "*", "□" and Rockwell's "L8z" are wildcards; or, when the
//     asset has no order number,
//   - every significant word of the product name is among the asset's names,
//     including families derived from order numbers and CPU names
//     (6ES7 516-3AN02-0AB0 and "CPU 1516-3 PN/DP" are a SIMATIC S7-1500,
//     1756-L83E a ControlLogix 5580, BMEP582040 a Modicon M580);
//
// and the asset's firmware is in the product's version range. Ranges are
// parsed from the free text CISA writes (see ParseVersionSpec) and compared
// with Compare's rules at the precision the advisory gives ("<= 33" contains
// 33.11). A range that is not machine-readable, or an asset whose firmware
// is unknown, still matches, with ConfidenceName and a reason that says so.
//
// A DB is safe for concurrent Match calls once loading is done; Load, Add
// and LoadKEV must not run concurrently with anything else on the same DB.
package advisory
