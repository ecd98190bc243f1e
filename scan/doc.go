// Package scan produces observations: it reads packet sources
// (scan/capture), decodes them (scan/decode) and hands batches of
// model.Observation downstream. The demo plant generator lives in scan/plant.
//
// Ingest is the one loop every passive source goes through, whether it is a
// file, several files, a live interface or the demo replay.
package scan
