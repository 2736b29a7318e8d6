package store

import (
	"encoding/json"
	"testing"
)

// FuzzParseManifest checks that no manifest makes ParseManifest panic and
// that what it accepts is valid and encodes back to a manifest it accepts
// again.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"version": 1, "name": "m", "model_type": "xgboost", "file": "model-1.json", "bytes": 10,
		"sha256": "9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b9a0b", "objective": "binary:logistic",
		"num_classes": 2, "num_outputs": 1, "features": ["a", "b"], "input_label_cols": ["y"], "source": "s3://b/m.json",
		"created_at": "2025-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`{"version": 1, "name": "_x", "file": "../x"}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if ValidName(m.Name) != nil || !validType(m.Type) || len(m.Features) == 0 || m.NumOutputs < 1 {
			t.Fatalf("accepted a bad manifest: %+v", m)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(b); err != nil {
			t.Fatalf("re-encoded manifest rejected: %v\n%s", err, b)
		}
	})
}
