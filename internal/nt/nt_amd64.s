#include "textflag.h"

// NT16 copies the 16 bytes at off(SI) to off(DI), the store non-temporal
// (MOVNTDQ, which needs DI+off on a 16-byte boundary).
#define NT16(off) MOVOU off(SI), X0; MOVNTO X0, off(DI)

// NT64 copies the 64 bytes at off(SI) to off(DI) as NT16 does.
#define NT64(off) NT16(off); NT16(off+16); NT16(off+32); NT16(off+48)

// func Copy64(dst, src unsafe.Pointer)
TEXT ·Copy64(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	NT64(0)
	RET

// func Copy96(dst, src unsafe.Pointer)
TEXT ·Copy96(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	NT64(0)
	NT16(64)
	NT16(80)
	RET

// func Copy192(dst, src unsafe.Pointer)
TEXT ·Copy192(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	NT64(0)
	NT64(64)
	NT64(128)
	RET

// func Fence()
TEXT ·Fence(SB), NOSPLIT|NOFRAME, $0-0
	SFENCE
	RET
