// `@type detect_exceptions`: every record goes back to its label's routing under the tag without
// remove_tag_prefix; consecutive records of one stream (tag, and the `stream` field's value)
// whose messages form a stack trace leave as one record: the trace's first record with the
// message field holding all their messages joined, at the first record's time.
//
// Records that are not part of a trace leave in a batch per incoming batch that views it (fields,
// common fields, claim): no bytes are copied. A trace's lines are held across batches with their
// claims retained, so a checkpoint does not pass them until the joined record is handed on; a
// trace whose first record came in an earlier batch leaves in a batch of its own carrying the
// oldest claim, as concat's held groups do.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/plugin.h"
#include "exception_detector.h"
#include "held_record.h"

namespace sluice::detect_exceptions {

struct Settings {
  std::string remove_tag_prefix;
  std::string message_key;  // "": the first of `message`, `log` a stream's records have
  std::string stream_key;   // "": one stream per tag
  std::vector<std::string> languages;
  double flush_interval = -1;  // seconds a trace may be held; < 0: until its stream goes on
  bool force_line_breaks = false;
  int64_t max_lines = 1000;  // <= 0: no limit
  int64_t max_bytes = 0;     // <= 0: no limit (the ceilings below still hold)
  // Bounds of memory that no configuration lifts (see README).
  size_t max_streams = 10000;
  size_t stream_bytes_ceiling = 8 << 20;
  size_t total_bytes_ceiling = 256 << 20;
};

class TraceOutput final : public Output {
 public:
  // Throws std::invalid_argument for an unknown language.
  TraceOutput(const PluginContext& ctx, Settings settings);
  ~TraceOutput() override;
  void start() override;
  void write(const Batch& batch) override;
  void close(std::function<void()> done) override;

  // The timer's work, also called by tests: traces held longer than flush_interval leave.
  void flush_stale(uint64_t now_ms);
  size_t streams() const { return streams_.size(); }
  size_t holding() const { return holding_; }

 private:
  struct Stream {
    std::string out_tag;
    std::string learned_key;
    State state = State::Start;
    size_t lines = 0;
    std::string joined;  // the messages so far (with force_line_breaks' newlines)
    // While the trace began in the batch being written, its first record is read from there;
    // HeldRecord keeps it once that batch is done.
    const Batch* first_batch = nullptr;
    uint32_t first_index = 0;
    HeldRecord first;
    std::vector<Claim*> claims;  // retained, oldest first
    uint64_t started_ms = 0;
  };
  // What one write() works with. Re-emitted records can come back to this output under a
  // shorter tag while it writes, so each nesting depth has its own.
  struct Level {
    const Batch* in = nullptr;
    std::string_view out_tag;
    Batch pending;  // records leaving with the incoming batch's claim, in order
    Batch alone;    // a trace that leaves with older claims
    std::vector<Stream*> unkept;  // streams whose first record is still in `in`
    Stream* cached = nullptr;     // the stream of the previous record, and its field's value
    std::string cached_value, key, text;
  };

  Stream* stream_for(Level& level, const Record& record);
  void process(Level& level, uint32_t index, Stream& stream);
  bool message_of(const Batch& batch, const Record& record, Stream& stream, std::string_view& out) const;
  void add(Level& level, uint32_t index, Stream& stream, std::string_view message);
  void flush(Level& level, Stream& stream);
  void force_flush(Level& level, Stream& stream);
  // Appends the record to the pending batch, with `message` as the value of `message_key`.
  void pass(Level& level, const Batch& batch, const Record& record, std::string_view message_key = {},
            const Value* message = nullptr);
  void start_pending(Level& level);
  void emit_pending(Level& level);
  void keep_unkept(Level& level);
  void sweep_idle(Level& level);
  void flush_where(const std::function<bool(const Stream&)>& due);
  Level& level();

  Settings s_;
  std::string id_;
  uv_loop_t* loop_;
  Emitter* router_;
  bool dry_run_;
  ExceptionDetector detector_;
  std::unordered_map<std::string, Stream> streams_;
  std::deque<Level> levels_;  // deque: a level keeps its address while deeper ones are added
  size_t depth_ = 0;
  size_t holding_ = 0;     // streams with lines held
  size_t held_bytes_ = 0;  // over all streams
  bool flushing_ = false;  // the timer or close is walking the streams
  bool closed_ = false;
  uv_timer_t* timer_ = nullptr;
  std::vector<Stream*> stale_;
  Counter* traces_ = nullptr;
  Counter* loops_ = nullptr;
  Counter* untracked_ = nullptr;
};

}  // namespace sluice::detect_exceptions
