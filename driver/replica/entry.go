package replica

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/flint-engine/flint/coordinator"
)

// Entry is one raft log entry: an event of the coordinator (nil: records
// only) and side records that take effect only when the event does (it
// applied without error and was not stale).
type Entry struct {
	// UnixMs is the leader's clock when it proposed the entry.
	UnixMs  int64
	Event   coordinator.Event
	Records []Record
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
		coordinator.ExecutorRegistered{}, coordinator.ExecutorLost{}, coordinator.JobSubmitted{},
		coordinator.StageTasksSet{}, coordinator.TaskStarted{}, coordinator.TaskSucceeded{}, coordinator.TaskFailed{},
		coordinator.TaskOutputLost{}, coordinator.JobCancelled{}, coordinator.JobAborted{}, coordinator.JobTimedOut{},
		coordinator.JobForgotten{},
	} {
		t := reflect.TypeOf(ev)
		eventTypes[t.Name()] = t
	}
}

// wireEntry is an Entry as JSON: the event tagged with its type's name.
type wireEntry struct {
	UnixMs    int64           `json:"t,omitempty"`
	EventType string          `json:"type,omitempty"`
	Event     json.RawMessage `json:"event,omitempty"`
	Records   []Record        `json:"records,omitempty"`
}

func encodeEntry(e Entry) ([]byte, error) {
	w := wireEntry{UnixMs: e.UnixMs, Records: e.Records}
	if e.Event != nil {
		t := reflect.TypeOf(e.Event)
		if eventTypes[t.Name()] != t {
			return nil, fmt.Errorf("replica: event %T cannot be replicated", e.Event)
		}
		data, err := json.Marshal(e.Event)
		if err != nil {
			return nil, fmt.Errorf("replica: encode %T: %w", e.Event, err)
		}
		w.EventType, w.Event = t.Name(), data
	}
	return json.Marshal(w)
}

func decodeEntry(data []byte) (Entry, error) {
	var w wireEntry
	if err := json.Unmarshal(data, &w); err != nil {
		return Entry{}, fmt.Errorf("replica: decode entry: %w", err)
	}
	e := Entry{UnixMs: w.UnixMs, Records: w.Records}
	if w.EventType != "" {
		t, ok := eventTypes[w.EventType]
		if !ok {
			return Entry{}, fmt.Errorf("replica: unknown event type %q", w.EventType)
		}
		v := reflect.New(t)
		if err := json.Unmarshal(w.Event, v.Interface()); err != nil {
			return Entry{}, fmt.Errorf("replica: decode %s: %w", w.EventType, err)
		}
		e.Event = v.Elem().Interface().(coordinator.Event)
	}
	return e, nil
}
