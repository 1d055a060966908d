package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onboarding/shared/ddb"
)

// checkpoint is where each segment of a run is, and what the run did so
// far. It is kept in a file (mode 0600), not printed: a segment's last key
// is whatever item the scan read last, and some keys hold an email address.
type checkpoint struct {
	Table    string `json:"table"`
	Segments int    `json:"segments"`
	// Next is each segment's last key read (none: from its beginning).
	Next   []map[string]string `json:"next"`
	Done   []bool              `json:"done"`
	Counts counts              `json:"counts"`
}

// counts adds up the pages of a run.
type counts struct {
	Scanned int `json:"scanned"`
	Missing int `json:"missing"`
	Updated int `json:"updated"`
	Skipped int `json:"skipped"`
	Done    int `json:"segmentsDone"`
	Of      int `json:"segments"`
}

func (c counts) String() string {
	return fmt.Sprintf("%d items scanned, %d invitations without the invitee key: %d updated, %d skipped (deleted or updated meanwhile); %d of %d segments done",
		c.Scanned, c.Missing, c.Updated, c.Skipped, c.Done, c.Of)
}

func newCheckpoint(table string, segments int) *checkpoint {
	return &checkpoint{Table: table, Segments: segments, Next: make([]map[string]string, segments),
		Done: make([]bool, segments), Counts: counts{Of: segments}}
}

func loadCheckpoint(path, table string) (*checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the checkpoint: %w", err)
	}
	var cp checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if cp.Table != table || cp.Segments < 1 || len(cp.Next) != cp.Segments || len(cp.Done) != cp.Segments {
		return nil, fmt.Errorf("checkpoint %s is not of a run over table %s", path, table)
	}
	return &cp, nil
}

// position is where segment seg goes on from (nil: its beginning).
func (cp *checkpoint) position(seg int) (start map[string]types.AttributeValue, done bool, err error) {
	if cp.Done[seg] || cp.Next[seg] == nil {
		return nil, cp.Done[seg], nil
	}
	start, err = attributevalue.MarshalMap(cp.Next[seg])
	return start, false, err
}

func (cp *checkpoint) advance(seg int, page ddb.BackfillPage) error {
	cp.Counts.Scanned += page.Scanned
	cp.Counts.Missing += page.Missing
	cp.Counts.Updated += page.Updated
	cp.Counts.Skipped += page.Skipped
	if page.Next == nil {
		cp.Next[seg], cp.Done[seg] = nil, true
		cp.Counts.Done++
		return nil
	}
	next := map[string]string{}
	if err := attributevalue.UnmarshalMap(page.Next, &next); err != nil {
		return fmt.Errorf("segment %d's last key: %w", seg, err)
	}
	cp.Next[seg] = next
	return nil
}

// save writes the checkpoint whole or not at all (a new file renamed over
// the old).
func (cp *checkpoint) save(path string) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	return os.Rename(tmp, path)
}
