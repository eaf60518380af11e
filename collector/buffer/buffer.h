// Fluentd's `<buffer>` for every output that keeps data: chunks keyed by chunk keys (tag, time
// with timekey, and an output-defined partition such as Elasticsearch's target index), each
// chunk holding the output's *formatted* payload bytes (format at buffer time: flushing is a
// write), its record count, and the delivery claims of the records it holds.
//
// Life of a chunk: staged (open, being appended to) -> queued (sealed; with `@type file` written
// to disk first: zstd, tmp + fsync + rename) -> in flight (the output's send callback) -> done
// (acknowledged, dead-lettered or given up: its claims are released, its file deleted).
//
// Claims and durability: with `@type memory` a chunk keeps its records' claims until it is done,
// so a source's checkpoint (in_tail's pos_file) only passes records that were delivered. With
// `@type file` the records are durable once the chunk is on disk, so the claims are released at
// fsync time: the tail position may advance as soon as the data is in the file buffer, and the
// chunk files are resumed after a restart.
//
// Everything runs on the loop thread; file I/O and compression run on libuv's thread pool.
#pragma once

#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "buffer/secondary.h"
#include "config/config.h"
#include "config/params.h"
#include "core/delivery.h"
#include "core/equal_bytes.h"
#include "core/event.h"
#include "core/flow.h"
#include "core/metrics.h"

namespace sluice {
struct PluginContext;
}

namespace sluice::buffer {

struct Config {
  enum class Type { Memory, File };
  enum class Overflow { Block, DropOldestChunk, ThrowException };
  enum class FlushMode { Interval, Immediate, Lazy };
  enum class RetryType { ExponentialBackoff, Periodic };

  Type type = Type::Memory;
  std::string path;  // file buffer directory
  // Directories whose chunk files this buffer resumes too, where they lie: left by a run with
  // another number of workers.
  std::vector<std::string> adopt_dirs;
  bool key_tag = false;
  bool key_time = false;
  // Record chunk keys (`<buffer tag,$.kubernetes.namespace_name>`), as written: only for outputs
  // that allow them (Defaults::record_keys), which put their values in the chunk's variant.
  std::vector<std::string> record_keys;
  // Where a chunk the output finds unrecoverable goes when there is no <secondary>: Fluentd's
  // backup_chunk, `<root_dir>/backup/worker<N>/<plugin id>/<chunk id>.log`. Empty: dropped
  // (`disable_chunk_backup true`).
  std::string backup_dir;
  double timekey = 0;
  double timekey_wait = 600;
  bool timekey_use_utc = false;
  uint64_t chunk_limit_size = 8u << 20;
  uint64_t chunk_limit_records = 0;  // 0: no limit
  double chunk_full_threshold = 0.95;
  uint64_t total_limit_size = 512ull << 20;
  size_t queued_chunks_limit_size = 1;
  Overflow overflow = Overflow::Block;
  FlushMode flush_mode = FlushMode::Interval;
  double flush_interval = 60;
  bool flush_at_shutdown = true;
  int flush_thread_count = 1;
  RetryType retry_type = RetryType::ExponentialBackoff;
  double retry_wait = 1;
  double retry_exponential_backoff_base = 2;
  double retry_max_interval = 0;  // 0: none
  double retry_timeout = 72 * 3600;
  int64_t retry_max_times = -1;  // -1: none
  bool retry_forever = false;
  bool retry_randomize = true;
  double retry_secondary_threshold = 0.8;  // share of the retry limit after which a <secondary> takes the queue
  // How long close() keeps trying to deliver before giving up (what is left stays claimed or
  // on disk, so nothing is lost).
  double close_timeout = 10;
  // Queued chunk payloads of a file buffer kept in memory (the rest is read back when sent).
  uint64_t resident_limit = 64u << 20;

