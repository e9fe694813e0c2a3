package extract

// Graph metrics of the connection extractor, computed once between the two
// passes of scope capture from the final edges.
//
// Betweenness is our own Brandes on compressed adjacency arrays rather
// than gonum's network.Betweenness: gonum keeps its per-source state in
// maps (about a hundred times slower on a few thousand nodes and a million
// edges), cannot sample sources, and its float sums follow map order. Ours
// visits nodes in id order, so reruns agree to the bit, and is checked
// against gonum's in the tests. Louvain is gonum's community.Modularize,
// run over an adapter on the same arrays with a fixed seed; gonum sorts
// nodes by id and sorts candidate communities, so the result depends on
// the seed only. Clustering counts triangles by hand (gonum has none).

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/community"
	"gonum.org/v1/gonum/graph/iterator"
	"gonum.org/v1/gonum/graph/simple"
)

// betweennessBudget bounds the work of betweenness, in node and edge
// visits (one BFS from a source visits at most n + m). Exact betweenness
// costs n·(n + m); above the budget, k = budget / (n + m) sources are
// sampled (never fewer than minSampledSources) and the sums scaled by
// n / k, as networkx does with its k argument. 2e9 visits take some
// seconds on one core.
const (
	betweennessBudget = 2e9
	minSampledSources = 64
)

