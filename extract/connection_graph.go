package extract

// Graph metrics of the connection extractor, computed once between the two
// passes of scope capture from the final edges, on compressed adjacency
// arrays (8 to 16 bytes per edge) rather than a map-based graph.
//
// Betweenness and Louvain are our own code, checked in the tests against
// gonum (gonum.org/v1/gonum/graph): network.Betweenness for the values and
// community.Modularize and community.Q for the modularity reached. gonum
// was the first choice and is too slow here: its Louvain weighs a node
// against every member of each neighbouring community through map
// lookups, which took 28.5 s on a 3,500-node client-server graph of 300k
// edges (O(n²) per sweep), and its Brandes keeps per-source state in maps
// and cannot sample sources. Both of ours visit nodes in a fixed order, so
// reruns agree to the bit. Clustering counts triangles (gonum has none).

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// betweennessBudget bounds the work of betweenness in node and edge
// visits. Sources are taken in an order drawn with a fixed seed; when the
// visits of the sources done so far reach the budget, the rest are
// skipped and the sums scaled by n/k for the k sources done, as networkx
// does with its k argument (a uniform sample: a prefix of a random
// order). 2e9 visits take a few seconds; client-server graphs, where a
// BFS stops after one or two hops, stay exact far beyond 20,000 nodes.
const betweennessBudget = 2e9

// connGraph is the connection graph in compressed sparse rows. Node ids
// are the extractor's; every adjacency list is sorted by node id.
type connGraph struct {
	n int
	// out is the directed graph, one entry per distinct (src, dst).
	outOff []int
	out    []int32
	// und is the undirected simple graph without self-loops; w is each
	// entry's weight, the flows of both directions between the two nodes,
	// and self each node's flows to itself.
	undOff []int
	und    []int32
	w      []uint64
	self   []uint64
}

// newConnGraph builds the graph of n nodes from the edges src[i] → dst[i]
// with flows[i] flows each; (src, dst) pairs are distinct.
func newConnGraph(n int, src, dst []uint32, flows []uint64) *connGraph {
	g := &connGraph{n: n}
	g.outOff = make([]int, n+1)
	for _, s := range src {
		g.outOff[s+1]++
	}
	for i := 0; i < n; i++ {
		g.outOff[i+1] += g.outOff[i]
	}
	g.out = make([]int32, len(src))
	fill := slices.Clone(g.outOff[:n])
	for i, s := range src {
		g.out[fill[s]] = int32(dst[i])
		fill[s]++
	}
	for v := 0; v < n; v++ {
		slices.Sort(g.out[g.outOff[v]:g.outOff[v+1]])
	}

	// Undirected pairs (u < v), both directions merged.
	type pair struct {
		u, v int32
		w    uint64
	}
	pairs := make([]pair, 0, len(src))
	g.self = make([]uint64, n)
	for i := range src {
		u, v := int32(src[i]), int32(dst[i])
		switch {
		case u < v:
			pairs = append(pairs, pair{u, v, flows[i]})
		case u > v:
			pairs = append(pairs, pair{v, u, flows[i]})
		default:
			g.self[u] += flows[i]
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.u, b.u), cmp.Compare(a.v, b.v))
	})
	k := 0
	for _, p := range pairs {
		if k > 0 && pairs[k-1].u == p.u && pairs[k-1].v == p.v {
			pairs[k-1].w += p.w
			continue
		}
		pairs[k] = p
		k++
	}
	pairs = pairs[:k]
	g.undOff = make([]int, n+1)
	for _, p := range pairs {
		g.undOff[p.u+1]++
		g.undOff[p.v+1]++
	}
	for i := 0; i < n; i++ {
		g.undOff[i+1] += g.undOff[i]
	}
	g.und = make([]int32, 2*len(pairs))
	g.w = make([]uint64, 2*len(pairs))
	fill = slices.Clone(g.undOff[:n])
	// Pairs sorted by (u, v) fill each list in ascending order: node x
	// first receives its smaller neighbours (pairs (u, x), u < x, in u
	// order), then its larger ones (pairs (x, v) in v order).
	for _, p := range pairs {
		g.und[fill[p.u]], g.w[fill[p.u]] = p.v, p.w
		fill[p.u]++
		g.und[fill[p.v]], g.w[fill[p.v]] = p.u, p.w
		fill[p.v]++
	}
	return g
}

