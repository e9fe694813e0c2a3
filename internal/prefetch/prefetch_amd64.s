#include "textflag.h"

// func Line(p unsafe.Pointer)
TEXT ·Line(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ p+0(FP), AX
	PREFETCHT0 (AX)
	RET

// func Lines3(p, q, r unsafe.Pointer)
TEXT ·Lines3(SB), NOSPLIT|NOFRAME, $0-24
	MOVQ p+0(FP), AX
	PREFETCHT0 (AX)
	MOVQ q+8(FP), AX
	PREFETCHT0 (AX)
	MOVQ r+16(FP), AX
	PREFETCHT0 (AX)
	RET

// func Range(p unsafe.Pointer, n int)
TEXT ·Range(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX
rangeLoop:
	CMPQ AX, CX
	JAE  rangeDone
	PREFETCHT0 (AX)
	ADDQ $64, AX
	JMP  rangeLoop
rangeDone:
	RET

// func Write3(p, q, r unsafe.Pointer)
// PREFETCHW where CPUID says the processor has it (hasPrefetchW, set at
// init), PREFETCHT0 where not: a processor that lacks an instruction may
// not know its opcode.
TEXT ·Write3(SB), NOSPLIT|NOFRAME, $0-24
	CMPB ·hasPrefetchW(SB), $0
	JEQ  read
	MOVQ p+0(FP), AX
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08 // PREFETCHW (AX): the assembler has no mnemonic
	MOVQ q+8(FP), AX
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08
	MOVQ r+16(FP), AX
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08
	RET
read:
	JMP ·Lines3(SB) // the same arguments

// func cpuid(leaf uint32) (eax, ecx uint32)
TEXT ·cpuid(SB), NOSPLIT|NOFRAME, $0-16
	MOVL leaf+0(FP), AX
	XORL CX, CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL CX, ecx+12(FP)
	RET
