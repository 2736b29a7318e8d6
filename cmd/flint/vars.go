package main

import (
	"regexp"
	"strings"
)

// varRef is ${NAME} in SQL text.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandVars replaces every ${NAME} of text with the value --var
// NAME=VALUE gave (for SQL files shared between runs: a pipeline step's
// input and output folders, a date). A ${NAME} without a --var is an
// error, so that a misspelled name never reaches the SQL.
func expandVars(text string, vars []string) (string, error) {
	vals := map[string]string{}
	for _, v := range vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || !varRef.MatchString("${"+k+"}") {
			return "", usagef("--var %q: want NAME=VALUE, NAME letters, digits and _", v)
		}
		vals[k] = val
	}
	var missing []string
	out := varRef.ReplaceAllStringFunc(text, func(m string) string {
		k := m[2 : len(m)-1]
		if v, ok := vals[k]; ok {
			return v
		}
		missing = append(missing, k)
		return m
	})
	if len(missing) > 0 {
		return "", usagef("the SQL uses ${%s}: give --var %s=VALUE", missing[0], missing[0])
	}
	return out, nil
}

func varsHelp() string { return "substitute VALUE for ${NAME} in the SQL: NAME=VALUE (repeatable)" }
