package replica

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
)

// slogWriter takes hclog's JSON lines (raft's log) and logs each as one
// slog record: the message, the level, and raft's fields as attributes,
// so that raft's log comes out in the driver's format (text or JSON).
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			w.log.Warn(string(line), "component", "raft")
			continue
		}
		level := slog.LevelWarn
		switch m["@level"] {
		case "error":
			level = slog.LevelError
		case "info":
			level = slog.LevelInfo
		case "debug", "trace":
			level = slog.LevelDebug
		}
		msg, _ := m["@message"].(string)
		attrs := []any{"component", "raft"}
		keys := make([]string, 0, len(m))
		for k := range m {
			if k != "" && k[0] != '@' {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			switch k {
			case slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey, "component":
				name = "raft_" + k // slog's own keys stay unique
			}
			attrs = append(attrs, name, m[k])
		}
		w.log.Log(context.Background(), level, "raft: "+msg, attrs...)
	}
	return len(p), nil
}
