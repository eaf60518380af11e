#include "buffer/buffer.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "buffer/chunk_file.h"
#include "core/log.h"

namespace sluice::buffer {

namespace {
double rand_unit() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

int64_t local_offset() {
  time_t t = ::time(nullptr);
  struct tm tm;
  localtime_r(&t, &tm);
  return tm.tm_gmtoff;
}
}  // namespace

// ---- Buffer ----

Buffer::Buffer(uv_loop_t* loop, Config config, FlowControl* flow, Metrics* metrics,
               std::string id, Hooks hooks)
    : loop_(loop),
      config_(std::move(config)),
      flow_(flow),
      metrics_(metrics),
      id_(std::move(id)),
      hooks_(std::move(hooks)),
      alive_(std::make_shared<bool>(true)) {
  local_offset_ = local_offset();
  full_bytes_ = static_cast<uint64_t>(std::ceil(double(config_.chunk_limit_size) * config_.chunk_full_threshold));
  auto C = [&](const char* name) -> Counter* {
    return &metrics_->counter(std::string(name) + "{plugin=\"" + id_ + "\"}");
  };
  m_records_in_ = C("sluice_buffer_records_total");
  m_bytes_in_ = C("sluice_buffer_bytes_written_total");
  m_chunks_enqueued_ = C("sluice_buffer_chunks_enqueued_total");
  m_retries_ = C("sluice_buffer_retries_total");
  m_gave_up_records_ = C("sluice_buffer_gave_up_records_total");
  m_secondary_records_ = C("sluice_buffer_secondary_records_total");
  m_overflow_refused_ = C("sluice_buffer_overflow_refused_records_total");
  m_buffer_bytes_ = C("sluice_buffer_total_bytes");
  m_buffer_chunks_ = C("sluice_buffer_chunks");
  m_queue_length_ = C("sluice_buffer_queue_length");
  if (!config_.backup_dir.empty()) backup_ = make_backup_writer(config_.backup_dir);
}

Buffer::~Buffer() {
  *alive_ = false;
  // Claims still held are released: the records stay undelivered, and their sources' positions
  // do not move past them because the process is going away (positions were written before).
  auto close_timer = [](uv_timer_t*& t) {
    if (!t) return;
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(t)))
      uv_close(reinterpret_cast<uv_handle_t*>(t),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    t = nullptr;
  };
  close_timer(tick_);
  close_timer(retry_timer_);
  close_timer(close_timer_);
}

double Buffer::now() const { return double(uv_now(loop_)) / 1000.0; }

void Buffer::start() {
  if (started_) return;
  started_ = true;
  if (config_.type == Config::Type::File) resume_from_disk();
  double period = 1.0;
  if (config_.flush_mode == Config::FlushMode::Interval)
    period = std::clamp(config_.flush_interval / 4, 0.01, 1.0);
  tick_ = new uv_timer_t;
  uv_timer_init(loop_, tick_);
  tick_->data = this;
  uint64_t ms = uint64_t(period * 1000);
  uv_timer_start(
      tick_, [](uv_timer_t* t) { static_cast<Buffer*>(t->data)->on_tick(); }, ms, ms);
  retry_timer_ = new uv_timer_t;
  uv_timer_init(loop_, retry_timer_);
  retry_timer_->data = this;
  update_gauges();
  check_overflow();
  pump();
}

const std::string& Buffer::key_of(std::string_view tag, int64_t timekey, std::string_view variant) {
  key_scratch_.assign(tag);
  key_scratch_ += '\x1f';
  key_scratch_ += std::to_string(timekey);
  key_scratch_ += '\x1f';
  key_scratch_.append(variant);
  return key_scratch_;
}

Chunk* Buffer::open_chunk(std::string_view tag, int64_t timekey, std::string_view variant) {
  key_of(tag, timekey, variant);
  auto it = staged_.find(key_scratch_);
  if (it != staged_.end()) return it->second;
  auto c = std::make_shared<Chunk>();
  c->id = next_id_++;
  c->tag.assign(tag);
  c->timekey = timekey;
  c->variant.assign(variant);
  c->created_at = now();
  // The chunk after one that filled up is for a busy stream: its whole limit at once (when the
  // buffer has room for it) saves copying the payload as it grows.
  if (key_scratch_ == full_key_ && has_room_for_full_chunk())
    c->payload.reserve(full_chunk_capacity());
  else
    c->payload.reserve(std::min<uint64_t>(config_.chunk_limit_size + 4096, 1u << 20));
  Chunk* raw = c.get();
  staged_.emplace(key_scratch_, raw);
  all_.emplace(c->id, std::move(c));
  return raw;
}

