#include "textflag.h"

// func prefetchRange(addr *byte, n int, stride int)
TEXT ·prefetchRange(SB), NOSPLIT|NOFRAME, $0-24
	MOVQ addr+0(FP), AX
	MOVQ n+8(FP), CX
	MOVQ stride+16(FP), DX
	LEAQ (AX)(CX*1), CX
loop:
	CMPQ AX, CX
	JAE  done
	PREFETCHT0 (AX)
	ADDQ DX, AX
	JMP  loop
done:
	RET
