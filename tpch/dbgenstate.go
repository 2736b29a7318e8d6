package tpch

import (
	"fmt"
	"sync"
	_ "unsafe" // go:linkname

	"github.com/pingcap/go-tpc/tpch/dbgen"
)

// go-tpc's dbgen keeps its state in package variables and offers only
// InitDbGen(integer scale), which also rebuilds a 300 MB text pool and, when
// called twice, appends every distribution a second time (changing all later
// output). To get repeatable runs and fractional scale factors we initialise
// it once and then reset, before every run, exactly the state the C dbgen
// derives from the scale factor. The variables are reached with go:linkname;
// the mirror types below must match go-tpc v1.0.7's layouts (pinned in
// go.mod). TestGenerateSampleMatchesReference checks the result against
// published SF0.01 numbers, so a layout change cannot pass unnoticed.

// tDefMirror mirrors dbgen.tDef.
type tDefMirror struct {
	name    string
	comment string
	base    int64
	loader  dbgen.Loader
	genSeed func(dbgen.Table, int64)
	child   dbgen.Table
	vTotal  int64
}

// seedMirror mirrors dbgen.Seed.
type seedMirror struct {
	table    dbgen.Table
	value    int64
	usage    int64
	boundary int64
}

//go:linkname dbgenTDefs github.com/pingcap/go-tpc/tpch/dbgen.tDefs
var dbgenTDefs []tDefMirror

//go:linkname dbgenSeeds github.com/pingcap/go-tpc/tpch/dbgen.seeds
var dbgenSeeds [48]seedMirror

//go:linkname dbgenScale github.com/pingcap/go-tpc/tpch/dbgen.scale
var dbgenScale int64

//go:linkname dbgenOCustKeyMax github.com/pingcap/go-tpc/tpch/dbgen.ockeyMax
var dbgenOCustKeyMax int64

//go:linkname dbgenPartKeyMax github.com/pingcap/go-tpc/tpch/dbgen.LPkeyMax
var dbgenPartKeyMax int64

var (
	// genMu serialises generations: dbgen state is process-global.
	genMu       sync.Mutex
	initOnce    sync.Once
	initSeeds   [48]seedMirror
	initBases   []int64
	initLoaders []dbgen.Loader
)

// resetDBGen prepares dbgen for a run at scale sf. Callers hold genMu.
func resetDBGen(sf float64) error {
	initOnce.Do(func() {
		dbgen.InitDbGen(1)
		initSeeds = dbgenSeeds
		for _, d := range dbgenTDefs {
			initBases = append(initBases, d.base)
			initLoaders = append(initLoaders, d.loader)
		}
	})
	if len(dbgenTDefs) != int(dbgen.TRegion)+1 || initBases[dbgen.TPart] != 200000 || initBases[dbgen.TSupp] != 10000 {
		return fmt.Errorf("tpch: unexpected go-tpc dbgen internals (table defs %d, part base %d); the linkname mirrors need updating",
			len(dbgenTDefs), initBases[dbgen.TPart])
	}
	dbgenSeeds = initSeeds
	for i := range dbgenTDefs {
		dbgenTDefs[i].base = initBases[i]
		dbgenTDefs[i].loader = initLoaders[i]
	}
	if sf >= 1 {
		dbgenScale = int64(sf)
	} else {
		// C dbgen (driver.c): for scale < 1 use scale 1 and shrink the
		// base row counts of the scaled tables.
		dbgenScale = 1
		milli := int64(1000 * sf)
		for i := dbgen.TPart; i <= dbgen.TPartPsupp; i++ {
			b := milli * dbgenTDefs[i].base / 1000
			dbgenTDefs[i].base = max(b, 1)
		}
	}
	dbgenOCustKeyMax = dbgenTDefs[dbgen.TCust].base * dbgenScale
	dbgenPartKeyMax = dbgenTDefs[dbgen.TPart].base * dbgenScale
	return nil
}
