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

// func Write3(p, q, r unsafe.Pointer)
TEXT ·Write3(SB), NOSPLIT|NOFRAME, $0-24
	MOVD p+0(FP), R0
	PRFM (R0), PSTL1KEEP
	MOVD q+8(FP), R0
	PRFM (R0), PSTL1KEEP
	MOVD r+16(FP), R0
	PRFM (R0), PSTL1KEEP
	RET
