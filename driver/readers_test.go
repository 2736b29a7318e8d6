package driver

import (
	"slices"
	"testing"

	"github.com/flint-engine/flint/physical"
)

// exchangeReaders counts the nodes reading each exchange, across stages
// and within one, without looking into the producing stages' trees.
func TestExchangeReaders(t *testing.T) {
	scan := &physical.Scan{}
	ex0 := &physical.Exchange{ID: 0, Kind: physical.ExchangeBroadcast, Input: scan}
	ex1 := &physical.Exchange{ID: 1, Kind: physical.ExchangeBroadcast, Input: scan}
	sp := &physical.StagePlan{Stages: []*physical.Stage{
		{ID: 0, Root: scan},
		{ID: 1, Root: scan},
		{ID: 2, Root: &physical.HashJoin{Left: &physical.HashJoin{Left: scan, Right: ex0}, Right: ex1}},
		{ID: 3, Root: &physical.Union{Inputs: []physical.Node{ex1, &physical.Exchange{ID: 2, Input: ex0}}}},
	}}
	got := exchangeReaders(sp)
	want := map[int]int{0: 1, 1: 2, 2: 1}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for ex, n := range want {
		if got[ex] != n {
			t.Errorf("exchange %d: %d readers, want %d", ex, got[ex], n)
		}
	}
}

// readOnce picks partitioned exchanges with one reader, and none read by
// a write stage (whose failed tasks read their partition again).
func TestReadOnce(t *testing.T) {
	scan := &physical.Scan{}
	hash := func(id int) *physical.Exchange {
		return &physical.Exchange{ID: id, Kind: physical.ExchangeHash, Partitions: 2, Input: scan}
	}
	bc := &physical.Exchange{ID: 2, Kind: physical.ExchangeBroadcast, Input: scan}
	sp := &physical.StagePlan{Stages: []*physical.Stage{
		{ID: 0, Root: scan, Output: hash(0)},
		{ID: 1, Root: scan, Output: hash(1)},
		{ID: 2, Root: scan, Output: bc},
		{ID: 3, Root: scan, Output: hash(3)},
		{ID: 4, Root: &physical.HashJoin{Left: hash(0), Right: bc}, Inputs: []int{0, 2}, Output: hash(4)},
		{ID: 5, Root: &physical.Union{Inputs: []physical.Node{hash(1), hash(1)}}, Inputs: []int{1}, Output: hash(5)},
		{ID: 6, Root: &physical.Write{Input: hash(3)}, Inputs: []int{3}},
		{ID: 7, Root: &physical.Union{Inputs: []physical.Node{hash(4), hash(5)}}, Inputs: []int{4, 5}},
	}}
	got := readOnce(sp, exchangeReaders(sp))
	want := []int{0, 4, 5} // not 1 (two readers), 2 (broadcast), 3 (a write reads it)
	if !slices.Equal(got, want) {
		t.Fatalf("readOnce = %v, want %v", got, want)
	}
}
