package extract

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"net/netip"
)

// PrefixAnonymizer maps IP addresses to IP addresses with Crypto-PAn (Xu,
// Fan, Ammar and Moon, "Prefix-preserving IP address anonymization", ICNP
// 2002): two addresses that share their first k bits map to two addresses
// that share exactly their first k bits, so subnets stay subnets, and the
// map is a keyed permutation of each family's address space. Unlike the
// salted hash of the "hash" mode, its output is still an address, which
// tools that parse, sort or group by prefix can use.
//
// Bit i of the output is bit i of the input XOR the first bit of
// AES_K(first i bits of the input, then the rest of a secret pad), so it
// depends only on the bits before it. IPv4 takes 32 AES blocks, IPv6 128,
// with the same key: the scheme of the paper extended to 128 bits, as in
// the reference implementation's successors.
type PrefixAnonymizer struct {
	block cipher.Block
	pad   [16]byte
}

// PrefixKey derives a Crypto-PAn key from the anonymization salt: SHA-256
// of the salt's bytes, whose first 16 bytes are the AES key and whose last
// 16 bytes, encrypted, make the pad. An empty salt gives a public key,
// which hides nothing (the CLI warns about it).
func PrefixKey(salt string) [32]byte { return sha256.Sum256([]byte(salt)) }

// NewPrefixAnonymizer returns the anonymizer for a 32-byte Crypto-PAn key,
// as the reference implementation takes it.
func NewPrefixAnonymizer(key [32]byte) *PrefixAnonymizer {
	block, err := aes.NewCipher(key[:16])
	if err != nil {
		panic(err) // unreachable: 16 bytes is a valid AES key size
	}
	pa := &PrefixAnonymizer{block: block}
	block.Encrypt(pa.pad[:], key[16:])
	return pa
}

// Anonymize returns the anonymized address, of the same family: IPv4
// addresses map to IPv4 addresses, IPv6 (IPv4-mapped included) to IPv6.
// Zones are dropped.
func (pa *PrefixAnonymizer) Anonymize(a netip.Addr) netip.Addr {
	if a.Is4() {
		b := a.As4()
		pa.permute(b[:])
		return netip.AddrFrom4(b)
	}
	if !a.IsValid() {
		return a
	}
	b := a.As16()
	pa.permute(b[:])
	return netip.AddrFrom16(b)
}

// permute anonymizes addr (4 or 16 bytes, network order) in place.
func (pa *PrefixAnonymizer) permute(addr []byte) {
	var in, out, otp [16]byte
	for pos := 0; pos < len(addr)*8; pos++ {
		// The first pos bits of the address, then the pad's bits.
		in = pa.pad
		whole := pos / 8
		copy(in[:whole], addr[:whole])
		if r := pos % 8; r != 0 {
			mask := byte(0xff) << (8 - r)
			in[whole] = addr[whole]&mask | pa.pad[whole]&^mask
		}
		pa.block.Encrypt(out[:], in[:])
		otp[pos/8] |= out[0] >> 7 << (7 - pos%8)
	}
	for i := range addr {
		addr[i] ^= otp[i]
	}
}

// AnonymizePrefix returns a's prefix-preserving anonymization under the
// key derived from salt (PrefixKey). It sets the key up on every call
// (about as long as anonymizing one IPv4 address); to anonymize many
// addresses, keep a PrefixAnonymizer.
func AnonymizePrefix(salt string, a netip.Addr) netip.Addr {
	return NewPrefixAnonymizer(PrefixKey(salt)).Anonymize(a)
}
