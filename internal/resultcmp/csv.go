package resultcmp

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// readCSV parses RFC 4180 CSV. Unlike encoding/csv it keeps empty lines:
// in a one-column answer an empty line is a row holding NULL. A final line
// break does not start a record. Every record must have as many fields as
// the header.
func readCSV(r io.Reader) (header []string, rows [][]string, err error) {
	br := bufio.NewReader(r)
	line := 1
	for {
		rec, atEOF, n, err := readRecord(br, line)
		if err != nil {
			return nil, nil, err
		}
		if rec == nil { // clean EOF
			break
		}
		if header == nil {
			header = rec
		} else {
			if len(rec) != len(header) {
				return nil, nil, fmt.Errorf("csv line %d: %d fields, header has %d", line, len(rec), len(header))
			}
			rows = append(rows, rec)
		}
		line += n
		if atEOF {
			break
		}
	}
	if header == nil {
		return nil, nil, fmt.Errorf("csv: empty input (want a header row)")
	}
	return header, rows, nil
}

// readRecord reads one record. It returns rec == nil at EOF before any
// byte, atEOF when the input ended without a final line break, and n, the
// number of physical lines consumed.
func readRecord(br *bufio.Reader, line int) (rec []string, atEOF bool, n int, err error) {
	var field strings.Builder
	inQuotes, quoted, started := false, false, false
	n = 1
	for {
		c, rerr := br.ReadByte()
		if rerr == io.EOF {
			if inQuotes {
				return nil, false, n, fmt.Errorf("csv line %d: unterminated quoted field", line)
			}
			if !started {
				return nil, true, n, nil
			}
			return append(rec, field.String()), true, n, nil
		}
		if rerr != nil {
			return nil, false, n, rerr
		}
		started = true
		if inQuotes {
			if c == '"' {
				next, perr := br.Peek(1)
				if perr == nil && next[0] == '"' {
					br.ReadByte()
					field.WriteByte('"')
					continue
				}
				inQuotes = false
				continue
			}
			if c == '\n' {
				n++
			}
			field.WriteByte(c)
			continue
		}
		switch c {
		case '"':
			if field.Len() != 0 || quoted {
				return nil, false, n, fmt.Errorf("csv line %d: quote inside an unquoted field", line)
			}
			inQuotes, quoted = true, true
		case ',':
			rec = append(rec, field.String())
			field.Reset()
			quoted = false
		case '\r':
			// tolerate CRLF
		case '\n':
			return append(rec, field.String()), false, n, nil
		default:
			if quoted {
				return nil, false, n, fmt.Errorf("csv line %d: text after a closing quote", line)
			}
			field.WriteByte(c)
		}
	}
}