std::string& Buffer::begin_record_in_new_place(std::string_view tag, EventTime time,
                                               std::string_view variant, Claim* claim) {
  int64_t tk = 0;
  if (config_.key_time) {
    int64_t span = int64_t(config_.timekey);
    int64_t off = config_.timekey_use_utc ? 0 : local_offset_;
    int64_t t = time.sec + off;
    int64_t slot = (t >= 0 ? t / span : (t - span + 1) / span) * span;
    tk = slot - off;
  }
  if (!config_.key_tag) tag = {};
  Chunk* c;
  // Records of a batch share its tag: compared once per batch, not per record.
  const bool same_tag = (tag.data() == last_tag_view_ && tag.size() == last_tag_.size()) ||
                        (tag == last_tag_ && (last_tag_view_ = tag.data(), true));
  if (last_ && last_timekey_ == tk && same_tag && last_variant_ == variant) {
    c = last_;
  } else {
    c = open_chunk(tag, tk, variant);
    last_ = c;
    last_tag_.assign(tag);
    last_tag_view_ = tag.data();
    last_timekey_ = tk;
    last_variant_.assign(variant);
  }
  if (claim && (c->claims.empty() || c->claims.back() != claim)) {
    claim->retain();
    c->claims.push_back(claim);
  }
  // A chunk that outgrows its first MiB is being filled by a busy stream: give it its whole
  // limit at once instead of doubling (each doubling copies the payload: 7 MiB for an 8 MiB chunk),
  // unless that room would take the buffer past its limit.
  if (c->payload.capacity() - c->payload.size() < kGrowthMargin && c->payload.size() >= (512u << 10) &&
      c->payload.capacity() < full_chunk_capacity() && has_room_for_full_chunk())
    c->payload.reserve(full_chunk_capacity());
  cur_ = c;
  cur_start_ = c->payload.size();
  cur_claim_ = claim;
  return c->payload;
}

void Buffer::cancel_record() {
  if (!cur_) return;
  cur_->payload.resize(cur_start_);
  cur_ = nullptr;
}

// The record just ended (cur_start_ onwards) took c to its limits.
void Buffer::chunk_at_limit(Chunk* c) {
  if (c->payload.size() > config_.chunk_limit_size && cur_start_ > 0) {
    // The record does not fit: seal the chunk without it and start a new one with it.
    std::string tail = c->payload.substr(cur_start_);
    c->payload.resize(cur_start_);
    c->records--;
    c->bytes = c->payload.size();
    std::string tag = c->tag, variant = c->variant;
    int64_t tk = c->timekey;
    enqueue(c);
    Chunk* n = open_chunk(tag, tk, variant);
    n->payload.append(tail);
    n->records = 1;
    n->bytes = n->payload.size();
    if (cur_claim_) {
      cur_claim_->retain();
      n->claims.push_back(cur_claim_);
    }
    last_ = n;
    c = n;
  }
  if (c->payload.size() >= full_bytes_ ||
      (config_.chunk_limit_records && c->records >= config_.chunk_limit_records)) {
    full_key_.assign(key_of(c->tag, c->timekey, c->variant));
    enqueue(c);
  }
}

void Buffer::batch_done() {
  last_tag_view_ = nullptr;
  bump(*m_records_in_, batch_records_);
  bump(*m_bytes_in_, batch_bytes_);
  largest_batch_ = std::max(largest_batch_, batch_bytes_);
  batch_bytes_ = 0;
  batch_records_ = 0;
  if (config_.flush_mode == Config::FlushMode::Immediate) flush_all();
  check_overflow();
  pump();
  update_gauges();
}

