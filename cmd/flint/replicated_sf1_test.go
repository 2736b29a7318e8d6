package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDriverGroupTPCHSF1 is the replicated driver's acceptance run: the
// 22 TPC-H queries at SF1, each submitted as a job (flint submit --wait)
// to three drivers and two executors, with DuckDB's answers; the leader
// is SIGKILLed once during each of Q9, Q18 and Q21 (submitKillingLeader:
// once a task of the job has succeeded, the executors frozen meanwhile
// so that the job cannot end first) and started again from its raft dir
// afterwards, so that the next kill leaves a majority. The members run
// with a 1s election timeout (--raft-election-timeout), the figure the
// time to progress after a loss is judged by. It runs when
// FLINT_TPCH_SF1 names the SF1 Parquet files (flint bench tpch gen --sf 1
// --out DIR); CI skips it.
func TestDriverGroupTPCHSF1(t *testing.T) {
	dir := os.Getenv("FLINT_TPCH_SF1")
	if dir == "" {
		t.Skip("set FLINT_TPCH_SF1 to a directory of TPC-H SF1 Parquet files")
	}
	c := startGroup(t, "--raft-election-timeout", "1s")
	const sf1Answers = "../../testdata/tpch/answers/sf1/"
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		args := []string{"--tables", dir, "-f", queries + name + ".sql"}
		var result string
		if q == 9 || q == 18 || q == 21 {
			_, result = submitKillingLeader(t, c, args...)
			for i, p := range c.Drivers() {
				if p.Exited() {
					c.RestartDriver(i)
				}
			}
		} else {
			_, result, _ = strings.Cut(mustRun(t, append([]string{"submit", "--driver", c.Addr(), "--wait"}, args...)...), "\n")
		}
		want, err := os.ReadFile(sf1Answers + name + ".csv")
		if err != nil {
			t.Fatal(err)
		}
		if err := compareCSVText(string(want), result); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
