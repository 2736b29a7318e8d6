#include "textflag.h"

// histPassWB (W features, B-bit codes): for each row r of rows in order,
// X0 = (gp[2r], gp[2r+1]) widened to float64, then for each feature k the
// pair of slots at sk + 16·ck[r] += X0.

// func histPass1U8(s0 *float64, c0 *uint8, rows []uint32, gp *float32)
TEXT ·histPass1U8(SB), NOSPLIT, $0-48
	MOVQ c0+8(FP), R8
	MOVQ rows_base+16(FP), SI
	MOVQ rows_len+24(FP), CX
	MOVQ gp+40(FP), DI
	TESTQ CX, CX
	JZ histPass1U8_done

histPass1U8_loop:
	MOVL (SI), BX
	MOVSD (DI)(BX*8), X0
	CVTPS2PD X0, X0
	MOVBQZX (R8)(BX*1), DX
	SHLQ $4, DX
	ADDQ s0+0(FP), DX
	MOVUPD (DX), X1
	ADDPD X0, X1
	MOVUPD X1, (DX)
	ADDQ $4, SI
	DECQ CX
	JNZ histPass1U8_loop

histPass1U8_done:
	RET

// func histPass2U8(s0, s1 *float64, c0, c1 *uint8, rows []uint32, gp *float32)
TEXT ·histPass2U8(SB), NOSPLIT, $0-64
	MOVQ c0+16(FP), R8
	MOVQ c1+24(FP), R9
	MOVQ rows_base+32(FP), SI
	MOVQ rows_len+40(FP), CX
	MOVQ gp+56(FP), DI
	TESTQ CX, CX
	JZ histPass2U8_done

histPass2U8_loop:
	MOVL (SI), BX
	MOVSD (DI)(BX*8), X0
	CVTPS2PD X0, X0
	MOVBQZX (R8)(BX*1), DX
	SHLQ $4, DX
	ADDQ s0+0(FP), DX
	MOVUPD (DX), X1
	ADDPD X0, X1
	MOVUPD X1, (DX)
	MOVBQZX (R9)(BX*1), AX
	SHLQ $4, AX
	ADDQ s1+8(FP), AX
	MOVUPD (AX), X2
	ADDPD X0, X2
	MOVUPD X2, (AX)
	ADDQ $4, SI
	DECQ CX
	JNZ histPass2U8_loop

histPass2U8_done:
	RET

// func histPass3U8(s0, s1, s2 *float64, c0, c1, c2 *uint8, rows []uint32, gp *float32)
TEXT ·histPass3U8(SB), NOSPLIT, $0-80
	MOVQ c0+24(FP), R8
	MOVQ c1+32(FP), R9
	MOVQ c2+40(FP), R10
	MOVQ rows_base+48(FP), SI
	MOVQ rows_len+56(FP), CX
	MOVQ gp+72(FP), DI
	TESTQ CX, CX
	JZ histPass3U8_done

histPass3U8_loop:
	MOVL (SI), BX
	MOVSD (DI)(BX*8), X0
	CVTPS2PD X0, X0
	MOVBQZX (R8)(BX*1), DX
	SHLQ $4, DX
	ADDQ s0+0(FP), DX
	MOVUPD (DX), X1
	ADDPD X0, X1
	MOVUPD X1, (DX)
	MOVBQZX (R9)(BX*1), AX
	SHLQ $4, AX
	ADDQ s1+8(FP), AX
	MOVUPD (AX), X2
	ADDPD X0, X2
	MOVUPD X2, (AX)
	MOVBQZX (R10)(BX*1), R12
	SHLQ $4, R12
	ADDQ s2+16(FP), R12
	MOVUPD (R12), X3
	ADDPD X0, X3
	MOVUPD X3, (R12)
	ADDQ $4, SI
	DECQ CX
	JNZ histPass3U8_loop

histPass3U8_done:
	RET

// func histPass4U8(s0, s1, s2, s3 *float64, c0, c1, c2, c3 *uint8, rows []uint32, gp *float32)
TEXT ·histPass4U8(SB), NOSPLIT, $0-96
	MOVQ c0+32(FP), R8
	MOVQ c1+40(FP), R9
	MOVQ c2+48(FP), R10
	MOVQ c3+56(FP), R11
	MOVQ rows_base+64(FP), SI
	MOVQ rows_len+72(FP), CX
	MOVQ gp+88(FP), DI
	TESTQ CX, CX
	JZ histPass4U8_done

histPass4U8_loop:
	MOVL (SI), BX
	MOVSD (DI)(BX*8), X0
	CVTPS2PD X0, X0
	MOVBQZX (R8)(BX*1), DX
	SHLQ $4, DX
	ADDQ s0+0(FP), DX
	MOVUPD (DX), X1
	ADDPD X0, X1
	MOVUPD X1, (DX)
	MOVBQZX (R9)(BX*1), AX
	SHLQ $4, AX
	ADDQ s1+8(FP), AX
	MOVUPD (AX), X2
	ADDPD X0, X2
	MOVUPD X2, (AX)
	MOVBQZX (R10)(BX*1), R12
	SHLQ $4, R12
	ADDQ s2+16(FP), R12
	MOVUPD (R12), X3
	ADDPD X0, X3
	MOVUPD X3, (R12)
	MOVBQZX (R11)(BX*1), R13
	SHLQ $4, R13
	ADDQ s3+24(FP), R13
	MOVUPD (R13), X4
	ADDPD X0, X4
	MOVUPD X4, (R13)
	ADDQ $4, SI
	DECQ CX
	JNZ histPass4U8_loop

