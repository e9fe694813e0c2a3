package filter

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// accept is what a matching program returns: the number of bytes to keep,
// all of them. libpcap returns the snap length; a kernel socket filter
// truncates packets to the value, so anything smaller could cut a packet.
const accept = 0xffffffff

// maxInstructions is the kernel's limit on a classic BPF program
// (BPF_MAXINSNS).
const maxInstructions = 4096

// item is one instruction of a program being generated: a plain one, a
// conditional or unconditional jump to labels, or a label.
type item struct {
	ins    bpf.Instruction
	label  int // ≥ 0: this item marks the label's position
	jump   bool
	test   bpf.JumpTest
	k      uint32
	useX   bool
	jt, jf int // labels of a conditional jump
	ja     bool
	target int // label of an unconditional jump
	// A conditional jump whose target is more than 255 instructions away
	// branches to an unconditional jump right after it.
	farT, farF bool
}

type emitter struct {
	items  []item
	labels int
	depth  int // scratch slots in use
}

func (e *emitter) newLabel() int { e.labels++; return e.labels - 1 }

func (e *emitter) place(l int)            { e.items = append(e.items, item{label: l}) }
func (e *emitter) op(ins bpf.Instruction) { e.items = append(e.items, item{ins: ins, label: -1}) }
func (e *emitter) jumpTo(l int)           { e.items = append(e.items, item{label: -1, ja: true, target: l}) }
func (e *emitter) branch(t bpf.JumpTest, k uint32, x bool, tl, fl int) {
	e.items = append(e.items, item{label: -1, jump: true, test: t, k: k, useX: x, jt: tl, jf: fl})
}

// gen emits code that jumps to tl when c holds and to fl when it does not.
func (e *emitter) gen(c cond, tl, fl int) error {
	switch c := c.(type) {
	case cTrue:
		e.jumpTo(tl)
	case cFalse:
		e.jumpTo(fl)
	case cNot:
		return e.gen(c.x, fl, tl)
	case cAnd:
		for i, x := range c {
			if i == len(c)-1 {
				return e.gen(x, tl, fl)
			}
			next := e.newLabel()
			if err := e.gen(x, next, fl); err != nil {
				return err
			}
			e.place(next)
		}
		e.jumpTo(tl) // an empty and is true
	case cOr:
		for i, x := range c {
			if i == len(c)-1 {
				return e.gen(x, tl, fl)
			}
			next := e.newLabel()
			if err := e.gen(x, tl, next); err != nil {
				return err
			}
			e.place(next)
		}
		e.jumpTo(fl) // an empty or is false
	case cCmp:
		e.load(c.ld)
		if c.hasMask && c.op != '&' {
			e.op(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: c.mask})
		}
		switch c.op {
		case '=':
			e.branch(bpf.JumpEqual, c.k, false, tl, fl)
		case '>':
			e.branch(bpf.JumpGreaterThan, c.k, false, tl, fl)
		case 'g':
			e.branch(bpf.JumpGreaterOrEqual, c.k, false, tl, fl)
		case '&':
			e.branch(bpf.JumpBitsSet, c.k, false, tl, fl)
		}
	case cRel:
		return e.relation(c, tl, fl)
	default:
		return fmt.Errorf("filter: unknown condition %T", c)
	}
	return nil
}

func (e *emitter) load(ld load) {
	switch {
	case ld.length:
		e.op(bpf.LoadExtension{Num: bpf.ExtLen})
	case ld.ipx:
		e.op(bpf.LoadMemShift{Off: ld.ipOff})
		e.op(bpf.LoadIndirect{Off: ld.off, Size: ld.size})
	default:
		e.op(bpf.LoadAbsolute{Off: ld.off, Size: ld.size})
	}
}

var errTooDeep = errors.New("arithmetic nested too deeply (more than 16 pending values)")