bool Buffer::refusing() const {
  if (config_.overflow != Config::Overflow::ThrowException) return false;
  return total_bytes_ >= config_.total_limit_size;
}

bool Buffer::refuses(size_t records, Counter& refused) {
  if (!refusing()) return false;
  bump(refused, records);
  log::warn_once("overflow." + id_, "output " + id_ + ": buffer is full (overflow_action throw_exception); "
                                    "records are refused");
  return true;
}

void Buffer::flush_all() {
  std::vector<Chunk*> all;
  for (auto& [k, c] : staged_) all.push_back(c);
  std::sort(all.begin(), all.end(), [](Chunk* a, Chunk* b) { return a->id < b->id; });
  for (Chunk* c : all) enqueue(c);
}

// The room an early-sealed chunk keeps: whole MiBs from 1 MiB on, else the next power of two
// (at least 64 KiB). Exact sizes would leave holes of every size in the heap, which the next
// chunks rarely fit (the docker json-file benchmark peaked about 5 MiB higher for it); size classes
// let them reuse the blocks freed before.
static size_t sealed_capacity(size_t size) {
  if (size >= (1u << 20)) return (size + (1u << 20) - 1) & ~size_t((1u << 20) - 1);
  size_t c = 64u << 10;
  while (c < size) c *= 2;
  return c;
}

void Buffer::enqueue(Chunk* c) {
  if (c->state != Chunk::State::Staged) return;
  for (auto it = staged_.begin(); it != staged_.end(); ++it)
    if (it->second == c) {
      staged_.erase(it);
      break;
    }
  if (last_ == c) last_ = nullptr;
  if (c->records == 0) {
    release_claims(c);
    total_bytes_ -= c->payload.size();
    all_.erase(c->id);
    return;
  }
  bump(*m_chunks_enqueued_);
  // A chunk sealed early (a flush, paused sources) gives back the room it reserved to grow into,
  // which would otherwise count against total_limit_size while it waits. The copy is of a chunk
  // that is mostly empty.
  if (config_.type == Config::Type::Memory &&
      c->payload.capacity() > c->payload.size() + c->payload.size() / 4 + (64u << 10)) {
    const size_t keep = sealed_capacity(c->payload.size());
    if (keep < c->payload.capacity()) {
      std::string right_sized;
      right_sized.reserve(keep);
      right_sized.append(c->payload);
      c->payload.swap(right_sized);
    }
  }
  queue_.push_back(c);
  if (config_.type == Config::Type::File) {
    persist(c);
  } else {
    c->state = Chunk::State::Queued;
  }
}

void Buffer::pump() {
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    while (!aborted_ && started_ && in_flight_ < size_t(config_.flush_thread_count)) {
      if (retry_active_) {
        double t = now();
        if (t < retry_next_) {
          uv_timer_start(
              retry_timer_,
              [](uv_timer_t* h) { static_cast<Buffer*>(h->data)->pump(); },
              uint64_t(std::ceil((retry_next_ - t) * 1000)), 0);
          break;
        }
        if (in_flight_ > 0) break;  // one probe at a time while retrying
      }
      Chunk* pick = nullptr;
      for (Chunk* c : queue_) {
        if (c->state != Chunk::State::Queued) continue;
        if (!c->resident) {
          if (!loading_) {
            loading_ = true;
            load(c);
          }
          continue;
        }
        pick = c;
        break;
      }
      if (!pick) break;
      dispatch(pick);
      if (retry_active_) break;
    }
  } while (pump_again_);
  pumping_ = false;
}

void Buffer::remove_from_queue(Chunk* c) {
  auto it = std::find(queue_.begin(), queue_.end(), c);
  if (it != queue_.end()) queue_.erase(it);
}

void Buffer::dispatch(Chunk* c) {
  remove_from_queue(c);
  c->state = Chunk::State::InFlight;
  c->attempts++;
  ++in_flight_;
  std::weak_ptr<bool> alive = alive_;
  auto fired = std::make_shared<bool>(false);
  uint64_t id = c->id;
  hooks_.send(*c, [this, alive, fired, id](SendResult r) {
    auto a = alive.lock();
    if (!a || !*a || *fired) return;
    *fired = true;
    auto it = all_.find(id);
    if (it == all_.end()) return;
    on_result(it->second.get(), std::move(r));
  });
}

