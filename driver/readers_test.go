package driver

import (
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
