package replica

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/flint-engine/flint/coordinator"
)

// Image is the whole replicated state: the coordinator's and the side
// records of its jobs (job ID -> record name -> data).
type Image struct {
	State   *coordinator.State
	Records map[string]map[string][]byte
	// Members are the members added to the group after it started, by
	// ID (the others are every member's Config.Peers).
	Members map[string]Peer `json:",omitempty"`
	// Index is the last log index applied; UnixMs the time of the last
	// entry (the leader's clock).
	Index  uint64
	UnixMs int64
}

// Clone is a deep copy of the image (through its JSON form, which is
// also its snapshot: what a copy holds is exactly what a snapshot keeps).
func (im *Image) Clone() (*Image, error) {
	data, err := json.Marshal(im)
	if err != nil {
		return nil, err
	}
	return decodeImage(data)
}

func decodeImage(data []byte) (*Image, error) {
	im := &Image{}
	if err := json.Unmarshal(data, im); err != nil {
		return nil, fmt.Errorf("replica: decode snapshot: %w", err)
	}
	if im.State == nil {
		im.State = coordinator.NewState()
	}
	if im.State.Executors == nil {
		im.State.Executors = map[string]*coordinator.Executor{}
	}
	if im.State.Jobs == nil {
		im.State.Jobs = map[string]*coordinator.Job{}
	}
	if im.State.Keys == nil {
		im.State.Keys = map[string]string{}
	}
	if im.Records == nil {
		im.Records = map[string]map[string][]byte{}
	}
	return im, nil
}

func newImage() *Image {
	return &Image{State: coordinator.NewState(), Records: map[string]map[string][]byte{}}
}

// applied is the FSM's answer to one entry, returned by Node.Apply: the
// event's, then the batch's, one each.
type applied struct {
	res   coordinator.Result
	err   error
	batch []Applied
}

// Applied is what the state said of one event of a batch.
type Applied struct {
	Result coordinator.Result
	Err    error
}

// fsm is the raft.FSM over an Image. raft calls Apply, Snapshot and
// Restore from one goroutine; mu lets readers (Node.Image) copy the image
// meanwhile.
type fsm struct {
	mu sync.Mutex
	im *Image
}

var _ raft.FSM = (*fsm)(nil)

// Apply applies one entry; a malformed entry or an event the state
// rejects changes nothing, on every member alike.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	e, err := decodeEntry(l.Data)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.im.Index = l.Index
	if err != nil {
		return applied{err: err}
	}
	if e.UnixMs > f.im.UnixMs {
		f.im.UnixMs = e.UnixMs
	}
	if e.Member != nil {
		if f.im.Members == nil {
			f.im.Members = map[string]Peer{}
		}
		f.im.Members[e.Member.ID] = *e.Member
	}
	if e.Removed != "" {
		delete(f.im.Members, e.Removed)
	}
	var out applied
	if e.Event != nil {
		out.res, out.err = f.im.State.Apply(e.Event)
		if fg, ok := e.Event.(coordinator.JobForgotten); ok && out.err == nil {
			delete(f.im.Records, fg.Job)
		}
	}
	if out.err == nil && !out.res.Stale {
		f.putRecords(e.Records)
	}
	for _, ev := range e.Batch {
		res, err := f.im.State.Apply(ev)
		out.batch = append(out.batch, Applied{Result: res, Err: err})
	}
	return out
}

// putRecords stores records of jobs the state holds (records live as
// long as their job).
func (f *fsm) putRecords(recs []Record) {
	for _, r := range recs {
		if _, known := f.im.State.Jobs[r.Job]; !known {
			continue
		}
		m := f.im.Records[r.Job]
		if r.Data == nil {
			delete(m, r.Name)
			continue
		}
		if m == nil {
			m = map[string][]byte{}
			f.im.Records[r.Job] = m
		}
		m[r.Name] = r.Data
	}
}

// Snapshot encodes the image now; Persist only writes the bytes.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := json.Marshal(f.im)
	if err != nil {
		return nil, fmt.Errorf("replica: snapshot: %w", err)
	}
	return snapshot(data), nil
}

// Restore replaces the image by a snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("replica: restore: %w", err)
	}
	im, err := decodeImage(data)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.im = im
	f.mu.Unlock()
	return nil
}

type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return fmt.Errorf("replica: write snapshot: %w", err)
	}
	return sink.Close()
}

func (snapshot) Release() {}