void Buffer::on_result(Chunk* c, SendResult r) {
  --in_flight_;
  if (aborted_) {
    // close() gave up on this send: leave the chunk as it is (claimed or on disk).
    c->state = Chunk::State::Queued;
    queue_.push_front(c);
    maybe_finish_close();
    return;
  }
  switch (r.status) {
    case SendStatus::Success:
      retry_active_ = false;
      retry_steps_ = 0;
      finish_chunk(c, true);
      break;
    case SendStatus::Drop:
      log::warn("output " + id_ + ": dropped a chunk of " + std::to_string(c->records) +
                " records: " + r.reason);
      finish_chunk(c, false);
      break;
    case SendStatus::Unrecoverable:
      // Fluentd's try_flush: no retry, and the retry state is left as it is.
      if (secondary_) {
        log::warn("output " + id_ + ": got unrecoverable error in primary. Skip retry and flush chunk to "
                  "secondary (error: " + r.reason + ")");
        write_to_secondary(c, secondary_);
      } else if (backup_) {
        log::warn("output " + id_ + ": got unrecoverable error in primary and no secondary (error: " +
                  r.reason + ")");
        write_to_secondary(c, backup_);
      } else {
        log::warn("output " + id_ + ": got unrecoverable error in primary and no secondary; a chunk of " +
                  std::to_string(c->records) + " records is thrown away (disable_chunk_backup) (error: " +
                  r.reason + ")");
        finish_chunk(c, false);
      }
      break;
    case SendStatus::Partial: {
      uint64_t old = c->bytes;
      c->payload = std::move(r.retry_payload);
      c->records = r.retry_records;
      c->bytes = c->payload.size();
      total_bytes_ = total_bytes_ - old + c->bytes;
      if (c->on_disk) resident_bytes_ = resident_bytes_ - old + c->bytes;
      queue_.push_front(c);
      if (c->records == 0) {
        finish_chunk(c, true);
        break;
      }
      if (c->on_disk) {
        resident_bytes_ -= c->bytes;
        persist(c);  // so a restart does not resend what was accepted
      } else {
        c->state = Chunk::State::Queued;
      }
      schedule_retry(r.reason);
      break;
    }
    case SendStatus::Retry:
      c->state = Chunk::State::Queued;
      queue_.push_front(c);
      schedule_retry(r.reason);
      break;
  }
  check_overflow();
  update_gauges();
  pump();
  maybe_finish_close();
}

void Buffer::release_claims(Chunk* c) {
  std::vector<Claim*> claims;
  claims.swap(c->claims);
  for (Claim* cl : claims) cl->release();
}

void Buffer::finish_chunk(Chunk* c, bool delivered) {
  if (c->state == Chunk::State::Done) return;
  c->state = Chunk::State::Done;
  total_bytes_ -= c->bytes;
  if (c->resident && c->on_disk) resident_bytes_ -= c->bytes;
  remove_from_queue(c);
  if (!delivered) bump(*m_gave_up_records_, c->records);
  if (c->on_disk) {
    auto* req = new uv_fs_t;
    uv_fs_unlink(loop_, req, file_of(*c).c_str(), [](uv_fs_t* r) {
      uv_fs_req_cleanup(r);
      delete r;
    });
  }
  release_claims(c);
  all_.erase(c->id);
}

