package flow

// sortPending sorts flows ended at one flush by Order, in place.
//
// It is an in-place most-significant-digit radix sort (American flag sort)
// on the bytes of (Event, Start) that differ between the flows, which are
// few: the flows a sweep or the end of the input ends share their Event
// and differ only in the low bytes of Start. The 100 000 flows open at the
// end of the benchmark capture sort in two or three passes; the comparison
// sort it replaced spent about 40 ns a comparison on them, as their end
// order (a walk of the timing wheels) is unrelated to their start order and
// every comparison is a branch mispredicted half the time. In place, it
// needs no second array as large as the flows open at the end of the
// input. Short runs, the common case of a flush, take an insertion sort.
// No two flows of a table have the same Order (a packet starts at most one
// flow), so the order of equal keys does not matter.
func sortPending(ps []pending) {
	if len(ps) <= insertionMax {
		insertionSort(ps)
		return
	}
	var diffE, diffS uint64
	e0, s0 := ps[0].order.Event, ps[0].order.Start
	for i := range ps {
		diffE |= ps[i].order.Event ^ e0
		diffS |= ps[i].order.Start ^ s0
	}
	// The bytes that differ somewhere, most significant first.
	var digits [16]digit
	n := 0
	for k, diff := range [2]uint64{diffE, diffS} {
		for shift := 56; shift >= 0; shift -= 8 {
			if (diff>>shift)&0xff != 0 {
				digits[n] = digit{start: k == 1, shift: uint(shift)}
				n++
			}
		}
	}
	radixSort(ps, digits[:n])
}

// insertionMax is the length up to which a run is insertion-sorted.
const insertionMax = 48

// digit is one byte of the sort key: a byte of Start or of Event.
type digit struct {
	start bool
	shift uint
}

func (d digit) of(p *pending) byte {
	if d.start {
		return byte(p.order.Start >> d.shift)
	}
	return byte(p.order.Event >> d.shift)
}

// radixSort sorts ps on digits[0], then each bucket on the digits after.
func radixSort(ps []pending, digits []digit) {
	if len(digits) == 0 {
		return // every key of ps is the same
	}
	d := digits[0]
	var end, next [256]int
	for i := range ps {
		end[d.of(&ps[i])]++
	}
	sum := 0
	for b, c := range end {
		next[b] = sum
		sum += c
		end[b] = sum
	}
	// Swap each element into the next free place of its bucket until
	// every bucket holds only its own.
	for b := range 256 {
		for next[b] < end[b] {
			db := d.of(&ps[next[b]])
			if int(db) == b {
				next[b]++
				continue
			}
			ps[next[b]], ps[next[db]] = ps[next[db]], ps[next[b]]
			next[db]++
		}
	}
	start := 0
	for _, e := range end {
		if bucket := ps[start:e]; len(bucket) > insertionMax {
			radixSort(bucket, digits[1:])
		} else {
			insertionSort(bucket)
		}
		start = e
	}
}

func insertionSort(ps []pending) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].order.Less(ps[j-1].order); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
