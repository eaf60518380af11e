#include "trace_output.h"

#include <algorithm>

#include "core/delivery.h"
#include "core/log.h"
#include "core/uv_handle.h"
#include "format/line_format.h"

namespace sluice::detect_exceptions {

namespace {
constexpr size_t kKeptJoinedCapacity = 64 * 1024;

uint64_t monotonic_ms() { return uv_hrtime() / 1000000; }

// The plugin's tag.sub(/^#{prefix}\./, '').
std::string_view without_prefix(std::string_view tag, std::string_view prefix) {
  if (tag.size() > prefix.size() && tag.substr(0, prefix.size()) == prefix && tag[prefix.size()] == '.')
    return tag.substr(prefix.size() + 1);
  return tag;
}
}  // namespace

TraceOutput::TraceOutput(const PluginContext& ctx, Settings settings)
    : s_(std::move(settings)),
      id_(ctx.id),
      loop_(ctx.loop),
      router_(ctx.emitter),
      dry_run_(ctx.dry_run),
      detector_(s_.languages) {
  if (ctx.metrics) {
    traces_ = &ctx.counter("sluice_detect_exceptions_traces_total");
    loops_ = &ctx.counter("sluice_detect_exceptions_loop_dropped_records_total");
    untracked_ = &ctx.counter("sluice_detect_exceptions_untracked_records_total");
  }
}

TraceOutput::~TraceOutput() { close_uv_handle(timer_); }

void TraceOutput::start() {
  if (dry_run_ || !loop_ || s_.flush_interval < 0) return;
  // The plugin looks every max(interval / 10, 1 s); a finer tick keeps short intervals close.
  const uint64_t tick = std::clamp<uint64_t>(static_cast<uint64_t>(s_.flush_interval * 100), 100, 1000);
  timer_ = new_uv_handle<uv_timer_t>(this);
  uv_timer_init(loop_, timer_);
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
  uv_timer_start(timer_, [](uv_timer_t* t) {
    if (auto* self = static_cast<TraceOutput*>(t->data)) self->flush_stale(monotonic_ms());
  }, tick, tick);
}

void TraceOutput::close(std::function<void()> done) {
  close_uv_handle(timer_);
  closed_ = true;
  flush_where([](const Stream&) { return true; });
  done();
}

void TraceOutput::flush_stale(uint64_t now_ms) {
  if (s_.flush_interval < 0 || depth_ > 0 || flushing_) return;
  const double interval_ms = s_.flush_interval * 1000;
  flush_where([&](const Stream& stream) {
    return now_ms > stream.started_ms && static_cast<double>(now_ms - stream.started_ms) > interval_ms;
  });
}

// Outside write(): every first record is kept already, so each trace leaves on its own. A trace
// that leaves may come back under a shorter tag and be held there: rounds go on until none is
// left to flush (each round's tags are shorter, so they end).
void TraceOutput::flush_where(const std::function<bool(const Stream&)>& due) {
  while (true) {
    stale_.clear();
    for (auto& [key, stream] : streams_)
      if (stream.lines > 0 && due(stream)) stale_.push_back(&stream);
    if (stale_.empty()) return;
    std::vector<Stream*> round = std::move(stale_);
    flushing_ = true;
    Level& lv = level();
    ++depth_;
    for (Stream* stream : round) force_flush(lv, *stream);
    --depth_;
    flushing_ = false;
    stale_ = std::move(round);
  }
}

TraceOutput::Level& TraceOutput::level() {
  if (depth_ == levels_.size()) levels_.emplace_back();
  return levels_[depth_];
}

void TraceOutput::write(const Batch& in) {
  if (!router_ || in.records.empty()) return;
  const std::string_view out_tag = without_prefix(in.tag, s_.remove_tag_prefix);
  if (out_tag == in.tag) {
    // The same tag would come straight back to this <match>, forever.
    if (loops_) bump(*loops_, in.records.size());
    log::warn_once("detect_exceptions_loop/" + id_,
                   "[" + id_ + "] records tagged " + log::quote_excerpt(in.tag) + " do not start with \"" +
                       s_.remove_tag_prefix + ".\": re-emitted under the same tag they would come back here "
                       "forever; they are dropped (counted in sluice_detect_exceptions_loop_dropped_records_total)");
    return;
  }
  Level& lv = level();
  ++depth_;
  lv.in = &in;
  lv.out_tag = out_tag;
  lv.cached = nullptr;
  start_pending(lv);
  for (uint32_t i = 0; i < in.records.size(); ++i) {
    if (Stream* stream = stream_for(lv, in.records[i])) {
      process(lv, i, *stream);
    } else {
      if (untracked_) bump(*untracked_);
      pass(lv, in, in.records[i]);
    }
  }
  emit_pending(lv);
  keep_unkept(lv);
  lv.in = nullptr;
  --depth_;
  // Records still on their way after close: nothing may stay held.
  if (closed_ && depth_ == 0) flush_where([](const Stream&) { return true; });
}

TraceOutput::Stream* TraceOutput::stream_for(Level& lv, const Record& record) {
  std::string_view value;
  if (!s_.stream_key.empty()) {
    if (const Value* v = lv.in->find(record, s_.stream_key)) {
      if (v->kind == ValueKind::String) {
        value = v->text;
      } else {
        lv.text.clear();
        append_ruby_to_s(lv.text, *v);
        value = lv.text;
      }
    }
  }
  if (lv.cached && value == lv.cached_value) return lv.cached;
  lv.key.assign(lv.in->tag);
  lv.key += '\0';
  lv.key += value;
  auto it = streams_.find(lv.key);
  if (it == streams_.end()) {
    if (streams_.size() >= s_.max_streams) {
      sweep_idle(lv);
      if (streams_.size() >= s_.max_streams) {
        log::warn_once("detect_exceptions_streams/" + id_,
                       "[" + id_ + "] " + std::to_string(s_.max_streams) +
                           " streams hold traces; records of further streams pass without detection "
                           "(counted in sluice_detect_exceptions_untracked_records_total)");
        return nullptr;
      }
    }
    it = streams_.try_emplace(lv.key).first;
    it->second.out_tag.assign(lv.out_tag);
  }
  lv.cached = &it->second;
  lv.cached_value.assign(value);
  return lv.cached;
}

// Streams come and go with containers: at the bound, those holding nothing are forgotten (all
// they lose is the message field they learned). Only the outermost write does it, as nested ones
// and the timer point at streams.
void TraceOutput::sweep_idle(Level& lv) {
  if (depth_ != 1 || flushing_ || holding_ >= streams_.size()) return;
  keep_unkept(lv);
  lv.cached = nullptr;
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->second.lines == 0) it = streams_.erase(it);
    else ++it;
  }
}