  // What the output sets before parsing (Fluentd's config_set_default in the output plugin).
  struct Defaults {
    std::string type = "memory";
    std::vector<std::string> chunk_keys;  // used when <buffer> has no argument
    double timekey = 0;                   // 0: a `time` chunk key needs `timekey` given
    bool timekey_use_utc = false;
    std::string root_dir;  // default parent of file buffer paths and dead letters
    int worker_id = 0;     // with several workers each has its own file buffer directory
    int workers = 1;
    bool record_keys = false;  // the output supports record chunk keys
  };
  // Reads a `<buffer>` section (null: none given). Throws ConfigException.
  static Config parse(const ConfigSection* section, const Defaults& defaults,
                      const std::string& plugin_id);
  // The `<buffer>` of an output's section: checked into ctx.errors, read with `defaults`
  // completed by the context (worker, workers, <system> root_dir).
  static Config parse_for_output(const PluginContext& ctx, const ConfigSection& output, Defaults defaults);
};

// The `<buffer>` declarations (kind "buffer", types memory and file) for the registry.
std::vector<PluginSpec> buffer_specs();

struct Chunk {
  uint64_t id = 0;
  std::string tag;        // chunk key value (empty unless `tag` is a chunk key)
  int64_t timekey = 0;    // start of the time slot (0 unless `time` is a chunk key)
  std::string variant;    // the output's partition (e.g. the Elasticsearch index)
  std::string payload;    // formatted bytes, exactly what the output sends
  uint64_t records = 0;
  uint64_t bytes = 0;     // payload size, also while the payload is not resident
  std::vector<Claim*> claims;
  double created_at = 0;  // loop time, seconds
  int attempts = 0;

  // Internal state.
  enum class State { Staged, Persisting, Queued, Loading, InFlight, Done } state = State::Staged;
  bool resident = true;   // payload in memory
  bool on_disk = false;   // a chunk file exists
  bool rewrite = false;   // payload changed while persisting: write again
  std::string file;       // its chunk file when not the buffer's own (adopted); else derived from id
};

// Unrecoverable: Fluentd's UnrecoverableError. No retry: the chunk goes to the <secondary>, else to
// the backup directory (Config::backup_dir), else it is dropped. Drop: dropped at once.
enum class SendStatus { Success, Retry, Partial, Drop, Unrecoverable };

struct SendResult {
  SendStatus status = SendStatus::Success;
  // Partial: the payload to retry (a subset of the chunk) and its record count.
  std::string retry_payload;
  uint64_t retry_records = 0;
  // Retry / Drop / Unrecoverable: why (logged).
  std::string reason;

  static SendResult success() { return {}; }
  static SendResult retry(std::string why) {
    SendResult r;
    r.status = SendStatus::Retry;
    r.reason = std::move(why);
    return r;
  }
  static SendResult partial(std::string payload, uint64_t records, std::string why) {
    SendResult r;
    r.status = SendStatus::Partial;
    r.retry_payload = std::move(payload);
    r.retry_records = records;
    r.reason = std::move(why);
    return r;
  }
  static SendResult unrecoverable(std::string why) {
    SendResult r;
    r.status = SendStatus::Unrecoverable;
    r.reason = std::move(why);
    return r;
  }
  static SendResult drop(std::string why) {
    SendResult r;
    r.status = SendStatus::Drop;
    r.reason = std::move(why);
    return r;
  }
};

using SendDone = std::function<void(SendResult)>;

class Buffer {
 public:
  struct Hooks {
    // Sends a chunk; `done` must be called exactly once (on the loop thread). The chunk stays
    // valid and unchanged until then.
    std::function<void(Chunk&, SendDone)> send;
    // A chunk the buffer gives up on (retry limit without a <secondary>, or one that failed to
    // take it; drop_oldest_chunk): the output may keep it somewhere (dead-letter file). Called
    // before its claims are released.
    std::function<void(const Chunk&, const std::string& reason)> give_up;
    // close() ran out of time: abort what is in flight (done callbacks after this are ignored).
    std::function<void()> abort;
    // The bytes a <secondary> gets for a chunk, when the payload is the output's own framing
    // rather than what it sends; false with the reason in `out` when it cannot. Runs on the
    // thread pool: it may only read the chunk. Unset: the payload as it is.
    std::function<bool(const Chunk&, std::string& out)> secondary_payload;
  };

  Buffer(uv_loop_t* loop, Config config, FlowControl* flow, Metrics* metrics, std::string id,
         Hooks hooks);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // Resumes chunk files left on disk (file buffer) and starts the flush timer.
  void start();
  // <secondary>: chunks this buffer stops retrying are written there instead of given up.
  void set_secondary(std::unique_ptr<Secondary> secondary) { secondary_ = std::move(secondary); }

