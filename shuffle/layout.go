// Shuffle files (cluster mode).
//
// Layout under an executor's work dir, one data file and one index per map
// task attempt:
//
//	<workDir>/<job>/x<exchange>/m<task>-a<attempt>.arrow  per partition one Arrow IPC stream (schema + batches + EOS), LZ4 body compression by default, written in segments as the task streams its output
//	<workDir>/<job>/x<exchange>/m<task>-a<attempt>.idx    Index: row count and segments (offset, length) of each partition's stream
//
// Both are written as *.tmp and renamed, index last: an index that exists
// names a complete data file, and a crashed attempt leaves only *.tmp
// files, which CleanStale removes when the executor starts. RemoveJob
// removes a job's directory when the job ends.
//
// FileStore is the Store over these files for one process. FlightServer
// serves them with Arrow Flight DoGet (Ticket names job, exchange, map
// task, attempt and partition), forwarding the file's IPC messages without
// decoding them. RemoteReader reads a partition from all map outputs,
// locally from disk or via Fetch, and reports lost outputs as
// FetchFailedError so the scheduler reruns only those map tasks.

package shuffle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
)

// MapOutputID names one attempt of one map task of one exchange of one job.
// Every attempt writes its own files, so a stale attempt can never overwrite
// (or be mistaken for) the output of the attempt the scheduler accepted.
type MapOutputID struct {
	Job      string
	Exchange int
	MapTask  int
	Attempt  int
}

func (id MapOutputID) String() string {
	return fmt.Sprintf("job %q exchange %d map task %d attempt %d", id.Job, id.Exchange, id.MapTask, id.Attempt)
}

// validate rejects IDs that cannot name a file below the work dir. Job IDs
// arrive in Flight tickets from the network, so this is also the guard
// against path traversal.
func (id MapOutputID) validate() error {
	if err := validateJobID(id.Job); err != nil {
		return err
	}
	if id.Exchange < 0 || id.MapTask < 0 || id.Attempt < 0 {
		return fmt.Errorf("shuffle: negative number in %s", id)
	}
	return nil
}

// validateJobID accepts 1..128 characters of [A-Za-z0-9._-], excluding "."
// and "..".
func validateJobID(job string) error {
	if job == "" || len(job) > 128 || job == "." || job == ".." {
		return fmt.Errorf("shuffle: invalid job id %q", job)
	}
	for i := 0; i < len(job); i++ {
		c := job[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("shuffle: invalid job id %q: character %q at %d (allowed: letters, digits, '.', '_', '-')", job, c, i)
		}
	}
	return nil
}

// JobDir is <workDir>/<job>.
func JobDir(workDir, job string) string { return filepath.Join(workDir, job) }

// ExchangeDir is <workDir>/<job>/x<exchange>.
func ExchangeDir(workDir, job string, exchange int) string {
	return filepath.Join(workDir, job, "x"+strconv.Itoa(exchange))
}

// DataPath is <workDir>/<job>/x<exchange>/m<task>-a<attempt>.arrow.
func DataPath(workDir string, id MapOutputID) string {
	return filepath.Join(ExchangeDir(workDir, id.Job, id.Exchange), fmt.Sprintf("m%d-a%d.arrow", id.MapTask, id.Attempt))
}

// IndexPath is DataPath with the extension .idx.
func IndexPath(workDir string, id MapOutputID) string {
	return filepath.Join(ExchangeDir(workDir, id.Job, id.Exchange), fmt.Sprintf("m%d-a%d.idx", id.MapTask, id.Attempt))
}

// tmpSuffix marks files of an attempt that has not committed yet.
const tmpSuffix = ".tmp"

// Segment is a byte range of a data file.
type Segment struct {
	Offset int64
	Length int64
}

// PartitionRange locates one partition's Arrow IPC stream in a data file.
// A writer that streams flushes each partition's encoded bytes as they
// pile up, so the stream is split into segments: read one after the
// other, they are one IPC stream (schema, batches, end-of-stream). No
// segments means the partition is empty (no stream was written).
type PartitionRange struct {
	Segments []Segment
	Rows     int64
}

// Length is the size of the partition's stream in bytes.
func (r PartitionRange) Length() int64 {
	var n int64
	for _, s := range r.Segments {
		n += s.Length
	}
	return n
}

// Index is the content of an .idx file.
//
// Encoding (little endian): magic "FLIX", uint32 version (2), uint32
// partition count N, then per partition {uint64 rows, uint32 segment
// count S, S x {uint64 offset, uint64 length}}, then uint32 CRC-32 (IEEE)
// of all preceding bytes.
type Index struct {
	Partitions []PartitionRange
}

const (
	indexMagic   = "FLIX"
	indexVersion = 2
)