// connGraph is the connection graph in compressed sparse rows. Node ids
// are the extractor's; every adjacency list is sorted by node id.
type connGraph struct {
	n int
	// out is the directed graph, one entry per distinct (src, dst).
	outOff []int
	out    []int32
	// und is the undirected simple graph without self-loops; w is each
	// entry's weight, the flows of both directions between the two nodes.
	undOff []int
	und    []int32
	w      []float64
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
	for i := range src {
		u, v := int32(src[i]), int32(dst[i])
		switch {
		case u < v:
			pairs = append(pairs, pair{u, v, flows[i]})
		case u > v:
			pairs = append(pairs, pair{v, u, flows[i]})
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
	g.w = make([]float64, 2*len(pairs))
	fill = slices.Clone(g.undOff[:n])
	// Pairs sorted by (u, v) fill each list in ascending order: node x
	// first receives its smaller neighbours (pairs (u, x), u < x, in u
	// order), then its larger ones (pairs (x, v) in v order).
	for _, p := range pairs {
		g.und[fill[p.u]], g.w[fill[p.u]] = p.v, float64(p.w)
		fill[p.u]++
		g.und[fill[p.v]], g.w[fill[p.v]] = p.u, float64(p.w)
		fill[p.v]++
	}
	return g
}

func (g *connGraph) succ(v int32) []int32 { return g.out[g.outOff[v]:g.outOff[v+1]] }
func (g *connGraph) adj(v int32) []int32  { return g.und[g.undOff[v]:g.undOff[v+1]] }

// betweennessSources returns the sources of betweenness, all nodes when
// exact betweenness fits the budget, otherwise a sample drawn with a
// fixed seed, in ascending order.
func (g *connGraph) betweennessSources() []int32 {
	n := g.n
	visits := float64(n + len(g.out))
	k := n
	if float64(n)*visits > betweennessBudget {
		k = min(n, max(int(betweennessBudget/visits), minSampledSources))
	}
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(i)
	}
	if k == n {
		return ids
	}
	r := rand.New(rand.NewPCG(betweennessSeed, 0))
	for i := 0; i < k; i++ {
		j := i + r.IntN(n-i)
		ids[i], ids[j] = ids[j], ids[i]
	}
	ids = ids[:k]
	slices.Sort(ids)
	return ids
}

// betweenness returns every node's betweenness centrality, directed and
// unweighted, normalised by 1/((n−1)(n−2)) (0 for n ≤ 2) and scaled by
// n/k when only k sources are used (Brandes 2001, dependencies summed over
// successors, so no predecessor lists are kept).
func (g *connGraph) betweenness(sources []int32) []float64 {
	n := g.n
	bc := make([]float64, n)
	if n <= 2 || len(sources) == 0 {
		return bc
	}
	dist := make([]int32, n)
	for i := range dist {
		dist[i] = -1
	}
	sigma := make([]float64, n)
	delta := make([]float64, n)
	order := make([]int32, 0, n)
	for _, s := range sources {
		order = append(order[:0], s)
		dist[s], sigma[s] = 0, 1
		for head := 0; head < len(order); head++ {
			v := order[head]
			dv := dist[v] + 1
			for _, w := range g.succ(v) {
				if dist[w] < 0 {
					dist[w] = dv
					order = append(order, w)
				}
				if dist[w] == dv {
					sigma[w] += sigma[v]
				}
			}
		}
		// Non-increasing distance: every successor's dependency is final.
		for i := len(order) - 1; i > 0; i-- {
			v := order[i]
			dv := dist[v] + 1
			var d float64
			for _, w := range g.succ(v) {
				if dist[w] == dv {
					d += sigma[v] / sigma[w] * (1 + delta[w])
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
	if len(sources) < n {
		scale *= float64(n) / float64(len(sources))
	}
	for i := range bc {
		bc[i] *= scale
	}
	return bc
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

// louvain returns each node's community index from gonum's Louvain on the
// weighted undirected graph (resolution 1, fixed seed). Indexes are
// arbitrary; the caller renumbers them.
func (g *connGraph) louvain() []int {
	comm := make([]int, g.n)
	if g.n == 0 {
		return comm
	}
	r := community.Modularize(louvainGraph{g}, 1, rand.NewPCG(louvainSeed, 0))
	for i, members := range r.Communities() {
		for _, m := range members {
			comm[m.ID()] = i
		}
	}
	return comm
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
	sources := g.betweennessSources()
	if len(sources) < n {
		c.warnings = append(c.warnings, fmt.Sprintf("connection: betweenness estimated from %d of %d source nodes (fixed seed): exact betweenness on %d nodes and %d edges exceeds the budget of %.0e visits", len(sources), n, n, len(g.out), float64(betweennessBudget)))
	}
	c.betweenness = g.betweenness(sources)
	c.clustering = g.clustering()
	c.community = firstAppearance(g.louvain(), c.rank)
}

// firstAppearance renumbers communities 0, 1, ... in the order their first
// node appears (rank, 1-based; 0 = never, after all others), ties and
// never-seen nodes by node id.
func firstAppearance(comm []int, rank []uint32) []int64 {
	type first struct {
		rank uint32
		node int
	}
	firsts := map[int]first{}
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
	order := make([]int, 0, len(firsts))
	for ci := range firsts {
		order = append(order, ci)
	}
	slices.SortFunc(order, func(a, b int) int {
		fa, fb := firsts[a], firsts[b]
		return cmp.Or(cmp.Compare(fa.rank, fb.rank), cmp.Compare(fa.node, fb.node))
	})
	id := make(map[int]int64, len(order))
	for i, ci := range order {
		id[ci] = int64(i)
	}
	out := make([]int64, len(comm))
	for v, ci := range comm {
		out[v] = id[ci]
	}
	return out
}

// louvainGraph adapts connGraph's undirected arrays to gonum's
// graph.WeightedUndirected for community.Modularize.
type louvainGraph struct{ g *connGraph }

var _ graph.WeightedUndirected = louvainGraph{}

func (l louvainGraph) has(id int64) bool { return id >= 0 && id < int64(l.g.n) }

// Node returns the node with the id, or nil.
func (l louvainGraph) Node(id int64) graph.Node {
	if !l.has(id) {
		return nil
	}
	return simple.Node(id)
}

// Nodes returns every node, in id order.
func (l louvainGraph) Nodes() graph.Nodes {
	return iterator.NewImplicitNodes(0, l.g.n, func(id int) graph.Node { return simple.Node(id) })
}

// From returns the neighbours of id, in id order.
func (l louvainGraph) From(id int64) graph.Nodes {
	if !l.has(id) {
		return graph.Empty
	}
	return &adjNodes{adj: l.g.adj(int32(id))}
}

// weight returns the weight between x and y, and whether they are
// adjacent.
func (l louvainGraph) weight(x, y int64) (float64, bool) {
	if !l.has(x) || !l.has(y) || x == y {
		return 0, false
	}
	lo, hi := l.g.undOff[x], l.g.undOff[x+1]
	i, ok := slices.BinarySearch(l.g.und[lo:hi], int32(y))
	if !ok {
		return 0, false
	}
	return l.g.w[lo+i], true
}

// HasEdgeBetween reports whether x and y are adjacent.
func (l louvainGraph) HasEdgeBetween(x, y int64) bool {
	_, ok := l.weight(x, y)
	return ok
}

// Edge returns the edge between u and v, or nil.
func (l louvainGraph) Edge(u, v int64) graph.Edge {
	if e := l.WeightedEdge(u, v); e != nil {
		return e
	}
	return nil
}

// EdgeBetween is Edge: the graph is undirected.
func (l louvainGraph) EdgeBetween(x, y int64) graph.Edge { return l.Edge(x, y) }

// WeightedEdge returns the weighted edge between u and v, or nil.
func (l louvainGraph) WeightedEdge(u, v int64) graph.WeightedEdge {
	w, ok := l.weight(u, v)
	if !ok {
		return nil
	}
	return simple.WeightedEdge{F: simple.Node(u), T: simple.Node(v), W: w}
}

// WeightedEdgeBetween is WeightedEdge: the graph is undirected.
func (l louvainGraph) WeightedEdgeBetween(x, y int64) graph.WeightedEdge {
	return l.WeightedEdge(x, y)
}

// Weight returns the weight between x and y; a node's weight to itself is
// 0 (self-loops are left out) and reported as present, as gonum's simple
// graphs do.
func (l louvainGraph) Weight(x, y int64) (float64, bool) {
	if x == y && l.has(x) {
		return 0, true
	}
	return l.weight(x, y)
}

// adjNodes iterates over an adjacency list.
type adjNodes struct {
	adj []int32
	i   int // 1 + index of the current node
}

func (it *adjNodes) Next() bool {
	if it.i < len(it.adj) {
		it.i++
		return true
	}
	return false
}

func (it *adjNodes) Len() int { return len(it.adj) - it.i }
func (it *adjNodes) Reset()   { it.i = 0 }

func (it *adjNodes) Node() graph.Node {
	if it.i == 0 {
		return nil
	}
	return simple.Node(it.adj[it.i-1])
}
