package flint

// Sessions read and write s3:// locations. Storage backends register
// themselves with connectors/fs when imported, like database/sql drivers;
// the engine packages below this one never link them.
import _ "github.com/flint-engine/flint/connectors/s3"
