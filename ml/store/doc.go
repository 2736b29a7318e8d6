// Package store keeps imported models in a model store, a folder on the
// local disk or on an object store (s3://), and loads them for scoring.
//
// A model is a folder of the store named after the model (lower case):
//
//	<store>/<name>/model-<id>.<ext>   the model file, copied from model_path
//	<store>/<name>/_MODEL             the manifest (JSON), written last
//
// It is committed with the protocol COPY uses for datasets
// (connectors.WriteJob): the model file gets a name no other write uses,
// the manifest that names it is written last (a local file appears by
// rename, an object by one PUT), and readers trust only the manifest. A
// model is therefore either absent or complete; a CREATE that fails half
// way leaves at most a file no manifest names, and CREATE OR REPLACE can
// be retried: the old manifest stands until the new one replaces it, and
// the old model file is deleted only after that. The file is read and
// parsed (by ml/lightgbm or ml/xgboost) before anything is written, so a
// damaged file never reaches the store. DROP deletes the manifest first.
//
// The manifest records the file's SHA-256. Plans refer to a model by its
// file's location and hash (Ref); Load reads the file, checks the hash and
// keeps the parsed model in a per-process cache keyed by it, so the tasks
// of a job on one executor load a model once, and a query planned before a
// CREATE OR REPLACE never scores with the new model.
//
// The package owns the store's layout, its manifest and the model cache.
// It reads and writes only through connectors/fs (programs register
// s3:// there) and knows nothing of SQL or plans.
package store
