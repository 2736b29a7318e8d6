// Package latedelivery holds the SQL steps of the late-delivery pipeline
// (sql/*.sql), for the programs that run them: `flint demo` and the tests.
// See README.md.
package latedelivery

import (
	"embed"
	"strings"
)

//go:embed sql/*.sql
var files embed.FS

// Step is one step of the pipeline: its name, its SQL file and the SQL,
// whose ${WORK} is the folder the steps share.
type Step struct {
	Name, File, SQL string
}

// Steps returns the pipeline's steps in order, with ${WORK} replaced by
// work.
func Steps(work string) ([]Step, error) {
	var out []Step
	for _, s := range []struct{ name, file string }{
		{"etl", "01_etl.sql"}, {"train", "02_train.sql"}, {"evaluate", "03_evaluate.sql"}, {"score", "04_score.sql"},
	} {
		b, err := files.ReadFile("sql/" + s.file)
		if err != nil {
			return nil, err
		}
		out = append(out, Step{Name: s.name, File: s.file, SQL: strings.ReplaceAll(string(b), "${WORK}", work)})
	}
	return out, nil
}
