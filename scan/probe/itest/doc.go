// Package itest proves the active scanner on the wire: it builds a plant of
// network namespaces (testdata/lab/lab.sh), starts real protocol servers in
// them, runs `otscope scan` inside the scanner's namespace while a monitor
// port captures every frame, and checks the capture (dissected by tshark)
// against the scanner's promises: identities found, packet budget kept,
// only allow-listed requests, nothing outside the scope, a packet log that
// matches the wire, and a stop within 100 ms of SIGINT.
//
// The tests carry the build tag itest and need root: run `make itest`.
package itest
