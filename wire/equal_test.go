package wire_test

import (
	"fmt"
	"math"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/wire"
)

// structEqual compares two decoded-or-original values field by field (an
// independent reference: it knows nothing of the wire format). It treats
// nil and empty slices and maps alike, compares Arrow types with
// arrow.TypeEqual and schemas with Equal, NaN as equal to NaN, and checks
// the identity of node, stage and table source pointers as a bijection:
// two places sharing one pointer in a must share one in b, and distinct
// pointers in a must stay distinct in b. It returns the first
// difference, naming its path, or "".
func structEqual(a, b any) string {
	c := &comparer{fwd: map[uintptr]uintptr{}, back: map[uintptr]uintptr{}}
	c.eq(reflect.ValueOf(a), reflect.ValueOf(b), "")
	return c.diff
}

type comparer struct {
	fwd, back map[uintptr]uintptr
	diff      string
	// stageInputs lets a *wire.StageInput in b stand for any node in a
	// with the same columns (a decoded Task against the original stage).
	stageInputs bool
}

// taskEqual is structEqual for a task decoded from the wire against the
// original: the exchanges its stage reads have a StageInput carrying the
// producer's columns where the original has the producer's subtree.
func taskEqual(a, b any) string {
	c := &comparer{fwd: map[uintptr]uintptr{}, back: map[uintptr]uintptr{}, stageInputs: true}
	c.eq(reflect.ValueOf(a), reflect.ValueOf(b), "")
	return c.diff
}

var (
	dataTypeT = reflect.TypeOf((*arrow.DataType)(nil)).Elem()
	schemaT   = reflect.TypeOf((*arrow.Schema)(nil))

	logicalNodeT  = reflect.TypeOf((*plan.Node)(nil)).Elem()
	physicalNodeT = reflect.TypeOf((*physical.Node)(nil)).Elem()
)

// sharingMatters tells whether the identity of pointers of type t is part
// of a plan's meaning: plan and physical nodes (an Exchange is both a leaf
// of its consumer and its producer's Output), stages and table sources.
// Expressions are immutable values; sharing one is incidental.
func sharingMatters(t reflect.Type) bool {
	return t.Implements(logicalNodeT) || t.Implements(physicalNodeT) ||
		t == reflect.TypeOf((*physical.Stage)(nil)) || t == reflect.TypeOf((*plan.TableSource)(nil))
}

func (c *comparer) fail(path, format string, args ...any) {
	if c.diff == "" {
		c.diff = path + ": " + fmt.Sprintf(format, args...)
	}
}

func (c *comparer) eq(a, b reflect.Value, path string) {
	if c.diff != "" {
		return
	}
	if a.IsValid() != b.IsValid() {
		c.fail(path, "one side invalid")
		return
	}
	if !a.IsValid() {
		return
	}
	if a.Type() != b.Type() {
		c.fail(path, "types %s and %s", a.Type(), b.Type())
		return
	}
	switch a.Kind() {
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				c.fail(path, "nil vs non-nil")
			}
			return
		}
		if in, ok := b.Elem().Interface().(*wire.StageInput); ok && c.stageInputs {
			if _, same := a.Elem().Interface().(*wire.StageInput); !same {
				c.eq(reflect.ValueOf(a.Elem().Interface().(physical.Node).Schema()), reflect.ValueOf(in.Out), path+"(stage input columns)")
				return
			}
		}
		if a.Type().Implements(dataTypeT) || a.Elem().Type().Implements(dataTypeT) {
			x, okx := a.Elem().Interface().(arrow.DataType)
			y, oky := b.Elem().Interface().(arrow.DataType)
			if okx && oky {
				if !arrow.TypeEqual(x, y) {
					c.fail(path, "data types %s and %s", x, y)
				}
				return
			}
		}
		c.eq(a.Elem(), b.Elem(), path)
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				c.fail(path, "nil vs non-nil pointer")
			}
			return
		}
		if a.Type() == schemaT {
			if !a.Interface().(*arrow.Schema).Equal(b.Interface().(*arrow.Schema)) {
				c.fail(path, "schemas %s and %s", a.Interface(), b.Interface())
			}
			return
		}
		if a.Type().Implements(dataTypeT) {
			if !arrow.TypeEqual(a.Interface().(arrow.DataType), b.Interface().(arrow.DataType)) {
				c.fail(path, "data types %s and %s", a.Interface(), b.Interface())
			}
			return
		}
		if !sharingMatters(a.Type()) {
			c.eq(a.Elem(), b.Elem(), path)
			return
		}
		pa, pb := a.Pointer(), b.Pointer()
		if m, ok := c.fwd[pa]; ok {
			if m != pb {
				c.fail(path, "a shared pointer (%s) is not shared after decoding", a.Type())
			}
			return
		}
		if _, ok := c.back[pb]; ok {
			c.fail(path, "distinct pointers (%s) became one", a.Type())
			return
		}
		c.fwd[pa], c.back[pb] = pb, pa
		c.eq(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		t := a.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				if t.Comparable() {
					if !a.Equal(b) {
						c.fail(path, "values %v and %v", a, b)
					}
				} else {
					c.fail(path, "cannot compare %s", t)
				}
				return
			}
		}
		for i := 0; i < t.NumField(); i++ {
			c.eq(a.Field(i), b.Field(i), path+"."+t.Field(i).Name)
		}
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			c.fail(path, "lengths %d and %d", a.Len(), b.Len())
			return
		}
		for i := 0; i < a.Len(); i++ {
			c.eq(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if a.Len() != b.Len() {
			c.fail(path, "map sizes %d and %d", a.Len(), b.Len())
			return
		}
		for _, k := range a.MapKeys() {
			c.eq(a.MapIndex(k), b.MapIndex(k), fmt.Sprintf("%s[%v]", path, k))
		}
	case reflect.Func, reflect.Chan:
		c.fail(path, "unexpected %s", a.Kind())
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			c.fail(path, "values %v and %v", x, y)
		}
	default:
		if !a.Equal(b) {
			c.fail(path, "values %v and %v", a, b)
		}
	}
}
