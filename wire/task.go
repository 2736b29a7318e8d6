package wire

import (
	"errors"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/physical"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// InputLocation is where one producer (map) task's output of an exchange
// can be read (the fields of shuffle.MapOutputLocation).
type InputLocation struct {
	ExecutorAddress string
	MapTask         int
	Attempt         int
}

// TaskSpec is everything an executor process needs to run one task:
// physical.Task plus what physical.Task does not carry yet.
type TaskSpec struct {
	Task physical.Task
	// JobID names the query the task belongs to.
	JobID string
	// Attempt counts retries of the same task (0 first).
	Attempt int
	// ExchangeSchemas are the Arrow schemas of the exchanges the stage
	// reads, by exchange ID (for executor.Env.SetExchangeSchema).
	ExchangeSchemas map[int]*arrow.Schema
	// Inputs lists, by exchange ID, where the producer tasks' outputs are.
	Inputs map[int][]InputLocation
}

// EncodeTask encodes a task. Only the task's stage subtree is sent:
// exchanges the stage reads are encoded as leaves carrying their columns.
func EncodeTask(t *TaskSpec) (*pb.Task, error) {
	if t == nil || t.Task.Stage == nil {
		return nil, errors.New("wire: encode task: missing task or stage")
	}
	st := t.Task.Stage
	e := newNodeEncoder()
	e.leafExchanges = true
	ps, err := e.stage(st)
	if err != nil {
		return nil, fmt.Errorf("wire: encode task %d of stage %d: %w", t.Task.Index, st.ID, err)
	}
	p := &pb.Task{Version: PlanVersion, JobId: t.JobID, Sources: e.sources, Nodes: e.nodes, Stage: ps,
		Index: int32(t.Task.Index), Attempt: int32(t.Attempt)}
	for _, s := range t.Task.Splits {
		p.Splits = append(p.Splits, &pb.Split{Path: s.Path, RowGroups: intsToPB(s.RowGroups), Offset: s.Offset, Length: s.Length, Rows: s.Rows})
	}
	if len(t.ExchangeSchemas) > 0 {
		p.ExchangeSchemas = make(map[int32]*pb.ArrowSchema, len(t.ExchangeSchemas))
		for _, id := range sortedKeys(t.ExchangeSchemas) {
			s, err := EncodeArrowSchema(t.ExchangeSchemas[id])
			if err != nil {
				return nil, fmt.Errorf("wire: encode task %d of stage %d: exchange %d schema: %w", t.Task.Index, st.ID, id, err)
			}
			p.ExchangeSchemas[int32(id)] = s
		}
	}
	if len(t.Inputs) > 0 {
		p.Inputs = make(map[int32]*pb.InputLocations, len(t.Inputs))
		for id, locs := range t.Inputs {
			pl := &pb.InputLocations{Locations: make([]*pb.InputLocation, len(locs))}
			for i, l := range locs {
				pl.Locations[i] = &pb.InputLocation{ExecutorAddress: l.ExecutorAddress, MapTask: int32(l.MapTask), Attempt: int32(l.Attempt)}
			}
			p.Inputs[int32(id)] = pl
		}
	}
	return p, nil
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// DecodeTask decodes a task. The exchanges its stage reads have a
// StageInput as Input.
func DecodeTask(p *pb.Task) (t *TaskSpec, err error) {
	defer recoverTo(&err, "task")
	if p == nil {
		return nil, errors.New("wire: decode task: missing message")
	}
	if err := checkVersion("task", p.Version); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("wire: decode task %d of stage %d (job %q)", p.Index, p.GetStage().GetId(), p.JobId)
	d, err := newNodeDecoder(p.Sources, p.Nodes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	st, err := d.stage(p.Stage)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if p.Index < 0 || p.Attempt < 0 {
		return nil, fmt.Errorf("%s: negative index or attempt", what)
	}
	t = &TaskSpec{Task: physical.Task{Stage: st, Index: int(p.Index)}, JobID: p.JobId, Attempt: int(p.Attempt)}
	for i, s := range p.Splits {
		if s == nil {
			return nil, fmt.Errorf("%s: split %d missing", what, i)
		}
		t.Task.Splits = append(t.Task.Splits, connectors.Split{Path: s.Path, RowGroups: intsFromPB(s.RowGroups),
			Offset: s.Offset, Length: s.Length, Rows: s.Rows})
	}
	if len(p.ExchangeSchemas) > 0 {
		t.ExchangeSchemas = make(map[int]*arrow.Schema, len(p.ExchangeSchemas))
		for id, ps := range p.ExchangeSchemas {
			s, err := DecodeArrowSchema(ps)
			if err != nil {
				return nil, fmt.Errorf("%s: exchange %d schema: %w", what, id, err)
			}
			t.ExchangeSchemas[int(id)] = s
		}
	}
	if len(p.Inputs) > 0 {
		t.Inputs = make(map[int][]InputLocation, len(p.Inputs))
		for id, pl := range p.Inputs {
			locs := make([]InputLocation, len(pl.GetLocations()))
			for i, l := range pl.GetLocations() {
				locs[i] = InputLocation{ExecutorAddress: l.GetExecutorAddress(), MapTask: int(l.GetMapTask()), Attempt: int(l.GetAttempt())}
			}
			t.Inputs[int(id)] = locs
		}
	}
	return t, nil
}
