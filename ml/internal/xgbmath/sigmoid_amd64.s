//go:build amd64 && !purego

#include "textflag.h"

// Constant k of sigConsts, four lanes, at offset 32·k from R10.
#define C(k) (32*k)(R10)

// func sigmoidsAVX2(p, m *float32, n int, slow *int32, c *[sigN][4]uint64) int
//
// Four rows at a time, as sigmoidsGo: nx = −x in float64; z = nx·64/ln2 +
// shift (n = z's integer, kd = z − shift); r = nx − kd·hi − kd·lo;
// q = (1+r) + r²((1/2 + r/6) + r²((1/24 + r/120) + r²/720));
// y = 2^(n/64)·q from the table and the exponent; then in float32
// 1 / ((float32(y) + 1) + 1e-16). A row out of [−87, 88.7] (or NaN), or
// whose y lies within the guard of a float32 midpoint, is listed in slow
// instead (its p is left to the caller).
TEXT ·sigmoidsAVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ slow+24(FP), R11
	MOVQ c+32(FP), R10
	LEAQ ·expTable(SB), R13
	XORQ R12, R12 // rows listed in slow
	XORQ R9, R9   // row
	MOVL $0x3f800000, AX
	MOVQ AX, X15
	VBROADCASTSS X15, X15 // 1.0 in float32
	MOVL $0x24e69595, AX
	MOVQ AX, X14
	VBROADCASTSS X14, X14 // 1e-16 in float32

loop:
	CMPQ R9, CX
	JGE done
	VCVTPS2PD (SI)(R9*4), Y0
	VXORPD C(0), Y0, Y0         // nx
	VCMPPD $0x1d, C(1), Y0, Y1  // nx >= -87
	VCMPPD $0x12, C(2), Y0, Y2  // nx <= 88.7
	VANDPD Y1, Y2, Y1           // in range (not NaN)
	VMULPD C(3), Y0, Y3
	VADDPD C(4), Y3, Y3         // z
	VPSUBQ C(4), Y3, Y4         // n
	VSUBPD C(4), Y3, Y5         // kd
	VMULPD C(5), Y5, Y6
	VSUBPD Y6, Y0, Y6           // nx − kd·hi
	VMULPD C(6), Y5, Y7
	VSUBPD Y7, Y6, Y6           // r
	VMULPD Y6, Y6, Y7           // r²
	VADDPD C(7), Y6, Y8         // 1 + r
	VMULPD C(9), Y6, Y9
	VADDPD C(8), Y9, Y9         // 1/2 + r/6
	VMULPD C(11), Y6, Y10
	VADDPD C(10), Y10, Y10      // 1/24 + r/120
	VMULPD C(12), Y7, Y11       // r²/720
	VADDPD Y11, Y10, Y10
	VMULPD Y7, Y10, Y10
	VADDPD Y10, Y9, Y9
	VMULPD Y7, Y9, Y9
	VADDPD Y9, Y8, Y8           // q
	VPAND C(13), Y4, Y9         // n & 63
	VPCMPEQQ Y12, Y12, Y12
	VPGATHERQQ Y12, (R13)(Y9*8), Y10 // the bits of 2^(j/64)
	VPAND C(14), Y4, Y11
	VPSLLQ $46, Y11, Y11        // (n >> 6) << 52
	VPADDQ Y11, Y10, Y10
	VMULPD Y8, Y10, Y10         // y
	VPAND C(15), Y10, Y11
	VPSUBQ C(16), Y11, Y11      // dropped bits − (midpoint − guard)
	VPCMPGTQ C(17), Y11, Y12    // > −1
	VMOVDQU C(18), Y13
	VPCMPGTQ Y11, Y13, Y13      // < 2·guard
	VPAND Y12, Y13, Y12         // near a midpoint
	VPANDN Y1, Y12, Y12         // in range and not near: decided
	VMOVMSKPD Y12, AX
	VCVTPD2PSY Y10, X10
	VADDPS X15, X10, X10
	VADDPS X14, X10, X10
	VDIVPS X10, X15, X10
	VMOVUPS X10, (DI)(R9*4)
	CMPQ AX, $15
	JEQ next
	// List the undecided rows.
	MOVQ $0, BX

lane:
	BTQ BX, AX
	JCS decided
	LEAQ (R9)(BX*1), DX
	MOVL DX, (R11)(R12*4)
	INCQ R12

decided:
	INCQ BX
	CMPQ BX, $4
	JLT lane

next:
	ADDQ $4, R9
	JMP loop

done:
	VZEROUPPER
	MOVQ R12, ret+40(FP)
	RET