void Buffer::schedule_retry(const std::string& why) {
  double t = now();
  if (!retry_active_) {
    retry_active_ = true;
    retry_steps_ = 0;
    retry_start_ = t;
  }
  retry_steps_++;
  bump(*m_retries_);
  if (!config_.retry_forever) {
    // With a <secondary>, the queue goes to it once this share of the limit is used.
    const double share = secondary_ ? config_.retry_secondary_threshold : 1.0;
    bool exceeded = (config_.retry_max_times >= 0 &&
                     retry_steps_ > std::ceil(double(config_.retry_max_times) * share)) ||
                    (t - retry_start_ >= config_.retry_timeout * share);
    if (exceeded) {
      log::error("output " + id_ + ": failed to flush the buffer, and hit limit for retries; " +
                 (secondary_ ? "writing all queued chunks to <secondary>" : "giving up all queued chunks") +
                 " (error: " + why + ")");
      retry_active_ = false;
      retry_steps_ = 0;
      give_up_all(why);
      return;
    }
  }
  double wait = config_.retry_wait;
  if (config_.retry_type == Config::RetryType::ExponentialBackoff)
    wait = config_.retry_wait * std::pow(config_.retry_exponential_backoff_base, retry_steps_ - 1);
  if (config_.retry_max_interval > 0) wait = std::min(wait, config_.retry_max_interval);
  if (config_.retry_randomize) wait *= 1.0 - 0.125 * rand_unit();
  retry_next_ = t + wait;
  char buf[64];
  snprintf(buf, sizeof buf, "%.3fs", wait);
  log::warn("output " + id_ + ": failed to flush the buffer. retry_times=" +
            std::to_string(retry_steps_) + " next_retry_in=" + buf + " error=\"" + why + "\"");
}

void Buffer::give_up_all(const std::string& reason) {
  std::vector<Chunk*> victims;
  for (Chunk* c : queue_)
    if (c->state == Chunk::State::Queued) victims.push_back(c);
  for (Chunk* c : victims) {
    if (secondary_) {
      write_to_secondary(c, secondary_);
      continue;
    }
    if (hooks_.give_up) hooks_.give_up(*c, reason);
    finish_chunk(c, false);
  }
}

// What total_limit_size is held against. A memory buffer counts the memory its chunks hold
// (a chunk reserves room to grow, and chunks sealed early by a flush keep it), so the limit
// bounds the process's memory, not only the bytes formatted.
uint64_t Buffer::usage() const {
  if (config_.type != Config::Type::Memory) return total_bytes_;
  uint64_t held = 0;
  for (auto& [id, c] : all_) held += c->state == Chunk::State::Done ? 0 : c->payload.capacity();
  return std::max(held, total_bytes_);
}

bool Buffer::has_room_for_full_chunk() const {
  return !holding_ && usage() + config_.chunk_limit_size <= config_.total_limit_size;
}

void Buffer::check_overflow() {
  const uint64_t used = usage();
  // A batch is always taken whole, so blocking pauses the sources one batch early (the largest
  // seen, at most half the limit): the buffer stays under total_limit_size instead of a batch
  // past it.
  const uint64_t limit = config_.total_limit_size;
  const uint64_t hold_at = config_.overflow == Config::Overflow::Block
                               ? limit - std::min(largest_batch_, limit / 2)
                               : limit;
  if (used >= hold_at) {
    switch (config_.overflow) {
      case Config::Overflow::Block:
        if (!holding_) {
          holding_ = true;
          // Pausing is ordinary flow control when the output is the bottleneck: said once at
          // warn level, then at debug level.
          std::string msg = "output " + id_ + ": buffer is full (" + std::to_string(used) +
                            " bytes); pausing the sources";
          hold_announced_ = log::warn_once("buffer-full:" + id_, msg);
          if (!hold_announced_) log::debug(msg);
          if (flow_) flow_->hold(this);
        }
        // Staged chunks must be able to drain, or nothing would ever release the hold.
        if (!staged_.empty()) flush_all();
        break;
      case Config::Overflow::DropOldestChunk: {
        if (queue_.empty()) flush_all();
        while (total_bytes_ >= config_.total_limit_size) {
          Chunk* victim = nullptr;
          for (Chunk* c : queue_)
            if (c->state == Chunk::State::Queued) {
              victim = c;
              break;
            }
          if (!victim) break;
          log::warn("output " + id_ + ": buffer is full; dropping the oldest chunk (" +
                    std::to_string(victim->records) + " records)");
          if (hooks_.give_up) hooks_.give_up(*victim, "buffer full (drop_oldest_chunk)");
          finish_chunk(victim, false);
        }
        break;
      }
      case Config::Overflow::ThrowException:
        if (!staged_.empty()) flush_all();
        break;
    }
  } else if (holding_ && (double(used) < double(hold_at) * 0.9 ||
                          total_bytes_ == 0)) {
    holding_ = false;
    // A slow output pauses and resumes the sources many times a second: the first resume is
    // said at info level, like the first pause at warn, the rest at debug level.
    if (hold_announced_)
      log::info("output " + id_ + ": buffer has room again; resuming the sources (further pauses "
                "and resumes are logged at debug level)");
    else
      log::debug("output " + id_ + ": buffer has room again; resuming the sources");
    hold_announced_ = false;
    if (flow_) flow_->release(this);
  }
}

