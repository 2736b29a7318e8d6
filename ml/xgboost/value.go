package xgboost

import "fmt"

// kind is the type of a decoded JSON/UBJSON value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindArray:
		return "array"
	case kindObject:
		return "object"
	}
	return "unknown"
}

// value is one decoded JSON or UBJSON value. Both formats decode to the
// same tree, so the schema code does not care which one the file used.
//
// Numbers are kept as float64: integers exactly (the schema only has small
// ones), JSON floats already rounded to float32 (XGBoost writes every float
// as the shortest text that reads back to its float32), UBJSON floats as
// stored. An array whose elements are all numbers (the bulk of a model:
// UBJSON typed arrays and the per-node arrays of each tree) keeps them in
// nums, 8 bytes each, instead of one value per element.
type value struct {
	kind kind
	b    bool
	num  float64
	str  string
	nums []float64  // kindArray of numbers only
	arr  []value    // kindArray with at least one non-number
	obj  []keyValue // kindObject, in file order
}

type keyValue struct {
	key string
	val value
}

// maxDepth bounds nesting: an XGBoost model is at most five levels deep, and
// a bound keeps a hostile file from exhausting the stack.
const maxDepth = 64

// length is the number of elements of an array.
func (v *value) length() int {
	if v.arr != nil {
		return len(v.arr)
	}
	return len(v.nums)
}

// get returns the member named key of an object, or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != kindObject {
		return nil
	}
	for i := range v.obj {
		if v.obj[i].key == key {
			return &v.obj[i].val
		}
	}
	return nil
}

// arrayBuilder collects array elements, keeping them as plain numbers until
// the first element that is not one.
type arrayBuilder struct {
	nums []float64
	arr  []value
	mix  bool
}

func (b *arrayBuilder) add(v value) {
	if !b.mix && v.kind == kindNumber {
		b.nums = append(b.nums, v.num)
		return
	}
	if !b.mix {
		b.mix = true
		b.arr = make([]value, len(b.nums), len(b.nums)+1)
		for i, n := range b.nums {
			b.arr[i] = value{kind: kindNumber, num: n}
		}
		b.nums = nil
	}
	b.arr = append(b.arr, v)
}

func (b *arrayBuilder) value() value {
	if b.mix {
		return value{kind: kindArray, arr: b.arr}
	}
	if b.nums == nil {
		b.nums = []float64{}
	}
	return value{kind: kindArray, nums: b.nums}
}

// syntaxError is a decoding error at a byte offset of the file.
type syntaxError struct {
	format string // "JSON" or "UBJSON"
	off    int
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("malformed %s at byte %d: %s", e.format, e.off, e.msg)
}
