package model

import (
	"math"
	"slices"
	"testing"
)

// shape is a Model that only describes its outputs.
type shape struct {
	lib, obj      string
	classes, outs int
}

func (s shape) Library() string                { return s.lib }
func (s shape) Objective() string              { return s.obj }
func (s shape) Features() []string             { return nil }
func (s shape) NumClasses() int                { return s.classes }
func (s shape) NumOutputs() int                { return s.outs }
func (s shape) Predict([][]float64, []float64) {}

func TestLabels(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		m    Model
		pred []float64
		want []int64
	}{
		{shape{"xgboost", "binary:logistic", 2, 1}, []float64{0.2, 0.5, 0.5000001, 0.9, nan}, []int64{0, 0, 1, 1, 0}},
		{shape{"lightgbm", "binary", 2, 1}, []float64{0.49, 0.51}, []int64{0, 1}},
		{shape{"xgboost", "binary:hinge", 2, 1}, []float64{0, 1}, []int64{0, 1}},
		{shape{"xgboost", "binary:logitraw", 2, 1}, []float64{-0.1, 0, 0.1}, []int64{0, 0, 1}},
		{shape{"xgboost", "multi:softmax", 3, 1}, []float64{2, 0, 1, nan, 7}, []int64{2, 0, 1, 0, 0}},
		{shape{"xgboost", "multi:softprob", 3, 3}, []float64{0.2, 0.5, 0.3, 0.4, 0.2, 0.4, nan, 0.1, 0.2}, []int64{1, 0, 2}},
		{shape{"lightgbm", "multiclassova", 3, 3}, []float64{0.9, 0.8, 0.95}, []int64{2}},
	} {
		got := make([]int64, len(tc.want))
		if !Labels(tc.m, tc.pred, got) || !slices.Equal(got, tc.want) {
			t.Errorf("%v: labels %v, want %v", tc.m, got, tc.want)
		}
	}
	if Labels(shape{"xgboost", "reg:squarederror", 0, 1}, []float64{1}, make([]int64, 1)) {
		t.Error("a regressor has labels")
	}
}
