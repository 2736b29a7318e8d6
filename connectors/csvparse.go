package connectors

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
)

// csvParser splits CSV text into records. Fields of a batch of records are
// stored back to back in data; offs[k] and offs[k+1] delimit field k (row
// major), nulls[k] marks fields equal to the null marker. It follows RFC
// 4180: quoted fields may contain delimiters, doubled quotes and newlines;
// a quote inside an unquoted field is kept literally; CRLF is accepted;
// empty lines are skipped.
type csvParser struct {
	path   string
	rd     *bufio.Reader
	delim  byte
	quote  byte
	null   []byte
	ncols  int    // expected fields per record; 0 = any (header/inference)
	keep   []bool // keep[c]: store field c's bytes (projection); nil = all
	pos    int64  // absolute offset of the next unread byte
	end    int64  // records must start before end; -1 = no limit
	line   int64  // 1-based number of the next line to read
	exact  bool   // line numbers are exact (reading started at file start)
	long   []byte // scratch for lines longer than the bufio buffer
	eof    bool
	rowPos int64 // start of the record being parsed
	rowLn  int64

	data  []byte
	offs  []int32
	nulls []bool
	nf    int // fields in the current record
}

func newCSVParser(path string, r io.Reader, o *options, pos, end int64, exact bool) *csvParser {
	return &csvParser{
		path: path, rd: bufio.NewReaderSize(r, bufSize(end-pos)), delim: o.delimiter, quote: o.quote,
		null: []byte(o.null), pos: pos, end: end, line: 1, exact: exact,
		offs: []int32{0},
	}
}

// bufSize sizes the read buffer for a byte range of n bytes (n < 0: whole
// file), so tiny splits do not allocate a full buffer.
func bufSize(n int64) int {
	const lo, hi = 16 << 10, 1 << 20
	if n < 0 || n+lo > hi {
		return hi
	}
	return int(n + lo)
}

// reset forgets the stored fields of the previous batch.
func (p *csvParser) reset() {
	p.data = p.data[:0]
	p.offs = p.offs[:1]
	p.nulls = p.nulls[:0]
}

func (p *csvParser) where() string {
	if p.exact {
		return fmt.Sprintf("line %d", p.rowLn)
	}
	return fmt.Sprintf("record at byte offset %d", p.rowPos)
}

func (p *csvParser) errorf(format string, args ...any) error {
	return fmt.Errorf("csv %s: %s: %s", p.path, p.where(), fmt.Sprintf(format, args...))
}

// readLine returns the next raw line including its '\n' (absent at EOF),
// or nil at EOF. The slice is valid until the next call.
func (p *csvParser) readLine() ([]byte, error) {
	if p.eof {
		return nil, nil
	}
	line, err := p.rd.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		p.long = append(p.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = p.rd.ReadSlice('\n')
			p.long = append(p.long, line...)
		}
		line = p.long
	}
	if err != nil {
		if err != io.EOF {
			return nil, fmt.Errorf("csv %s: read error near byte %d: %w", p.path, p.pos, err)
		}
		p.eof = true
		if len(line) == 0 {
			return nil, nil
		}
	}
	p.pos += int64(len(line))
	p.line++
	return line, nil
}

// skipPartialLine discards bytes up to and including the next '\n'; used
// when a split starts one byte before its range to find the first record.
func (p *csvParser) skipPartialLine() error {
	for {
		b, err := p.rd.ReadSlice('\n')
		p.pos += int64(len(b))
		if err == nil {
			return nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			p.eof = true
			return nil
		}
		return fmt.Errorf("csv %s: read error near byte %d: %w", p.path, p.pos, err)
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// next parses one record, appending its fields. It returns false at the end
// of the input or of the split.
func (p *csvParser) next() (bool, error) {
	var line []byte
	for {
		if p.end >= 0 && p.pos >= p.end {
			return false, nil
		}
		p.rowPos, p.rowLn = p.pos, p.line
		l, err := p.readLine()
		if err != nil || l == nil {
			return false, err
		}
		if len(trimEOL(l)) > 0 {
			line = l
			break
		}
	}
	p.nf = 0
	col := 0
	i := 0
	for {
		store := p.keep == nil || (col < len(p.keep) && p.keep[col])
		body := trimEOL(line)
		if i < len(body) && body[i] == p.quote {
			// Quoted field, possibly spanning lines.
			i++
			for {
				j := bytes.IndexByte(line[i:], p.quote)
				if j < 0 {
					if store {
						p.data = append(p.data, line[i:]...)
					}
					l, err := p.readLine()
					if err != nil {
						return false, err
					}
					if l == nil {
						return false, p.errorf("column %d: unterminated quoted field", col+1)
					}
					line, i = l, 0
					continue
				}
				if store {
					p.data = append(p.data, line[i:i+j]...)
				}
				i += j + 1
				if i < len(line) && line[i] == p.quote { // escaped quote
					if store {
						p.data = append(p.data, p.quote)
					}
					i++
					continue
				}
				break
			}
			body = trimEOL(line)
			p.endField(false)
			col++
			if i >= len(body) {
				break
			}
			if body[i] != p.delim {
				return false, p.errorf("column %d: unexpected %q after closing quote", col, body[i])
			}
			i++
			continue
		}
		rest := body[i:]
		j := bytes.IndexByte(rest, p.delim)
		last := j < 0
		if last {
			j = len(rest)
		}
		f := rest[:j]
		if store {
			p.data = append(p.data, f...)
		}
		p.endField(bytes.Equal(f, p.null))
		col++
		if last {
			break
		}
		i += j + 1
	}
	if len(p.data) > math.MaxInt32 {
		return false, p.errorf("record too large (over 2 GiB of field data in one batch)")
	}
	if p.ncols > 0 && p.nf != p.ncols {
		return false, p.errorf("expected %d fields, found %d", p.ncols, p.nf)
	}
	return true, nil
}

func (p *csvParser) endField(null bool) {
	p.offs = append(p.offs, int32(len(p.data)))
	p.nulls = append(p.nulls, null)
	p.nf++
}

// field returns field k of the stored batch.
func (p *csvParser) field(k int) []byte { return p.data[p.offs[k]:p.offs[k+1]] }
