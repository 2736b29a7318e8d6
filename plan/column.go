package plan

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// ColumnID identifies one column produced somewhere in a query plan. IDs are
// unique within a query and are allocated by an IDGen.
type ColumnID int32

// Column describes one output column of a plan node.
type Column struct {
	ID ColumnID
	// Name is the user-visible name (alias or source column name).
	Name string
	// Table is the qualifier used to resolve "t.col" (table name or alias);
	// empty for computed columns.
	Table    string
	Type     arrow.DataType
	Nullable bool
}

// Ref returns an expression referring to c.
func (c Column) Ref() *ColRef {
	return &ColRef{ID: c.ID, Name: c.Name, Typ: c.Type, Null: c.Nullable}
}

func (c Column) String() string {
	if c.Table != "" {
		return fmt.Sprintf("%s.%s#%d", c.Table, c.Name, c.ID)
	}
	return fmt.Sprintf("%s#%d", c.Name, c.ID)
}

// Schema is the ordered list of columns a node produces.
type Schema []Column

// Index returns the position of the column with the given ID, or -1.
func (s Schema) Index(id ColumnID) int {
	for i, c := range s {
		if c.ID == id {
			return i
		}
	}
	return -1
}

// IDs returns the set of column IDs in s.
func (s Schema) IDs() ColumnSet {
	set := make(ColumnSet, len(s))
	for _, c := range s {
		set[c.ID] = struct{}{}
	}
	return set
}

// Arrow converts s to an Arrow schema using the user-visible names.
func (s Schema) Arrow() *arrow.Schema {
	fields := make([]arrow.Field, len(s))
	for i, c := range s {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
	}
	return arrow.NewSchema(fields, nil)
}

func (s Schema) String() string {
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = c.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ColumnSet is a set of column IDs.
type ColumnSet map[ColumnID]struct{}

// Has reports whether id is in the set.
func (s ColumnSet) Has(id ColumnID) bool { _, ok := s[id]; return ok }

// SubsetOf reports whether every ID of s is in o.
func (s ColumnSet) SubsetOf(o ColumnSet) bool {
	for id := range s {
		if !o.Has(id) {
			return false
		}
	}
	return true
}

// IDGen allocates unique column IDs. The zero value is ready to use. A
// session shares one IDGen across all its queries and DataFrames (so plans
// built separately can be combined); it is safe for concurrent use.
type IDGen struct{ next atomic.Int32 }

// New returns a fresh ID.
func (g *IDGen) New() ColumnID { return ColumnID(g.next.Add(1)) }

// Reserve makes sure IDs handed out from now on are above id (for plans
// decoded from the wire, whose IDs were allocated by another process).
func (g *IDGen) Reserve(id ColumnID) {
	for {
		cur := g.next.Load()
		if cur >= int32(id) || g.next.CompareAndSwap(cur, int32(id)) {
			return
		}
	}
}

// NewColumn returns a column with a fresh ID.
func (g *IDGen) NewColumn(name, table string, typ arrow.DataType, nullable bool) Column {
	return Column{ID: g.New(), Name: name, Table: table, Type: typ, Nullable: nullable}
}