void Buffer::update_gauges() {
  m_buffer_bytes_->store(total_bytes_, std::memory_order_relaxed);
  m_buffer_chunks_->store(all_.size(), std::memory_order_relaxed);
  m_queue_length_->store(queue_.size(), std::memory_order_relaxed);
}

void Buffer::on_tick() {
  double t = now();
  std::vector<Chunk*> due;
  if (config_.flush_mode == Config::FlushMode::Immediate) {
    flush_all();
  } else if (config_.flush_mode == Config::FlushMode::Interval) {
    for (auto& [k, c] : staged_)
      if (t - c->created_at >= config_.flush_interval) due.push_back(c);
  } else {
    double wall = double(::time(nullptr));
    for (auto& [k, c] : staged_)
      if (config_.key_time && wall >= double(c->timekey) + config_.timekey + config_.timekey_wait)
        due.push_back(c);
      else if (!config_.key_time && t - c->created_at >= config_.flush_interval)
        due.push_back(c);
  }
  std::sort(due.begin(), due.end(), [](Chunk* a, Chunk* b) { return a->id < b->id; });
  for (Chunk* c : due) {
    if (!closing_ && queue_.size() >= config_.queued_chunks_limit_size) break;
    enqueue(c);
  }
  check_overflow();
  update_gauges();
  pump();
  maybe_finish_close();
}

void Buffer::close(std::function<void()> done) {
  if (closing_) return;
  closing_ = true;
  close_done_ = std::move(done);
  if (!started_) {
    auto d = std::move(close_done_);
    close_done_ = nullptr;
    if (d) d();
    return;
  }
  if (config_.type == Config::Type::File || config_.flush_at_shutdown) flush_all();
  if (config_.flush_at_shutdown && retry_active_) {
    // Shutting down: try once more right away rather than after the backoff.
    retry_next_ = now();
  }
  close_timer_ = new uv_timer_t;
  uv_timer_init(loop_, close_timer_);
  close_timer_->data = this;
  uv_timer_start(
      close_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Buffer*>(t->data);
        if (!self->close_done_) return;
        log::warn("output " + self->id_ + ": could not deliver everything before shutdown; " +
                  std::to_string(self->queue_.size() + self->staged_.size() + self->in_flight_) +
                  " chunks are left (kept unacknowledged or on disk)");
        self->aborted_ = true;
        if (self->hooks_.abort) self->hooks_.abort();
        self->in_flight_ = 0;
        self->pending_io_ = 0;
        self->maybe_finish_close();
      },
      uint64_t(config_.close_timeout * 1000), 0);
  pump();
  maybe_finish_close();
}

void Buffer::maybe_finish_close() {
  if (!closing_ || !close_done_) return;
  bool finished;
  if (aborted_) {
    finished = true;
  } else {
    finished = in_flight_ == 0 && pending_io_ == 0;
    if (finished && config_.flush_at_shutdown && !(queue_.empty() && staged_.empty())) {
      // Still things to send; unless the next retry is beyond the close deadline anyway.
      finished = retry_active_ && retry_next_ > now() + 0.5 &&
                 close_timer_ && retry_next_ - now() > double(uv_timer_get_due_in(close_timer_)) / 1000.0;
    }
  }
  if (!finished) return;
  auto done = std::move(close_done_);
  close_done_ = nullptr;
  for (uv_timer_t** t : {&tick_, &retry_timer_, &close_timer_}) {
    if (*t && !uv_is_closing(reinterpret_cast<uv_handle_t*>(*t)))
      uv_close(reinterpret_cast<uv_handle_t*>(*t),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    *t = nullptr;
  }
  aborted_ = true;  // nothing more is sent
  if (done) done();
}

}  // namespace sluice::buffer

