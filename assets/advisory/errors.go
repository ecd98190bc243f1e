package advisory

import (
	"errors"
	"fmt"
)

// Errors reported by Load and LoadKEV, wrapped with the file and entry they
// concern; check them with errors.Is.
var (
	// ErrTooLarge: a file is larger than MaxFileSize.
	ErrTooLarge = errors.New("file too large")
	// ErrNotCSAF: a JSON file is not a CSAF 2.0 document.
	ErrNotCSAF = errors.New("not a CSAF 2.0 document")
	// ErrMalformed: a document or one of its entries does not have the
	// expected shape.
	ErrMalformed = errors.New("malformed entry")
	// ErrVersionRange: a version expression is not machine-readable; the
	// product is kept and matches say so.
	ErrVersionRange = errors.New("version range not machine-readable")
)

// FileError is a problem with a whole file: it was skipped.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// EntryError is a problem with one entry of a file (a product branch, a
// vulnerability, a KEV record): that entry was skipped, or for a version
// range kept as not machine-readable, and the rest imported.
type EntryError struct {
	File     string
	Advisory string // advisory ID, or "" for the KEV catalog
	Entry    string // JSON path of the entry: "vulnerabilities[3].scores[0]"
	Err      error
}

func (e *EntryError) Error() string {
	id := e.File
	if e.Advisory != "" {
		id += " (" + e.Advisory + ")"
	}
	return fmt.Sprintf("%s: %s: %v", id, e.Entry, e.Err)
}
func (e *EntryError) Unwrap() error { return e.Err }

// VersionError is a version expression that could not be interpreted.
type VersionError struct {
	Product string
	Raw     string
	Problem string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s: version %q: %s", e.Product, e.Raw, e.Problem)
}
func (e *VersionError) Unwrap() error { return ErrVersionRange }
