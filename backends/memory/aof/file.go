package aof

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile replaces dir/name with data so that a crash leaves either the
// old file or the new one, whole: data is written under a temporary name
// and fsynced, then renamed, then the directory is fsynced.
func WriteFile(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	tmp := path + tmpExt
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("aof: create %s: %w", tmp, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("aof: write %s: %w", path, err)
	}
	return syncDir(dir)
}