bool TraceOutput::message_of(const Batch& b, const Record& r, Stream& stream, std::string_view& out) const {
  // Only the record's own fields: common fields are per-file metadata, never a line's message.
  auto own = [&](std::string_view key) -> const Value* {
    for (const Field* f = b.begin(r); f != b.end(r); ++f)
      if (f->key == key) return &f->value;
    return nullptr;
  };
  if (s_.message_key.empty() && stream.learned_key.empty()) {
    if (own("message")) stream.learned_key = "message";
    else if (own("log")) stream.learned_key = "log";
  }
  const std::string& key = s_.message_key.empty() ? stream.learned_key : s_.message_key;
  if (key.empty()) return false;
  const Value* v = own(key);
  if (!v || v->kind != ValueKind::String) return false;
  out = v->text;
  return true;
}

// The plugin's TraceAccumulator#push for one record.
void TraceOutput::process(Level& lv, uint32_t index, Stream& stream) {
  const Batch& in = *lv.in;
  const Record& record = in.records[index];
  std::string_view message;
  Status status = Status::NoTrace;
  if (!message_of(in, record, stream, message)) {
    stream.state = State::Start;
  } else {
    const size_t grown = stream.joined.size() + message.size();
    if ((s_.max_bytes > 0 && grown > static_cast<size_t>(s_.max_bytes)) || grown > s_.stream_bytes_ceiling ||
        held_bytes_ + message.size() > s_.total_bytes_ceiling)
      force_flush(lv, stream);
    status = detector_.update(stream.state, message);
  }
  if (stream.lines == 0 && (status == Status::NoTrace || status == Status::EndTrace)) {
    pass(lv, in, record);
  } else {
    switch (status) {
      case Status::InsideTrace:
        add(lv, index, stream, message);
        break;
      case Status::EndTrace:
        add(lv, index, stream, message);
        flush(lv, stream);
        break;
      case Status::NoTrace:
        // The plugin holds the record and flushes it alone, which drops a record without a
        // message after a trace; it passes here.
        flush(lv, stream);
        pass(lv, in, record);
        break;
      case Status::StartTrace:
        flush(lv, stream);
        add(lv, index, stream, message);
        break;
    }
  }
  if (s_.max_lines > 0 && stream.lines >= static_cast<size_t>(s_.max_lines)) force_flush(lv, stream);
}

