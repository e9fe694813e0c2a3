package capture

import "cmp"

// compareNatural orders file names as people number them: byte by byte,
// but a run of digits against a run of digits by the number it writes,
// so that tcpdump -C's rotated files, dump.pcap, dump.pcap1, ...,
// dump.pcap10, come in the order tcpdump wrote them (by bytes,
// dump.pcap10 comes before dump.pcap2). Of two runs of the same number,
// the one with fewer leading zeros comes first, so that only equal names
// compare equal. Names whose digits are zero-padded to one width, as
// dumpcap's ring buffer and tcpdump -G's times write them, keep their
// order by bytes.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		if !isDigit(a[0]) || !isDigit(b[0]) {
			if a[0] != b[0] {
				return cmp.Compare(a[0], b[0])
			}
			a, b = a[1:], b[1:]
			continue
		}
		i, j := digits(a), digits(b)
		x, y := trimZeros(a[:i]), trimZeros(b[:j])
		if c := cmp.Compare(len(x), len(y)); c != 0 {
			return c // more digits: a larger number
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c // as many: by bytes, which is by value
		}
		if c := cmp.Compare(i, j); c != 0 {
			return c
		}
		a, b = a[i:], b[j:]
	}
	return cmp.Compare(len(a), len(b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the length of the run of digits s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// trimZeros drops a run of digits' leading zeros.
func trimZeros(s string) string {
	for len(s) > 0 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
