// Code generated from a template expanding one loop per decimal operator and operand shape; DO NOT EDIT.

package expr

import "github.com/apache/arrow-go/v18/arrow/decimal128"

// decAddSameAA runs the int64 fast path; rows that need 128 bits go to slow.
func decAddSameAA(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	b = b[:len(out)]
	a = a[:len(out)]
	for i := range out {
		x, y := a[i], b[i]
		{
			xi, yi := int64(x.LowBits()), int64(y.LowBits())
			r := xi + yi
			if fits64(x) && fits64(y) && (xi^r)&(yi^r) >= 0 {
				out[i] = decFromI64(r)
				continue
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}

// decAddSameAS runs the int64 fast path; rows that need 128 bits go to slow.
func decAddSameAS(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	a = a[:len(out)]
	y := b[0]
	for i := range out {
		x := a[i]
		{
			xi, yi := int64(x.LowBits()), int64(y.LowBits())
			r := xi + yi
			if fits64(x) && fits64(y) && (xi^r)&(yi^r) >= 0 {
				out[i] = decFromI64(r)
				continue
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}

// decAddSameSA runs the int64 fast path; rows that need 128 bits go to slow.
func decAddSameSA(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	b = b[:len(out)]
	x := a[0]
	for i := range out {
		y := b[i]
		{
			xi, yi := int64(x.LowBits()), int64(y.LowBits())
			r := xi + yi
			if fits64(x) && fits64(y) && (xi^r)&(yi^r) >= 0 {
				out[i] = decFromI64(r)
				continue
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}

// decSubSameAA runs the int64 fast path; rows that need 128 bits go to slow.
func decSubSameAA(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	b = b[:len(out)]
	a = a[:len(out)]
	for i := range out {
		x, y := a[i], b[i]
		{
			xi, yi := int64(x.LowBits()), int64(y.LowBits())
			r := xi - yi
			if fits64(x) && fits64(y) && (xi^yi)&(xi^r) >= 0 {
				out[i] = decFromI64(r)
				continue
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}

// decSubSameAS runs the int64 fast path; rows that need 128 bits go to slow.
func decSubSameAS(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	a = a[:len(out)]
	y := b[0]
	for i := range out {
		x := a[i]
		{
			xi, yi := int64(x.LowBits()), int64(y.LowBits())
			r := xi - yi
			if fits64(x) && fits64(y) && (xi^yi)&(xi^r) >= 0 {
				out[i] = decFromI64(r)
				continue
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}

// decSubSameSA runs the int64 fast path; rows that need 128 bits go to slow.
func decSubSameSA(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	b = b[:len(out)]
	x := a[0]
	for i := range out {
		y := b[i]
		{
			xi, yi := int64(x.LowBits()), int64(y.LowBits())
			r := xi - yi
			if fits64(x) && fits64(y) && (xi^yi)&(xi^r) >= 0 {
				out[i] = decFromI64(r)
				continue
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}

// decMulAA runs the int64 fast path; rows that need 128 bits go to slow.
func decMulAA(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	b = b[:len(out)]
	a = a[:len(out)]
	for i := range out {
		x, y := a[i], b[i]
		{
			if fits64(x) && fits64(y) {
				if r, ok := mul64(int64(x.LowBits()), int64(y.LowBits())); ok {
					out[i] = decFromI64(r)
					continue
				}
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}

// decMulAS runs the int64 fast path; rows that need 128 bits go to slow.
func decMulAS(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	a = a[:len(out)]
	y := b[0]
	for i := range out {
		x := a[i]
		{
			if fits64(x) && fits64(y) {
				if r, ok := mul64(int64(x.LowBits()), int64(y.LowBits())); ok {
					out[i] = decFromI64(r)
					continue
				}
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}

// decMulSA runs the int64 fast path; rows that need 128 bits go to slow.
func decMulSA(out []decimal128.Num, a, b []decimal128.Num, slow func(i int) error) error {
	b = b[:len(out)]
	x := a[0]
	for i := range out {
		y := b[i]
		{
			if fits64(x) && fits64(y) {
				if r, ok := mul64(int64(x.LowBits()), int64(y.LowBits())); ok {
					out[i] = decFromI64(r)
					continue
				}
			}
		}
		if err := slow(i); err != nil {
			return err
		}
	}
	return nil
}
