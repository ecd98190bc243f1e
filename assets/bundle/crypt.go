package bundle

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
)

// ErrNoPassphrase is returned for an empty passphrase.
var ErrNoPassphrase = errors.New("the passphrase is empty")

// Recipients returns the age recipients for --encrypt-to values (age1...
// public keys, or files of them, one a line, read by the caller and passed
// as text) and an optional passphrase. The passphrase comes from a file or
// the environment, never from the command line; "" means none.
func Recipients(keys []string, passphrase string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, k := range keys {
		rs, err := age.ParseRecipients(strings.NewReader(k))
		if err != nil {
			return nil, fmt.Errorf("--encrypt-to: %w", err)
		}
		out = append(out, rs...)
	}
	if passphrase != "" {
		if len(out) > 0 {
			// age allows a passphrase only as the sole recipient.
			return nil, errors.New("encrypt either to recipients or with a passphrase, not both")
		}
		r, err := age.NewScryptRecipient(passphrase)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Identities returns the age identities for reading an encrypted bundle: an
// identity file (nil for none) and a passphrase ("" for none).
func Identities(identityFile io.Reader, passphrase string) ([]age.Identity, error) {
	var out []age.Identity
	if identityFile != nil {
		ids, err := age.ParseIdentities(identityFile)
		if err != nil {
			return nil, fmt.Errorf("identity file: %w", err)
		}
		out = append(out, ids...)
	}
	if passphrase != "" {
		id, err := age.NewScryptIdentity(passphrase)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// ReadPassphrase reads a passphrase file: its first line, without the line
// end. An empty passphrase is refused.
func ReadPassphrase(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", err
	}
	p, _, _ := strings.Cut(string(b), "\n")
	p = strings.TrimSuffix(p, "\r")
	if p == "" {
		return "", ErrNoPassphrase
	}
	return p, nil
}
