// The four plugin kinds and what the core gives them. The core knows plugins only through these
// interfaces and the Registry.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "buffer/secondary.h"
#include "config/params.h"
#include "core/event.h"
#include "core/flow.h"
#include "core/metrics.h"

namespace sluice {

class Registry;
class Filter;

// Where a source sends its batches: the router, for the source's label.
class Emitter {
 public:
  virtual ~Emitter() = default;
  // Routes the batch through filters to outputs. Returns once every output has taken what it
  // needs; the batch (and the bytes it views) may then be reused.
  virtual void emit(Batch& batch) = 0;
  // Routes the batch as if it came out of `filter`: through the filters after it, to the output.
  // For filters that let records out later (concat's held lines). Emitters without filters emit.
  virtual void emit_after(const Filter* filter, Batch& batch) { emit(batch); }
};

struct Line {
  std::string_view bytes;  // without the line terminator
  uint64_t offset = 0;     // of the first byte, in the source stream
};

// A parser's per-stream state (one per tailed file): CRI partial lines, multiline buffers.
class Parser {
 public:
  virtual ~Parser() = default;
  // Appends a record per complete event in `lines` to `out` (a partial line may yield none
  // until its final part arrives). A line that cannot be parsed still yields a record holding
  // the raw line; it is counted and warned about, never dropped.
  virtual void parse(std::span<const Line> lines, Batch& out) = 0;
  // Emits whatever is held (partial lines, multiline groups): at end of input, on a timeout,
  // before a rotated file is closed.
  virtual void flush(Batch& out) {}
  // Offset of the first line held back but not yet emitted, or UINT64_MAX: a checkpoint must not
  // pass it.
  virtual uint64_t held_from() const { return UINT64_MAX; }
};

// Told of each line a parser could not parse, right after the parser appended the record that
// keeps it raw ({"message": line, "_parse_error": reason}). A plugin that embeds a parser sets one
// to handle such records itself; parsers then neither warn about them nor count them.
class ParseFailureListener {
 public:
  virtual ~ParseFailureListener() = default;
  virtual void kept_raw(const Batch& out, std::string_view reason) = 0;
};

// A configured `<parse>` section; opens per-stream parsers.
class ParserPlugin {
 public:
  virtual ~ParserPlugin() = default;
  virtual std::unique_ptr<Parser> open_stream(std::string_view stream_name) = 0;
};

class Input {
 public:
  virtual ~Input() = default;
  virtual void start() = 0;
  // Stop reading and emit what is held. Positions are written by finish(), after the outputs
  // have closed, so that they cover only what was delivered.
  virtual void stop() = 0;
  virtual void finish() {}
  // True when every stream has been read to its current end (for `--exit-on-eof`).
  virtual bool at_eof() const { return false; }
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual void start() {}
  // May change records' fields, drop records, or set common fields. Runs on whole batches.
  virtual void filter(Batch& batch) = 0;
  // At shutdown, once the inputs have stopped: close timers and connections, so that they are
  // freed before the loop's last run. filter() may still be called for records already on their
  // way, with what the filter knows by then.
  virtual void stop() {}
};

class Output {
 public:
  virtual ~Output() = default;
  virtual void start() {}
  // Takes what it needs from the batch (formatting it into its buffer); retains batch.claim
  // while the records are not yet delivered.
  virtual void write(const Batch& batch) = 0;
  // Flushes everything and finishes what is in flight (bounded by the output's own timeouts),
  // then calls done. Called once, at shutdown.
  virtual void close(std::function<void()> done) { done(); }
};

// What the core gives a plugin when it is built.
struct PluginContext {
  uv_loop_t* loop = nullptr;
  Registry* registry = nullptr;
  Metrics* metrics = nullptr;
  FlowControl* flow = nullptr;
  const ConfigSection* section = nullptr;  // the plugin's own section
  std::string id;                          // @id, or a generated one like "in_tail_0"
  int worker_id = 0;
  int workers = 1;  // <system> workers: sources shard their streams by worker_id
  std::string root_dir;  // <system> root_dir, empty when not given
  // For inputs: where to send batches (the router of the source's @label, or the top level).
  // For filters and outputs: the router of the label they are in (rewrite_tag_filter re-emits
  // there).
  Emitter* emitter = nullptr;
  // For outputs that route records onward (`copy`'s stores, `relabel`, the @ERROR label).
  std::function<Emitter*(const std::string& label)> label_emitter;
  // True for `--dry-run`: build and validate, open nothing.
  bool dry_run = false;
  // Where validation errors of nested sections go (all are reported, not only the first).
  std::vector<ConfigError>* errors = nullptr;
  // For parsers built by make_parser: who hears of unparsable lines (null: they warn).
  ParseFailureListener* parse_failures = nullptr;

  // Builds a parser from a `<parse>` section (or the given default type when absent).
  std::unique_ptr<ParserPlugin> make_parser(const ConfigSection* parse,
                                            const std::string& default_type) const;
  // Builds an output from a section with @type (used by `copy` for its `<store>`s).
  std::unique_ptr<Output> make_output(const ConfigSection& section,
                                      const std::string& id_suffix) const;
  // The writer of the `<secondary>` section of `match` (a buffered output's section), or null
  // when it has none. Its @type must be a registered "secondary" kind.
  std::unique_ptr<buffer::Secondary> make_secondary(const ConfigSection& match) const;
  // Validates a nested section declared with another kind (e.g. `<buffer>` against the "buffer"
  // specs, `<format>` against "formatter"), reporting into `errors`. Returns its spec, or null
  // when the type is unknown (also reported).
  const PluginSpec* check_section(const ConfigSection& section, const std::string& kind,
                                  const std::string& default_type) const;
  // Counter named `<name>{plugin="<id>"}`.
  Counter& counter(const std::string& name) const;
};

}  // namespace sluice
