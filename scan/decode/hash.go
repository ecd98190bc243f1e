package decode

// FNV-1a (64 bit), for the cheap "seen this before" and "did this PDU
// change" checks of the once-sets: not for anything an attacker could
// profit from colliding beyond a missed fact.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

// fnv1a continues hash h over b.
func fnv1a(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// hashBytes is the FNV-1a hash of b.
func hashBytes(b []byte) uint64 { return fnv1a(fnvOffset, b) }
