#include "textflag.h"

// func Line(p unsafe.Pointer)
TEXT ·Line(SB), NOSPLIT|NOFRAME, $0-8
	MOVD p+0(FP), R0
	PRFM (R0), PLDL1KEEP
	RET

// func Lines3(p, q, r unsafe.Pointer)
TEXT ·Lines3(SB), NOSPLIT|NOFRAME, $0-24
	MOVD p+0(FP), R0
	PRFM (R0), PLDL1KEEP
	MOVD q+8(FP), R0
	PRFM (R0), PLDL1KEEP
	MOVD r+16(FP), R0
	PRFM (R0), PLDL1KEEP
	RET

// func Range(p unsafe.Pointer, n int)
TEXT ·Range(SB), NOSPLIT|NOFRAME, $0-16
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
	ADD  R0, R1, R1
rangeLoop:
	CMP  R1, R0
	BHS  rangeDone
	PRFM (R0), PLDL1KEEP
	ADD  $64, R0, R0
	B    rangeLoop
rangeDone:
	RET

// func Write3(p, q, r unsafe.Pointer)
TEXT ·Write3(SB), NOSPLIT|NOFRAME, $0-24
	MOVD p+0(FP), R0
	PRFM (R0), PSTL1KEEP
	MOVD q+8(FP), R0
	PRFM (R0), PSTL1KEEP
	MOVD r+16(FP), R0
	PRFM (R0), PSTL1KEEP
	RET