func (g *connGraph) succ(v int32) []int32 { return g.out[g.outOff[v]:g.outOff[v+1]] }
func (g *connGraph) adj(v int32) []int32  { return g.und[g.undOff[v]:g.undOff[v+1]] }

// betweenness returns every node's betweenness centrality, directed and
// unweighted, normalised by 1/((n−1)(n−2)) (0 for n ≤ 2), and the number
// of sources used; with k < n sources the sums are scaled by n/k (see
// betweennessBudget). Brandes (2001), with dependencies summed over
// successors so that no predecessor lists are kept.
func (g *connGraph) betweenness(budget float64) (bc []float64, k int) {
	n := g.n
	bc = make([]float64, n)
	if n <= 2 {
		return bc, n
	}
	sources := sourceOrder(n)
	dist := make([]int32, n)
	for i := range dist {
		dist[i] = -1
	}
	sigma := make([]float64, n)
	delta := make([]float64, n)
	order := make([]int32, 0, n)
	visits := 0.0
	for _, s := range sources {
		if visits >= budget {
			break
		}
		k++
		order = append(order[:0], s)
		dist[s], sigma[s] = 0, 1
		edges := 0
		for head := 0; head < len(order); head++ {
			v := order[head]
			dv := dist[v] + 1
			succ := g.succ(v)
			edges += len(succ)
			for _, w := range succ {
				if dist[w] < 0 {
					dist[w] = dv
					order = append(order, w)
				}
				if dist[w] == dv {
					sigma[w] += sigma[v]
				}
			}
		}
		visits += float64(2 * (len(order) + edges))
		// Non-increasing distance: every successor's dependency is final.
		for i := len(order) - 1; i > 0; i-- {
			v := order[i]
			dv := dist[v] + 1
			var d float64
			for _, w := range g.succ(v) {
				if dist[w] == dv {
					d += float64(sigma[v] / sigma[w] * (1 + delta[w])) // rounded, not fused (centralMoments)
				}
			}
			delta[v] = d
			bc[v] += d
		}
		for _, v := range order {
			dist[v], sigma[v], delta[v] = -1, 0, 0
		}
	}
	scale := 1 / (float64(n-1) * float64(n-2))
	if k < n {
		scale *= float64(n) / float64(k)
	}
	for i := range bc {
		bc[i] *= scale
	}
	return bc, k
}

// sourceOrder returns the nodes in the order betweenness takes them as
// sources: a permutation drawn with a fixed seed.
func sourceOrder(n int) []int32 {
	sources := make([]int32, n)
	for i := range sources {
		sources[i] = int32(i)
	}
	r := rand.New(rand.NewPCG(betweennessSeed, 0))
	r.Shuffle(n, func(i, j int) { sources[i], sources[j] = sources[j], sources[i] })
	return sources
}

// clustering returns every node's clustering coefficient in the
// undirected, unweighted graph: 2T / (d(d − 1)) for a node of degree d in
// T triangles, 0 when d < 2 (networkx's clustering). Triangles are counted
// once each by orienting every edge towards the endpoint of higher
// (degree, id), which bounds the work by O(m^1.5).
func (g *connGraph) clustering() []float64 {
	n := g.n
	higher := func(a, b int32) bool {
		da, db := len(g.adj(a)), len(g.adj(b))
		return da < db || (da == db && a < b)
	}
	fwdOff := make([]int, n+1)
	for v := int32(0); int(v) < n; v++ {
		c := 0
		for _, w := range g.adj(v) {
			if higher(v, w) {
				c++
			}
		}
		fwdOff[v+1] = fwdOff[v] + c
	}
	fwd := make([]int32, 0, fwdOff[n])
	for v := int32(0); int(v) < n; v++ {
		for _, w := range g.adj(v) {
			if higher(v, w) {
				fwd = append(fwd, w)
			}
		}
	}
	tri := make([]uint64, n)
	mark := make([]int32, n)
	for i := range mark {
		mark[i] = -1
	}
	for u := int32(0); int(u) < n; u++ {
		fu := fwd[fwdOff[u]:fwdOff[u+1]]
		for _, w := range fu {
			mark[w] = u
		}
		for _, v := range fu {
			for _, w := range fwd[fwdOff[v]:fwdOff[v+1]] {
				if mark[w] == u {
					tri[u]++
					tri[v]++
					tri[w]++
				}
			}
		}
	}
	cc := make([]float64, n)
	for v := range cc {
		if d := uint64(len(g.adj(int32(v)))); d >= 2 {
			cc[v] = float64(2*tri[v]) / float64(d*(d-1))
		}
	}
	return cc
}

