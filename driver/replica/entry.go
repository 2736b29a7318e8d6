package replica

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/flint-engine/flint/coordinator"
)

// Entry is one raft log entry: an event of the coordinator (nil: records
// only) and side records that take effect only when the event does (it
// applied without error and was not stale). Batch are more events applied
// after it, each on its own (one the state rejects changes nothing, the
// others still apply): the attempts one scheduling round starts, committed
// in one round trip.
type Entry struct {
	// UnixMs is the leader's clock when it proposed the entry.
	UnixMs  int64
	Event   coordinator.Event
	Records []Record
	Batch   []coordinator.Event
	// Member records a member added to the group (its addresses, which
	// raft's configuration does not hold all of); Removed one removed.
	Member  *Peer
	Removed string
}

// Record is a named piece of a job's side state: Name is the driver's
// (for example "submit", "stages", "splits/3"); a nil Data deletes it.
type Record struct {
	Job  string
	Name string
	Data []byte
}

// eventTypes are the coordinator events an entry can carry, by name.
var eventTypes = map[string]reflect.Type{}

func init() {
	for _, ev := range []coordinator.Event{
		coordinator.ExecutorRegistered{}, coordinator.ExecutorLost{}, coordinator.ExecutorsDetached{}, coordinator.JobSubmitted{},
		coordinator.StageTasksSet{}, coordinator.TaskStarted{}, coordinator.TaskSucceeded{}, coordinator.TaskFailed{},
		coordinator.TaskOutputLost{}, coordinator.JobCancelled{}, coordinator.JobAborted{}, coordinator.JobTimedOut{},
		coordinator.JobForgotten{},
	} {
		t := reflect.TypeOf(ev)
		eventTypes[t.Name()] = t
	}
}

// wireEvent is an event as JSON, tagged with its type's name.
type wireEvent struct {
	Type  string          `json:"type"`
	Event json.RawMessage `json:"event"`
}

// wireEntry is an Entry as JSON.
type wireEntry struct {
	UnixMs  int64       `json:"t,omitempty"`
	Event   *wireEvent  `json:"ev,omitempty"`
	Records []Record    `json:"records,omitempty"`
	Batch   []wireEvent `json:"batch,omitempty"`
	Member  *Peer       `json:"member,omitempty"`
	Removed string      `json:"removed,omitempty"`
}

func encodeEvent(ev coordinator.Event) (wireEvent, error) {
	t := reflect.TypeOf(ev)
	if t == nil || eventTypes[t.Name()] != t {
		return wireEvent{}, fmt.Errorf("replica: event %T cannot be replicated", ev)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return wireEvent{}, fmt.Errorf("replica: encode %T: %w", ev, err)
	}
	return wireEvent{Type: t.Name(), Event: data}, nil
}

func decodeEvent(w wireEvent) (coordinator.Event, error) {
	t, ok := eventTypes[w.Type]
	if !ok {
		return nil, fmt.Errorf("replica: unknown event type %q", w.Type)
	}
	v := reflect.New(t)
	if err := json.Unmarshal(w.Event, v.Interface()); err != nil {
		return nil, fmt.Errorf("replica: decode %s: %w", w.Type, err)
	}
	return v.Elem().Interface().(coordinator.Event), nil
}

func encodeEntry(e Entry) ([]byte, error) {
	w := wireEntry{UnixMs: e.UnixMs, Records: e.Records, Member: e.Member, Removed: e.Removed}
	if e.Event != nil {
		we, err := encodeEvent(e.Event)
		if err != nil {
			return nil, err
		}
		w.Event = &we
	}
	for _, ev := range e.Batch {
		we, err := encodeEvent(ev)
		if err != nil {
			return nil, err
		}
		w.Batch = append(w.Batch, we)
	}
	return json.Marshal(w)
}

func decodeEntry(data []byte) (Entry, error) {
	var w wireEntry
	if err := json.Unmarshal(data, &w); err != nil {
		return Entry{}, fmt.Errorf("replica: decode entry: %w", err)
	}
	e := Entry{UnixMs: w.UnixMs, Records: w.Records, Member: w.Member, Removed: w.Removed}
	var err error
	if w.Event != nil {
		if e.Event, err = decodeEvent(*w.Event); err != nil {
			return Entry{}, err
		}
	}
	for _, we := range w.Batch {
		ev, err := decodeEvent(we)
		if err != nil {
			return Entry{}, err
		}
		e.Batch = append(e.Batch, ev)
	}
	return e, nil
}
