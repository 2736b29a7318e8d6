//go:build amd64 && !purego

#include "textflag.h"

#define C(k) (32*k)(R10)

// func logLossesAVX2(prob, label *float32, n int, lanes, nonBinary *[4]float64, c *[lossN][4]uint64)
//
// For rows 0..n-1 (n a multiple of 4), row i in lane i%4, as logLosses's
// Go loop: lanes −= logClipped(y·q + (1−y)·(1−q)) and nonBinary +=
// (y·(1−y))², in the same float64 operations (the nonBinary sum's order
// differs, but it is only tested for zero).
TEXT ·logLossesAVX2(SB), NOSPLIT, $0-48
	MOVQ prob+0(FP), SI
	MOVQ label+8(FP), DX
	MOVQ n+16(FP), CX
	MOVQ c+40(FP), R10
	LEAQ ·logTable(SB), R13
	MOVQ lanes+24(FP), AX
	VMOVUPD (AX), Y15
	MOVQ nonBinary+32(FP), AX
	VMOVUPD (AX), Y14
	XORQ R9, R9

loop:
	CMPQ R9, CX
	JGE done
	VCVTPS2PD (SI)(R9*4), Y0   // q
	VCVTPS2PD (DX)(R9*4), Y1   // y
	VMOVUPD C(0), Y13          // 1
	VSUBPD Y1, Y13, Y3         // 1 − y
	VSUBPD Y0, Y13, Y4         // 1 − q
	VMULPD Y3, Y1, Y5          // y·(1 − y)
	VMULPD Y5, Y5, Y5
	VADDPD Y5, Y14, Y14
	VMULPD Y1, Y0, Y2          // y·q
	VMULPD Y4, Y3, Y4
	VADDPD Y4, Y2, Y2          // x
	VSUBPD Y2, Y2, Y5          // x − x: 0, or NaN
	VMOVUPD C(1), Y13
	VMAXPD Y2, Y13, Y2         // max(1e-16, x): a NaN x is kept
	VPSRLQ $45, Y2, Y6
	VPAND C(2), Y6, Y6
	VPSLLQ $1, Y6, Y6          // 2·(bits>>45 & 127): 16-byte entries
	VPCMPEQQ Y7, Y7, Y7
	VGATHERQPD Y7, (R13)(Y6*8), Y8  // 1/t
	VPCMPEQQ Y7, Y7, Y7
	VGATHERQPD Y7, 8(R13)(Y6*8), Y9 // log t
	VPAND C(3), Y2, Y10
	VPOR C(4), Y10, Y10        // the mantissa, in [1, 2)
	VMULPD Y8, Y10, Y10
	VSUBPD C(0), Y10, Y10      // u
	VPSRLQ $52, Y2, Y11
	VPOR C(5), Y11, Y11
	VSUBPD C(6), Y11, Y11      // the exponent, as float64
	VMULPD C(7), Y11, Y11      // ·ln 2
	VADDPD Y9, Y11, Y11        // + log t
	VMULPD C(8), Y10, Y12      // u·0.25
	VMOVUPD C(9), Y13
	VSUBPD Y12, Y13, Y12       // 1/3 − u·0.25
	VMULPD Y12, Y10, Y12
	VMOVUPD C(10), Y13
	VSUBPD Y12, Y13, Y12       // 0.5 − u·(…)
	VMULPD Y12, Y10, Y12
	VMOVUPD C(0), Y13
	VSUBPD Y12, Y13, Y12       // 1 − u·(…)
	VMULPD Y12, Y10, Y12       // u·(…)
	VADDPD Y12, Y11, Y11
	VADDPD Y5, Y11, Y11
	VSUBPD Y11, Y15, Y15
	ADDQ $4, R9
	JMP loop

done:
	MOVQ lanes+24(FP), AX
	VMOVUPD Y15, (AX)
	MOVQ nonBinary+32(FP), AX
	VMOVUPD Y14, (AX)
	VZEROUPPER
	RET