  // Appending, one record at a time (the hot path; no allocation once the chunk exists):
  //   std::string& out = buffer.begin_record(tag, time, index, batch.claim);
  //   ... append the record's bytes to out ...
  //   buffer.end_record();        // or cancel_record() to take the bytes back
  // then buffer.batch_done() once per batch (a tag view is trusted to stay the same bytes until
  // then).
  std::string& begin_record(std::string_view tag, EventTime time, std::string_view variant,
                            Claim* claim) {
    // Inline, the common case: the chunk of the record before, with room and this claim.
    Chunk* c = last_;
    if (c && !config_.key_time && equal_bytes(variant, last_variant_) &&
        (!config_.key_tag || (tag.data() == last_tag_view_ && tag.size() == last_tag_.size())) &&
        (!claim || (!c->claims.empty() && c->claims.back() == claim)) &&
        c->payload.capacity() - c->payload.size() >= kGrowthMargin) {
      cur_ = c;
      cur_start_ = c->payload.size();
      cur_claim_ = claim;
      return c->payload;
    }
    return begin_record_in_new_place(tag, time, variant, claim);
  }
  void end_record() { end_records(1, cur_start_); }
  // A run of records appended back to back (a formatter's loop over a batch, without a
  // begin_record/end_record pair per record): after begin_record, the records after the first
  // may follow while the payload is shorter than run_limit(), the size up to which the next
  // begin_record would give this chunk again and leave it unsealed. Then end_records with their
  // number and where the last one starts (a last record that overflows the chunk moves to the
  // next one, as with end_record).
  size_t run_limit() const {
    if (!cur_ || config_.key_time || config_.chunk_limit_records != 0) return 0;
    const size_t capacity = cur_->payload.capacity();
    return capacity < kGrowthMargin ? 0 : std::min<size_t>(full_bytes_, capacity - kGrowthMargin + 1);
  }
  void end_records(size_t n, size_t last_start) {
    Chunk* c = cur_;
    if (!c) return;
    cur_ = nullptr;
    const size_t added = c->payload.size() - cur_start_;
    c->records += n;
    c->bytes = c->payload.size();
    total_bytes_ += added;
    batch_bytes_ += added;
    batch_records_ += n;
    cur_start_ = last_start;
    // Out of line only when the chunk is full (or the record overflowed it).
    if (c->payload.size() >= full_bytes_ || config_.chunk_limit_records != 0) chunk_at_limit(c);
  }
  void cancel_record();
  void batch_done();

  // True when overflow_action throw_exception refuses new records (buffer full).
  bool refusing() const;
  // The same, for a batch of `records` an output is about to write: when refused they are counted
  // in `refused` and the refusal is logged (once).
  bool refuses(size_t records, Counter& refused);
  // Seals every staged chunk (makes it sendable now).
  void flush_all();
  // Stops accepting, flushes (flush_at_shutdown) and finishes in-flight sends within
  // close_timeout, then calls done.
  void close(std::function<void()> done);

  const Config& config() const { return config_; }
  uint64_t total_bytes() const { return total_bytes_; }
  size_t chunk_count() const { return staged_.size() + queue_.size() + in_flight_; }
  size_t queued() const { return queue_.size(); }
  size_t in_flight() const { return in_flight_; }
  bool idle() const { return staged_.empty() && queue_.empty() && in_flight_ == 0; }
  // Loop time of the next retry, or 0 when not retrying.
  double retry_at() const { return retry_active_ ? retry_next_ : 0; }

  // Exposed for tests.
  static std::string encode_chunk_file(const Chunk& c, int level);
  static bool decode_chunk_file(std::string_view bytes, Chunk& out, bool with_payload,
                                std::string& error);

