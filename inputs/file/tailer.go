// Package file tails log files: it discovers them by pattern, follows them
// through rename+create and copytruncate rotation, decodes CRI, Docker
// json-file and raw lines, and checkpoints how far each file was read.
//
// Guarantees: a file's records are emitted in file order; a checkpoint only
// covers records whose batch was acknowledged, so after a crash and restart
// every line is emitted at least once (duplicates are bounded by what was in
// flight). A renamed or deleted file is read to its end before it is closed.
// Memory is bounded by max_line_size per file and one read buffer.
//
// Known limitations: a file rotated twice while sluice was down is found
// only through the checkpoint of the first rotated file; lines written to a
// copytruncated file between sluice's last read and the truncation are
// recovered only when the copy sits next to the file with a rotated name.
package file

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/inputs/file/osfile"
	"github.com/sluicelog/sluice/internal/ctxsleep"
	"github.com/sluicelog/sluice/record"
)

// Config is what the tailer needs; the daemon fills it from config.Files.
type Config struct {
	Include, Exclude []string
	Flavor           glob.Flavor
	ReadFromTail     bool // files first seen at start begin at their end
	Format           string
	MaxLineSize      int
	PollInterval     time.Duration
	DiscoverInterval time.Duration
	MaxOpenFiles     int
	IdleTimeout      time.Duration
	RotateWait       time.Duration
	CheckpointPath   string
	CheckpointEvery  time.Duration
	BatchSize        int
	ReadBudget       int // bytes per file per turn, for fairness between files
	Logger           *slog.Logger
	Events           Events
	// Recovered are positions the disk buffer's newest records give; they
	// move checkpointed files forward (checkpoint.Merge) and place files
	// found at start that the checkpoint does not know (checkpoint.Furthest).
	Recovered []checkpoint.Entry
}

// Tailer reads every file the patterns match and sends batches downstream.
type Tailer struct {
	cfg     Config
	set     *glob.Set
	out     chan *record.Batch
	ev      Events
	log     *slog.Logger
	maxLine int
	buf     []byte

	readers []*reader          // predecessors before successors
	byPath  map[string]*reader // the newest reader of each discovered path
	byID    map[osfile.ID]*reader
	skipped map[string]string // paths not read, with the reason, so each is counted once
	open    int
	reg     registry
	batch   batcher             // reused by every read turn
	emit    func(record.Record) // batch.add, bound once
	saved   []checkpoint.Entry  // loaded at start, matched during the first discovery
}

// New checks cfg and compiles its patterns. Batches arrive on Out.
func New(cfg Config) (*Tailer, error) {
	set, err := glob.NewSet(cfg.Include, cfg.Exclude, cfg.Flavor)
	if err != nil {
		return nil, fmt.Errorf("file input patterns: %w", err)
	}
	if cfg.Events == nil {
		cfg.Events = NopEvents{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadBudget <= 0 {
		cfg.ReadBudget = 4 << 20
	}
	bufSize := cfg.MaxLineSize + 1
	if bufSize < 256<<10 {
		bufSize = 256 << 10
	}
	t := &Tailer{
		cfg: cfg, set: set, out: make(chan *record.Batch, 4), ev: cfg.Events, log: cfg.Logger,
		maxLine: cfg.MaxLineSize, buf: make([]byte, bufSize),
		byPath: map[string]*reader{}, byID: map[osfile.ID]*reader{}, skipped: map[string]string{},
	}
	t.batch = batcher{out: t.out, maxRecs: cfg.BatchSize, maxBytes: 1 << 20}
	t.emit = t.batch.add
	return t, nil
}

// Out delivers batches in file order per file. It is closed when Run returns.
func (t *Tailer) Out() <-chan *record.Batch { return t.out }

// Run tails until ctx is done, then closes Out. Call Save after the consumer
// has acknowledged what it will, to persist the final positions.
func (t *Tailer) Run(ctx context.Context) error {
	defer close(t.out)
	entries, err := checkpoint.Load(t.cfg.CheckpointPath)
	if err != nil {
		// A bad checkpoint must not stop a node's logging: reading from the
		// start gives duplicates, never loss.
		t.log.Error("checkpoint unreadable, reading files from their start", "err", err)
	}
	entries, moved := checkpoint.Merge(entries, t.cfg.Recovered)
	if moved > 0 {
		t.log.Info("files resume after the records the buffer holds, past their checkpoint", "files", moved)
	}
	t.saved = entries
	t.discover(ctx, true)
	t.resumeUnmatched()
	saveDone := make(chan struct{})
	saveCtx, stopSave := context.WithCancel(context.Background())
	go func() { defer close(saveDone); t.saveLoop(saveCtx) }()
	defer func() { stopSave(); <-saveDone }()

	lastDiscover := time.Now()
	for ctx.Err() == nil {
		if time.Since(lastDiscover) >= t.cfg.DiscoverInterval {
			t.discover(ctx, false)
			lastDiscover = time.Now()
		}
		progressed, err := t.poll(ctx)
		if err != nil {
			break
		}
		if !progressed {
			ctxsleep.Sleep(ctx, t.cfg.PollInterval)
		}
	}
	for _, r := range t.readers {
		r.close(t)
	}
	return nil
}

// poll gives every readable file one turn.
func (t *Tailer) poll(ctx context.Context) (bool, error) {
	progressed := false
	for _, r := range t.readers {
		ok, err := r.turn(ctx, t, t.cfg.ReadBudget)
		if err != nil {
			return progressed, err
		}
		progressed = progressed || ok
		if r.atEOF && r.f != nil {
			if err := t.atEOF(ctx, r); err != nil {
				return progressed, err
			}
		}
	}
	t.prune()
	return progressed, nil
}

// Save writes the acknowledged positions to the checkpoint file.
func (t *Tailer) Save() error {
	if err := checkpoint.Save(t.cfg.CheckpointPath, t.reg.entries()); err != nil {
		return err
	}
	t.ev.CheckpointSaved(time.Now())
	return nil
}

func (t *Tailer) saveLoop(ctx context.Context) {
	tick := time.NewTicker(t.cfg.CheckpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := t.Save(); err != nil {
				t.log.Error("save checkpoint", "err", err)
			}
		}
	}
}
