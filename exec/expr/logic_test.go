package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

// tv is a SQL truth value in tests: nil is UNKNOWN.
func and3(a, b any) any {
	if a == false || b == false {
		return false
	}
	if a == nil || b == nil {
		return nil
	}
	return true
}

func or3(a, b any) any {
	if a == true || b == true {
		return true
	}
	if a == nil || b == nil {
		return nil
	}
	return false
}

func TestThreeValuedLogic(t *testing.T) {
	tvs := []any{true, false, nil}
	for _, rep := range []int{1, 3, 100} { // 9*100 rows spans several words
		t.Run(fmt.Sprintf("rep=%d", rep), func(t *testing.T) {
			mem := newMem(t)
			var a, b []any
			for r := 0; r < rep; r++ {
				for _, x := range tvs {
					for _, y := range tvs {
						a, b = append(a, x), append(b, y)
					}
				}
			}
			rb := mkBatch(t, mem, 5, colSpec{tBool, a}, colSpec{tBool, b})
			defer rb.Release()
			ca, cb := Col(0, tBool, "a"), Col(1, tBool, "b")
			wantAnd, wantOr, wantNot, wantIsNull := make([]any, len(a)), make([]any, len(a)), make([]any, len(a)), make([]any, len(a))
			for i := range a {
				wantAnd[i], wantOr[i] = and3(a[i], b[i]), or3(a[i], b[i])
				if a[i] != nil {
					wantNot[i] = !a[i].(bool)
				}
				wantIsNull[i] = a[i] == nil
			}
			mustEqual(t, "and", must[[]any](t)(evalAny(t, mem, And(ca, cb), rb)), wantAnd)
			mustEqual(t, "or", must[[]any](t)(evalAny(t, mem, Or(ca, cb), rb)), wantOr)
			mustEqual(t, "not", must[[]any](t)(evalAny(t, mem, Not(ca), rb)), wantNot)
			mustEqual(t, "isnull", must[[]any](t)(evalAny(t, mem, IsNull(ca, false), rb)), wantIsNull)
			for i := range wantIsNull {
				wantIsNull[i] = !wantIsNull[i].(bool)
			}
			mustEqual(t, "isnotnull", must[[]any](t)(evalAny(t, mem, IsNull(ca, true), rb)), wantIsNull)
		})
	}
}

func TestLogicShortCircuitAndErrors(t *testing.T) {
	mem := newMem(t)
	rb := mkBatch(t, mem, 0, colSpec{tBool, []any{false, false}}, colSpec{tI64, []any{int64(1), int64(2)}})
	defer rb.Release()
	// Right side would error (not boolean) but the all-FALSE left decides.
	got := must[[]any](t)(evalAny(t, mem, And(Col(0, tBool, "f"), Col(1, tI64, "i")), rb))
	mustEqual(t, "short", got, []any{false, false})
	if _, err := evalAny(t, mem, Or(Col(0, tBool, "f"), Col(1, tI64, "i")), rb); err == nil || !strings.Contains(err.Error(), "BOOLEAN") {
		t.Fatalf("want BOOLEAN error, got %v", err)
	}
	null := must[exec.Expr](t)(Lit(nil, arrow.Null))
	mustEqual(t, "f and null", must[[]any](t)(evalAny(t, mem, And(Col(0, tBool, "f"), null), rb)), []any{false, false})
	mustEqual(t, "f or null", must[[]any](t)(evalAny(t, mem, Or(Col(0, tBool, "f"), null), rb)), []any{nil, nil})
	mustEqual(t, "null is null", must[[]any](t)(evalAny(t, mem, IsNull(null, false), rb)), []any{true, true})
	_ = types.Boolean
}