// MarshalBinary encodes the index.
func (x Index) MarshalBinary() ([]byte, error) {
	buf := make([]byte, 12, 16+len(x.Partitions)*28)
	copy(buf, indexMagic)
	binary.LittleEndian.PutUint32(buf[4:], indexVersion)
	binary.LittleEndian.PutUint32(buf[8:], uint32(len(x.Partitions)))
	for _, p := range x.Partitions {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(p.Rows))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(p.Segments)))
		for _, s := range p.Segments {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(s.Offset))
			buf = binary.LittleEndian.AppendUint64(buf, uint64(s.Length))
		}
	}
	return binary.LittleEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf)), nil
}

// UnmarshalBinary decodes and checks an index.
func (x *Index) UnmarshalBinary(b []byte) error {
	if len(b) < 16 || string(b[:4]) != indexMagic {
		return errors.New("not a shuffle index (bad magic or too short)")
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != indexVersion {
		return fmt.Errorf("unsupported shuffle index version %d", v)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return errors.New("shuffle index checksum mismatch")
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	rest := body[12:]
	if n > len(rest)/12 {
		return fmt.Errorf("shuffle index for %d partitions is only %d bytes", n, len(b))
	}
	x.Partitions = make([]PartitionRange, n)
	for i := range x.Partitions {
		if len(rest) < 12 {
			return fmt.Errorf("shuffle index truncated at partition %d", i)
		}
		rows := int64(binary.LittleEndian.Uint64(rest))
		segs := int(binary.LittleEndian.Uint32(rest[8:]))
		rest = rest[12:]
		if rows < 0 || segs > len(rest)/16 {
			return fmt.Errorf("shuffle index partition %d: bad row or segment count", i)
		}
		p := PartitionRange{Rows: rows}
		if segs > 0 {
			p.Segments = make([]Segment, segs)
		}
		for j := range p.Segments {
			s := Segment{Offset: int64(binary.LittleEndian.Uint64(rest)), Length: int64(binary.LittleEndian.Uint64(rest[8:]))}
			if s.Offset < 0 || s.Length < 0 {
				return fmt.Errorf("shuffle index partition %d segment %d has a negative field", i, j)
			}
			p.Segments[j] = s
			rest = rest[16:]
		}
		x.Partitions[i] = p
	}
	if len(rest) != 0 {
		return fmt.Errorf("shuffle index has %d trailing bytes", len(rest))
	}
	return nil
}

// ReadIndex reads and checks the committed index of a map output.
func ReadIndex(workDir string, id MapOutputID) (Index, error) {
	if err := id.validate(); err != nil {
		return Index{}, err
	}
	path := IndexPath(workDir, id)
	b, err := os.ReadFile(path)
	if err != nil {
		return Index{}, fmt.Errorf("shuffle: %s: %w", id, err)
	}
	var x Index
	if err := x.UnmarshalBinary(b); err != nil {
		return Index{}, fmt.Errorf("shuffle: %s: %w", path, err)
	}
	return x, nil
}

// Ticket is what a reducer sends in a Flight DoGet to fetch one partition
// of one map output.
//
// Encoding (no protobuf): byte 'F', byte version 1, then unsigned varints
// exchange, map task, attempt, partition, job length, then the job bytes.
type Ticket struct {
	MapOutputID
	Partition int
}

const ticketVersion = 1

// MarshalBinary encodes the ticket.
func (t Ticket) MarshalBinary() ([]byte, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	if t.Partition < 0 {
		return nil, fmt.Errorf("shuffle: negative partition %d", t.Partition)
	}
	b := make([]byte, 0, 2+5*binary.MaxVarintLen64+len(t.Job))
	b = append(b, 'F', ticketVersion)
	b = binary.AppendUvarint(b, uint64(t.Exchange))
	b = binary.AppendUvarint(b, uint64(t.MapTask))
	b = binary.AppendUvarint(b, uint64(t.Attempt))
	b = binary.AppendUvarint(b, uint64(t.Partition))
	b = binary.AppendUvarint(b, uint64(len(t.Job)))
	return append(b, t.Job...), nil
}

// UnmarshalBinary decodes and validates a ticket.
func (t *Ticket) UnmarshalBinary(b []byte) error {
	if len(b) < 2 || b[0] != 'F' || b[1] != ticketVersion {
		return errors.New("shuffle: not a shuffle ticket (bad magic or version)")
	}
	b = b[2:]
	var vals [5]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<31 {
			return fmt.Errorf("shuffle: malformed ticket field %d", i)
		}
		vals[i], b = v, b[n:]
	}
	if uint64(len(b)) != vals[4] {
		return fmt.Errorf("shuffle: ticket job id length %d, %d bytes left", vals[4], len(b))
	}
	*t = Ticket{
		MapOutputID: MapOutputID{Job: string(b), Exchange: int(vals[0]), MapTask: int(vals[1]), Attempt: int(vals[2])},
		Partition:   int(vals[3]),
	}
	return t.validate()
}