histPass4U8_done:
	RET

// func histPass1U16(s0 *float64, c0 *uint16, rows []uint32, gp *float32)
TEXT ·histPass1U16(SB), NOSPLIT, $0-48
	MOVQ c0+8(FP), R8
	MOVQ rows_base+16(FP), SI
	MOVQ rows_len+24(FP), CX
	MOVQ gp+40(FP), DI
	TESTQ CX, CX
	JZ histPass1U16_done

histPass1U16_loop:
	MOVL (SI), BX
	MOVSD (DI)(BX*8), X0
	CVTPS2PD X0, X0
	MOVWQZX (R8)(BX*2), DX
	SHLQ $4, DX
	ADDQ s0+0(FP), DX
	MOVUPD (DX), X1
	ADDPD X0, X1
	MOVUPD X1, (DX)
	ADDQ $4, SI
	DECQ CX
	JNZ histPass1U16_loop

histPass1U16_done:
	RET

// func histPass2U16(s0, s1 *float64, c0, c1 *uint16, rows []uint32, gp *float32)
TEXT ·histPass2U16(SB), NOSPLIT, $0-64
	MOVQ c0+16(FP), R8
	MOVQ c1+24(FP), R9
	MOVQ rows_base+32(FP), SI
	MOVQ rows_len+40(FP), CX
	MOVQ gp+56(FP), DI
	TESTQ CX, CX
	JZ histPass2U16_done

histPass2U16_loop:
	MOVL (SI), BX
	MOVSD (DI)(BX*8), X0
	CVTPS2PD X0, X0
	MOVWQZX (R8)(BX*2), DX
	SHLQ $4, DX
	ADDQ s0+0(FP), DX
	MOVUPD (DX), X1
	ADDPD X0, X1
	MOVUPD X1, (DX)
	MOVWQZX (R9)(BX*2), AX
	SHLQ $4, AX
	ADDQ s1+8(FP), AX
	MOVUPD (AX), X2
	ADDPD X0, X2
	MOVUPD X2, (AX)
	ADDQ $4, SI
	DECQ CX
	JNZ histPass2U16_loop

histPass2U16_done:
	RET

// func histPass3U16(s0, s1, s2 *float64, c0, c1, c2 *uint16, rows []uint32, gp *float32)
TEXT ·histPass3U16(SB), NOSPLIT, $0-80
	MOVQ c0+24(FP), R8
	MOVQ c1+32(FP), R9
	MOVQ c2+40(FP), R10
	MOVQ rows_base+48(FP), SI
	MOVQ rows_len+56(FP), CX
	MOVQ gp+72(FP), DI
	TESTQ CX, CX
	JZ histPass3U16_done

histPass3U16_loop:
	MOVL (SI), BX
	MOVSD (DI)(BX*8), X0
	CVTPS2PD X0, X0
	MOVWQZX (R8)(BX*2), DX
	SHLQ $4, DX
	ADDQ s0+0(FP), DX
	MOVUPD (DX), X1
	ADDPD X0, X1
	MOVUPD X1, (DX)
	MOVWQZX (R9)(BX*2), AX
	SHLQ $4, AX
	ADDQ s1+8(FP), AX
	MOVUPD (AX), X2
	ADDPD X0, X2
	MOVUPD X2, (AX)
	MOVWQZX (R10)(BX*2), R12
	SHLQ $4, R12
	ADDQ s2+16(FP), R12
	MOVUPD (R12), X3
	ADDPD X0, X3
	MOVUPD X3, (R12)
	ADDQ $4, SI
	DECQ CX
	JNZ histPass3U16_loop

histPass3U16_done:
	RET

// func histPass4U16(s0, s1, s2, s3 *float64, c0, c1, c2, c3 *uint16, rows []uint32, gp *float32)
TEXT ·histPass4U16(SB), NOSPLIT, $0-96
	MOVQ c0+32(FP), R8
	MOVQ c1+40(FP), R9
	MOVQ c2+48(FP), R10
	MOVQ c3+56(FP), R11
	MOVQ rows_base+64(FP), SI
	MOVQ rows_len+72(FP), CX
	MOVQ gp+88(FP), DI
	TESTQ CX, CX
	JZ histPass4U16_done

histPass4U16_loop:
	MOVL (SI), BX
	MOVSD (DI)(BX*8), X0
	CVTPS2PD X0, X0
	MOVWQZX (R8)(BX*2), DX
	SHLQ $4, DX
	ADDQ s0+0(FP), DX
	MOVUPD (DX), X1
	ADDPD X0, X1
	MOVUPD X1, (DX)
	MOVWQZX (R9)(BX*2), AX
	SHLQ $4, AX
	ADDQ s1+8(FP), AX
	MOVUPD (AX), X2
	ADDPD X0, X2
	MOVUPD X2, (AX)
	MOVWQZX (R10)(BX*2), R12
	SHLQ $4, R12
	ADDQ s2+16(FP), R12
	MOVUPD (R12), X3
	ADDPD X0, X3
	MOVUPD X3, (R12)
	MOVWQZX (R11)(BX*2), R13
	SHLQ $4, R13
	ADDQ s3+24(FP), R13
	MOVUPD (R13), X4
	ADDPD X0, X4
	MOVUPD X4, (R13)
	ADDQ $4, SI
	DECQ CX
	JNZ histPass4U16_loop

histPass4U16_done:
	RET