 private:
  struct Work;
  double now() const;
  Chunk* open_chunk(std::string_view tag, int64_t timekey, std::string_view variant);
  void enqueue(Chunk* c);
  void resume_from_disk();
  void resume_chunks_in(const std::string& dir, bool own, std::vector<std::shared_ptr<Chunk>>& out);
  void queue_disk_work(Chunk* c, void (*job)(Work&), void (Buffer::*done)(Work&, bool ok),
                       std::shared_ptr<Secondary> secondary = nullptr);
  void persist(Chunk* c);
  void on_persisted(Work& w, bool ok);
  void load(Chunk* c);
  void on_loaded(Work& w, bool ok);
  void pump();
  void dispatch(Chunk* c);
  void on_result(Chunk* c, SendResult r);
  void finish_chunk(Chunk* c, bool delivered);
  void release_claims(Chunk* c);
  void schedule_retry(const std::string& why);
  void give_up_all(const std::string& reason);
  // Writes `c` to `to` (the <secondary>, or the backup file) on the thread pool, then finishes it.
  void write_to_secondary(Chunk* c, std::shared_ptr<Secondary> to);
  void on_secondary_written(Work& w, bool ok);
  static std::shared_ptr<Secondary> make_backup_writer(const std::string& dir);
  void remove_from_queue(Chunk* c);
  uint64_t usage() const;
  bool has_room_for_full_chunk() const;
  // What a chunk reserves when it takes its whole limit at once.
  uint64_t full_chunk_capacity() const { return config_.chunk_limit_size + kGrowthMargin; }
  // A chunk with less room than this left may be given its whole limit (begin_record).
  static constexpr size_t kGrowthMargin = 64u << 10;
  std::string& begin_record_in_new_place(std::string_view tag, EventTime time,
                                         std::string_view variant, Claim* claim);
  void chunk_at_limit(Chunk* c);
  const std::string& key_of(std::string_view tag, int64_t timekey, std::string_view variant);
  void check_overflow();
  void update_gauges();
  void on_tick();
  void maybe_finish_close();
  void evict_if_needed(Chunk* c);
  std::string chunk_path(uint64_t id) const;
  std::string file_of(const Chunk& c) const { return c.file.empty() ? chunk_path(c.id) : c.file; }

  uv_loop_t* loop_;
  Config config_;
  FlowControl* flow_;
  Metrics* metrics_;
  std::string id_;
  Hooks hooks_;
  std::shared_ptr<Secondary> secondary_;  // shared with the thread writing to it
  std::shared_ptr<Secondary> backup_;     // for unrecoverable chunks without a secondary

  std::unordered_map<std::string, Chunk*> staged_;  // by chunk key
  std::string key_scratch_;
  std::deque<Chunk*> queue_;
  std::unordered_map<uint64_t, std::shared_ptr<Chunk>> all_;  // every chunk, by id
  size_t in_flight_ = 0;
  size_t pending_io_ = 0;
  uint64_t next_id_ = 1;
  uint64_t total_bytes_ = 0;
  uint64_t resident_bytes_ = 0;
  bool holding_ = false;
  bool hold_announced_ = false;  // this hold's pause was logged at warn level
  bool pumping_ = false;
  bool pump_again_ = false;
  bool loading_ = false;
  int64_t local_offset_ = 0;

  // The record being written.
  Chunk* cur_ = nullptr;
  size_t cur_start_ = 0;
  Claim* cur_claim_ = nullptr;
  // The last chunk used, and its key (cheap check for the common case).
  Chunk* last_ = nullptr;
  std::string last_tag_;
  const char* last_tag_view_ = nullptr;  // the view last_tag_ was taken from, in this batch
  int64_t last_timekey_ = 0;
  std::string last_variant_;
  std::string full_key_;  // of the last chunk sealed because it was full
  uint64_t batch_bytes_ = 0;    // added by the batch being written
  uint64_t batch_records_ = 0;
  uint64_t full_bytes_ = 0;  // chunk_limit_size * chunk_full_threshold: a chunk this full is sealed
  uint64_t largest_batch_ = 0;  // the most one batch has added

  bool retry_active_ = false;
  int retry_steps_ = 0;
  double retry_start_ = 0;
  double retry_next_ = 0;

  bool started_ = false;
  bool closing_ = false;
  bool aborted_ = false;
  std::function<void()> close_done_;
  uv_timer_t* tick_ = nullptr;
  uv_timer_t* retry_timer_ = nullptr;
  uv_timer_t* close_timer_ = nullptr;
  std::shared_ptr<bool> alive_;

  Counter* m_records_in_;
  Counter* m_bytes_in_;
  Counter* m_chunks_enqueued_;
  Counter* m_retries_;
  Counter* m_gave_up_records_;
  Counter* m_secondary_records_;
  Counter* m_overflow_refused_;
  Counter* m_buffer_bytes_;    // gauge
  Counter* m_buffer_chunks_;   // gauge
  Counter* m_queue_length_;    // gauge
};

}  // namespace sluice::buffer