// graphMetrics computes betweenness, communities and clustering of every
// node (scope capture, between the passes).
func (c *Connection) graphMetrics() {
	n := len(c.nodes)
	src := make([]uint32, len(c.edgeFlows))
	dst := make([]uint32, len(c.edgeFlows))
	for k, e := range c.edgeIdx {
		src[e], dst[e] = uint32(k>>32), uint32(k)
	}
	g := newConnGraph(n, src, dst, c.edgeFlows)
	var k int
	c.betweenness, k = g.betweenness(c.budget)
	if k < n {
		c.warnings = append(c.warnings, fmt.Sprintf("connection: conn_*_betweenness estimated from %d of %d source nodes (fixed seed): exact betweenness on %d nodes and %d edges exceeds the budget of %.0e visits", k, n, n, len(g.out), c.budget))
	}
	c.clustering = g.clustering()
	c.community = firstAppearance(g.louvain(), c.rank)
}

// firstAppearance renumbers communities 0, 1, ... in the order their first
// node appears (rank, 1-based; 0 = never, after all others), ties and
// never-seen nodes by node id.
func firstAppearance(comm []int32, rank []uint32) []int64 {
	type first struct {
		rank uint32
		node int
	}
	firsts := map[int32]first{}
	for v, ci := range comm {
		r := uint32(math.MaxUint32)
		if v < len(rank) && rank[v] > 0 {
			r = rank[v]
		}
		f, ok := firsts[ci]
		if !ok || r < f.rank || (r == f.rank && v < f.node) {
			firsts[ci] = first{r, v}
		}
	}
	order := make([]int32, 0, len(firsts))
	for ci := range firsts {
		order = append(order, ci)
	}
	slices.SortFunc(order, func(a, b int32) int {
		fa, fb := firsts[a], firsts[b]
		return cmp.Or(cmp.Compare(fa.rank, fb.rank), cmp.Compare(fa.node, fb.node))
	})
	id := make(map[int32]int64, len(order))
	for i, ci := range order {
		id[ci] = int64(i)
	}
	out := make([]int64, len(comm))
	for v, ci := range comm {
		out[v] = id[ci]
	}
	return out
}

// louvain returns each node's community by the Louvain method (Blondel et
// al. 2008) on the undirected graph weighted by flows, resolution 1, as
// networkx's louvain_communities: self-loops count twice in a degree.
// Community indexes are arbitrary; the caller renumbers them.
//
// Weights are integers, so each gain is compared exactly: moving node i
// into community C gains m2·k_iC − k_i·tot_C (times a positive constant),
// where k_iC is i's weight to C, k_i its weighted degree, tot_C the degree
// sum of C and m2 the degree sum of the graph. A node moves only for a
// strictly larger gain, so every move raises the modularity and the loop
// ends without a tolerance. Nodes are visited in an order shuffled with a
// fixed seed each sweep; ties go to the community met first in id order.
func (g *connGraph) louvain() []int32 {
	lv := &louvainLevel{n: g.n, off: g.undOff, adj: g.und, w: g.w, k: make([]uint64, g.n)}
	var m2 uint64
	for v := range lv.k {
		d := 2 * g.self[v]
		for _, x := range g.w[g.undOff[v]:g.undOff[v+1]] {
			d += x
		}
		lv.k[v] = d
		m2 += d
	}
	member := make([]int32, g.n)
	for v := range member {
		member[v] = int32(v)
	}
	if m2 == 0 {
		return member
	}
	r := rand.New(rand.NewPCG(louvainSeed, 0))
	for {
		comm, moved := lv.move(r, m2)
		if !moved {
			return member
		}
		nc := renumber(comm)
		for v, c := range member {
			member[v] = comm[c]
		}
		lv = lv.aggregate(comm, nc)
	}
}

// louvainLevel is one level of Louvain: a weighted undirected graph in
// compressed rows without self-loops, and each node's weighted degree
// (internal weight of the communities it stands for included).
type louvainLevel struct {
	n   int
	off []int
	adj []int32
	w   []uint64
	k   []uint64
}

