package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/exec/hashing"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
)

// Memory accounting of the hash aggregate.
//
// What a table holds lives on the Go heap, so it is estimated from sizes:
// the hash table's slots (their count mirrors hashing.Table's growth: a
// power of two, at least twice the keys after an insert), one hash and the
// fixed-width key values per group, the bytes of string keys, every
// kernel's state slices by capacity (aggKernel.bytesFor) and the DISTINCT
// pair tables alike. Before a slice of rows is fed, reserve makes the
// reservation cover the worst case after it — every row a new group, every
// string byte of the slice copied — so memory is reserved before it is
// allocated. The reservation grows by a quarter more than needed, so the
// pool is asked O(log groups) times, not once a batch.

// aggInitialSlots is the slot count of a new hashing.Table.
const aggInitialSlots = 1024

// aggScratchPerRow bounds the per-row scratch of one batch: group ids and
// hashes, the table's probe buffers, mask selections.
const aggScratchPerRow = 64

// aggMem is the hash aggregate's reservation and the sizes it estimates
// from.
type aggMem struct {
	res       *mempool.Reservation
	slots     int   // slots of the group table
	slotBytes int64 // bytes per slot
	keyBytes  int64 // bytes per stored key besides string bytes: values, validity, hash
	keyStr    int64 // string key bytes stored (estimated from the batches' average)
	step      int   // most rows fed at once, 0: whole batches (halves when a slice alone does not fit, doubles when one did)
	stats     MemoryStats
}

var _ MemoryReporter = (*hashAggregate)(nil)

// MemoryStats implements MemoryReporter.
func (h *hashAggregate) MemoryStats() MemoryStats {
	s := h.stats
	if h.res != nil {
		s.PeakBytes = max(s.PeakBytes, h.res.Peak())
	}
	return s
}

func (h *hashAggregate) resName() string {
	switch h.mode {
	case AggPartial:
		return "HashAggregate (partial)"
	case AggFinal:
		return "HashAggregate (final)"
	}
	return "HashAggregate (single)"
}

// initMem computes the fixed sizes (at construction).
func (h *hashAggregate) initMem() {
	h.slotBytes = 8
	if len(h.keyTypes) == 1 && hashing.IsIntKey(h.keyTypes[0]) {
		h.slotBytes = 16 // key and id in the slot
	}
	h.keyBytes = 8 // the hash kept for rehashing
	for _, t := range h.keyTypes {
		h.keyBytes += aggKeyWidth(t) + 1 // + validity once a NULL key is seen
	}
	for i, d := range h.distinct {
		if d != nil {
			d.pairSize = 8 + 4 + 1 + aggKeyWidth(h.argTypes[i]) + 1
		}
	}
}

// openMem registers the reservation. Aggregates without group columns hold
// O(1) state but for DISTINCT values, which spill: the others cannot.
func (h *hashAggregate) openMem(ctx context.Context) {
	h.res = mempool.FromContext(ctx).Register(h.resName(), len(h.groupCols) > 0 || h.hasDistinct)
	h.spills = spill.FromContext(ctx)
	h.stats = MemoryStats{}
	h.step, h.deepest = 0, 0
}

// closeMem frees the reservation, keeping its peak for MemoryStats.
func (h *hashAggregate) closeMem() {
	if h.res != nil {
		h.stats.PeakBytes = max(h.stats.PeakBytes, h.res.Peak())
		h.res.Free()
		h.res = nil
	}
}

// tableReset starts the estimates of a new, empty table.
func (h *hashAggregate) tableReset() {
	h.slots, h.keyStr = aggInitialSlots, 0
}

// freeTableMem gives back what the dropped table held.
func (h *hashAggregate) freeTableMem() {
	if h.res != nil {
		h.res.Shrink(h.res.Size())
	}
}

// reserve makes the reservation cover the table after feeding rows
// off..off+m of b at worst. need is that size.
func (h *hashAggregate) reserve(b arrow.RecordBatch, lay *aggLayout, off, m int) (need int64, err error) {
	need = h.projected(b, lay, off, m)
	size := h.res.Size()
	if need <= size {
		return need, nil
	}
	if h.res.TryGrow(need-size+need/4) == nil {
		return need, nil
	}
	return need, h.res.TryGrow(need - size)
}

// projected estimates the bytes the table holds after rows off..off+m of b
// if each were a new group.
func (h *hashAggregate) projected(b arrow.RecordBatch, lay *aggLayout, off, m int) int64 {
	g := h.ngroups
	bytes := int64(m)*aggScratchPerRow + aggStrBytes(b, lay.strs, off, m)
	if h.table != nil {
		g += m
		bytes += int64(aggSlotsAfter(h.slots, h.ngroups, m))*h.slotBytes + int64(g)*h.keyBytes + h.keyStr
	}
	for i, k := range h.kernels {
		bytes += k.bytesFor(g)
		if d := h.distinct[i]; d != nil {
			p := d.table.Len()
			bytes += int64(aggSlotsAfter(d.slots, p, m))*8 + int64(p+m)*d.pairSize + d.strBytes + int64(m)*aggScratchPerRow
		}
	}
	return bytes
}

// grew updates the estimates after rows of b (m of them) were fed to a
// table that held before groups.
func (h *hashAggregate) grew(b arrow.RecordBatch, lay *aggLayout, before, m int) {
	if h.table == nil {
		return
	}
	h.slots = aggSlotsAfter(h.slots, before, m)
	if added := h.ngroups - before; added > 0 && len(lay.strKeys) > 0 {
		h.keyStr += aggStrBytes(b, lay.strKeys, 0, m) * int64(added) / int64(m)
	}
}

// aggSlotsAfter is the slot count of a hashing.Table with slots slots and
// n keys after an insert of extra rows: it keeps at least two slots per key
// counting the rows, doubling.
func aggSlotsAfter(slots, n, extra int) int {
	for slots < 2*(n+extra) {
		slots *= 2
	}
	return slots
}

// aggStrBytes is the string bytes of rows off..off+m of the columns cols
// of b.
func aggStrBytes(b arrow.RecordBatch, cols []int, off, m int) int64 {
	var n int64
	for _, c := range cols {
		offs, _ := hashing.StringData(b.Column(c))
		n += int64(offs[off+m] - offs[off])
	}
	return n
}

// aggKeyWidth is the bytes a hashing.Table key store keeps per key of type
// dt, string bytes aside.
func aggKeyWidth(dt arrow.DataType) int64 {
	switch dt.ID() {
	case arrow.BOOL:
		return 1
	case arrow.STRING, arrow.BINARY:
		return 8 // an int offset
	}
	if fw, ok := dt.(arrow.FixedWidthDataType); ok {
		return int64(fw.BitWidth()+7) / 8
	}
	return 8
}

func aggIsString(dt arrow.DataType) bool {
	return dt != nil && (dt.ID() == arrow.STRING || dt.ID() == arrow.BINARY)
}

// aggCopiesStrings reports whether aggregate a keeps copies of its string
// argument (min/max/first values, DISTINCT value tables).
func aggCopiesStrings(a AggSpec, arg arrow.DataType) bool {
	if !aggIsString(arg) {
		return false
	}
	switch a.Func {
	case AggMin, AggMax, AggFirst:
		return true
	}
	return a.Distinct
}