// arith emits code leaving the value of a in A. Pending left operands wait
// in scratch memory, one slot per nesting level.
func (e *emitter) arith(a rarith) error {
	switch a := a.(type) {
	case rNum:
		e.op(bpf.LoadConstant{Dst: bpf.RegA, Val: uint32(a)})
	case rLen:
		e.op(bpf.LoadExtension{Num: bpf.ExtLen})
	case rNeg:
		if err := e.arith(a.x); err != nil {
			return err
		}
		// x/net/bpf's VM has no NEG: 0 - A instead.
		e.op(bpf.TAX{})
		e.op(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
		e.op(bpf.ALUOpX{Op: bpf.ALUOpSub})
	case rLoad:
		if k, ok := a.idx.(rNum); ok {
			if a.ipx {
				e.op(bpf.LoadMemShift{Off: a.ipOff})
				e.op(bpf.LoadIndirect{Off: a.base + uint32(k), Size: a.size})
			} else {
				e.op(bpf.LoadAbsolute{Off: a.base + uint32(k), Size: a.size})
			}
			return nil
		}
		if err := e.arith(a.idx); err != nil {
			return err
		}
		if a.ipx {
			slot, err := e.push()
			if err != nil {
				return err
			}
			e.op(bpf.LoadMemShift{Off: a.ipOff})
			e.op(bpf.LoadScratch{Dst: bpf.RegA, N: slot})
			e.op(bpf.ALUOpX{Op: bpf.ALUOpAdd})
			e.depth--
		}
		e.op(bpf.TAX{})
		e.op(bpf.LoadIndirect{Off: a.base, Size: a.size})
	case rBin:
		op := aluOps[a.op]
		if err := e.arith(a.l); err != nil {
			return err
		}
		if k, ok := a.r.(rNum); ok {
			e.op(bpf.ALUOpConstant{Op: op, Val: uint32(k)})
			return nil
		}
		slot, err := e.push()
		if err != nil {
			return err
		}
		if err := e.arith(a.r); err != nil {
			return err
		}
		e.op(bpf.TAX{})
		e.op(bpf.LoadScratch{Dst: bpf.RegA, N: slot})
		e.op(bpf.ALUOpX{Op: op})
		e.depth--
	default:
		return fmt.Errorf("filter: unknown arithmetic %T", a)
	}
	return nil
}

// push stores A in the next free scratch slot.
func (e *emitter) push() (int, error) {
	if e.depth == 16 {
		return 0, errTooDeep
	}
	e.op(bpf.StoreScratch{Src: bpf.RegA, N: e.depth})
	e.depth++
	return e.depth - 1, nil
}

var aluOps = map[string]bpf.ALUOp{
	"+": bpf.ALUOpAdd, "-": bpf.ALUOpSub, "*": bpf.ALUOpMul, "/": bpf.ALUOpDiv, "%": bpf.ALUOpMod,
	"&": bpf.ALUOpAnd, "|": bpf.ALUOpOr, "^": bpf.ALUOpXor, "<<": bpf.ALUOpShiftLeft, ">>": bpf.ALUOpShiftRight,
}

func (e *emitter) relation(c cRel, tl, fl int) error {
	if err := e.arith(c.l); err != nil {
		return err
	}
	k, konst := c.r.(rNum)
	if !konst {
		slot, err := e.push()
		if err != nil {
			return err
		}
		if err := e.arith(c.r); err != nil {
			return err
		}
		e.op(bpf.TAX{})
		e.op(bpf.LoadScratch{Dst: bpf.RegA, N: slot})
		e.depth--
	}
	// Unsigned comparisons, as in BPF; "<", "<=" and "!=" swap the targets.
	test, swap := bpf.JumpEqual, false
	switch c.op {
	case ">":
		test = bpf.JumpGreaterThan
	case ">=":
		test = bpf.JumpGreaterOrEqual
	case "<":
		test, swap = bpf.JumpGreaterOrEqual, true
	case "<=":
		test, swap = bpf.JumpGreaterThan, true
	case "!=":
		swap = true
	}
	if swap {
		tl, fl = fl, tl
	}
	e.branch(test, uint32(k), !konst, tl, fl)
	return nil
}

// assemble resolves the labels into relative jumps and returns the program.
func (e *emitter) assemble() ([]bpf.Instruction, error) {
	for {
		pos := make([]int, e.labels) // instruction index of each label
		n := 0
		for i := range e.items {
			it := &e.items[i]
			switch {
			case it.label >= 0:
				pos[it.label] = n
			case it.jump:
				n++
				if it.farT {
					n++
				}
				if it.farF {
					n++
				}
			default:
				n++
			}
		}
		if n > maxInstructions {
			return nil, fmt.Errorf("program of %d instructions is longer than the kernel's limit of %d", n, maxInstructions)
		}
		// Check distances; widen the jumps that are too far and try again.
		changed := false
		at := 0
		for i := range e.items {
			it := &e.items[i]
			switch {
			case it.label >= 0:
				continue
			case it.jump:
				extra := 0
				if it.farT {
					extra++
				}
				if it.farF {
					extra++
				}
				if !it.farT && pos[it.jt]-at-1 > 255 {
					it.farT, changed = true, true
				}
				if !it.farF && pos[it.jf]-at-1 > 255 {
					it.farF, changed = true, true
				}
				at += 1 + extra
			default:
				at++
			}
		}
		if changed {
			continue
		}
		prog := make([]bpf.Instruction, 0, n)
		for i := range e.items {
			it := &e.items[i]
			at := len(prog)
			switch {
			case it.label >= 0:
			case it.ja:
				prog = append(prog, bpf.Jump{Skip: uint32(pos[it.target] - at - 1)})
			case it.jump:
				// Layout: the test, then the far true jump, then the far
				// false jump, each present only when needed.
				next := at + 1
				var skipT, skipF int
				if it.farT {
					skipT = next - at - 1
					next++
				} else {
					skipT = pos[it.jt] - at - 1
				}
				if it.farF {
					skipF = next - at - 1
				} else {
					skipF = pos[it.jf] - at - 1
				}
				if it.useX {
					prog = append(prog, bpf.JumpIfX{Cond: it.test, SkipTrue: uint8(skipT), SkipFalse: uint8(skipF)})
				} else {
					prog = append(prog, bpf.JumpIf{Cond: it.test, Val: it.k, SkipTrue: uint8(skipT), SkipFalse: uint8(skipF)})
				}
				if it.farT {
					prog = append(prog, bpf.Jump{Skip: uint32(pos[it.jt] - len(prog) - 1)})
				}
				if it.farF {
					prog = append(prog, bpf.Jump{Skip: uint32(pos[it.jf] - len(prog) - 1)})
				}
			default:
				prog = append(prog, it.ins)
			}
		}
		return prog, nil
	}
}
