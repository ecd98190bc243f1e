// Package walkdown verifies the plant against its documented inventory on
// the floor.
//
//   - Import reads the plant's own device list ("as documented") from CSV
//     or XLSX, with headers as engineers write them; bad rows are reported
//     with their place and skipped.
//   - Match pairs documented rows with discovered assets (MAC, then IP in
//     the same site, then serial, then order number and location) and
//     gives every asset and row a verdict after OPC 10000-81 (identity
//     versus compatibility): match, compatible, mismatch, unseen, missing,
//     new or unverified, with the fields compared.
//   - A Book keeps what people enter on a walkdown — locations, nameplate
//     values (manual facts), devices the network cannot see, verdicts, and
//     every import — as records in the session's walkdown journal, stored
//     before they count, so kill -9 loses nothing confirmed.
//   - Checklists print what is expected at a location (HTML and CSV).
package walkdown