void TraceOutput::add(Level& lv, uint32_t index, Stream& stream, std::string_view message) {
  if (stream.lines == 0) {
    stream.first_batch = lv.in;
    stream.first_index = index;
    stream.started_ms = monotonic_ms();
    lv.unkept.push_back(&stream);
    ++holding_;
  }
  const size_t before = stream.joined.size();
  if (s_.force_line_breaks && stream.lines > 0 && message.find('\n') == std::string_view::npos) stream.joined += '\n';
  stream.joined.append(message);
  held_bytes_ += stream.joined.size() - before;
  ++stream.lines;
  Claim* claim = lv.in->claim;
  if (claim && (stream.claims.empty() || stream.claims.back() != claim)) {
    claim->retain();
    stream.claims.push_back(claim);
  }
}

void TraceOutput::flush(Level& lv, Stream& stream) {
  if (stream.lines == 0) return;
  const std::string_view key = s_.message_key.empty() ? stream.learned_key : s_.message_key;
  if (stream.lines > 1 && traces_) bump(*traces_);
  if (stream.first_batch) {
    // The whole trace came in the batch being written: it leaves with that batch's records.
    const Batch& b = *stream.first_batch;
    if (stream.lines == 1) {
      pass(lv, b, b.records[stream.first_index]);
    } else {
      Value joined = Value::of_string(lv.pending.arena.copy(stream.joined));
      pass(lv, b, b.records[stream.first_index], key, &joined);
    }
  } else {
    // Records of this write that came before it go first, keeping the stream's order.
    emit_pending(lv);
    Batch& out = lv.alone;
    out.clear();
    out.tag = stream.out_tag;
    Value joined = Value::of_string(stream.joined);
    stream.first.append_to(out, key, stream.lines > 1 ? &joined : nullptr);
    out.claim = stream.claims.empty() ? nullptr : stream.claims.front();
    router_->emit(out);
    out.clear();
  }
  // Whoever keeps the record holds the oldest claim now; the stream lets go of all.
  for (Claim* c : stream.claims) c->release();
  stream.claims.clear();
  held_bytes_ -= stream.joined.size();
  stream.joined.clear();
  if (stream.joined.capacity() > kKeptJoinedCapacity) std::string().swap(stream.joined);
  stream.lines = 0;
  stream.first_batch = nullptr;
  stream.first.trim();
  --holding_;
}

void TraceOutput::force_flush(Level& lv, Stream& stream) {
  flush(lv, stream);
  stream.state = State::Start;
}

void TraceOutput::pass(Level& lv, const Batch& b, const Record& r, std::string_view message_key, const Value* message) {
  Batch& out = lv.pending;
  out.begin_record(r.time, r.offset);
  for (const Field* f = b.begin(r); f != b.end(r); ++f)
    out.add_field(f->key, message && f->key == message_key ? *message : f->value);
}

void TraceOutput::start_pending(Level& lv) {
  Batch& out = lv.pending;
  out.clear();
  out.tag = lv.out_tag;
  out.claim = lv.in->claim;
  out.common_fields = lv.in->common_fields;
  out.stream_id = lv.in->stream_id;
  out.source_path = lv.in->source_path;
}

void TraceOutput::emit_pending(Level& lv) {
  if (lv.pending.records.empty()) return;
  router_->emit(lv.pending);
  // Filters downstream may have changed the batch's shared parts: they are set again.
  if (lv.in) start_pending(lv);
  else lv.pending.clear();
}

void TraceOutput::keep_unkept(Level& lv) {
  for (Stream* stream : lv.unkept) {
    if (!stream->first_batch) continue;  // its trace has left already
    stream->first.keep(*stream->first_batch, stream->first_batch->records[stream->first_index]);
    stream->first_batch = nullptr;
  }
  lv.unkept.clear();
}

}  // namespace sluice::detect_exceptions