// move runs local moving to a fixed point from singletons; it returns
// each node's community and whether any node moved.
func (l *louvainLevel) move(r *rand.Rand, m2 uint64) (comm []int32, moved bool) {
	comm = make([]int32, l.n)
	tot := slices.Clone(l.k)
	order := make([]int32, l.n)
	for i := range comm {
		comm[i], order[i] = int32(i), int32(i)
	}
	kin := make([]uint64, l.n)   // weight from the current node to each community
	stamp := make([]uint64, l.n) // the visit that last set kin[c]
	visit := uint64(0)
	var touched []int32
	for {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		sweep := false
		for _, i := range order {
			visit++
			ci := comm[i]
			ki := l.k[i]
			tot[ci] -= ki
			touched = touched[:0]
			for e := l.off[i]; e < l.off[i+1]; e++ {
				c := comm[l.adj[e]]
				if stamp[c] != visit {
					stamp[c] = visit
					kin[c] = 0
					touched = append(touched, c)
				}
				kin[c] += l.w[e]
			}
			best, bestKin := ci, uint64(0)
			if stamp[ci] == visit {
				bestKin = kin[ci]
			}
			for _, c := range touched {
				if c != best && gainAbove(kin[c], tot[c], bestKin, tot[best], ki, m2) {
					best, bestKin = c, kin[c]
				}
			}
			tot[best] += ki
			if best != ci {
				comm[i] = best
				sweep, moved = true, true
			}
		}
		if !sweep {
			return comm, moved
		}
	}
}

// gainAbove reports whether m2·kinA − ki·totA > m2·kinB − ki·totB, that is
// m2·kinA + ki·totB > m2·kinB + ki·totA, in exact 192-bit integers.
func gainAbove(kinA, totA, kinB, totB, ki, m2 uint64) bool {
	a2, a1, a0 := mulAdd(m2, kinA, ki, totB)
	b2, b1, b0 := mulAdd(m2, kinB, ki, totA)
	if a2 != b2 {
		return a2 > b2
	}
	if a1 != b1 {
		return a1 > b1
	}
	return a0 > b0
}

// mulAdd returns a·b + c·d as a 192-bit integer.
func mulAdd(a, b, c, d uint64) (w2, w1, w0 uint64) {
	h1, l1 := bits.Mul64(a, b)
	h2, l2 := bits.Mul64(c, d)
	w0, carry := bits.Add64(l1, l2, 0)
	w1, carry = bits.Add64(h1, h2, carry)
	return carry, w1, w0
}

// renumber makes community indexes 0, 1, ... in order of their first node
// and returns how many there are.
func renumber(comm []int32) int {
	id := make([]int32, len(comm))
	for i := range id {
		id[i] = -1
	}
	n := int32(0)
	for i, c := range comm {
		if id[c] < 0 {
			id[c] = n
			n++
		}
		comm[i] = id[c]
	}
	return int(n)
}

// aggregate returns the graph of the nc communities: weights between two
// communities summed, weights inside one dropped from the rows (they stay
// in the degree).
func (l *louvainLevel) aggregate(comm []int32, nc int) *louvainLevel {
	// Nodes by community (counting sort), to walk one community at a time.
	start := make([]int, nc+1)
	for _, c := range comm {
		start[c+1]++
	}
	for c := 0; c < nc; c++ {
		start[c+1] += start[c]
	}
	members := make([]int32, l.n)
	fill := slices.Clone(start[:nc])
	for i, c := range comm {
		members[fill[c]] = int32(i)
		fill[c]++
	}
	next := &louvainLevel{n: nc, off: make([]int, nc+1), k: make([]uint64, nc)}
	acc := make([]uint64, nc)
	stamp := make([]int32, nc)
	var touched []int32
	for c := int32(0); int(c) < nc; c++ {
		touched = touched[:0]
		for _, i := range members[start[c]:start[c+1]] {
			next.k[c] += l.k[i]
			for e := l.off[i]; e < l.off[i+1]; e++ {
				d := comm[l.adj[e]]
				if d == c {
					continue
				}
				if stamp[d] != c+1 {
					stamp[d] = c + 1
					acc[d] = 0
					touched = append(touched, d)
				}
				acc[d] += l.w[e]
			}
		}
		slices.Sort(touched)
		for _, d := range touched {
			next.adj = append(next.adj, d)
			next.w = append(next.w, acc[d])
		}
		next.off[c+1] = len(next.adj)
	}
	return next
}
