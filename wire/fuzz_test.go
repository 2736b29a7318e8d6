package wire_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/wire"
)

// The fuzz targets feed arbitrary bytes to proto.Unmarshal and the
// decoders, as a driver or executor receives them. Decoders recover from
// panics as a last line of defence; a recovered panic ("internal error
// decoding") is a decoder bug the fuzzer must report, not hide. The seeds
// are real encoded plans and tasks, which the fuzzer mutates.
//
//	go test ./wire -run '^$' -fuzz FuzzDecodeLogical -fuzztime 60s
//	go test ./wire -run '^$' -fuzz FuzzDecodeTask -fuzztime 60s
//	go test ./wire -run '^$' -fuzz FuzzDecodeStagePlan -fuzztime 60s

// fuzzSeeds returns encoded logical plans, stage plans and tasks of a few
// TPC-H queries.
func fuzzSeeds(f *testing.F) (logical, stages, tasks [][]byte) {
	f.Helper()
	marshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	qs := tpchPlans(f)
	for _, i := range []int{0, 2, 12, 14, 21} { // Q1, Q3, Q13, Q15, Q22
		n := qs[i].plan
		p, err := wire.EncodeLogical(n)
		if err != nil {
			f.Fatal(err)
		}
		logical = append(logical, marshal(p))
		var ids plan.IDGen
		ids.Reserve(wire.MaxColumnID(n))
		c, err := planner.Compile(n, &ids, planner.Options{Partitions: 2, BroadcastRows: 100})
		if err != nil {
			f.Fatal(err)
		}
		sp, err := wire.EncodeStagePlan(c.Stages)
		if err != nil {
			f.Fatal(err)
		}
		stages = append(stages, marshal(sp))
		for _, st := range c.Stages.Stages {
			ts := stageTasks(f, c.Stages, st)
			pt, err := wire.EncodeTask(ts[0])
			if err != nil {
				f.Fatal(err)
			}
			tasks = append(tasks, marshal(pt))
		}
	}
	return logical, stages, tasks
}

func checkDecodeErr(t *testing.T, err error) {
	if err != nil && strings.Contains(err.Error(), "internal error decoding") {
		t.Fatalf("decoder panicked: %v", err)
	}
}

func FuzzDecodeLogical(f *testing.F) {
	seeds, _, _ := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p pb.LogicalPlan
		if proto.Unmarshal(data, &p) != nil {
			return
		}
		n, err := wire.DecodeLogical(&p)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		// What decodes must encode again (the driver re-encodes nothing, but
		// this walks every decoded node).
		wire.MaxColumnID(n)
		if _, err := wire.EncodeLogical(n); err != nil {
			t.Fatalf("a decoded plan does not encode: %v", err)
		}
	})
}

func FuzzDecodeStagePlan(f *testing.F) {
	_, seeds, _ := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p pb.StagePlan
		if proto.Unmarshal(data, &p) != nil {
			return
		}
		sp, err := wire.DecodeStagePlan(&p)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		if _, err := wire.EncodeStagePlan(sp); err != nil {
			t.Fatalf("a decoded stage plan does not encode: %v", err)
		}
	})
}

func FuzzDecodeTask(f *testing.F) {
	_, _, seeds := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p pb.Task
		if proto.Unmarshal(data, &p) != nil {
			return
		}
		ts, err := wire.DecodeTask(&p)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		if _, err := wire.EncodeTask(ts); err != nil {
			t.Fatalf("a decoded task does not encode: %v", err)
		}
	})
}
