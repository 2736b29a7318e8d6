package driver

// SetDuplicateWrites makes d run every write task once more after it
// succeeded (a duplicate successful attempt).
func SetDuplicateWrites(d *Local, on bool) { d.duplicateWrites = on }
